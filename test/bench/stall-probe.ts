/**
 * The stall bench's probe, a process of its own: asks `GET /api/health` again 5 ms after each
 * answer until its standard input closes, then writes its samples to standard output (JSON).
 * Each is [sent, answered, service main-thread CPU ms meanwhile] (epoch milliseconds; the CPU
 * from /proc, in 10 ms ticks, -1 off Linux): a slow answer with little CPU is the machine's (the
 * thread was not scheduled), one with CPU close to its length is the service's own work.
 *
 * Not a worker thread of the bench: Bun's fetch runs every request of a process on one HTTP
 * client thread, so while the bench downloaded an 84 MB export the probe's health answers waited
 * behind it on the bench's side (200–570 ms at 1,000,000 questions, read as the service's stall;
 * with the download made by curl instead, the same service answered in 10–18 ms).
 *
 * Run: bun test/bench/stall-probe.ts <service url> <service pid> [pause ms, default 5]
 * (the import bench asks every 50 ms: each answer costs the service's main thread too).
 */
import { mainThreadCpuMs } from './main-thread-cpu.ts';

const [url, pidText, pauseText] = process.argv.slice(2);
const pid = Number(pidText);
const pauseMs = Number(pauseText ?? 5);
const samples: number[] = [];
let running = true;

void (async () => {
  for await (const _ of Bun.stdin.stream()) {
    // Input is only ever closed; anything written is ignored.
  }
  running = false;
})();

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
  await Bun.sleep(pauseMs);
}
process.stdout.write(JSON.stringify(samples));
