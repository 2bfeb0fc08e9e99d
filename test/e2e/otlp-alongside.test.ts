import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, runApp, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

let apps: AppDir;
let app: string;
let receiver: Receiver;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;

beforeAll(async () => {
  apps = makeAppDir();
  app = apps.write(
    'app.mjs',
    `import { logs } from '@opentelemetry/api';
     console.log('captured line');
     const err = new Error('kept safe'); err.self = err;
     console.error('with a cyclic error', err);
     logs.getLogger('app').emit({ body: 'via otel api', severityText: 'WARN', attributes: { k: 'v' } });`,
  );
  receiver = await startReceiver({ apiKey: TEST_KEY });
  otlp = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver.close();
  await otlp.close();
  apps.remove();
});

function appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_SERVICE: 'both', ...extra });
}

describe('OTLP alongside Astralog', () => {
  it('ships the same records to a loopback OTLP/HTTP receiver when the standard variables ask for it', async () => {
    const run = await runApp(['--import', '@astralog/otel/register', app], {
      env: appEnv({ OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }),
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('also over OTLP/HTTP');
    const astralog = (receiver.accepted as Array<{ message: string }>).map((e) => e.message).sort();
    const viaOtlp = otlp.records.map((r) => r.body?.stringValue ?? '').sort();
    expect(astralog).toHaveLength(3);
    expect(viaOtlp).toEqual(astralog);
    expect(viaOtlp.join('\n')).toContain('kept safe');
    expect(otlp.records.find((r) => r.body?.stringValue === 'via otel api')?.attributes).toEqual([{ key: 'k', value: { stringValue: 'v' } }]);
  });

  it('changes nothing without the variables', async () => {
    otlp.records.length = 0;
    const run = await runApp(['--import', '@astralog/otel/register', app], { env: appEnv({}) });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('OTLP');
    expect(otlp.records).toHaveLength(0);
  });

  it('says so, and keeps sending to Astralog, when the protocol is not http/json', async () => {
    const before = receiver.accepted.length;
    const run = await runApp(['--import', '@astralog/otel/register', app], {
      env: appEnv({ OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("PROTOCOL is 'grpc'");
    expect(receiver.accepted.length - before).toBe(3);
  });
});
