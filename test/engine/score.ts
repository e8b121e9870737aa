/**
 * Runs the engine over an evaluation set, group by group, and scores it
 * pairwise against the labels.
 */
import { dedupGroup, type EngineTuning } from '../../workers/dedup/engine.ts';
import type { DedupOptions } from '../../workers/protocol.ts';
import type { EvalSet, LabelledPair } from './evalset.ts';
import { packTexts } from '../../workers/packed-texts.ts';

export interface Score {
  precision: number;
  recall: number;
  predictedPairs: number;
  truePairs: number;
  /** Share of positive pairs found, per variant kind. */
  recallByKind: Record<string, number>;
  /** Share of hard-negative pairs wrongly merged, per kind. */
  mergedByKind: Record<string, number>;
  hardNegativesMerged: number;
  elapsedMs: number;
}

/** Predicted cluster of every question (index = id - 1); a singleton is its own cluster. */
export function predict(set: EvalSet, opts: DedupOptions, tuning: EngineTuning = {}): Int32Array {
  const cluster = Int32Array.from({ length: set.questions.length }, (_, i) => i);
  const byGroup = new Map<string, number[]>();
  for (const q of set.questions) {
    const list = byGroup.get(q.group);
    if (list === undefined) byGroup.set(q.group, [q.id]);
    else list.push(q.id);
  }
  for (const ids of byGroup.values()) {
    const qs = ids.map((id) => set.questions[id - 1]!);
    const result = dedupGroup({
      ids: Float64Array.from(ids), contents: packTexts(qs.map((q) => q.content)), options: packTexts(qs.map((q) => q.options)), opts,
    }, tuning);
    for (const c of result.clusters) for (const m of c.members) cluster[m.questionId - 1] = c.canonicalId - 1;
  }
  return cluster;
}

const share = (pairs: LabelledPair[], cluster: Int32Array, want: boolean) => {
  const byKind: Record<string, [number, number]> = {};
  for (const p of pairs) {
    const k = (byKind[p.kind] ??= [0, 0]);
    k[1]++;
    if ((cluster[p.a - 1] === cluster[p.b - 1]) === want) k[0]++;
  }
  return Object.fromEntries(Object.entries(byKind).map(([k, [hit, all]]) => [k, hit / all]));
};

export function score(set: EvalSet, opts: DedupOptions, tuning: EngineTuning = {}): Score {
  const t0 = performance.now();
  const cluster = predict(set, opts, tuning);
  const elapsedMs = performance.now() - t0;
  const members = new Map<number, number[]>();
  cluster.forEach((c, i) => {
    const list = members.get(c);
    if (list === undefined) members.set(c, [i]);
    else list.push(i);
  });
  let predicted = 0;
  let truePositive = 0;
  for (const list of members.values()) {
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const a = list[x]!, b = list[y]!;
        if (set.ignored.has(a < b ? `${a + 1},${b + 1}` : `${b + 1},${a + 1}`)) continue;
        predicted++;
        if (set.labels[a] === set.labels[b]) truePositive++;
      }
    }
  }
  const classSize = new Map<number, number>();
  for (const l of set.labels) classSize.set(l, (classSize.get(l) ?? 0) + 1);
  let truePairs = 0;
  for (const k of classSize.values()) truePairs += (k * (k - 1)) / 2;
  const mergedNegatives = set.hardNegatives.filter((p) => cluster[p.a - 1] === cluster[p.b - 1]).length;
  return {
    precision: predicted === 0 ? 1 : truePositive / predicted,
    recall: truePairs === 0 ? 1 : truePositive / truePairs,
    predictedPairs: predicted,
    truePairs,
    recallByKind: share(set.positives, cluster, true),
    mergedByKind: share(set.hardNegatives, cluster, true),
    hardNegativesMerged: set.hardNegatives.length === 0 ? 0 : mergedNegatives / set.hardNegatives.length,
    elapsedMs,
  };
}
