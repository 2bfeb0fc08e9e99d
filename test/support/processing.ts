import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { expect } from 'vitest';
import { allFailed, type ExportOutcome } from '../../src/ground/outcome.ts';
import { REPORTS_PER_RECORD } from '../../src/protocol.ts';
import { total } from '../../src/processor/drop-report.ts';
import type { ProcessorStats } from '../../src/processor/processor.ts';

/** emitted = exported + dropped (all reasons) + queued + in flight. */
export function expectAccounted(stats: ProcessorStats): void {
  expect(stats.exported + total(stats.dropped) + stats.queued + stats.inFlight, JSON.stringify(stats)).toBe(stats.emitted);
}

/**
 * An in-process exporter whose answers the test controls: for scheduling and accounting tests
 * where the network adds nothing (the HTTP paths have their own tests against real servers).
 */
export class ScriptedExporter implements LogRecordExporter {
  readonly batches: ReadableLogRecord[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Decides each export's answer; 'hang' never calls back. */
  answer: (batch: ReadableLogRecord[], index: number) => 'success' | 'fail' | 'hang' | { delayMs: number; then: 'success' | 'fail' } = () => 'success';
  shutdowns = 0;

  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    const index = this.batches.length;
    this.batches.push(records);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const decision = this.answer(records, index);
    const finish = (ok: boolean) => {
      this.inFlight--;
      done(ok ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error('scripted failure') });
    };
    if (decision === 'hang') return;
    if (typeof decision === 'object') setTimeout(() => finish(decision.then === 'success'), decision.delayMs);
    else setImmediate(() => finish(decision === 'success'));
  }

  exported(): ReadableLogRecord[] {
    return this.batches.flat();
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}

/**
 * The same script, reporting per record (exportRecords) as our exporter does: the processor
 * behind it runs in its own mode (several exports at once, failed records kept and resent).
 */
export class ScriptedDetailedExporter extends ScriptedExporter {
  readonly [REPORTS_PER_RECORD] = true;

  exportRecords(records: readonly ReadableLogRecord[]): Promise<ExportOutcome> {
    const n = records.length;
    return new Promise((resolve) =>
      this.export([...records], (result) =>
        resolve(
          result.code === ExportResultCode.SUCCESS
            ? { delivered: n, rejected: { badRequest: 0, tooLarge: 0 }, failed: [], unanswered: [], failureReason: undefined }
            : allFailed(n, 'retriesExhausted'),
        ),
      ),
    );
  }
}

export const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
