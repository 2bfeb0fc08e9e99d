import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadUndici } from '../../src/exporter/transport.ts';

describe('the parts of undici the transport loads', () => {
  it('are the classes undici exports (its files are not a public path: this catches a layout change)', () => {
    const undici = createRequire(import.meta.url)('undici') as { Pool: { prototype: { connect: unknown } } } & Record<string, unknown>;
    const parts = loadUndici();
    expect(parts.connect).toBe(undici.Pool.prototype.connect);
    expect(parts.Pool).toBe(undici.Pool);
    expect(parts.ProxyAgent).toBe(undici.ProxyAgent);
    expect(parts.buildConnector).toBe(undici.buildConnector);
  });
});
