import { readFileSync } from 'node:fs';

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
