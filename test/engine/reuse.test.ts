import { describe, expect, it } from 'bun:test';
import { dedupGroup, type EngineStats } from '../../workers/dedup/engine.ts';
import type { Cluster, DedupOptions, GroupJob } from '../../workers/protocol.ts';
import { loadCorpus, scaleCorpus } from '../bench/corpus.ts';
import { prng } from './evalset.ts';
import { packTexts } from '../../workers/packed-texts.ts';

/** Clusters as a cold run reports them: whether one was kept from the previous run is not part of the answer. */
const answer = (clusters: Cluster[]) => clusters.map(({ canonicalId, members }) => ({ canonicalId, members }));

const OPTS: DedupOptions = { maxDistance: 3, minSimilarity: 0.8 };
const SIZE = 8000;
// Generated near-copies and stock phrases: enough shared keys for windowed buckets to occur.
const texts = scaleCorpus(loadCorpus().base, SIZE + 200).map((q) => q.content);

const CJK = '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你能而子说那得下自之着年然学家种面开方此所些已知函数集合列概率向量椭圆双曲线抛物三角形积体程等式导极值单调区间最小实取范围细胞化反应溶液质历史政治经济文地理气候';
const words = (rand: () => number) => (n: number) => Array.from({ length: n }, () => CJK[Math.floor(rand() * CJK.length)]!).join('');
/** Two characters changed from position `at` on. */
const edit = (s: string, at: number) => s.slice(0, at) + '甲' + s[at + 1] + '乙' + s.slice(at + 3);

interface Row {
  id: number;
  content: string;
}

function job(rows: Row[], previous: Uint8Array | null = null, opts = OPTS): GroupJob {
  return { ids: Float64Array.from(rows, (r) => r.id), contents: packTexts(rows.map((r) => r.content)), options: packTexts(rows.map(() => null)), opts, previous };
}

const stats = (): EngineStats => ({ fresh: 0, exactMerged: 0, candidatePairs: 0, verifiedPairs: 0, textsRead: 0 });

/** The bank after an import of ~1 % new questions, a few edits (one making an exact copy) and a few deletions. */
function edited(before: Row[], clustered: number[], alsoGone: number[]): Row[] {
  const gone = new Set([clustered[0], clustered[5], clustered[9], before[17]!.id, before[400]!.id, ...alsoGone]);
  const rows = before.filter((r) => !gone.has(r.id)).map((r) => ({ ...r }));
  const at = (id: number) => rows.find((r) => r.id === id)!;
  at(clustered[2]!).content += ' 求证.';
  at(clustered[7]!).content = texts[SIZE + 150]!;
  rows[3]!.content = rows[4000]!.content;
  rows[1234]!.content = texts[SIZE + 151]!;
  for (let k = 0; k < SIZE / 100; k++) rows.push({ id: before.at(-1)!.id + 1 + 3 * k, content: texts[SIZE + k]! });
  return rows;
}

describe('re-run with the previous run\'s decisions', () => {
  // Ids with gaps, as a bank with deletions has.
  const first: Row[] = texts.slice(0, SIZE).map((content, i) => ({ id: 10 + 2 * i, content }));
  // Triples of texts of their own (small buckets), each pair alike; one of each goes, the other two stay joined.
  const word = words(prng(11));
  const thirds: number[] = [];
  for (let k = 0; k < 5; k++) {
    const a = word(80);
    const id = first.at(-1)!.id + 1;
    first.push({ id, content: a }, { id: id + 1, content: edit(a, 10) }, { id: id + 2, content: edit(a, 40) });
    thirds.push(id + 2 * (k % 2));
  }
  const cold = dedupGroup(job(first));
  const clustered = cold.clusters.flatMap((c) => c.members.map((m) => m.questionId));

  it('finds exactly the clusters of a cold run after adding, editing and deleting questions', () => {
    expect(cold.clusters.length).toBeGreaterThan(100);
    const second = edited(first, clustered, thirds);
    const s = stats();
    const again = dedupGroup(job(second, cold.decisions!), { stats: s });
    expect(answer(again.clusters)).toEqual(answer(dedupGroup(job(second)).clusters));
    // It did reuse: most rows kept their answers, and far fewer pairs were verified.
    expect(s.reusedRows!).toBeGreaterThan(SIZE * 0.8);
    // The hard case was there: buckets too large to compare every pair, whose docs changed.
    expect(s.windowedBuckets!).toBeGreaterThan(10);

    // And the snapshot of an incremental run serves the next one just as well.
    const third = [...second.slice(50), { id: 1e6, content: second[60]!.content + '.' }];
    expect(answer(dedupGroup(job(third, again.decisions!)).clusters)).toEqual(answer(dedupGroup(job(third)).clusters));
  });

  it('stays exact round after round where pairs meet only as neighbours in one crowded bucket', () => {
    // Every text is a long shared stem plus a short tail of its own: the stem's shingles fill
    // every sketch, so all texts share one bucket, too large to compare every pair; which pairs
    // meet depends on their neighbours. Duplicates are tails one edit apart, and chains
    // (a ~ b ~ c, a !~ c).
    const rand = prng(3);
    const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
    const word = words(rand);
    const stem = word(60);
    for (const bucketCap of [3, 16]) {
      let id = 1;
      let rows: Row[] = [];
      const middles: number[] = [];
      const ends: number[] = [];
      const add = () => {
        const a = stem + word(15);
        rows.push({ id: id++, content: a });
        const kind = rand();
        // Two characters of the tail changed: near enough once, too far twice.
        if (kind < 0.3) rows.push({ id: id++, content: edit(a, 60) });
        else if (kind < 0.6) {
          middles.push(id);
          ends.push(id + 1);
          rows.push({ id: id++, content: edit(a, 60) }, { id: id++, content: edit(edit(a, 60), 65) });
        }
      };
      for (let k = 0; k < 120; k++) add();
      const tuning = { bucketCap };
      let decisions = dedupGroup(job(rows), tuning).decisions!;
      let reused = 0;
      for (let round = 0; round < 6; round++) {
        // A chain without its middle falls apart; without an end, the rest stays joined.
        const gone = new Set([pick(middles), pick(ends), pick(rows).id]);
        rows = rows.filter((r) => !gone.has(r.id));
        pick(rows).content = stem + word(15);
        for (let k = 0; k < 3; k++) add();
        const s = stats();
        const again = dedupGroup(job(rows, decisions), { ...tuning, stats: s });
        expect(answer(again.clusters)).toEqual(answer(dedupGroup(job(rows), tuning).clusters));
        expect(s.windowedBuckets!).toBeGreaterThan(0);
        reused += s.reusedRows!;
        // Then a round that only deletes a question in no cluster: only the crowded bucket's
        // makeup changed (all its docs unchanged), and with it which pairs meet.
        const clustered = new Set(again.clusters.flatMap((c) => c.members.map((m) => m.questionId)));
        const alone = pick(rows.filter((r) => !clustered.has(r.id)));
        rows = rows.filter((r) => r !== alone);
        const after = dedupGroup(job(rows, again.decisions!), tuning);
        expect(answer(after.clusters)).toEqual(answer(dedupGroup(job(rows), tuning).clusters));
        decisions = after.decisions!;
      }
      expect(reused).toBeGreaterThan(0);
    }
  });

  it('keeps the same answer when nothing changed, verifying no pair', () => {
    const s = stats();
    const again = dedupGroup(job(first, cold.decisions!), { stats: s });
    expect(answer(again.clusters)).toEqual(answer(cold.clusters));
    // Every cluster is the stored one, so the runner rewrites none of them.
    expect(again.clusters.every((cluster) => cluster.kept)).toBe(true);
    expect(s.verifiedPairs).toBe(0);
  });

  it('ignores a snapshot made with other options', () => {
    const other = { ...OPTS, minSimilarity: 0.9 };
    const s = stats();
    const again = dedupGroup(job(first, cold.decisions!, other), { stats: s });
    expect(s.reusedRows).toBe(0);
    expect(answer(again.clusters)).toEqual(answer(dedupGroup(job(first, null, other)).clusters));
  });

  it('ignores a malformed snapshot', () => {
    expect(answer(dedupGroup(job(first, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).clusters)).toEqual(answer(cold.clusters));
    expect(answer(dedupGroup(job(first, cold.decisions!.slice(0, 400))).clusters)).toEqual(answer(cold.clusters));
  });
});
