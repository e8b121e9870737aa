/** Bench helper thread: prints for bank rows [from, to), built from the same deterministic corpus. */
import { fingerprintQuestion } from '../../workers/dedup/engine.ts';
import { FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import { loadBenchCorpus, questionAt } from './corpus.ts';

declare const self: Worker;
const base = loadBenchCorpus().base;
self.onmessage = (e: MessageEvent<{ from: number; to: number }>) => {
  const { from, to } = e.data;
  const out = new Uint32Array((to - from) * FINGERPRINT_WORDS);
  for (let i = from; i < to; i++) fingerprintQuestion(questionAt(base, i).content, null, out, (i - from) * FINGERPRINT_WORDS);
  self.postMessage(out, [out.buffer]);
};
