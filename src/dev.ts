// @astralog/otel/dev: the local Astralog-compatible receiver, for trying things and for your own
// tests. An HTTP server: kept out of the library entry, so an app that logs never loads it.
export { startDevReceiver } from './receiver/dev-receiver.ts';
export type { DevReceiver, DevReceiverOptions, DevReceiverStats, RefusalCount, StoredEvent } from './receiver/dev-receiver.ts';
export type { AstralogEvent } from './receiver/contract.ts';
