// An ESM app logging with pino and winston; run by: node examples/run.mjs nodesdk-pino-winston
// (which loads ./instrumentation.mjs first with --import).
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import winston from 'winston';

const log = pino();
const wlog = winston.createLogger({ transports: [new winston.transports.Console()] });

trace.getTracer('orders').startActiveSpan('POST /orders', (span) => {
  log.info({ order_id: 'ord_42' }, 'order received');
  wlog.warn('stock low', { sku: 'sku_7', left: 1 });
  console.log(`trace ${span.spanContext().traceId}`);
  span.end();
});
log.info('nightly report sent');
