// NodeSDK with Astralog's processor, and the pino and winston instrumentations, for an ESM app:
//   node --import ./instrumentation.mjs app.mjs
// Loaded before the app, so its imports of pino and winston are patched: the loader hook below is what
// lets instrumentations see ESM imports (a CommonJS app needs only --require ./instrumentation.cjs).
import { register } from 'node:module';
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { PinoInstrumentation } = await import('@opentelemetry/instrumentation-pino');
const { WinstonInstrumentation } = await import('@opentelemetry/instrumentation-winston');
const { NoopSpanProcessor } = await import('@opentelemetry/sdk-trace');
const { AstralogBatchLogRecordProcessor, AstralogLogRecordExporter } = await import('@astralog/otel');

const sdk = new NodeSDK({
  serviceName: 'orders',
  spanProcessors: [new NoopSpanProcessor()], // your span exporters stay as they are
  // pino's records reach the Logs API through the pino instrumentation; winston's through
  // @opentelemetry/winston-transport, which the winston instrumentation adds to every logger.
  instrumentations: [new PinoInstrumentation(), new WinstonInstrumentation()],
  logRecordProcessors: [
    new AstralogBatchLogRecordProcessor({
      exporter: new AstralogLogRecordExporter({
        apiKey: process.env.ASTRALOG_API_KEY ?? 'default-secret-token',
        endpoint: process.env.ASTRALOG_ENDPOINT ?? 'http://127.0.0.1:8080',
      }),
    }),
  ],
});
sdk.start();
// NodeSDK does not flush at exit on its own: deliver what is queued when the app ends or is stopped.
process.once('beforeExit', () => sdk.shutdown());
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => sdk.shutdown().finally(() => process.kill(process.pid, signal)));
