/**
 * Pure-engine figures, all measured in the same process and run:
 *  - fingerprints/s per core, ours vs simhash-js on the same texts;
 *  - one group's dedup, cold vs re-run after adding 1% (cached prints, and
 *    cached prints plus the previous run's decisions, as the runner does).
 * "Per core" is CPU time of this single thread (process.cpuUsage), which
 * other processes on a shared machine disturb far less than wall time.
 */
import { SimHash } from 'simhash-js';
import { dedupGroup, fingerprintQuestion, type EngineStats } from '../../workers/dedup/engine.ts';
import { formulaKey, shingle, shingleBuffer } from '../../workers/dedup/features.ts';
import { simhash64 } from '../../workers/dedup/simhash.ts';
import { DEFAULT_MAX_DISTANCE, DEFAULT_MIN_SIMILARITY, FINGERPRINT_WORDS, type Cluster, type GroupJob } from '../../workers/protocol.ts';
import { scaleCorpus, type Corpus } from './corpus.ts';
import { packTexts } from '../../workers/packed-texts.ts';

export interface EngineFigures {
  texts: number;
  avgChars: number;
  simhashJsPerSec: number;
  oursSimhashPerSec: number;
  oursFullPerSec: number;
  ratioSimhash: number;
  ratioFull: number;
  group: { questions: number; coldMs: number; rerunMs: number; rerunShare: number; clusters: number; printsOnlyMs: number; printsOnlyShare: number; identical: boolean };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Median of per-round rates; rounds alternate between contenders so drift hits all alike. */
function rates(rounds: number, contenders: Record<string, () => number>): Record<string, number> {
  const seen: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(contenders)) {
      const t0 = cpuMs();
      const n = run();
      (seen[name] ??= []).push(n / Math.max(1e-3, cpuMs() - t0) * 1000);
    }
  }
  return Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!]));
}

export function runEngineBench(corpus: Corpus, log: (line: string) => void, opts: { groupSize?: number; rounds?: number } = {}): EngineFigures {
  const texts = corpus.base.map((q) => q.content);
  const avgChars = texts.reduce((a, t) => a + t.length, 0) / texts.length;
  const theirs = new SimHash();
  const out = new Uint32Array(FINGERPRINT_WORDS);
  let sink = 0;
  // Warm-up: let both JITs settle before anything is timed.
  for (const t of texts) sink ^= theirs.hash(t) ^ fingerprintQuestion(t, null, out, 0).text.length;

  const r = rates(opts.rounds ?? 5, {
    'simhash-js': () => {
      for (const t of texts) sink ^= theirs.hash(t);
      return texts.length;
    },
    // The same job simhash-js does: raw text in, 64-bit fingerprint out (no normalization).
    'ours-simhash': () => {
      for (const t of texts) {
        const n = shingle(t);
        simhash64(shingleBuffer(), n, out, 0);
        sink ^= out[0]! ^ formulaKey();
      }
      return texts.length;
    },
    // Everything the worker does per question: normalize, hashes, SimHash, sketch.
    'ours-full': () => {
      for (const t of texts) sink ^= fingerprintQuestion(t, null, out, 0).text.length;
      return texts.length;
    },
  });
  const figures: EngineFigures = {
    texts: texts.length,
    avgChars,
    simhashJsPerSec: r['simhash-js']!,
    oursSimhashPerSec: r['ours-simhash']!,
    oursFullPerSec: r['ours-full']!,
    ratioSimhash: r['ours-simhash']! / r['simhash-js']!,
    ratioFull: r['ours-full']! / r['simhash-js']!,
    group: { questions: 0, coldMs: 0, rerunMs: 0, rerunShare: 0, clusters: 0, printsOnlyMs: 0, printsOnlyShare: 0, identical: true },
  };
  log(`fingerprints/s per core on ${texts.length} ${corpus.source} texts (avg ${avgChars.toFixed(0)} chars):`);
  log(`  simhash-js (32-bit, raw text)        ${figures.simhashJsPerSec.toFixed(0).padStart(9)}`);
  log(`  ours, SimHash only (64-bit, raw)     ${figures.oursSimhashPerSec.toFixed(0).padStart(9)}   x${figures.ratioSimhash.toFixed(1)}`);
  log(`  ours, full print (normalize+hashes+SimHash+sketch) ${figures.oursFullPerSec.toFixed(0).padStart(9)}   x${figures.ratioFull.toFixed(1)}`);

  // One large group, cold, then again after adding 1% new questions, the way the task runner
  // re-runs a group: every text, the stored prints vouched for, and the previous run's decisions.
  const size = opts.groupSize ?? 50_000;
  const grown = Math.round(size * 1.01);
  const all = scaleCorpus(corpus.base, grown);
  const job = (n: number, prints: Uint32Array | null, previous: Uint8Array | null = null, vouched: Uint8Array | null = null): GroupJob => ({
    ids: Float64Array.from({ length: n }, (_, i) => i + 1),
    contents: packTexts(all.slice(0, n).map((q) => q.content)),
    options: packTexts(new Array<string | null>(n).fill(null)),
    opts: { maxDistance: DEFAULT_MAX_DISTANCE, minSimilarity: DEFAULT_MIN_SIMILARITY },
    prints,
    previous,
    vouched,
  });
  const answer = (clusters: Cluster[]) => JSON.stringify(clusters.map(({ canonicalId, members }) => ({ canonicalId, members })));
  // Each job is built before its clock starts: packing the texts is the runner's work, not the worker's.
  const coldJob = job(size, null);
  let t0 = cpuMs();
  const cold = dedupGroup(coldJob);
  const coldMs = cpuMs() - t0;
  const cache = new Uint32Array(grown * FINGERPRINT_WORDS);
  cache.set(cold.prints);

  // Re-run with prints cached only (no previous decisions): what the worker did before decisions were kept.
  const printsOnlyJob = job(grown, cache);
  t0 = cpuMs();
  const printsOnly = dedupGroup(printsOnlyJob);
  const printsOnlyMs = cpuMs() - t0;

  // Re-run as the runner does it: the stored prints, vouched for (read with their texts and
  // matched to the rows' versions), and the previous run's decisions.
  const stats: EngineStats = { fresh: 0, exactMerged: 0, candidatePairs: 0, verifiedPairs: 0, textsRead: 0 };
  const rerunJob = job(grown, cache, cold.decisions ?? null, new Uint8Array(grown).fill(1, 0, size));
  t0 = cpuMs();
  const rerun = dedupGroup(rerunJob, { stats });
  const rerunMs = cpuMs() - t0;
  const same = answer(rerun.clusters) === answer(printsOnly.clusters);
  if (!same) log('  WARNING: the re-run with previous decisions disagrees with a full re-run');

  figures.group = { questions: size, coldMs, rerunMs, rerunShare: rerunMs / coldMs, clusters: rerun.clusters.length, printsOnlyMs, printsOnlyShare: printsOnlyMs / coldMs, identical: same };
  log(`one group of ${size} questions (${rerun.clusters.length} clusters), CPU time:`);
  log(`  cold                                       ${coldMs.toFixed(0).padStart(6)} ms`);
  log(`  +1% new, prints cached                     ${printsOnlyMs.toFixed(0).padStart(6)} ms  (${(100 * printsOnlyMs / coldMs).toFixed(1)}% of cold)`);
  log(`  +1% new, prints and previous decisions     ${rerunMs.toFixed(0).padStart(6)} ms  (${(100 * rerunMs / coldMs).toFixed(1)}% of cold; ${stats.reusedRows} rows kept their answers, ${stats.textsRead} texts read; clusters ${same ? 'identical to' : 'DIFFERENT from'} the full re-run)`);
  if (sink === 0.5) log('');
  return figures;
}
