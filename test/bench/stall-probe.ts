/**
 * Worker thread of the stall bench: asks `GET /api/health` again 5 ms after each answer, from a
 * thread of its own so nothing the bench's main thread does (reading a 100 MB export) delays
 * a probe. Each probe is recorded as [sent, answered, service main-thread CPU ms meanwhile]
 * (epoch milliseconds; the CPU from /proc, in 10 ms ticks, -1 off Linux): a slow answer with
 * little CPU is the machine's (the thread was not scheduled), one with CPU close to its length
 * is the service's own work. On any message the samples are posted back and the thread stops.
 */
import { mainThreadCpuMs } from './main-thread-cpu.ts';
import { parentPort, workerData } from 'node:worker_threads';

/** intervalMs: the pause after each answer (5 ms; the import bench asks less often, as each answer costs its main thread too). */
const { url, pid, intervalMs = 5 } = workerData as { url: string; pid: number; intervalMs?: number };

const samples: number[] = [];
let running = true;

parentPort!.once('message', () => {
  running = false;
});

(async () => {
  while (running) {
    const sent = performance.timeOrigin + performance.now();
    const cpuBefore = mainThreadCpuMs(pid);
    try {
      const response = await fetch(`${url}/api/health`);
      await response.arrayBuffer();
    } catch {
      // A refused probe counts as answered when it failed.
    }
    const cpu = mainThreadCpuMs(pid) - cpuBefore;
    samples.push(sent, performance.timeOrigin + performance.now(), Number.isNaN(cpu) ? -1 : cpu);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  parentPort!.postMessage(new Float64Array(samples));
})();
