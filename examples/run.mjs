// Runs an example against a local Astralog-compatible receiver and shows what arrived.
//   node examples/run.mjs basic | existing-otel-setup | nodesdk-pino-winston | traced-services
// (npm run demo runs traced-services.) Needs the built package: npm run build.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startDevReceiver } from '@astralog/otel/dev';

const HERE = dirname(fileURLToPath(import.meta.url));
const KEY = 'default-secret-token';

/** Starts `node args` with the receiver's address in the environment; resolves when `readyText` is printed. */
function startNode(args, { cwd, env, label, readyText, print }) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...withoutOtelVariables(process.env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines = (stream, chunk) => {
    output += chunk;
    for (const line of String(chunk).split('\n')) if (line.trim() !== '') print(`   [${label}] ${line}`);
  };
  child.stdout.on('data', (chunk) => lines('stdout', chunk));
  child.stderr.on('data', (chunk) => lines('stderr', chunk));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const ready =
    readyText === undefined
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const check = () => {
            const match = readyText.exec(output);
            if (match) return resolve(match);
            setTimeout(check, 20);
          };
          check();
          exited.then(() => reject(new Error(`${label} exited before it was ready:\n${output}`)));
        });
  return { child, exited, ready, output: () => output };
}

function withoutOtelVariables(env) {
  const clean = {};
  for (const [key, value] of Object.entries(env)) if (!key.startsWith('OTEL_') && !key.startsWith('ASTRALOG_')) clean[key] = value;
  return clean;
}

/** The events of each trace, pulled from the receiver's query API as a user would. */
async function eventsByTrace(receiverUrl, traceIds) {
  const traces = new Map();
  for (const traceId of traceIds) {
    const res = await fetch(`${receiverUrl}/api/events?trace_id=${encodeURIComponent(traceId)}`);
    traces.set(traceId, (await res.json()).events);
  }
  return traces;
}

async function runApp(name, print) {
  const receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: (line) => print(`   ${line}`) });
  print(`== Astralog dev receiver on ${receiver.url} (page: ${receiver.url}/ while it runs); running examples/${name}/app.mjs; events as they arrive:`);
  // An example with an instrumentation file loads it first, as its comments say.
  const instrumentation = join(HERE, name, 'instrumentation.mjs');
  const preload = existsSync(instrumentation) ? ['--import', instrumentation] : [];
  const app = startNode([...preload, join(HERE, name, 'app.mjs')], {
    cwd: HERE,
    env: { ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_API_KEY: KEY },
    label: name,
    print,
  });
  const { code } = await app.exited;
  const events = [...receiver.events()];
  await receiver.close();
  return { code, events };
}

/** `keepOpen`: leave the receiver running (its page stays up) and return it; the caller closes it. */
async function runTracedServices(print, requests = ['book', 'lamp', 'broken'], { keepOpen = false } = {}) {
  const receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false });
  print(`== Astralog dev receiver on ${receiver.url} (key ${KEY}); live tail and trace view: open ${receiver.url}/ while the demo runs`);
  print('== starting api and gateway: node --import @astralog/otel/register --require ./tracing.cjs <service>.cjs');
  const dir = join(HERE, 'traced-services');
  const serviceEnv = (service) => ({ ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_API_KEY: KEY, ASTRALOG_SERVICE: service });
  const args = (file) => ['--import', '@astralog/otel/register', '--require', './tracing.cjs', file];
  const api = startNode(args('api.cjs'), { cwd: dir, env: serviceEnv('api'), label: 'api', readyText: /api ready on port (\d+)/, print });
  const apiPort = (await api.ready)[1];
  const gateway = startNode(args('gateway.cjs'), {
    cwd: dir,
    env: { ...serviceEnv('gateway'), API_URL: `http://127.0.0.1:${apiPort}` },
    label: 'gateway',
    readyText: /gateway ready on port (\d+)/,
    print,
  });
  const gatewayPort = (await gateway.ready)[1];

  print(`== ${requests.length} requests through the gateway: ${requests.map((item) => `GET /checkout?item=${item}`).join(', ')}`);
  for (const item of requests) {
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/checkout?item=${item}`);
    await res.text();
  }
  print('== stopping both services (SIGTERM): register flushes their logs, then they exit');
  api.child.kill('SIGTERM');
  gateway.child.kill('SIGTERM');
  const exits = await Promise.all([api.exited, gateway.exited]);

  const traceIds = [...new Set(receiver.events().map((e) => e.trace_id).filter((id) => id !== undefined))];
  const traces = await eventsByTrace(receiver.url, traceIds);
  print(`== events received, grouped by trace_id (from GET ${receiver.url}/api/events?trace_id=…)`);
  for (const [traceId, events] of traces) {
    const services = [...new Set(events.map((e) => e.service))];
    print(`trace ${traceId}  (${events.length} events from ${services.join(' and ')})`);
    for (const event of [...events].sort((a, b) => a.timestamp.localeCompare(b.timestamp))) {
      print(`   ${event.timestamp.slice(11, 23)} ${event.level.toUpperCase().padEnd(5)} ${event.service.padEnd(8)} ${event.message}`);
    }
  }
  const withoutTrace = receiver.events().filter((e) => e.trace_id === undefined);
  if (withoutTrace.length > 0) print(`(${withoutTrace.length} events outside any request, e.g. startup lines, carry no trace_id)`);
  const correlated = [...traces.values()].filter((events) => new Set(events.map((e) => e.service)).size === 2).length;
  print(`== ${correlated} of ${requests.length} requests produced events in both services under one trace_id; services exited with ${exits.map((e) => (e.signal ?? `code ${e.code}`)).join(', ')}`);
  const events = [...receiver.events()];
  if (!keepOpen) await receiver.close();
  return { traces, correlated, requests: requests.length, exits, events, receiver };
}

export { runApp, runTracedServices };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const name = process.argv[2];
  const print = (line) => process.stdout.write(line + '\n');
  if (name === 'traced-services') {
    // On a terminal the receiver stays up afterwards, so its page can be opened on the demo's traffic.
    const keepOpen = process.stdout.isTTY === true && !process.argv.includes('--no-wait');
    const result = await runTracedServices(print, undefined, { keepOpen });
    process.exitCode = result.correlated === result.requests ? 0 : 1;
    if (keepOpen) {
      const first = [...result.traces.keys()][0];
      print(`== the receiver stays up: open ${result.receiver.url}/${first === undefined ? '' : `#trace=${first}`} for the trace view; Ctrl-C to stop`);
      await new Promise((resolve) => process.once('SIGINT', resolve));
      await result.receiver.close();
    }
  } else if (name === 'basic' || name === 'existing-otel-setup' || name === 'nodesdk-pino-winston') {
    const result = await runApp(name, print);
    print(`== ${result.events.length} events received; the example exited with code ${result.code}`);
    process.exitCode = result.code;
  } else {
    process.stderr.write('usage: node examples/run.mjs basic | existing-otel-setup | nodesdk-pino-winston | traced-services\n');
    process.exitCode = 2;
  }
}
