/**
 * Piscina entry for prints alone: a batch of questions in, their prints
 * out (FINGERPRINT_WORDS words per row, row order kept). For filling the
 * fingerprint column at import and the check index at startup off the
 * main thread. Pure CPU, no I/O.
 */
import { fingerprintQuestion } from './dedup/engine.ts';
import { FINGERPRINT_WORDS } from './protocol.ts';
import { lowerThreadPriority } from './thread-priority.ts';

// As the dedup worker: bulk printing yields the CPU to the main thread's requests.
lowerThreadPriority();

export interface PrintJob {
  contents: string[];
  /** Stored JSON text of each question's options, or null. */
  options: (string | null)[];
}

export default function printWorker(job: PrintJob): Uint32Array {
  const out = new Uint32Array(job.contents.length * FINGERPRINT_WORDS);
  for (let i = 0; i < job.contents.length; i++) {
    fingerprintQuestion(job.contents[i] ?? '', job.options[i] ?? null, out, i * FINGERPRINT_WORDS);
  }
  return out;
}
