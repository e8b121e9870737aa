/**
 * Worker thread of the stall bench: asks `GET /api/health` again 5 ms after each answer, from a
 * thread of its own so nothing the bench's main thread does (reading a 100 MB export) delays
 * a probe. Each probe is recorded as [sent, answered] in epoch milliseconds; on any message
 * the samples are posted back and the thread stops.
 */
import { parentPort, workerData } from 'node:worker_threads';

const { url } = workerData as { url: string };
const samples: number[] = [];
let running = true;

parentPort!.once('message', () => {
  running = false;
});

(async () => {
  while (running) {
    const sent = performance.timeOrigin + performance.now();
    try {
      const response = await fetch(`${url}/api/health`);
      await response.arrayBuffer();
    } catch {
      // A refused probe counts as answered when it failed.
    }
    samples.push(sent, performance.timeOrigin + performance.now());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  parentPort!.postMessage(new Float64Array(samples));
})();
