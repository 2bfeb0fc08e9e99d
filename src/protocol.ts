// The protocol between our classes (the processor and our exporter; register and the processor):
// methods keyed by these symbols, so that none of it is a public method. Registered symbols, so
// that the ESM and the CommonJS copy of the package speak it with each other. Imports nothing.

/**
 * Marks an exporter that reports what became of each record (exportRecords, ours): the processor
 * then runs in its own mode behind it.
 */
export const REPORTS_PER_RECORD: unique symbol = Symbol.for('@astralog/otel.reportsPerRecord');
/** AstralogLogRecordExporter: encodes a batch now, sends it later (start()). */
export const PREPARE_EXPORT: unique symbol = Symbol.for('@astralog/otel.prepareExport');
/** AstralogLogRecordExporter: its forceFlush, bounded by the caller's deadline. */
export const FLUSH_UNTIL: unique symbol = Symbol.for('@astralog/otel.flushUntil');
/** AstralogLogRecordExporter: gives up on every export under way (shutdown). */
export const ABORT_EXPORTS: unique symbol = Symbol.for('@astralog/otel.abortExports');
/** AstralogLogRecordExporter: why its last attempt to send failed, when nothing was delivered since. */
export const LAST_FAILURE: unique symbol = Symbol.for('@astralog/otel.lastFailure');
/** AstralogLogRecordExporter: request bodies for a synchronous last delivery at exit. */
export const PREPARE_SYNC_DELIVERY: unique symbol = Symbol.for('@astralog/otel.prepareSyncDelivery');
/** AstralogBatchLogRecordProcessor: our client's onEmit, a record given by its fields (kept so until exported). */
export const EMIT_FIELDS: unique symbol = Symbol.for('@astralog/otel.emitFields');
/** AstralogBatchLogRecordProcessor: hands every record held over for a last delivery. */
export const HAND_OVER_PENDING: unique symbol = Symbol.for('@astralog/otel.handOverPending');
/** AstralogBatchLogRecordProcessor: the process ends now; what is held is dropped and said. */
export const ABANDON_PENDING: unique symbol = Symbol.for('@astralog/otel.abandonPending');
/** AstralogBatchLogRecordProcessor: how many of the handed-over records the last delivery delivered. */
export const SETTLE_HANDED_OVER: unique symbol = Symbol.for('@astralog/otel.settleHandedOver');
