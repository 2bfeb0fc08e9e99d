import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { context, ROOT_CONTEXT, SeverityNumber, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, isTracingSuppressed } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureContextManager } from '../../src/context/context.ts';
import { callUntraced, callUntracedSynchronously } from '../../src/globals/untraced.ts';
import { LEVELS } from '../../src/ground/levels.ts';
import { EXPORT_FAILED, EXPORT_SUCCESS } from '../../src/ground/outcome.ts';
import { activeContextReadable, CALL_SYNCHRONOUSLY, otelRegistration } from '../../src/ground/otel-registry.ts';
import { clientResource } from '../../src/resource.ts';
import { ROOT } from '../support/spawn.ts';

// What register does without loading OpenTelemetry's packages (README, "Start-up") must be what
// those packages would have done: each stand-in is checked against the package it stands in for.

describe('stand-ins for OpenTelemetry values', () => {
  it('export result codes and severity numbers are the packages own', () => {
    expect([EXPORT_SUCCESS, EXPORT_FAILED]).toEqual([ExportResultCode.SUCCESS, ExportResultCode.FAILED]);
    expect(Object.fromEntries(Object.entries(LEVELS).map(([name, level]) => [name, level.severity]))).toEqual({
      trace: SeverityNumber.TRACE,
      debug: SeverityNumber.DEBUG,
      info: SeverityNumber.INFO,
      warn: SeverityNumber.WARN,
      error: SeverityNumber.ERROR,
      fatal: SeverityNumber.FATAL,
    });
  });

  it.each([
    ['the service option', {}, 'checkout'],
    ['service.name from OTEL_RESOURCE_ATTRIBUTES', { 'service.name': 'from-attributes', 'deployment.environment': 'prod' }, undefined],
    ['the service option over service.name', { 'service.name': 'from-attributes' }, 'checkout'],
    ["OpenTelemetry's default", { 'deployment.environment': 'prod' }, undefined],
  ] as const)("a client's resource: its service name without building it, then the attributes @opentelemetry/resources makes (%s)", (_name, attributes, service) => {
    const resource = clientResource(attributes, service);
    const stock = defaultResource()
      .merge(resourceFromAttributes(attributes))
      .merge(resourceFromAttributes(service === undefined ? {} : { 'service.name': service }));
    const serviceName = resource.serviceName; // read first: the resource is not built yet
    expect(serviceName).toBe(stock.attributes['service.name']);
    expect(resource.attributes).toEqual(stock.attributes);
    expect(resource.asyncAttributesPending).toBe(false);
    expect(resource.merge(resourceFromAttributes({ extra: 1 })).attributes).toEqual({ ...stock.attributes, extra: 1 });
  });
});

describe('callUntraced', () => {
  afterEach(() => {
    context.disable();
    trace.disable();
  });

  it("runs the call where @opentelemetry/core's isTracingSuppressed says tracing is suppressed, outside the caller's context", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const key = Symbol('caller');
    const seen = await context.with(ROOT_CONTEXT.setValue(key, 'caller'), async () => {
      await nextTurn();
      return callUntraced((a: number, b: number) => ({ sum: a + b, suppressed: isTracingSuppressed(context.active()), caller: context.active().getValue(key) }), undefined, 1, 2);
    });
    expect(seen).toEqual({ sum: 3, suppressed: true, caller: undefined });
  });

  it('synchronously, under our idle context manager: suppressed for the call, with its this and arguments, the manager left idle', () => {
    ensureContextManager(); // ours, idle
    const target = {
      n: 5,
      get(this: { n: number }, plus: number) {
        return { sum: this.n + plus, suppressed: isTracingSuppressed(context.active()) };
      },
    };
    expect(callUntracedSynchronously(target.get, target, 2)).toEqual({ sum: 7, suppressed: true });
    expect(activeContextReadable()).toBe(false); // still idle: nothing was loaded for it
    expect(isTracingSuppressed(context.active())).toBe(false);
  });

  it('synchronously, when something inside enters a context (the manager is created then): still suppressed until the call returns, not after', () => {
    ensureContextManager();
    const key = Symbol('inner');
    const seen = callUntracedSynchronously(() => {
      const inner = context.with(context.active().setValue(key, 'v'), () => [context.active().getValue(key), isTracingSuppressed(context.active())]);
      return { inner, after: isTracingSuppressed(context.active()) };
    }, undefined);
    expect(seen).toEqual({ inner: ['v', true], after: true });
    expect(activeContextReadable()).toBe(true);
    expect(isTracingSuppressed(context.active())).toBe(false);
    expect(context.active()).toBe(ROOT_CONTEXT);
  });
});

describe('our context manager', () => {
  afterEach(() => {
    context.disable();
  });

  it('is idle (the root context is active, nothing to read) until a context is entered, then follows awaits', async () => {
    expect(ensureContextManager()).toBe('registered');
    expect(otelRegistration('context')).toBeDefined();
    expect(activeContextReadable()).toBe(false);
    expect(context.active()).toBe(ROOT_CONTEXT);
    const key = Symbol('k');
    const inside = await context.with(ROOT_CONTEXT.setValue(key, 'v'), async () => {
      await nextTurn();
      return context.active().getValue(key);
    });
    expect(inside).toBe('v');
    expect(activeContextReadable()).toBe(true);
    expect(context.active()).toBe(ROOT_CONTEXT);
  });
});

describe('our context manager, a call run synchronously inside another', () => {
  afterEach(() => {
    context.disable();
  });

  it('each sees its own context, also when the manager is created inside the inner one; none after', () => {
    ensureContextManager();
    const manager = otelRegistration('context') as Record<typeof CALL_SYNCHRONOUSLY, <R>(ctx: Context, fn: () => R, thisArg: unknown) => R>;
    const [a, b, c] = [Symbol('a'), Symbol('b'), Symbol('c')];
    const seen = manager[CALL_SYNCHRONOUSLY](ROOT_CONTEXT.setValue(a, 1), () => {
      const inner = manager[CALL_SYNCHRONOUSLY](ROOT_CONTEXT.setValue(b, 2), () => {
        const entered = context.with(context.active().setValue(c, 3), () => [context.active().getValue(b), context.active().getValue(c)]);
        return { entered, b: context.active().getValue(b) };
      }, undefined);
      return { inner, a: context.active().getValue(a), b: context.active().getValue(b) };
    }, undefined);
    expect(seen).toEqual({ inner: { entered: [2, 3], b: 2 }, a: 1, b: undefined });
    expect(activeContextReadable()).toBe(true); // created inside
    expect(context.active()).toBe(ROOT_CONTEXT);
  });
});

describe('the CommonJS loader (register)', () => {
  it("loads only the API's Logs and Context modules, which are the very objects the whole API exports", () => {
    const script = `
      import { createRequire } from 'node:module';
      import { otelContextApi, otelLogsApi, otelRootContext } from ${JSON.stringify(join(ROOT, 'src', 'globals', 'otel-packages.ts'))};
      const logs = otelLogsApi(), contextApi = otelContextApi(), root = otelRootContext();
      const require = createRequire(${JSON.stringify(join(ROOT, 'src', 'index.ts'))});
      const indexLoaded = Object.keys(require.cache).some((f) => f.endsWith('/@opentelemetry/api/dist/index.cjs'));
      const api = require('@opentelemetry/api');
      console.log(JSON.stringify({ indexLoaded, logs: logs === api.logs, context: contextApi === api.context, root: root === api.ROOT_CONTEXT }));`;
    const out = execFileSync(process.execPath, ['--experimental-strip-types', '--no-warnings', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ indexLoaded: false, logs: true, context: true, root: true });
  });
});
