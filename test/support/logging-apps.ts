/**
 * App sources for the end-to-end tests of the pino and winston integrations
 * (test/e2e/logging-libraries.test.ts). Each app is written in both module formats and loads the
 * built package (dist/). App files live under node_modules/.cache, where a package cannot refer
 * to itself by name, so they import dist/ by path (the bundle `@astralog/otel/pino` etc. resolve
 * to); register is preloaded by name, from the repository root.
 */
import { join } from 'node:path';
import { ROOT } from './spawn.ts';

export type Format = 'ESM' | 'CJS';
export type Library = 'pino' | 'pino9' | 'winston';
/** Who the integration sends through: register's client (preloaded) or one the app creates. */
export type ClientSource = 'register' | 'createAstralog';

export const ext = (format: Format): string => (format === 'ESM' ? 'mjs' : 'cjs');

/** The built entry behind `@astralog/otel` (index), `@astralog/otel/pino`, `@astralog/otel/winston`. */
const dist = (entry: 'index' | 'pino' | 'winston', format: Format): string => join(ROOT, 'dist', `${entry}.${format === 'ESM' ? 'js' : 'cjs'}`);

/** `import x from 'm';` / `const x = require('m');` */
const importDefault = (format: Format, name: string, from: string): string =>
  format === 'ESM' ? `import ${name} from ${JSON.stringify(from)};` : `const ${name} = require(${JSON.stringify(from)});`;
/** `import { a, b } from 'm';` / `const { a, b } = require('m');` */
const importNamed = (format: Format, names: string, from: string): string =>
  format === 'ESM' ? `import { ${names} } from ${JSON.stringify(from)};` : `const { ${names} } = require(${JSON.stringify(from)});`;

/** The app prints the trace id of its span on a line of its own. */
export const TRACE_LINE = /^TRACE ([0-9a-f]{32})$/m;

/**
 * What every "basic" app logs, by message: level, whether it is inside the span, and metadata
 * the event must carry. Lines are logged outside the span, then inside it.
 */
export const BASIC_LINES: Record<Library, Array<{ message: string; level: string; inSpan: boolean; metadata?: Record<string, unknown> }>> = {
  pino: [],
  pino9: [],
  winston: [],
};
for (const library of ['pino', 'pino9', 'winston'] as const) {
  const isPino = library !== 'winston';
  BASIC_LINES[library] = [
    { message: 'outside', level: 'info', inSpan: false },
    { message: 'inside', level: 'info', inSpan: true, metadata: { order_id: 'o-1' } },
    { message: 'inside warn', level: 'warn', inSpan: true },
    { message: 'inside error', level: 'error', inSpan: true, metadata: { err: expectErr(isPino) } },
    { message: 'child', level: 'info', inSpan: true, metadata: { request_id: 'r-1' } },
    isPino ? { message: 'custom', level: 'audit', inSpan: true } : { message: 'http line', level: 'info', inSpan: true },
  ];
}

function expectErr(isPino: boolean): Record<string, unknown> {
  // pino serialises err itself ({type, message, stack}); winston hands the Error over (the exporter makes it {name, message, stack})
  return isPino ? { type: 'Error', message: 'boom' } : { name: 'Error', message: 'boom' };
}

/**
 * An app that logs BASIC_LINES through our pino stream or winston transport, inside a span of a
 * tracer provider of its own (sdk-trace), without any OpenTelemetry instrumentation. With
 * register it also logs to stdout (pino.multistream / winston's Console transport); with
 * createAstralog it closes its client at the end.
 */
export function basicApp(library: Library, format: Format, source: ClientSource): string {
  const isPino = library !== 'winston';
  const lines: string[] = [
    importNamed(format, 'TracerProvider', '@opentelemetry/sdk-trace'),
    isPino ? importDefault(format, 'pino', library) : importDefault(format, 'winston', 'winston'),
    isPino ? importNamed(format, 'astralogStream', dist('pino', format)) : importNamed(format, 'AstralogTransport', dist('winston', format)),
  ];
  if (source === 'createAstralog') {
    lines.push(
      importNamed(format, 'createAstralog', dist('index', format)),
      `const client = createAstralog({ apiKey: process.env.E2E_KEY, endpoint: process.env.E2E_ENDPOINT, service: process.env.E2E_SERVICE });`,
    );
  }
  const option = source === 'createAstralog' ? '{ client }' : '';
  if (isPino) {
    lines.push(
      source === 'register'
        ? `const logger = pino({ customLevels: { audit: 35 } }, pino.multistream([{ stream: process.stdout }, { stream: astralogStream(${option}) }], { levels: { ...pino.levels.values, audit: 35 } }));`
        : `const logger = pino({ customLevels: { audit: 35 } }, astralogStream(${option}));`,
    );
  } else {
    lines.push(
      source === 'register'
        ? `const logger = winston.createLogger({ level: 'debug', transports: [new winston.transports.Console(), new AstralogTransport(${option})] });`
        : `const logger = winston.createLogger({ level: 'debug', transports: [new AstralogTransport(${option})] });`,
    );
  }
  lines.push(`const tracer = new TracerProvider().getTracer('e2e');`, `logger.info('outside');`);
  lines.push(`tracer.startActiveSpan('work', (span) => {`);
  if (isPino) {
    lines.push(
      `  logger.info({ order_id: 'o-1' }, 'inside');`,
      `  logger.warn('inside warn');`,
      `  logger.error(new Error('boom'), 'inside error');`,
      `  logger.child({ request_id: 'r-1' }).info('child');`,
      `  logger.audit('custom');`,
    );
  } else {
    lines.push(
      `  logger.info('inside', { order_id: 'o-1' });`,
      `  logger.warn('inside warn');`,
      `  logger.error('inside error', { err: new Error('boom') });`,
      `  logger.child({ request_id: 'r-1' }).info('child');`,
      `  logger.http('http line');`,
    );
  }
  lines.push(`  process.stdout.write('TRACE ' + span.spanContext().traceId + '\\n');`, `  span.end();`, `});`);
  if (source === 'createAstralog') lines.push(`client.close().then(() => process.stdout.write('closed\\n'));`);
  return lines.join('\n') + '\n';
}

/** What the instrumented apps log, by message (through the libraries' OpenTelemetry bridges). */
export const INSTRUMENTED_LINES: Array<{ message: string; level: string; inSpan: boolean }> = [
  { message: 'outside', level: 'info', inSpan: false },
  { message: 'inside', level: 'info', inSpan: true },
  { message: 'inside warn', level: 'warn', inSpan: true },
  { message: 'child', level: 'info', inSpan: true },
];

/**
 * The preload that turns on @opentelemetry/instrumentation-pino or -winston (before the app
 * loads the library). ESM needs the import-in-the-middle hook for `import pino from 'pino'`.
 */
export function instrumentation(library: 'pino' | 'winston', format: Format): string {
  const [pkg, name] = library === 'pino' ? ['@opentelemetry/instrumentation-pino', 'PinoInstrumentation'] : ['@opentelemetry/instrumentation-winston', 'WinstonInstrumentation'];
  if (format === 'CJS') return `const { ${name} } = require('${pkg}');\nnew ${name}();\n`;
  return `import { register } from 'node:module';
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const { ${name} } = await import('${pkg}');
new ${name}();
`;
}

/** A plain app (no Astralog code) logging INSTRUMENTED_LINES to stdout, inside and outside a span. */
export function instrumentedApp(library: 'pino' | 'winston', format: Format): string {
  const isPino = library === 'pino';
  return [
    importNamed(format, 'TracerProvider', '@opentelemetry/sdk-trace'),
    isPino ? importDefault(format, 'pino', 'pino') : importDefault(format, 'winston', 'winston'),
    isPino ? `const logger = pino();` : `const logger = winston.createLogger({ transports: [new winston.transports.Console()] });`,
    `const tracer = new TracerProvider().getTracer('e2e');`,
    `logger.info('outside');`,
    `tracer.startActiveSpan('work', (span) => {`,
    isPino ? `  logger.info({ order_id: 'o-1' }, 'inside');` : `  logger.info('inside', { order_id: 'o-1' });`,
    `  logger.warn('inside warn');`,
    `  logger.child({ request_id: 'r-1' }).info('child');`,
    `  process.stdout.write('TRACE ' + span.spanContext().traceId + '\\n');`,
    `  span.end();`,
    `});`,
  ].join('\n') + '\n';
}

/** Lines each request of the server app logs: 2 to 5, by its id. */
export const linesFor = (id: number): number => 2 + (id % 4);

/**
 * An HTTP server that handles each request inside its own span and logs linesFor(id) lines for
 * it, across awaits (so the requests' lines interleave), through a child logger bound to the
 * request id. It answers `{ id, traceId }` and closes once it has answered E2E_REQUESTS requests.
 * The winston variant also has a transport that calls back late (as File and Http do), so
 * winston holds lines back and delivers them outside the request's context.
 */
export function serverApp(library: 'pino' | 'winston', format: Format): string {
  const isPino = library === 'pino';
  const head = [
    importDefault(format, 'http', 'node:http'),
    importNamed(format, 'TracerProvider', '@opentelemetry/sdk-trace'),
    isPino ? importDefault(format, 'pino', 'pino') : importDefault(format, 'winston', 'winston'),
    isPino ? importNamed(format, 'astralogStream', dist('pino', format)) : importNamed(format, 'AstralogTransport', dist('winston', format)),
    isPino ? '' : importDefault(format, 'TransportStream', 'winston-transport'),
  ];
  const logger = isPino
    ? `const logger = pino({ base: null }, astralogStream());`
    : `class LateTransport extends TransportStream { log(info, callback) { setImmediate(callback); } }
const logger = winston.createLogger({ transports: [new LateTransport(), new AstralogTransport()] });`;
  const log = isPino
    ? { first: `log.info('request received');`, step: `log.info({ step }, 'step');` }
    : { first: `log.info('request received');`, step: `log.info('step', { step });` };
  return `${head.join('\n')}
const REQUESTS = Number(process.env.E2E_REQUESTS);
${logger}
const tracer = new TracerProvider().getTracer('server');
const tick = () => new Promise((resolve) => setImmediate(resolve));
let answered = 0;
const server = http.createServer((req, res) => {
  const id = Number(new URL(req.url, 'http://localhost').searchParams.get('id'));
  tracer.startActiveSpan('GET /work', async (span) => {
    const log = logger.child({ request_id: id });
    ${log.first}
    for (let step = 1; step < 2 + (id % 4); step++) { // linesFor(id)
      for (let i = 0; i <= id % 3; i++) await tick();
      ${log.step}
    }
    span.end();
    res.end(JSON.stringify({ id, traceId: span.spanContext().traceId }), () => {
      if (++answered === REQUESTS) server.close();
    });
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;
}
