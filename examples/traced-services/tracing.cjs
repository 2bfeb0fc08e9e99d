// Tracing for both services: NodeSDK with HTTP instrumentation, so W3C traceparent headers carry
// the trace from the gateway to the api. Logs go to Astralog through @astralog/otel/register,
// so NodeSDK is told not to build a logger provider of its own.
process.env.OTEL_LOGS_EXPORTER ??= 'none';
process.env.OTEL_METRICS_EXPORTER ??= 'none';
process.env.OTEL_TRACES_EXPORTER ??= 'none';

const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { NoopSpanProcessor } = require('@opentelemetry/sdk-trace');

const sdk = new NodeSDK({
  instrumentations: [new HttpInstrumentation()],
  // Replace with your trace exporter (e.g. OTLP to a collector); spans are still created and propagated.
  spanProcessors: [new NoopSpanProcessor()],
});
sdk.start();
