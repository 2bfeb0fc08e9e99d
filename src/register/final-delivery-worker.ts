// The worker thread behind register's last delivery (final-delivery.ts): posts each request body in
// turn through the exporter's own transport (its proxy and TLS settings included) until the
// deadline, then reports how many events arrived. Built as a file of its own, next to register-setup.
import { workerData } from 'node:worker_threads';
import { HttpTransport } from '../exporter/transport.ts';
import { statusVerdict } from '../exporter/verdict.ts';
import type { FinalDeliveryJob } from './final-delivery.ts';

async function deliver({ delivery, deadline }: FinalDeliveryJob): Promise<number> {
  const transport = new HttpTransport(delivery.transport);
  const never = new AbortController().signal;
  let delivered = 0;
  try {
    for (let i = 0; i < delivery.bodies.length; i++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      // Cloned into this thread as a Uint8Array: a Buffer view of the same memory.
      const body = delivery.bodies[i] as Uint8Array;
      try {
        // Held open by the request's timer (keepProcessAlive): this thread has nothing else to keep it alive.
        const response = await transport.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength), { timeoutMs: left, signal: never });
        if (statusVerdict(response.status) === 'delivered') delivered += delivery.counts[i] as number;
      } catch {
        // not delivered: the next body may still be
      }
    }
  } finally {
    transport.destroy();
  }
  return delivered;
}

const job = workerData as FinalDeliveryJob;
void deliver(job)
  .catch(() => 0)
  .then((delivered) => {
    Atomics.store(job.status, 1, delivered);
    Atomics.store(job.status, 0, 1);
    Atomics.notify(job.status, 0);
  });
