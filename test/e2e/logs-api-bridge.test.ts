import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, ownLines, runApp, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { DIST_CJS, DIST_ESM } from '../support/spawn.ts';

// The older Logs API (@opentelemetry/api-logs 0.2xx, which @opentelemetry/winston-transport writes to)
// keeps a global of its own that NodeSDK 0.301 never sets: without our bridge, winston's records are
// lost in the "NodeSDK + our processor" setup while the OTel API's arrive (4 of 8). And register with
// NodeSDK, in either order: which logs go where, said accurately, with the fix.

type Format = 'ESM' | 'CJS';
const FORMATS: Format[] = ['ESM', 'CJS'];

let apps: AppDir;
let receiver: Receiver;

beforeAll(async () => {
  apps = makeAppDir();
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterAll(async () => {
  await receiver.close();
  apps.remove();
});

const quietSdk = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' };

/** NodeSDK with our processor; the winston logger is built first (before the bridge exists) on purpose. */
function nodeSdkApp(format: Format, run: string): string {
  const head =
    format === 'ESM'
      ? `import winston from 'winston';
         import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
         import { logs } from '@opentelemetry/api';
         import { NodeSDK } from '@opentelemetry/sdk-node';
         import { AstralogBatchLogRecordProcessor, AstralogLogRecordExporter } from ${JSON.stringify(DIST_ESM)};`
      : `const winston = require('winston');
         const { OpenTelemetryTransportV3 } = require('@opentelemetry/winston-transport');
         const { logs } = require('@opentelemetry/api');
         const { NodeSDK } = require('@opentelemetry/sdk-node');
         const { AstralogBatchLogRecordProcessor, AstralogLogRecordExporter } = require(${JSON.stringify(DIST_CJS)});`;
  return `${head}
    const logger = winston.createLogger({ level: 'debug', transports: [new OpenTelemetryTransportV3()] });
    const exporter = new AstralogLogRecordExporter({ apiKey: process.env.KEY, endpoint: process.env.ENDPOINT });
    const sdk = new NodeSDK({ serviceName: 'bridged', logRecordProcessors: [new AstralogBatchLogRecordProcessor({ exporter })] });
    sdk.start();
    ${run}
    async function main() {
      for (let i = 0; i < 4; i++) logger.info('winston ' + i, { i });
      for (let i = 0; i < 4; i++) logs.getLogger('app').emit({ body: 'otel api ' + i, severityText: 'INFO' });
      await sdk.shutdown();
    }`;
}

describe('the older Logs API (@opentelemetry/api-logs) under NodeSDK 0.301 with our processor', () => {
  for (const format of FORMATS) {
    it(`${format}: records of @opentelemetry/winston-transport arrive beside the OTel API's, each once`, async () => {
      const app = apps.write(`nodesdk-${format}.${format === 'ESM' ? 'mjs' : 'cjs'}`, nodeSdkApp(format, 'main();'));
      const before = receiver.accepted.length;
      const result = await runApp([app], { env: cleanEnv({ ...quietSdk, KEY: TEST_KEY, ENDPOINT: receiver.url }) });
      expect(result.code, result.stderr).toBe(0);
      const messages = receiver.accepted.slice(before).map((e) => (e as { message: string }).message).sort();
      expect(messages).toEqual(['otel api 0', 'otel api 1', 'otel api 2', 'otel api 3', 'winston 0', 'winston 1', 'winston 2', 'winston 3']);
      // The service NodeSDK's resource names (its serviceName), for the records of both APIs.
      expect(new Set(receiver.accepted.slice(before).map((e) => (e as { service: string }).service))).toEqual(new Set(['bridged']));
      expect(ownLines(result.stderr)).toEqual([]);
    });
  }
});

describe("the README's one line for the stock BatchLogRecordProcessor around our exporter", () => {
  for (const withLine of [false, true]) {
    it(`${withLine ? 'with' : 'without'} it, winston-transport's records ${withLine ? 'arrive' : 'are lost (our processor is not there to bridge)'}`, async () => {
      const app = apps.write(
        `stock-${withLine}.cjs`,
        `const winston = require('winston');
         const { OpenTelemetryTransportV3 } = require('@opentelemetry/winston-transport');
         const { logs } = require('@opentelemetry/api');
         const { NodeSDK } = require('@opentelemetry/sdk-node');
         const { BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
         const { AstralogLogRecordExporter } = require(${JSON.stringify(DIST_CJS)});
         const exporter = new AstralogLogRecordExporter({ apiKey: process.env.KEY, endpoint: process.env.ENDPOINT });
         const sdk = new NodeSDK({ serviceName: 'stock', logRecordProcessors: [new BatchLogRecordProcessor({ exporter })] });
         sdk.start();
         ${withLine ? "require('@opentelemetry/api-logs').logs.setGlobalLoggerProvider(require('@opentelemetry/api').logs.getLoggerProvider());" : ''}
         const logger = winston.createLogger({ transports: [new OpenTelemetryTransportV3()] });
         logger.info('winston line');
         logs.getLogger('app').emit({ body: 'otel api line' });
         sdk.shutdown();`,
      );
      const before = receiver.accepted.length;
      const result = await runApp([app], { env: cleanEnv({ ...quietSdk, KEY: TEST_KEY, ENDPOINT: receiver.url }) });
      expect(result.code, result.stderr).toBe(0);
      const messages = receiver.accepted.slice(before).map((e) => (e as { message: string }).message).sort();
      expect(messages).toEqual(withLine ? ['otel api line', 'winston line'] : ['otel api line']);
    });
  }
});

describe('register and NodeSDK, in either order', () => {
  const instrumentation = (exporter: string) =>
    apps.write(
      `instrumentation-${exporter}.mjs`,
      `import { NodeSDK } from '@opentelemetry/sdk-node';
       new NodeSDK({ serviceName: 'svc' }).start();`,
    );
  const appFile = () =>
    apps.write(
      'order-app.mjs',
      `import { logs } from '@opentelemetry/api';
       import winston from 'winston';
       import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
       console.log('console line');
       logs.getLogger('app').emit({ body: 'otel api line' });
       winston.createLogger({ transports: [new OpenTelemetryTransportV3()] }).info('winston line');`,
    );
  const env = (extra: Record<string, string>) =>
    cleanEnv({ ...quietSdk, ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_QUIET: 'true', ...extra });
  const arrived = (from: number) => receiver.accepted.slice(from).map((e) => (e as { message: string }).message).sort();

  it('NodeSDK first: says that OTel API records go to its provider, what still arrives, and the fix; only console arrives', async () => {
    const before = receiver.accepted.length;
    // OTEL_LOGS_EXPORTER=console: NodeSDK registers a provider (its exporter prints to stdout, not to the network).
    const result = await runApp(['--import', instrumentation('console'), '--import', '@astralog/otel/register', appFile()], {
      env: env({ OTEL_LOGS_EXPORTER: 'console' }),
    });
    expect(result.code, result.stderr).toBe(0);
    const said = ownLines(result.stderr).join('\n');
    expect(said).toContain('another OpenTelemetry logger provider (LoggerProvider) was registered before @astralog/otel/register');
    expect(said).toContain('go to it, not to Astralog');
    expect(said).toContain('OTEL_LOGS_EXPORTER=none');
    expect(arrived(before)).toEqual(['console line']);
    expect(result.stdout).toContain('otel api line'); // NodeSDK's console exporter got it
  });

  it('NodeSDK first with OTEL_LOGS_EXPORTER=none (the fix): everything arrives, nothing said', async () => {
    const before = receiver.accepted.length;
    const result = await runApp(['--import', instrumentation('none'), '--import', '@astralog/otel/register', appFile()], {
      env: env({ OTEL_LOGS_EXPORTER: 'none' }),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(ownLines(result.stderr)).toEqual([]);
    expect(arrived(before)).toEqual(['console line', 'otel api line', 'winston line']);
  });

  it('register first: everything arrives, and it says NodeSDK\'s later registration failed', async () => {
    const before = receiver.accepted.length;
    const result = await runApp(['--import', '@astralog/otel/register', '--import', instrumentation('console'), appFile()], {
      env: env({ OTEL_LOGS_EXPORTER: 'console' }),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(ownLines(result.stderr).join('\n')).toContain('tried to register its own logger provider after @astralog/otel/register');
    expect(arrived(before)).toEqual(['console line', 'otel api line', 'winston line']);
  });
});
