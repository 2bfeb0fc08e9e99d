import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { vi, type MockInstance } from 'vitest';

/** `exporter.export` as a promise of its (single) result. */
export function exportOnce(exporter: LogRecordExporter, records: ReadableLogRecord[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(records, resolve));
}

/** Captures what the SDK writes to stderr (its diagnostics), silencing it. */
export function captureStderr(): { lines: () => string[]; restore: () => void } {
  const spy: MockInstance = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return {
    lines: () => spy.mock.calls.map((call) => String(call[0])),
    restore: () => spy.mockRestore(),
  };
}

export const TEST_KEY = 'ast_sk_live_TESTSECRET0123456789';
