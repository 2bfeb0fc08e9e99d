// The client API: info/warn/error/debug/event, withContext, close.
// Run it against a local receiver: node examples/run.mjs basic
import { createAstralog } from '@astralog/otel';

const astralog = createAstralog({
  apiKey: process.env.ASTRALOG_API_KEY ?? 'default-secret-token',
  endpoint: process.env.ASTRALOG_ENDPOINT ?? 'http://127.0.0.1:8080',
  service: 'checkout',
  projectId: 'org-xyz',
});

astralog.info('user logged in', { user_id: 'usr_987654', plan: 'pro' });
astralog.debug('cart loaded', { items: 3 });
astralog.warn('slow upstream', { latency_ms: 5040, upstream: 'payments' });

// Everything logged inside, across awaits, carries the request's trace_id and user.
await astralog.withContext({ trace_id: 'req-5f8a9b2c', user_id: 'usr_987654' }, async () => {
  astralog.info('payment started', { amount_cents: 4999 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  try {
    throw new Error('card declined', { cause: new Error('insufficient funds') });
  } catch (error) {
    astralog.error('payment failed', { error, password: 'never sent in clear' });
  }
});

astralog.event('critical', 'refund queue stalled', { queue: 'refunds', depth: 1200 });

await astralog.close(); // sends what is queued, then stops
const { emitted, exported, dropped } = astralog.stats();
console.log(`emitted ${emitted}, exported ${exported}, dropped ${Object.values(dropped).reduce((a, b) => a + b, 0)}`);
