#!/usr/bin/env node
// `astralog dev`: a local Astralog-compatible receiver, for trying the SDK without an account.
import { parseArgs } from 'node:util';
import { PACKAGE_VERSION } from '../version.ts';
import { startDevReceiver } from './dev-receiver.ts';

const USAGE = `Usage: astralog dev [--port 8080] [--host 127.0.0.1] [--key <api key>] [--out events.ndjson] [--max-events 10000] [--quiet]

Runs a local Astralog-compatible ingest service: POST /v1/drain (Bearer key), GET /health,
GET /api/events?trace_id=<id>&service=<name>, and a web page at / (live tail, filters, trace view).
Events are printed as they arrive.
  --port        port to listen on (default 8080; 0 picks a free one)
  --host        address to listen on (default 127.0.0.1, loopback only)
  --key         the API key clients must send (default: $ASTRALOG_API_KEY, else default-secret-token)
  --out         also append every event to this file as NDJSON
  --max-events  events kept in memory for the page and /api/events (default 10000; oldest dropped, counted)
  --quiet       do not print events`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        key: { type: 'string' },
        out: { type: 'string' },
        'max-events': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version === true) {
    process.stdout.write(`${PACKAGE_VERSION}\n`);
    return 0;
  }
  if (values.help === true || positionals[0] !== 'dev') {
    process.stdout.write(USAGE + '\n');
    return values.help === true ? 0 : 2;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port: expected a port number from 0 to 65535, got '${values.port}'\n`);
    return 2;
  }
  const maxEvents = values['max-events'] === undefined ? 10_000 : Number(values['max-events']);
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) {
    process.stderr.write(`--max-events: expected a whole number of at least 1, got '${values['max-events']}'\n`);
    return 2;
  }
  const host = values.host ?? '127.0.0.1';
  const apiKey = values.key ?? process.env.ASTRALOG_API_KEY ?? DEFAULT_KEY;
  let receiver;
  try {
    receiver = await startDevReceiver({ host, port, apiKey, maxEvents, ...(values.out === undefined ? {} : { out: values.out }), ...(values.quiet === true ? { print: false } : {}) });
  } catch (error) {
    process.stderr.write(`astralog dev: ${(error as Error).message}\n`);
    return 1;
  }
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    process.stderr.write(`astralog dev: listening on ${host}: reachable from other machines; it is meant for local use.\n`);
  }
  process.stderr.write(
    `Astralog dev receiver on ${receiver.url}\n` +
      `Live tail, filters and trace view: open ${receiver.url}/ in a browser\n` +
      // A key from --key or the environment may be a real one: it is named, never printed.
      `Point your app at it: ASTRALOG_ENDPOINT=${receiver.url} ASTRALOG_API_KEY=${apiKey === DEFAULT_KEY ? apiKey : values.key !== undefined ? '<the --key value>' : '"$ASTRALOG_API_KEY"'}\n` +
      `Events of one trace: ${receiver.url}/api/events?trace_id=<id>\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await receiver.close();
  return 0;
}

const DEFAULT_KEY = 'default-secret-token';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`astralog dev: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
