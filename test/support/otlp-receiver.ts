import { listenOnLoopback } from './listen.ts';
import { createServer } from 'node:http';

export interface OtlpLogRecordJson {
  body?: { stringValue?: string };
  severityText?: string;
  traceId?: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/** A minimal OTLP/HTTP JSON logs receiver on 127.0.0.1 (what an OpenTelemetry Collector takes on :4318). */
export async function startOtlpReceiver(): Promise<{ url: string; records: OtlpLogRecordJson[]; close: () => Promise<void> }> {
  const records: OtlpLogRecordJson[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/logs' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: OtlpLogRecordJson[] }> }>;
        };
        for (const rl of body.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) records.push(...(sl.logRecords ?? []));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
