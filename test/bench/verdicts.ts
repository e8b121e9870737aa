/**
 * What reviewers' remembered decisions cost the engine (issue 13: "100,000 remembered decisions
 * add at most 10 % to a 1,000,000-question run"). One group of BENCH_VERDICT_GROUP questions
 * (default 200,000), all 100,000 verdicts in it: a heavier load per question than the same
 * verdicts spread over a million. Worker CPU time of this thread, each case without and with the
 * verdicts, BENCH_VERDICT_ROUNDS times (3) in alternation, the lowest counting: a first run (prints computed), a full run with
 * the prints cached, and a re-run after +1 % with the previous run's decisions.
 *
 * The verdicts are what review makes: of the clusters a run proposed, some confirmed (a duplicate
 * per member), some dismissed (a distinct per member: every such cluster is split), some with one
 * member rejected (review's actions only ever decide pairs of one cluster); the rest distinct
 * pairs of questions that are not candidates now (decided in tasks with looser options) and a
 * few duplicates between strangers (0.5 %: each makes a new cluster whose texts must be read).
 *
 *   bun test/bench/verdicts.ts            (or npm run bench with BENCH_VERDICTS=1)
 */
import { dedupGroup, type EngineStats } from '../../workers/dedup/engine.ts';
import { packTexts } from '../../workers/packed-texts.ts';
import { DEFAULT_MAX_DISTANCE, DEFAULT_MIN_SIMILARITY, FINGERPRINT_WORDS, type Cluster, type GroupJob, type PairVerdicts } from '../../workers/protocol.ts';
import { prng } from '../engine/evalset.ts';
import { loadCorpus, scaleCorpus, type Corpus } from './corpus.ts';

export interface VerdictFigures {
  questions: number;
  verdicts: number;
  /** Added share of CPU time with the verdicts, per case. */
  coldShare: number;
  cachedShare: number;
  rerunShare: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The review outcome of a run's clusters, padded to `total` pairs. */
function reviewVerdicts(clusters: Cluster[], n: number, total: number): { verdicts: PairVerdicts; mix: string } {
  const rand = prng(13);
  const distinct: number[] = [];
  const duplicate: number[] = [];
  let confirmed = 0;
  let dismissed = 0;
  let rejected = 0;
  for (const cluster of clusters) {
    if (distinct.length / 2 + duplicate.length / 2 >= total / 2) break;
    const [canonical, ...members] = cluster.members.map((m) => m.questionId);
    const r = rand();
    if (r < 0.5) {
      confirmed++;
      for (const m of members) duplicate.push(canonical!, m);
    } else if (r < 0.8) {
      dismissed++;
      for (const m of members) distinct.push(canonical!, m);
    } else {
      rejected++;
      distinct.push(canonical!, members[Math.floor(rand() * members.length)]!);
    }
  }
  const strangers = { distinct: 0, duplicate: 0 };
  while (distinct.length / 2 + duplicate.length / 2 < total) {
    const a = 1 + Math.floor(rand() * n);
    const b = 1 + Math.floor(rand() * n);
    if (a === b) continue;
    if (rand() < 0.005) {
      duplicate.push(a, b);
      strangers.duplicate++;
    } else {
      distinct.push(a, b);
      strangers.distinct++;
    }
  }
  const mix = `${confirmed} clusters confirmed, ${dismissed} dismissed, ${rejected} with a member rejected; ${strangers.distinct} distinct and ${strangers.duplicate} duplicate pairs of strangers`;
  return { verdicts: { distinct: Int32Array.from(distinct), duplicate: Int32Array.from(duplicate) }, mix };
}

/** Alternated runs per side; the lowest counts (the machine is shared: noise only adds). */
const ROUNDS = Number(process.env.BENCH_VERDICT_ROUNDS ?? 3);

export function runVerdictBench(corpus: Corpus, log: (line: string) => void, opts: { groupSize?: number; verdicts?: number } = {}): VerdictFigures {
  const size = opts.groupSize ?? 200_000;
  const total = opts.verdicts ?? 100_000;
  const grown = Math.round(size * 1.01);
  const all = scaleCorpus(corpus.base, grown);
  const job = (n: number, extra: Partial<GroupJob>): GroupJob => ({
    ids: Float64Array.from({ length: n }, (_, i) => i + 1),
    contents: packTexts(all.slice(0, n).map((q) => q.content)),
    options: packTexts(new Array<string | null>(n).fill(null)),
    opts: { maxDistance: DEFAULT_MAX_DISTANCE, minSimilarity: DEFAULT_MIN_SIMILARITY },
    ...extra,
  });
  // Verdicts travel moved, so each job gets its own copy.
  const copy = (v: PairVerdicts | null): PairVerdicts | null => (v === null ? null : { distinct: v.distinct.slice(), duplicate: v.duplicate.slice() });

  const first = dedupGroup(job(size, {}), { collectGarbage: () => Bun.gc(false) });
  const { verdicts, mix } = reviewVerdicts(first.clusters, size, total);
  log(`verdicts: one group of ${size} questions (${first.clusters.length} clusters), ${total} verdicts: ${mix}`);
  const cache = new Uint32Array(grown * FINGERPRINT_WORDS);
  cache.set(first.prints);
  const vouched = new Uint8Array(grown).fill(1, 0, size);

  /** CPU ms of the run the job makes (the job built before the clock starts), and its result. */
  const timed = (make: () => GroupJob, stats?: EngineStats) => {
    const built = make();
    // The previous runs' garbage collected outside the clock; inside, the young collections the
    // worker asks for (dedup.worker.ts) keep the heap near what is live, as in the service.
    Bun.gc(true);
    const t0 = cpuMs();
    const result = dedupGroup(built, { stats, collectGarbage: () => Bun.gc(false) });
    return { ms: cpuMs() - t0, result };
  };
  /** Lowest of ROUNDS alternated runs without and with the verdicts. */
  const compare = (name: string, make: (v: PairVerdicts | null) => GroupJob) => {
    const ms: [number[], number[]] = [[], []];
    let result: ReturnType<typeof dedupGroup> | undefined;
    let stats: EngineStats | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      ms[0].push(timed(() => make(null)).ms);
      stats = { fresh: 0, exactMerged: 0, candidatePairs: 0, verifiedPairs: 0, textsRead: 0 };
      const withVerdicts = timed(() => make(copy(verdicts)), stats);
      ms[1].push(withVerdicts.ms);
      result = withVerdicts.result;
    }
    const without = Math.min(...ms[0]);
    const withV = Math.min(...ms[1]);
    const share = withV / without - 1;
    log(`  ${name.padEnd(44)} ${without.toFixed(0).padStart(6)} ms  with verdicts ${withV.toFixed(0).padStart(6)} ms  (${share >= 0 ? '+' : ''}${(100 * share).toFixed(1)} %; ${result!.clusters.length} clusters, ${stats!.textsRead} texts read)`);
    return { share, result: result! };
  };
  const cold = compare('first run (prints computed)', (v) => job(size, { verdicts: v }));
  const cached = compare('full run, prints cached', (v) => job(size, { prints: cache.subarray(0, size * FINGERPRINT_WORDS).slice(), vouched: new Uint8Array(size).fill(1), verdicts: v }));
  // The previous run of each side is its own (with or without verdicts), as the runner keeps it.
  const previousWith = cold.result.decisions!;
  const previousWithout = first.decisions!;
  const rerun = compare('re-run after +1 %, previous decisions', (v) =>
    job(grown, { prints: cache.slice(), vouched: vouched.slice(), previous: (v === null ? previousWithout : previousWith).slice(), verdicts: v }),
  );
  // The verdicts hold.
  const clusterOf = new Map(rerun.result.clusters.flatMap((c) => c.members.map((m) => [m.questionId, c.canonicalId] as const)));
  let broken = 0;
  for (let k = 0; k < verdicts.distinct.length; k += 2) {
    const a = clusterOf.get(verdicts.distinct[k]!);
    if (a !== undefined && a === clusterOf.get(verdicts.distinct[k + 1]!)) broken++;
  }
  for (let k = 0; k < verdicts.duplicate.length; k += 2) if (clusterOf.get(verdicts.duplicate[k]!) !== clusterOf.get(verdicts.duplicate[k + 1]!) || clusterOf.get(verdicts.duplicate[k]!) === undefined) broken++;
  // A duplicate pair is refused only where verdicts contradict (x = y, y = z, x ≠ z): rare among random strangers.
  if (broken > 0) log(`  note: ${broken} verdicts not honoured (contradicting ones cannot all be)`);
  return { questions: size, verdicts: total, coldShare: cold.share, cachedShare: cached.share, rerunShare: rerun.share };
}

if (import.meta.main) {
  const size = Number(process.env.BENCH_VERDICT_GROUP ?? 200_000);
  runVerdictBench(loadCorpus(), (line) => console.log(line), { groupSize: size });
}
