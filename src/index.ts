export { AstralogLogRecordExporter } from './exporter/exporter.ts';
export type { ExportOutcome, ExportFailureReason, ExporterStats } from './exporter/exporter.ts';
export { AstralogConfigError } from './config/errors.ts';
export { DEFAULT_ENDPOINT, DEFAULT_REDACT_KEYS } from './config/exporter-config.ts';
export type { AstralogExporterOptions } from './config/exporter-config.ts';
export { PACKAGE_VERSION } from './version.ts';
