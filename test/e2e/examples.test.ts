import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runApp } from '../support/apps.ts';
import { ROOT } from '../support/spawn.ts';

// Each example, run with its one command, as the README says.
const run = (name: string) => runApp([join(ROOT, 'examples', 'run.mjs'), name], { env: cleanEnv(), timeoutMs: 30_000 });

describe('examples', () => {
  it('basic: the client API delivers every call, with context and redaction', async () => {
    const result = await run('basic');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('emitted 6, exported 6, dropped 0');
    expect(result.stdout).toContain('== 6 events received');
    expect(result.stdout).toMatch(/ERROR checkout trace=req-5f8a9b2c payment failed .*"password":"\[REDACTED\]"/);
    expect(result.stdout).toMatch(/CRITICAL checkout refund queue stalled/);
  });

  it('existing-otel-setup: NodeSDK with our processor, logs inside a span carry its trace id', async () => {
    const result = await run('existing-otel-setup');
    expect(result.code).toBe(0);
    const traceId = /trace ([0-9a-f]{32})/.exec(result.stdout)?.[1];
    expect(traceId).toBeDefined();
    expect(result.stdout).toContain(`INFO  orders trace=${traceId} order received`);
    expect(result.stdout).toContain(`WARN  orders trace=${traceId} stock low`);
    expect(result.stdout).toContain('INFO  orders trace=job-2026-11-28 nightly report sent');
  });

  it('nodesdk-pino-winston: an ESM app under NodeSDK with the pino and winston instrumentations, both correlated', async () => {
    const result = await run('nodesdk-pino-winston');
    expect(result.code).toBe(0);
    const traceId = /trace ([0-9a-f]{32})/.exec(result.stdout)?.[1];
    expect(traceId).toBeDefined();
    expect(result.stdout).toContain(`INFO  orders trace=${traceId} order received {"order_id":"ord_42"`);
    expect(result.stdout).toContain(`WARN  orders trace=${traceId} stock low {"sku":"sku_7","left":1`); // through @opentelemetry/api-logs
    expect(result.stdout).toMatch(/INFO {2}orders nightly report sent\n/);
    expect(result.stdout).toContain('== 3 events received');
  });

  it('traced-services: requests through the gateway produce events in both services under one trace_id', async () => {
    const result = await run('traced-services');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('== 3 of 3 requests produced events in both services under one trace_id; services exited with code 0, code 0');
    const traces = result.stdout.match(/trace [0-9a-f]{32} {2}\(\d+ events from (gateway and api|api and gateway)\)/g) ?? []; // listed in arrival order
    expect(traces).toHaveLength(3);
  });
});
