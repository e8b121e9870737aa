/**
 * Reviewers' remembered pair decisions inside the engine (GroupJob.verdicts, workers/dedup/verdicts.ts):
 * distinct pairs never share a cluster (the weaker link leaves), duplicate pairs always do
 * (stage `reviewed` where nothing else joins them), and a re-run with the previous run's snapshot
 * equals a fresh run with the same verdicts whatever changed in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { Piscina } from 'piscina';
import { dedupGroup, type EngineStats } from '../../workers/dedup/engine.ts';
import { STAGE_EXACT, STAGE_REVIEWED, STAGE_SIMILAR } from '../../workers/dedup/reason.ts';
import { packTexts } from '../../workers/packed-texts.ts';
import { jobTransferList, type Cluster, type DedupOptions, type GroupJob, type GroupResult } from '../../workers/protocol.ts';
import { prng } from './evalset.ts';

const OPTS: DedupOptions = { maxDistance: 3, minSimilarity: 0.8 };
/** At maxDistance 10, texts of ~400 shingles take the band path instead of the sketch path. */
const LONG_PATH: DedupOptions = { maxDistance: 10, minSimilarity: 0.8 };

// No key words, numbers or formulas (their agreement is checked apart from similarity).
const CJK = '的是在了有和人这中为上个国我以要他时来用们生到作地于出就分对成会可也你能而子说那得自之着年然学家种面开方此所些已知函数集合列概率向量椭圆双曲线抛物三角形积体程等式导值单调区间实取范围细胞化应溶液质历史政治经济文理气候';
const text = (rand: () => number, n: number) => Array.from({ length: n }, () => CJK[Math.floor(rand() * CJK.length)]!).join('');
/** Two characters changed from position `at` on: ~0.955 Jaccard on a 200-character text, two edits ~0.91, three ~0.87. */
const edit = (s: string, ...at: number[]) => at.reduce((t, p) => t.slice(0, p) + '甲' + t[p + 1] + '乙' + t.slice(p + 3), s);

interface Row {
  id: number;
  content: string;
}
type Pairs = [number, number][];

function job(rows: Row[], verdicts: { distinct?: Pairs; duplicate?: Pairs } = {}, opts = OPTS, previous: Uint8Array | null = null): GroupJob {
  return {
    ids: Float64Array.from(rows, (r) => r.id),
    contents: packTexts(rows.map((r) => r.content)),
    options: packTexts(rows.map(() => null)),
    opts,
    previous,
    verdicts: { distinct: Int32Array.from((verdicts.distinct ?? []).flat()), duplicate: Int32Array.from((verdicts.duplicate ?? []).flat()) },
  };
}

/** Members' ids per cluster, canonical first. */
const groups = (clusters: Cluster[]) => clusters.map((c) => c.members.map((m) => m.questionId));
/** Everything a cold run reports, with each member's reason; not whether a cluster was kept. */
const answer = (clusters: Cluster[]) =>
  clusters.map(({ canonicalId, members, stages, checks }) => ({ canonicalId, members, stages: Array.from(stages ?? []), checks: Array.from(checks ?? []) }));
const stageOf = (clusters: Cluster[], id: number) => {
  for (const c of clusters) {
    const k = c.members.findIndex((m) => m.questionId === id);
    if (k >= 0) return c.stages![k];
  }
  return undefined;
};
const similarityOf = (clusters: Cluster[], id: number) => clusters.flatMap((c) => c.members).find((m) => m.questionId === id)?.similarity;

describe('distinct verdicts', () => {
  const a = text(prng(1), 200);
  for (const [path, opts] of [['sketch (short texts)', OPTS], ['band (long texts)', LONG_PATH]] as const) {
    it(`splits a distinct pair and sends away the one linked less strongly: ${path}`, () => {
      // x is one edit from a and two from b; a and b are three edits apart (still a passing pair).
      const rows = [
        { id: 10, content: a },
        { id: 20, content: edit(a, 10) },
        { id: 30, content: edit(a, 10, 60, 120) },
      ];
      const free = dedupGroup(job(rows, {}, opts)).clusters;
      expect(groups(free)).toEqual([[10, 20, 30]]);
      expect(similarityOf(free, 30)!).toBeGreaterThanOrEqual(0.8);

      const split = dedupGroup(job(rows, { distinct: [[30, 10]] }, opts)).clusters;
      expect(groups(split)).toEqual([[10, 20]]);
      // The other way round: x nearer to b, so a leaves.
      const mirrored = [
        { id: 10, content: a },
        { id: 20, content: edit(a, 10, 60) },
        { id: 30, content: edit(a, 10, 60, 120) },
      ];
      expect(groups(dedupGroup(job(mirrored, {}, opts)).clusters)).toEqual([[10, 20, 30]]);
      expect(groups(dedupGroup(job(mirrored, { distinct: [[10, 30]] }, opts)).clusters)).toEqual([[20, 30]]);
    });
  }

  it('breaks a chain whose ends are distinct, the middle staying with its nearer end', () => {
    // a ~ b ~ c with a !~ c: without the verdict one cluster through b.
    const rows = [
      { id: 1, content: a },
      { id: 2, content: edit(a, 10) },
      { id: 3, content: edit(a, 10, 50, 90, 130, 170) },
      // Unrelated questions around it stay as they are.
      { id: 4, content: text(prng(2), 200) },
      { id: 5, content: edit(text(prng(2), 200), 30) },
    ];
    const free = dedupGroup(job(rows)).clusters;
    expect(groups(free)).toEqual([[1, 2, 3], [4, 5]]);
    expect(similarityOf(free, 3)!).toBeLessThan(0.8);
    expect(groups(dedupGroup(job(rows, { distinct: [[1, 3]] })).clusters)).toEqual([[1, 2], [4, 5]]);
    // b's verdict with a: b leaves a, and then joins c (its other link).
    expect(groups(dedupGroup(job(rows, { distinct: [[1, 2]] })).clusters)).toEqual([[2, 3], [4, 5]]);
    // Both: b and c stay apart from a, together.
    expect(groups(dedupGroup(job(rows, { distinct: [[1, 2], [1, 3]] })).clusters)).toEqual([[2, 3], [4, 5]]);
  });

  for (const [path, opts] of [['sketch', OPTS], ['band', LONG_PATH]] as const) {
    it(`splits a set too large to meet every pair directly along its weakest links: ${path} path`, () => {
      // Two families of one-edit variants around a and around b (a and b five edits apart: not
      // alike), bridged by m, two edits from a and three from b: 27 questions in one set.
      const b = edit(a, 100, 112, 124, 136, 148);
      const rows: Row[] = [{ id: 1, content: a }, { id: 2, content: b }, { id: 3, content: edit(a, 100, 112) }];
      for (let k = 0; k < 12; k++) rows.push({ id: 10 + k, content: edit(a, 4 * k) }, { id: 30 + k, content: edit(b, 152 + 4 * k) });
      rows.sort((x, y) => x.id - y.id);
      const aSide = [1, 3, ...Array.from({ length: 12 }, (_, k) => 10 + k)];
      const bSide = [2, ...Array.from({ length: 12 }, (_, k) => 30 + k)];
      expect(groups(dedupGroup(job(rows, {}, opts)).clusters)).toEqual([[...aSide, ...bSide].sort((x, y) => x - y)]);
      expect(groups(dedupGroup(job(rows, { distinct: [[1, 2]] }, opts)).clusters)).toEqual([aSide, bSide]);
    });
  }

  it('splits exact copies, each keeping its own similar links; ties go by question ids', () => {
    const rows = [
      { id: 1, content: a },
      { id: 2, content: a },
      { id: 3, content: edit(a, 10) },
      { id: 4, content: a },
    ];
    expect(groups(dedupGroup(job(rows)).clusters)).toEqual([[1, 2, 3, 4]]);
    // 1 and 2 may not meet: 4 (an exact copy of both) goes with 1 (pair (1,4) before (2,4)), and
    // 3, as similar to each, goes with 1 too.
    const split = dedupGroup(job(rows, { distinct: [[1, 2]] })).clusters;
    expect(groups(split)).toEqual([[1, 3, 4]]);
    expect(stageOf(split, 4)).toBe(STAGE_EXACT);
    expect(stageOf(split, 3)).toBe(STAGE_SIMILAR);
  });

  it('ignores pairs naming a question not in the job, or one question twice', () => {
    const rows = [
      { id: 1, content: a },
      { id: 2, content: edit(a, 10) },
    ];
    expect(groups(dedupGroup(job(rows, { distinct: [[1, 99], [2, 2]], duplicate: [[1, 1], [77, 2]] })).clusters)).toEqual([[1, 2]]);
  });
});

describe('duplicate verdicts', () => {
  const a = text(prng(5), 200);
  const other = text(prng(6), 200);
  const third = text(prng(7), 150);

  it('joins a duplicate pair that shares nothing, marking the member reviewed', () => {
    const rows = [
      { id: 1, content: a },
      { id: 2, content: other },
      { id: 3, content: edit(a, 10) },
      { id: 4, content: third },
    ];
    expect(groups(dedupGroup(job(rows)).clusters)).toEqual([[1, 3]]);
    const clusters = dedupGroup(job(rows, { duplicate: [[2, 1]] })).clusters;
    expect(groups(clusters)).toEqual([[1, 2, 3]]);
    expect(stageOf(clusters, 2)).toBe(STAGE_REVIEWED);
    expect(stageOf(clusters, 3)).toBe(STAGE_SIMILAR);
    // Between two questions that are no other's duplicates, with the canonical's side of it.
    const apart = dedupGroup(job(rows, { duplicate: [[4, 2]] })).clusters;
    expect(groups(apart)).toEqual([[1, 3], [2, 4]]);
    expect(stageOf(apart, 4)).toBe(STAGE_REVIEWED);
  });

  it('marks a member reviewed only when nothing but a verdict joins it', () => {
    const rows = [
      { id: 1, content: a },
      { id: 2, content: edit(a, 10) },
      { id: 3, content: other },
    ];
    // A confirmed pair that the engine finds anyway stays `similar`; one joined only through another verdict is `reviewed`.
    const clusters = dedupGroup(job(rows, { duplicate: [[1, 2], [2, 3]] })).clusters;
    expect(groups(clusters)).toEqual([[1, 2, 3]]);
    expect(Array.from(clusters[0]!.stages!)).toEqual([STAGE_EXACT, STAGE_SIMILAR, STAGE_REVIEWED]);
  });

  it('joins a duplicate pair across a distinct verdict split, and never a distinct pair through duplicates', () => {
    const rows = [
      { id: 1, content: a },
      { id: 2, content: edit(a, 10) },
      { id: 3, content: edit(a, 10, 60, 120) },
      { id: 4, content: other },
    ];
    // 3 leaves 1 (weaker link), but a reviewer said 3 and 4 are the same question.
    const clusters = dedupGroup(job(rows, { distinct: [[1, 3]], duplicate: [[3, 4]] })).clusters;
    expect(groups(clusters)).toEqual([[1, 2], [3, 4]]);
    expect(stageOf(clusters, 4)).toBe(STAGE_REVIEWED);
    // Contradicting verdicts (4 = 1, 4 = 3, 1 ≠ 3): the distinct one holds; duplicate verdicts join in id order, so 4 stays with 1.
    const contradiction = dedupGroup(job(rows, { distinct: [[1, 3]], duplicate: [[4, 3], [1, 4]] })).clusters;
    expect(groups(contradiction)).toEqual([[1, 2, 4]]);
    expect(stageOf(contradiction, 4)).toBe(STAGE_REVIEWED);
  });
});

describe('re-run with the previous snapshot and changed verdicts', () => {
  // Real questions (with their natural near-duplicates) plus generated families: pairs, chains, exact copies.
  const bank = readFileSync(new URL('../fixtures/gaokao/questions.ndjson', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { content: string }).content);

  it('equals a fresh run with the same verdicts, round after round of edits and verdict changes', () => {
    const rand = prng(42);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    let nextId = 1;
    let rows: Row[] = bank.map((content) => ({ id: nextId++, content }));
    const family = () => {
      const base = text(rand, 120 + Math.floor(rand() * 200));
      const out = [{ id: nextId++, content: base }, { id: nextId++, content: edit(base, 10) }];
      const kind = rand();
      if (kind < 0.4) out.push({ id: nextId++, content: edit(base, 10, 60) }, { id: nextId++, content: edit(base, 10, 60, 100) });
      else if (kind < 0.6) out.push({ id: nextId++, content: base });
      return out;
    };
    for (let k = 0; k < 120; k++) rows.push(...family());
    // Verdicts by pair key "low,high" → kind, as the service holds them.
    const verdicts = new Map<string, 'distinct' | 'duplicate'>();
    const asPairs = () => {
      const out: { distinct: Pairs; duplicate: Pairs } = { distinct: [], duplicate: [] };
      for (const [key, kind] of verdicts) out[kind].push(key.split(',').map(Number) as [number, number]);
      return out;
    };
    const decide = (x: number, y: number, kind: 'distinct' | 'duplicate') => verdicts.set(`${Math.min(x, y)},${Math.max(x, y)}`, kind);
    /** A question's verdicts lapse when it is edited or deleted. */
    const lapse = (id: number) => {
      for (const key of [...verdicts.keys()]) if (key.split(',').map(Number).includes(id)) verdicts.delete(key);
    };

    let fresh = dedupGroup(job(rows, asPairs()));
    let decisions = fresh.decisions!;
    let splits = 0;
    let reused = 0;
    for (let round = 0; round < 8; round++) {
      // Reviewers act on the clusters they were shown: dismiss a member, confirm a cluster, join two strangers, forget one.
      for (let k = 0; k < 10; k++) {
        const cluster = pick(fresh.clusters);
        const ids = cluster.members.map((m) => m.questionId);
        const r = rand();
        if (r < 0.4) decide(ids[0]!, pick(ids.slice(1)), 'distinct');
        else if (r < 0.55) for (const id of ids.slice(1)) decide(ids[0]!, id, 'duplicate');
        else if (r < 0.75) decide(pick(rows).id, pick(rows).id, rand() < 0.5 ? 'duplicate' : 'distinct');
        else if (verdicts.size > 0) verdicts.delete(pick([...verdicts.keys()]));
      }
      // And the bank changes: deletions, edits (their verdicts lapse), new questions.
      for (let k = 0; k < 4; k++) {
        const gone = pick(rows);
        rows = rows.filter((row) => row !== gone);
        lapse(gone.id);
        // Half the edits hit a question with verdicts.
        const withVerdicts = new Set([...verdicts.keys()].flatMap((key) => key.split(',').map(Number)));
        const edited = rand() < 0.5 && withVerdicts.size > 0 ? rows.find((row) => withVerdicts.has(row.id)) ?? pick(rows) : pick(rows);
        edited.content = rand() < 0.5 ? edit(edited.content, 3) : pick(rows).content;
        lapse(edited.id);
      }
      if (round % 2 === 0) rows.push(...family());
      // A round without bank changes too: only verdicts changed since the previous run.
      for (const bankChanged of [true, false]) {
        if (!bankChanged) decide(pick(rows).id, pick(rows).id, 'distinct');
        const stats: EngineStats = { fresh: 0, exactMerged: 0, candidatePairs: 0, verifiedPairs: 0, textsRead: 0 };
        const again = dedupGroup(job(rows, asPairs(), OPTS, decisions), { stats });
        fresh = dedupGroup(job(rows, asPairs()));
        expect(answer(again.clusters)).toEqual(answer(fresh.clusters));
        reused += stats.reusedRows!;
        decisions = again.decisions!;
        // The verdicts hold in every round.
        const clusterOf = new Map(fresh.clusters.flatMap((c) => c.members.map((m) => [m.questionId, c.canonicalId] as const)));
        const present = new Set(rows.map((row) => row.id));
        const pairs = asPairs();
        for (const [x, y] of pairs.distinct) if (clusterOf.has(x)) expect(clusterOf.get(y)).not.toBe(clusterOf.get(x));
        for (const [x, y] of pairs.duplicate) if (present.has(x) && present.has(y)) expect(clusterOf.get(y)).toBe(clusterOf.get(x)!);
        splits += pairs.distinct.filter(([x, y]) => clusterOf.has(x) && clusterOf.has(y)).length;
      }
    }
    // The hard cases were there: distinct pairs whose questions each kept a cluster, and reuse.
    expect(splits).toBeGreaterThan(5);
    expect(reused).toBeGreaterThan(1000);
  });

  it('drops the clusters a verdict touched and keeps the others as stored', () => {
    const rows = bank.slice(0, 600).map((content, i) => ({ id: i + 1, content }));
    const a = text(prng(9), 200);
    rows.push({ id: 1001, content: a }, { id: 1002, content: edit(a, 10) }, { id: 1003, content: edit(a, 10, 60, 120) });
    const cold = dedupGroup(job(rows));
    const split = dedupGroup(job(rows, { distinct: [[1001, 1003]] }, OPTS, cold.decisions!));
    expect(groups(split.clusters.filter((c) => !c.kept))).toEqual([[1001, 1002]]);
    expect(Array.from(split.dropped!)).toEqual([1001]);
    // The verdict forgotten: the cluster comes back whole, nothing else rewritten.
    const back = dedupGroup(job(rows, {}, OPTS, split.decisions!));
    expect(groups(back.clusters.filter((c) => !c.kept))).toEqual([[1001, 1002, 1003]]);
    expect(answer(back.clusters)).toEqual(answer(cold.clusters));
  });

  it('keeps reusing what verdicts did not change: a confirmed cluster, a distinct pair already apart', () => {
    const rows = bank.slice(0, 600).map((content, i) => ({ id: i + 1, content }));
    const a = text(prng(9), 200);
    rows.push({ id: 1001, content: a }, { id: 1002, content: edit(a, 10) }, { id: 1003, content: edit(a, 10, 60, 120) });
    const verdicts = { duplicate: [[1001, 1002], [1001, 1003]] as Pairs, distinct: [[1, 1001], [2, 3]] as Pairs };
    const first = dedupGroup(job(rows, verdicts));
    expect(answer(first.clusters)).toEqual(answer(dedupGroup(job(rows)).clusters));
    const stats: EngineStats = { fresh: 0, exactMerged: 0, candidatePairs: 0, verifiedPairs: 0, textsRead: 0 };
    const again = dedupGroup(job(rows, verdicts, OPTS, first.decisions!), { stats });
    expect(again.clusters.every((cluster) => cluster.kept)).toBe(true);
    expect(stats.verifiedPairs).toBe(0);
    expect(stats.reusedRows).toBe(rows.length);
  });
});

describe('texts left out by the runner', () => {
  it('fetches the texts of a set it must split, or asks for them back', () => {
    const a = text(prng(21), 200);
    const rows: Row[] = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, content: text(prng(100 + i), 150) }));
    rows.push({ id: 101, content: a }, { id: 102, content: edit(a, 10) }, { id: 103, content: edit(a, 10, 60, 120) });
    const cold = dedupGroup(job(rows));
    const want = answer(dedupGroup(job(rows, { distinct: [[101, 103]] })).clusters);
    // A re-run as the runner sends it: no text, every print vouched for, the previous decisions.
    const leftOut = (filled: ReadonlySet<number> = new Set()): GroupJob => ({
      ...job(rows.map((row, i) => ({ id: row.id, content: filled.has(i) ? row.content : '' })), { distinct: [[101, 103]] }, OPTS, cold.decisions!),
      prints: cold.prints.slice(),
      omitted: Uint8Array.from(rows, (_, i) => (filled.has(i) ? 0 : 1)),
      vouched: new Uint8Array(rows.length).fill(1),
    });
    const asked: number[] = [];
    const fetched = dedupGroup(leftOut(), {}, (wanted) => {
      asked.push(...wanted);
      return { contents: packTexts(Array.from(wanted, (i) => rows[i]!.content)), options: packTexts(Array.from(wanted, () => null)) };
    });
    expect(answer(fetched.clusters)).toEqual(want);
    // Nothing else changed: the split set's three texts are all it read.
    expect(asked.sort((x, y) => x - y)).toEqual([40, 41, 42]);
    // Without a channel it answers with the rows it needs, and the job sent again with them is final.
    const back = dedupGroup(leftOut());
    expect(Array.from(back.needContent!)).toEqual([40, 41, 42]);
    expect(answer(dedupGroup(leftOut(new Set(back.needContent!))).clusters)).toEqual(want);
  });
});

describe('the pool worker', () => {
  let pool: Piscina;
  beforeAll(() => {
    pool = new Piscina({ filename: new URL('../../workers/dedup.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('takes verdicts across the thread boundary, moved with the job', async () => {
    const a = text(prng(11), 200);
    const rows = [
      { id: 1, content: a },
      { id: 2, content: edit(a, 10) },
      { id: 3, content: edit(a, 10, 60, 120) },
      { id: 4, content: text(prng(12), 200) },
    ];
    const sent = job(rows, { distinct: [[1, 3]], duplicate: [[3, 4]] });
    const distinct = sent.verdicts!.distinct;
    const result = (await pool.run(sent, { transferList: jobTransferList(sent) as never })) as GroupResult;
    // Moved, not copied: the sender's array is detached.
    expect(distinct.length).toBe(0);
    expect(groups(result.clusters)).toEqual([[1, 2], [3, 4]]);
    expect(Array.from(result.clusters[1]!.stages!)).toEqual([STAGE_EXACT, STAGE_REVIEWED]);
  });
});
