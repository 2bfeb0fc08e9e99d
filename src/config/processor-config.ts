import type { MeterProvider } from '@opentelemetry/api';
import { otelApi } from '../globals/otel-packages.ts';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { AstralogConfigError } from './errors.ts';
import { exportTimeoutOption, integerOption, rejectUnknownOptions, shutdownTimeoutOption } from './validate.ts';

export interface AstralogProcessorLimits {
  /** Records held at most (queued plus kept for retry). Default 200000. */
  maxQueueSize?: number;
  /** Estimated bytes held at most. Default 67108864 (64 MiB). */
  maxQueueBytes?: number;
  /** Records per export. Default 500 (Astralog recommends 100-500 per request). */
  maxBatchSize?: number;
  /** A partial batch is exported after this long. Default 1000. */
  flushIntervalMs?: number;
  /**
   * The most the processor waits for one export before giving up on it. Default 10000. Our
   * exporter bounds its exports itself and gets a second more.
   */
  exportTimeoutMs?: number;
  /** Exports in flight at once. Default 8. */
  maxConcurrentExports?: number;
  /** The most `shutdown()` takes, flush included. Default 2000. */
  shutdownTimeoutMs?: number;
}

export interface AstralogBatchLogRecordProcessorOptions extends AstralogProcessorLimits {
  /** Where batches go: any sdk-logs LogRecordExporter (AstralogLogRecordExporter gives per-record outcomes). */
  exporter: LogRecordExporter;
  /** The stock BatchLogRecordProcessor's name for maxBatchSize (maxBatchSize wins when both are given). */
  maxExportBatchSize?: number;
  /** The stock name for flushIntervalMs (flushIntervalMs wins). */
  scheduledDelayMillis?: number;
  /** The stock name for exportTimeoutMs (exportTimeoutMs wins). */
  exportTimeoutMillis?: number;
  /**
   * Where the processor reports the SDK's self-observability metrics (otel.sdk.processor.log.processed
   * by outcome, queue.size, queue.capacity). None by default.
   */
  meterProvider?: MeterProvider;
  /** The stock name for meterProvider (meterProvider wins). */
  selfObsMeterProvider?: MeterProvider;
}

/** The stock BatchLogRecordProcessor's option names, accepted so that ours is a drop-in replacement. */
const STOCK_NAMES = {
  maxExportBatchSize: 'maxBatchSize',
  scheduledDelayMillis: 'flushIntervalMs',
  exportTimeoutMillis: 'exportTimeoutMs',
} as const satisfies Record<string, keyof AstralogProcessorLimits>;

export interface ProcessorConfig {
  exporter: LogRecordExporter;
  /** Whether exportTimeoutMs (or exportTimeoutMillis) was given, rather than defaulted. */
  exportTimeoutGiven?: boolean;
  meterProvider?: MeterProvider | undefined;
  maxQueueSize: number;
  maxQueueBytes: number;
  maxBatchSize: number;
  flushIntervalMs: number;
  exportTimeoutMs: number;
  maxConcurrentExports: number;
  shutdownTimeoutMs: number;
}

export const PROCESSOR_LIMIT_KEYS: readonly (keyof AstralogProcessorLimits)[] = [
  'maxQueueSize',
  'maxQueueBytes',
  'maxBatchSize',
  'flushIntervalMs',
  'exportTimeoutMs',
  'maxConcurrentExports',
  'shutdownTimeoutMs',
];

const KNOWN = new Set<string>(['exporter', 'meterProvider', 'selfObsMeterProvider', ...PROCESSOR_LIMIT_KEYS, ...Object.keys(STOCK_NAMES)]);

type OptionNames = Readonly<Partial<Record<keyof AstralogProcessorLimits, string>>>;

/**
 * The limits, validated; errors name each option as it was given (`names`: the stock name used for
 * one of ours). A batch larger than the queue is an error (createAstralog, register), or is
 * clamped to it with a diag warning when `clampBatchSize` (the processor, as the stock one does).
 */
export function resolveProcessorLimits(
  o: Partial<Record<keyof AstralogProcessorLimits, unknown>>,
  names: OptionNames = {},
  clampBatchSize = false,
): Omit<ProcessorConfig, 'exporter'> {
  const maxQueueSize = integerOption('maxQueueSize', o.maxQueueSize, 200_000, { min: 1, max: 10_000_000 });
  let maxBatchSize = integerOption(names.maxBatchSize ?? 'maxBatchSize', o.maxBatchSize, 500, { min: 1, max: 100_000 });
  if (maxBatchSize > maxQueueSize) {
    if (!clampBatchSize) throw new AstralogConfigError(names.maxBatchSize ?? 'maxBatchSize', `must not exceed maxQueueSize (${maxQueueSize})`);
    otelApi().diag.warn(`AstralogBatchLogRecordProcessor: ${names.maxBatchSize ?? 'maxBatchSize'} (${maxBatchSize}) exceeds maxQueueSize; using ${maxQueueSize}`);
    maxBatchSize = maxQueueSize;
  }
  return {
    maxQueueSize,
    maxQueueBytes: integerOption('maxQueueBytes', o.maxQueueBytes, 64 * 1024 * 1024, { min: 64 * 1024, max: 16 * 1024 * 1024 * 1024 }),
    maxBatchSize,
    // Up to the longest timer Node runs (about 24.8 days): a very long interval means flush by hand.
    flushIntervalMs: integerOption(names.flushIntervalMs ?? 'flushIntervalMs', o.flushIntervalMs, 1_000, { min: 1, max: 2_147_483_647 }),
    exportTimeoutMs: exportTimeoutOption(o.exportTimeoutMs, names.exportTimeoutMs),
    maxConcurrentExports: integerOption('maxConcurrentExports', o.maxConcurrentExports, 8, { min: 1, max: 64 }),
    shutdownTimeoutMs: shutdownTimeoutOption(o.shutdownTimeoutMs),
  };
}

export function resolveProcessorConfig(options: unknown): ProcessorConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new AstralogConfigError('options', 'expected an options object with at least { exporter }');
  }
  rejectUnknownOptions('processor', options, KNOWN);
  const o = options as Partial<Record<keyof AstralogBatchLogRecordProcessorOptions, unknown>>;
  const exporter = o.exporter as Partial<LogRecordExporter> | undefined;
  if (exporter === null || typeof exporter !== 'object' || typeof exporter.export !== 'function' || typeof exporter.shutdown !== 'function') {
    throw new AstralogConfigError('exporter', 'expected a LogRecordExporter (an object with export() and shutdown())');
  }
  // A stock name stands for ours when ours is not given.
  const limits: Partial<Record<keyof AstralogProcessorLimits, unknown>> = { ...o };
  const names: Partial<Record<keyof AstralogProcessorLimits, string>> = {};
  for (const [stock, own] of Object.entries(STOCK_NAMES) as [keyof typeof STOCK_NAMES, keyof AstralogProcessorLimits][]) {
    if (o[own] !== undefined || o[stock] === undefined) continue;
    limits[own] = o[stock];
    names[own] = stock;
  }
  const meterProvider = meterProviderOption(o.meterProvider !== undefined ? 'meterProvider' : 'selfObsMeterProvider', o.meterProvider ?? o.selfObsMeterProvider);
  const exportTimeoutGiven = limits.exportTimeoutMs !== undefined;
  return { exporter: exporter as LogRecordExporter, meterProvider, exportTimeoutGiven, ...resolveProcessorLimits(limits, names, true) };
}

function meterProviderOption(name: string, value: unknown): MeterProvider | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || typeof (value as Partial<MeterProvider>).getMeter !== 'function') {
    throw new AstralogConfigError(name, 'expected a MeterProvider (an object with getMeter())');
  }
  return value as MeterProvider;
}
