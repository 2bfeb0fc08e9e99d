// The stock counterpart of --import @astralog/otel/register for the start-up bench: NodeSDK with its
// OTLP/HTTP log exporter (OTEL_LOGS_EXPORTER=otlp), flushed at exit, shipping the same one line
// through the Logs API (NodeSDK does not capture console output).
import { logs } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';

const sdk = new NodeSDK({ serviceName: 'hello' });
sdk.start();
logs.getLogger('hello').emit({ body: 'hello', severityText: 'INFO' });
process.once('beforeExit', () => sdk.shutdown());
