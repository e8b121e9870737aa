/**
 * Where one POST /api/dedup/check's main-thread time goes, phase by phase, on the stall bench's
 * bank (the committed GAOKAO fixture scaled with variants, as test/bench/stall.ts builds it) and
 * its 100 check bodies: `BENCH_CHECK_COST_N=100000 bun test/bench/check-cost.ts`. Prints are
 * computed here on this thread (no service, no database): the text read is served from the
 * corpus, so the figures are the CPU of fingerprint, candidates, text data and verification.
 */
import { cpus, loadavg } from 'node:os';
import { CheckIndex, checkGroup, printOf } from '../../src/dedup/check.ts';
import { TextDataCache } from '../../workers/dedup/check-verify.ts';
import { duplicateSimilarity, textData } from '../../workers/dedup/compare.ts';
import { FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import { loadCorpus, questionAt } from './corpus.ts';

const N = Number(process.env.BENCH_CHECK_COST_N ?? 100_000);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const base = loadCorpus().base;
console.log(`bank ${N}; load ${loadavg().map((v) => v.toFixed(2)).join(' ')}; ${cpus().length} cpus`);
let t = cpu();
const index = new CheckIndex();
const print = new Uint32Array(FINGERPRINT_WORDS);
for (let i = 0; i < N; i++) {
  const q = questionAt(base, i);
  index.upsert(i + 1, checkGroup(q.type_name, q.subject_name, q.channel_code), printOf(q.content, null), 0);
}
index.build();
console.log(`prints + index: ${(cpu() - t).toFixed(0)} ms cpu`);
void print;
// Pass 0 makes every stored text's data, as a cold check pool does; pass 1 takes it from the pool's cache (as a warm pool thread).
const cache = new TextDataCache(10_000);
for (const pass of [0, 1]) {
  const phases = { fingerprint: 0, candidates: 0, mine: 0, theirs: 0, verify: 0 };
  let candidates = 0, exact = 0, hits = 0;
  const per: { cands: number; ms: number }[] = [];
  for (let k = 0; k < 100; k++) {
    const q = questionAt(base, (k * 7919) % N);
    const began = cpu();
    t = cpu(); const p = printOf(q.content, null); phases.fingerprint += cpu() - t;
    t = cpu();
    const cands = index.candidates(p, 0, { maxDistance: 3, minSimilarity: 0.8, typeSubject: `${q.type_name}\u0000${q.subject_name}`, channel: q.channel_code, scope: 'channel' });
    phases.candidates += cpu() - t;
    t = cpu(); const mine = textData(q.content, null); phases.mine += cpu() - t;
    let h = 0;
    for (const c of cands) {
      if (c.exact) { exact++; h++; continue; }
      const s = questionAt(base, c.id - 1);
      t = cpu(); const theirs = cache.of({ id: c.id, distance: c.distance, content: s.content, options: null, version: '' }); phases.theirs += cpu() - t;
      t = cpu(); if (duplicateSimilarity(mine, theirs, 0.8) !== null) h++; phases.verify += cpu() - t;
    }
    candidates += cands.length; hits += h;
    per.push({ cands: cands.length, ms: cpu() - began });
  }
  per.sort((a, b) => a.ms - b.ms);
  console.log(`pass ${pass} (${pass === 0 ? 'stored texts normalized' : 'their text data cached'}): 100 checks: ${candidates} candidates (${exact} exact), ${hits} hits; cpu ms total`, Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)])));
  console.log(`  per check cpu: p50 ${per[50]!.ms.toFixed(1)} ms, max ${per[99]!.ms.toFixed(1)} ms (${per[99]!.cands} candidates); candidates max ${Math.max(...per.map((x) => x.cands))}`);
}
