import { readdirSync, readFileSync } from 'node:fs';

/** utime + stime from a /proc stat file (a process's or one thread's), in ms (10 ms ticks); NaN off Linux. */
export function statCpuMs(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of a process's main thread (its id is the process id), in ms (10 ms ticks); NaN off Linux. */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/** CPU (ms) of each of this process's threads by name (Bun names its own: bun, mi-scavenger, JITWorker…; worker threads are "Worker"), summed per name; empty off Linux. */
export function threadCpuByName(): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return byName;
  }
  for (const tid of tids) {
    const cpu = statCpuMs(`/proc/self/task/${tid}/stat`);
    if (Number.isNaN(cpu)) continue;
    let name = tid;
    try {
      name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      // The thread ended meanwhile.
    }
    byName.set(name, (byName.get(name) ?? 0) + cpu);
  }
  return byName;
}

/**
 * The calling thread's CPU time in ms, exact (clock_gettime(CLOCK_THREAD_CPUTIME_ID) through
 * bun:ffi). For timing steps of a few ms: /proc's schedstat and stat, getrusage and
 * process.threadCpuUsage() all read a running thread's runtime as of its last scheduler update
 * (a tick or a switch), so a busy stretch read that way showed up in the idle wait after it
 * (~1.5 ms of "CPU" in a 2 ms sleep after 5 ms of work).
 */
export function threadCpuClock(): () => number {
  const { dlopen, FFIType, ptr } = require('bun:ffi') as typeof import('bun:ffi');
  const libc = dlopen('libc.so.6', { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
  const CLOCK_THREAD_CPUTIME_ID = 3;
  const time = new BigInt64Array(2);
  const at = ptr(time);
  return () => {
    libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, at);
    return Number(time[0]) * 1e3 + Number(time[1]) / 1e6;
  };
}
