import { describe, expect, it } from 'bun:test';
import { valueSymbol } from 'piscina';
import { bandCandidates, bandLayout } from '../../workers/dedup/bands.ts';
import { dedupGroup } from '../../workers/dedup/engine.ts';
import { FP_WORDS } from '../../workers/dedup/print.ts';
import { hamming64 } from '../../workers/dedup/hash.ts';
import { NO_KEY, SKETCH_KEYS, sketchCandidates } from '../../workers/dedup/sketch.ts';
import { UnionFind } from '../../workers/dedup/union-find.ts';
import dedupWorker from '../../workers/dedup.worker.ts';
import { packTexts, TextPacker } from '../../workers/packed-texts.ts';
import type { GroupJob } from '../../workers/protocol.ts';

function job(contents: string[], opts = { maxDistance: 3, minSimilarity: 0.8 }, ids?: number[]): GroupJob {
  return {
    ids: Float64Array.from(ids ?? contents.map((_, i) => i + 1)),
    contents: packTexts(contents),
    options: packTexts(contents.map(() => null)),
    opts,
  };
}

/** Deterministic xorshift so the random-fingerprint tests are reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const STEM = '在直角坐标系xOy中,曲线C的参数方程为x=2cosθ,y=4sinθ(θ为参数),直线l的参数方程为x=1+tcosα,y=2+tsinα(t为参数).(1)求C和l的直角坐标方程;(2)若曲线C截直线l所得线段的中点坐标为(1,2),求l的斜率.';

describe('bandLayout', () => {
  it('splits 64 bits into maxDistance+1 bands', () => {
    for (const d of [0, 3, 7, 16]) {
      const { widths } = bandLayout(d);
      expect(widths.length).toBe(d + 1);
      expect(widths.reduce((a, b) => a + b, 0)).toBe(64);
    }
  });
});

describe('bandCandidates', () => {
  it('finds exactly the pairs within maxDistance, each once (vs brute force)', () => {
    const next = rng(7);
    const n = 400;
    const fp = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      if (i % 4 === 0 || i < 4) {
        fp[2 * i] = next();
        fp[2 * i + 1] = next();
      } else {
        // A near copy of an earlier print: flip up to 5 random bits.
        const src = i - 1 - (next() % 3);
        fp[2 * i] = fp[2 * src]!;
        fp[2 * i + 1] = fp[2 * src + 1]!;
        const flips = next() % 6;
        for (let f = 0; f < flips; f++) {
          const bit = next() % 64;
          const w = bit < 32 ? 2 * i + 1 : 2 * i;
          fp[w] = fp[w]! ^ (1 << (bit % 32));
        }
      }
    }
    for (const d of [0, 2, 3, 5]) {
      const want = new Set<string>();
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b < n; b++) {
          if (hamming64(fp[2 * a]!, fp[2 * a + 1]!, fp[2 * b]!, fp[2 * b + 1]!) <= d) want.add(`${a},${b}`);
        }
      }
      const got: string[] = [];
      const docs = Int32Array.from({ length: n }, (_, i) => i);
      bandCandidates(docs, fp, d, (a, b, dist) => {
        expect(dist).toBeLessThanOrEqual(d);
        got.push(`${a},${b}`);
      });
      expect(new Set(got).size).toBe(got.length);
      expect(new Set(got)).toEqual(want);
    }
  });

  it('caps a giant bucket instead of comparing all pairs', () => {
    const n = 5000;
    const fp = new Uint32Array(2 * n); // every print identical: one bucket per band
    let calls = 0;
    bandCandidates(Int32Array.from({ length: n }, (_, i) => i), fp, 3, () => calls++, 16);
    expect(calls).toBeLessThan(n * 16);
  });
});

describe('sketchCandidates', () => {
  const sketches = (rows: number[][]) => Uint32Array.from(rows.flat());

  it('pairs docs sharing any sketch key, whatever its slot, once per pair', () => {
    const prints = sketches([
      [1, 2, 3, 4, 5, 6, 7, 8],
      [1, 2, 9, 10, 11, 12, 13, 14],
      [20, 21, 22, 23, NO_KEY, NO_KEY, NO_KEY, NO_KEY],
      [0, 23, 30, 31, 32, 33, 34, 35],
      [40, 41, 42, 43, 44, 45, 46, 47],
    ]);
    const pairs: string[] = [];
    sketchCandidates(Int32Array.of(0, 1, 2, 3, 4), prints, SKETCH_KEYS, 0, null, (a, b) => pairs.push(`${a},${b}`));
    expect(pairs.sort()).toEqual(['0,1', '2,3']);
  });

  it('caps a key shared by many docs', () => {
    const n = 3000;
    const prints = new Uint32Array(n * SKETCH_KEYS).fill(NO_KEY);
    for (let d = 0; d < n; d++) prints[d * SKETCH_KEYS] = 7;
    let calls = 0;
    sketchCandidates(Int32Array.from({ length: n }, (_, i) => i), prints, SKETCH_KEYS, 0, null, () => calls++, 16);
    expect(calls).toBeLessThan(n * 16);
  });
});

describe('UnionFind', () => {
  it('keeps the smallest index as root', () => {
    const uf = new UnionFind(6);
    uf.union(4, 5);
    uf.union(5, 2);
    expect(uf.union(2, 4)).toBe(false);
    expect(uf.find(5)).toBe(2);
    expect(uf.find(3)).toBe(3);
  });
});

describe('dedupGroup', () => {
  it('clusters formatting variants with the earliest question as canonical', () => {
    const r = dedupGroup(job([
      `1. （10分）${STEM}`,
      '完全不同的一道题:已知集合A={1,2,3},B={2,3,4},求A∩B.',
      `<p>23.${STEM.replace(/,/g, '，')}</p>`,
      `${STEM}`.replace('(1)', '(Ⅰ)'),
    ], undefined, [5, 9, 12, 20]));
    expect(r.clusters.length).toBe(1);
    const c = r.clusters[0]!;
    expect(c.canonicalId).toBe(5);
    expect(c.members[0]).toEqual({ questionId: 5, distance: 0, similarity: 1 });
    expect(c.members.map((m) => m.questionId)).toEqual([5, 12, 20]);
  });

  it('does not merge questions whose numbers or operators differ', () => {
    const r = dedupGroup(job([STEM, STEM.replace('(1,2)', '(1,3)'), STEM.replace('x=1+tcosα', 'x=1-tcosα')]));
    expect(r.clusters).toEqual([]);
  });

  it('merges a small wording edit and reports its similarity', () => {
    const r = dedupGroup(job([STEM, STEM.replace('求C和l的直角坐标方程', '求C与l的直角坐标方程')], { maxDistance: 8, minSimilarity: 0.8 }));
    expect(r.clusters.length).toBe(1);
    const m = r.clusters[0]!.members[1]!;
    expect(m.similarity).toBeGreaterThan(0.8);
    expect(m.similarity).toBeLessThan(1);
  });

  it('decides short stems by their options, not their shared template', () => {
    const r = dedupGroup(job([
      '下列说法正确的是 A. 水是化合物 B. 空气是纯净物 C. 铁是非金属 D. 氧气可燃',
      '下列说法正确的是 A. 光合作用释放氧气 B. 细胞都有细胞核 C. 酶都是蛋白质 D. 病毒能独立生活',
      '下列说法正确的是 A. 空气是纯净物 B. 水是化合物 C. 氧气可燃 D. 铁是非金属',
    ]));
    expect(r.clusters.map((c) => c.members.map((m) => m.questionId))).toEqual([[1, 3]]);
  });

  it('reuses cached prints and recomputes only changed rows', () => {
    const first = dedupGroup(job([STEM, STEM.replace('斜率', '斜率.'), '另一道题']));
    expect(Array.from(first.fresh)).toEqual([1, 1, 1]);
    const again = job([STEM, STEM.replace('斜率', '斜率.'), '改过的另一道题']);
    again.prints = first.prints;
    const second = dedupGroup(again);
    expect(Array.from(second.fresh)).toEqual([0, 0, 1]);
    expect(second.clusters).toEqual(first.clusters);
  });

  it('takes a vouched print as it is, without checking it against the text, and checks the others', () => {
    const first = dedupGroup(job([STEM, '另一道题']));
    // Row 1's print is the one of row 0: vouched, it is used as sent; not vouched, it is found stale and recomputed.
    const swapped = new Uint32Array(first.prints);
    swapped.set(first.prints.subarray(0, FP_WORDS), FP_WORDS);
    const vouched = dedupGroup({ ...job([STEM, '另一道题']), prints: swapped, vouched: Uint8Array.of(1, 1) });
    expect(Array.from(vouched.fresh)).toEqual([0, 0]);
    expect(Array.from(vouched.prints.subarray(FP_WORDS, 2 * FP_WORDS))).toEqual(Array.from(first.prints.subarray(0, FP_WORDS)));
    const checked = dedupGroup({ ...job([STEM, '另一道题']), prints: swapped, vouched: Uint8Array.of(1, 0) });
    expect(Array.from(checked.fresh)).toEqual([0, 1]);
    expect(Array.from(checked.prints)).toEqual(Array.from(first.prints));
  });

  it('asks only for the texts it must verify when the runner omits cached rows', () => {
    const contents = [STEM, '另一道完全不同的题目,求函数f(x)=x^3的导数.', STEM.replace('斜率', '斜率的值'), `<p>${STEM}</p>`];
    const first = dedupGroup(job(contents, { maxDistance: 3, minSimilarity: 0.5 }));
    // Only the rows in `sent` carry their text, as a runner trusting cached prints would pack them.
    const packed = (sent: ArrayLike<number>) => {
      const packer = new TextPacker();
      for (let i = 0; i < contents.length; i++) {
        if (Array.from(sent).includes(i)) packer.addString(contents[i]!);
        else packer.addOmitted();
      }
      return { contents: packer.finish(), omitted: packer.omitted() };
    };
    const lazy = { ...job([], { maxDistance: 3, minSimilarity: 0.5 }, [1, 2, 3, 4]), ...packed([]), prints: first.prints };
    const ask = dedupGroup(lazy);
    expect(ask.clusters).toEqual([]);
    // Rows 0 and 3 are one exact class; verifying it against row 2 needs rows 0 and 2 only.
    expect(Array.from(ask.needContent ?? [])).toEqual([0, 2]);
    const done = dedupGroup({ ...lazy, ...packed(ask.needContent!) });
    expect(done.needContent).toBeUndefined();
    expect(done.clusters).toEqual(first.clusters);
  });

  it('asks, trip after trip, for every text the clusters’ numbers need, and ends with the answer of a run with every text', () => {
    const opts = { maxDistance: 3, minSimilarity: 0.5 };
    const before = [STEM, STEM.replace('斜率', '斜率的值'), '另一道完全不同的题目,求函数f(x)=x^3的导数.'];
    const cold = dedupGroup(job(before, opts, [1, 2, 3]));
    expect(cold.clusters.map((c) => c.members.map((m) => m.questionId))).toEqual([[1, 2]]);
    // A new exact copy joins the old cluster without a pair to verify, yet the cluster is no
    // longer the stored one: its other members' similarities are measured again, on texts.
    const after = [...before, `<p>${STEM}</p>`];
    const expected = dedupGroup(job(after, opts, [1, 2, 3, 4])).clusters;
    expect(expected[0]!.members).toHaveLength(3);
    const prints = new Uint32Array(after.length * FP_WORDS);
    prints.set(cold.prints);
    let sent = new Set([3]);
    let result: ReturnType<typeof dedupGroup> | undefined;
    for (let trip = 0; trip < 5; trip++) {
      const packer = new TextPacker();
      for (let i = 0; i < after.length; i++) {
        if (sent.has(i)) packer.addString(after[i]!);
        else packer.addOmitted();
      }
      result = dedupGroup({ ...job([], opts, [1, 2, 3, 4]), contents: packer.finish(), omitted: packer.omitted(), prints, previous: cold.decisions! });
      if (!result.needContent) break;
      for (const row of result.needContent) {
        expect(sent.has(row)).toBe(false);
        sent = new Set([...sent, row]);
      }
    }
    expect(result!.needContent).toBeUndefined();
    expect(result!.clusters.map(({ kept: _kept, ...rest }) => rest)).toEqual(expected);
    // The unrelated question's text was never needed.
    expect(sent.has(2)).toBe(false);
  });

  it('fetches the texts it must read while it runs, each once, and answers like a run with every text', () => {
    const opts = { maxDistance: 3, minSimilarity: 0.5 };
    const before = [STEM, STEM.replace('斜率', '斜率的值'), '另一道完全不同的题目,求函数f(x)=x^3的导数.'];
    const cold = dedupGroup(job(before, opts, [1, 2, 3]));
    // A new exact copy and a new near copy of the old cluster's stem.
    const after = [...before, `<p>${STEM}</p>`, STEM.replace('斜率', '切线的斜率')];
    const ids = [1, 2, 3, 4, 5];
    const expected = dedupGroup(job(after, opts, ids)).clusters;
    expect(expected[0]!.members).toHaveLength(4);
    const prints = new Uint32Array(after.length * FP_WORDS);
    prints.set(cold.prints);
    const packer = new TextPacker();
    after.forEach((text, i) => (i < before.length ? packer.addOmitted() : packer.addString(text)));
    const omitted = packer.omitted()!;
    const asked: number[][] = [];
    const fetchTexts = (rows: Int32Array) => {
      asked.push(Array.from(rows));
      return { contents: packTexts(Array.from(rows, (row) => after[row]!)), options: packTexts(Array.from(rows, () => null)) };
    };
    const lazy = { ...job([], opts, ids), contents: packer.finish(), omitted, vouched: omitted.slice(), prints, previous: cold.decisions! };
    const result = dedupGroup(lazy, {}, fetchTexts);
    expect(result.needContent).toBeUndefined();
    expect(result.clusters.map(({ kept: _kept, ...rest }) => rest)).toEqual(expected);
    const fetched = asked.flat();
    expect(new Set(fetched).size).toBe(fetched.length);
    // Only rows left out, and never the unrelated question's.
    expect(fetched.every((row) => row < before.length)).toBe(true);
    expect(fetched).not.toContain(2);
  });

  it('asks for an omitted row that has no cached print', () => {
    const lazy = job([STEM, STEM]);
    lazy.omitted = Uint8Array.of(0, 1);
    expect(Array.from(dedupGroup(lazy).needContent ?? [])).toEqual([1]);
  });

  it('is what the worker file exports', () => {
    const r = dedupWorker(job([STEM, STEM]))[valueSymbol];
    expect(r.clusters[0]?.members.length).toBe(2);
  });

  it('sends no decisions back when they are the previous run\'s byte for byte, and changed ones in full', () => {
    const contents = [STEM, STEM, '另一道题', `${STEM}。`];
    const first = dedupWorker(job(contents))[valueSymbol];
    expect(first.decisions?.byteLength).toBeGreaterThan(0);
    expect(first.decisionsKept).toBeUndefined();
    const again = dedupWorker({ ...job(contents), previous: first.decisions!.slice() })[valueSymbol];
    expect(again.decisionsKept).toBe(true);
    expect(again.decisions).toBeUndefined();
    // Whatever it leaves out of the result, the clusters are a fresh run's.
    expect(again.kept?.clusters).toBe(dedupGroup(job(contents)).clusters.length);
    const changed = [...contents.slice(0, 3), '第四道题换了'];
    const third = dedupWorker({ ...job(changed), previous: first.decisions!.slice() })[valueSymbol];
    expect(third.decisionsKept).toBeUndefined();
    expect(Array.from(third.decisions!)).toEqual(Array.from(dedupGroup(job(changed)).decisions!));
  });
});

describe('print worker', () => {
  it('returns the same prints a group job computes', async () => {
    const { default: printWorker } = await import('../../workers/print.worker.ts');
    const contents = [STEM, '另一道题'];
    const prints = printWorker({ contents, options: [null, '["甲","乙"]'] });
    const group = dedupGroup({ ...job(contents), options: packTexts([null, '["甲","乙"]']) });
    expect(Array.from(prints)).toEqual(Array.from(group.prints));
  });
});
