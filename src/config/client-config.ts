import { LEVELS, type LevelName } from '../ground/levels.ts';
import { AstralogConfigError } from './errors.ts';
import { EXPORTER_OPTION_KEYS, type AstralogExporterOptions } from './exporter-config.ts';
import { PROCESSOR_LIMIT_KEYS, resolveProcessorLimits, type AstralogBatchLogRecordProcessorOptions, type AstralogProcessorLimits } from './processor-config.ts';
import { enumOption, rejectUnknownOptions } from './validate.ts';

export interface AstralogOptions extends AstralogExporterOptions, AstralogProcessorLimits, Pick<AstralogBatchLogRecordProcessorOptions, 'meterProvider'> {
  /** The lowest level sent; lower ones are dropped at the call, before any work. Default 'debug'. */
  level?: LevelName;
}

export interface ClientConfig {
  exporter: AstralogExporterOptions;
  limits: AstralogProcessorLimits;
  /** For the processor's self-observability metrics (validated by the processor). */
  meterProvider: AstralogBatchLogRecordProcessorOptions['meterProvider'];
  minSeverity: number;
  service: string | undefined;
}

const LEVEL_NAMES = Object.keys(LEVELS) as LevelName[];
const KNOWN = new Set<string>([...EXPORTER_OPTION_KEYS, ...PROCESSOR_LIMIT_KEYS, 'level', 'meterProvider']);

/** Splits client options into the exporter's and the processor's (flat names, one object). */
export function resolveClientConfig(options: unknown): ClientConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new AstralogConfigError('options', 'expected an options object with at least { apiKey }');
  }
  rejectUnknownOptions('createAstralog', options, KNOWN);
  const all = options as Record<string, unknown>;
  const exporter: Record<string, unknown> = {};
  const limits: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (value === undefined) continue;
    if (EXPORTER_OPTION_KEYS.has(key)) exporter[key] = value;
    if ((PROCESSOR_LIMIT_KEYS as readonly string[]).includes(key)) limits[key] = value;
  }
  resolveProcessorLimits(limits); // validate now, so a bad limit fails here with its name
  const level = enumOption('level', all.level, LEVEL_NAMES, 'debug');
  return {
    exporter: exporter as unknown as AstralogExporterOptions,
    limits: limits as AstralogProcessorLimits,
    meterProvider: all.meterProvider as AstralogBatchLogRecordProcessorOptions['meterProvider'],
    minSeverity: LEVELS[level].severity,
    service: typeof all.service === 'string' ? all.service : undefined,
  };
}
