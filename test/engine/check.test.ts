import { describe, expect, it } from 'bun:test';
import { Piscina } from 'piscina';
import { CheckIndex, checkGroup, checkOnPool, checkOnThisThread, checkQuestion, printOf, type TextLoader } from '../../src/dedup/check.ts';
import { TextDataCache, type StoredText } from '../../workers/dedup/check-verify.ts';
import { textData } from '../../workers/dedup/compare.ts';
import { F_MINHASH, FP_WORDS } from '../../workers/dedup/print.ts';

const STEM = '在直角坐标系xOy中,曲线C的参数方程为x=2cosθ,y=4sinθ(θ为参数),直线l的参数方程为x=1+tcosα,y=2+tsinα(t为参数).(1)求C和l的直角坐标方程;(2)若曲线C截直线l所得线段的中点坐标为(1,2),求l的斜率.';
const OTHER = '阅读下面的材料,根据要求写作.人们因技术发展得以更好地掌控时间,但也有人因此成了时间的仆人.';

interface Row { id: number; channel: string; content: string }

function bank(rows: Row[], build: boolean): { index: CheckIndex; load: TextLoader; reads: number[] } {
  const index = new CheckIndex();
  for (const r of rows) index.upsert(r.id, checkGroup('解答题', '数学', r.channel), printOf(r.content, null));
  if (build) index.build();
  const byId = new Map(rows.map((r) => [r.id, { content: r.content, options: null, version: `v${r.id}` }]));
  const reads: number[] = [];
  const load: TextLoader = async (ids) => {
    reads.push(...ids);
    return new Map(ids.flatMap((id) => (byId.has(id) ? [[id, byId.get(id)!] as const] : [])));
  };
  return { index, load, reads };
}

const rows: Row[] = [
  { id: 1, channel: 'a', content: STEM },
  { id: 2, channel: 'a', content: OTHER },
  { id: 3, channel: 'a', content: STEM.replace('求C和l的直角坐标方程', '求C与l的直角坐标方程') },
  { id: 4, channel: 'b', content: `<p>${STEM}</p>` },
  { id: 5, channel: 'a', content: STEM.replace('(1,2)', '(1,3)') },
];
const input = { type_name: '解答题', subject_name: '数学', channel_code: 'a', content: `12. （10分）${STEM}`, options: null };

describe('checkQuestion', () => {
  for (const build of [true, false]) {
    it(`finds exact and near duplicates in the channel, best first (${build ? 'built index' : 'delta only'})`, async () => {
      const { index, load, reads } = bank(rows, build);
      const hits = await checkQuestion(index, input, {}, load, checkOnThisThread());
      expect(hits.map((h) => h.question_id)).toEqual([1, 3]);
      expect(hits[0]).toMatchObject({ question_id: 1, similarity: 1 });
      expect(hits[1]!.similarity).toBeGreaterThan(0.8);
      // The exact match needs no text; the changed-number question is ruled out on prints.
      expect(reads).toEqual([3]);
    });
  }

  it('looks across channels with scope "subject"', async () => {
    const { index, load } = bank(rows, true);
    const hits = await checkQuestion(index, input, { scope: 'subject' }, load, checkOnThisThread());
    expect(hits.map((h) => h.question_id).sort()).toEqual([1, 3, 4]);
  });

  it('with scope "subject", sees a channel that appeared after an earlier check, and no other subject', async () => {
    const { index, load } = bank(rows, true);
    expect((await checkQuestion(index, input, { scope: 'subject' }, load, checkOnThisThread())).map((h) => h.question_id).sort()).toEqual([1, 3, 4]);
    index.upsert(7, checkGroup('解答题', '数学', 'c'), printOf(STEM, null));
    index.upsert(8, checkGroup('解答题', '物理', 'a'), printOf(STEM, null));
    expect((await checkQuestion(index, input, { scope: 'subject' }, load, checkOnThisThread())).map((h) => h.question_id).sort()).toEqual([1, 3, 4, 7]);
    expect((await checkQuestion(index, input, {}, load, checkOnThisThread())).map((h) => h.question_id).sort()).toEqual([1, 3]);
  });

  it('forgets removed questions and sees re-added ones', async () => {
    const { index, load } = bank(rows, true);
    index.remove(1);
    index.upsert(9, checkGroup('解答题', '数学', 'a'), printOf(STEM, null));
    const hits = await checkQuestion(index, input, {}, load, checkOnThisThread());
    expect(hits.map((h) => h.question_id)).toEqual([9, 3]);
    expect(index.size).toBe(5);
    expect(index.pending).toBe(1);
  });
});

describe('checkQuestion and the MinHash', () => {
  /** STEM with every third Chinese character from the k-th on replaced: the same formulas, Jaccard ~0.4. */
  const sibling = (k: number) => {
    let n = 0;
    return STEM.replace(/[\u4e00-\u9fff]/g, (c) => (n++ % 3 === k % 3 ? String.fromCharCode(0x4e00 + ((c.charCodeAt(0) * 31 + k * 977) % 20000)) : c));
  };
  const siblings: Row[] = Array.from({ length: 40 }, (_, k) => ({ id: 10 + k, channel: 'a', content: sibling(k) }));
  const near: Row = { id: 3, channel: 'a', content: STEM.replace('求C和l的直角坐标方程', '求C与l的直角坐标方程') };

  it('reads back none of the questions that only share the formulas, where prints without it read a dozen; same hits', async () => {
    const withMinhash = bank([near, ...siblings], true);
    const hits = await checkQuestion(withMinhash.index, input, {}, withMinhash.load, checkOnThisThread());
    expect(hits.map((h) => h.question_id)).toEqual([3]);
    expect(withMinhash.reads).toEqual([3]);
    // The same bank with prints stored before the MinHash (its words zero): the sketch keys alone propose them.
    const legacy = bank([near, ...siblings], false);
    legacy.index = new CheckIndex();
    for (const row of [near, ...siblings]) {
      const print = printOf(row.content, null);
      print.fill(0, F_MINHASH, FP_WORDS);
      legacy.index.upsert(row.id, checkGroup('解答题', '数学', row.channel), print);
    }
    legacy.index.build();
    const legacyHits = await checkQuestion(legacy.index, input, {}, legacy.load, checkOnThisThread());
    expect(legacyHits).toEqual(hits);
    expect(legacy.reads.length).toBeGreaterThan(5);
    expect(legacy.reads).toContain(3);
  });
});

describe('CheckIndex runs', () => {
  it('finds the same candidates whether rows sit in one of many sorted runs or in the unsorted delta', async () => {
    const { RUN_ROWS } = await import('../../workers/dedup/check-index.ts');
    // Filler questions in between, so the planted rows land in the first run, a middle run, the last run and the delta.
    const filler = (i: number) => `${OTHER.slice(0, 20)} 第${i}题 ${i * 7919} ${String.fromCharCode(0x4e00 + (i % 20000))}${String.fromCharCode(0x4e00 + ((i * 31) % 20000))}`;
    const total = 3 * RUN_ROWS + 500;
    const planted = new Map([[5, STEM], [RUN_ROWS + 17, rows[2]!.content], [3 * RUN_ROWS - 1, `<p>${STEM}</p>`], [total - 3, STEM]]);
    const bankRows: Row[] = Array.from({ length: total }, (_, i) => ({ id: i + 1, channel: 'a', content: planted.get(i) ?? filler(i) }));
    const index = new CheckIndex();
    for (const r of bankRows) index.upsert(r.id, checkGroup('解答题', '数学', r.channel), printOf(r.content, null));
    let steps = 0;
    while (index.pending > 500 && index.buildStep()) steps++;
    expect(steps).toBe(3);
    expect(index.pending).toBe(500);
    const byId = new Map(bankRows.map((r) => [r.id, { content: r.content, options: null, version: `v${r.id}` }]));
    const load: TextLoader = async (ids) => new Map(ids.map((id) => [id, byId.get(id)!] as const));
    const found = (await checkQuestion(index, input, {}, load, checkOnThisThread())).map((hit) => hit.question_id).sort((a, b) => a - b);
    expect(found).toEqual([...planted.keys()].map((i) => i + 1).sort((a, b) => a - b));
    index.build();
    expect(index.pending).toBe(0);
    expect((await checkQuestion(index, input, {}, load, checkOnThisThread())).map((hit) => hit.question_id).sort((a, b) => a - b)).toEqual(found);
  });
});

describe('CheckIndex keys by group', () => {
  it("finds a group's copy behind more copies in other groups than a key's budget, and only its own subject's across channels", async () => {
    // 1,000 copies of one stem in other groups, stored first (a lookup visits the oldest rows of a key first).
    const index = new CheckIndex();
    for (let i = 0; i < 1000; i++) index.upsert(i + 1, checkGroup('解答题', i % 2 === 0 ? '物理' : '数学', `other${i % 50}`), printOf(STEM, null));
    index.upsert(5000, checkGroup('解答题', '数学', 'a'), printOf(`<p>${STEM}</p>`, null));
    index.upsert(5001, checkGroup('解答题', '数学', 'a'), printOf(OTHER, null));
    index.build();
    expect(index.pending).toBe(0);
    const query = { maxDistance: 3, minSimilarity: 0.85, typeSubject: '解答题\u0000数学', channel: 'a', scope: 'channel' as const };
    expect(index.candidates(printOf(STEM, null), 0, query).map((c) => c.id)).toEqual([5000]);
    // Across the subject's channels: its own 500 copies (and channel a's), none of physics'.
    const subject = index.candidates(printOf(STEM, null), 0, { ...query, scope: 'subject' }).map((c) => c.id);
    expect(subject).toHaveLength(501);
    expect(subject.every((id) => id === 5000 || id % 2 === 0)).toBe(true);
  });
});

describe('CheckIndex merged runs', () => {
  it('answers every lookup exactly as the unmerged runs did, the per-key cap and the oldest-first order included', async () => {
    const { RUN_ROWS } = await import('../../workers/dedup/check-index.ts');
    const filler = (i: number) => `${OTHER.slice(0, 20)} 第${i % 997}题 ${(i * 7919) % 4001} ${String.fromCharCode(0x4e00 + (i % 20000))}${String.fromCharCode(0x4e00 + ((i * 31) % 20000))}`;
    // Ten runs; 1,500 copies of one stem spread over them (more rows under its keys than a lookup may visit), near copies, two channels.
    const total = 10 * RUN_ROWS + 300;
    const text = (i: number) => (i % 55 === 0 ? STEM : i % 89 === 0 ? STEM.replace('(1,2)', `(1,${i % 7})`) : filler(i));
    const build = () => {
      const index = new CheckIndex();
      for (let i = 0; i < total; i++) index.upsert(i + 1, checkGroup('解答题', '数学', i % 3 === 0 ? 'b' : 'a'), printOf(text(i), null));
      index.remove(56);
      index.upsert(3 * RUN_ROWS, checkGroup('解答题', '数学', 'a'), printOf(STEM, null));
      return index;
    };
    const unmerged = build();
    while (unmerged.buildStep()) {}
    const merged = build();
    merged.build();
    expect(unmerged.runCount).toBe(11);
    expect(merged.runCount).toBeLessThan(4);
    const queries = [STEM, `<p>${STEM}</p>`, STEM.replace('(1,2)', '(1,5)'), OTHER, filler(4242), filler(17), text(89 * 3)];
    let compared = 0;
    for (const content of queries) {
      const print = printOf(content, null);
      for (const scope of ['channel', 'subject'] as const) {
        for (const [maxDistance, minSimilarity] of [[3, 0.85], [0, 0.95], [3, 0.5]] as const) {
          const query = { maxDistance, minSimilarity, typeSubject: '解答题\u0000数学', channel: 'a', scope };
          const before = unmerged.candidates(print, 0, query);
          expect(merged.candidates(print, 0, query)).toEqual(before);
          compared += before.length;
        }
      }
    }
    // The stem's keys hold more rows than one lookup visits: the cap was reached, in the same rows.
    expect(compared).toBeGreaterThan(1000);
  }, 60_000);
});

describe('CheckIndex upsert', () => {
  it('keeps one row for a print it already holds (same version), and a new row for a changed one', () => {
    const index = new CheckIndex();
    const version = [7, 9];
    const print = printOf(STEM, null);
    index.upsert(1, checkGroup('解答题', '数学', 'a'), print, 0, version);
    index.build();
    index.upsert(1, checkGroup('解答题', '数学', 'a'), print, 0, version);
    expect(index.pending).toBe(0);
    expect(index.size).toBe(1);
    index.upsert(1, checkGroup('解答题', '数学', 'a'), printOf(OTHER, null), 0, [7, 10]);
    expect(index.pending).toBe(1);
    expect(index.size).toBe(1);
  });

  it('writes a print made again with its MinHash over the stored one in place (same keys), no new row to sort', () => {
    const index = new CheckIndex();
    const version = [7, 9];
    const print = printOf(STEM, null);
    const legacy = print.slice();
    legacy.fill(0, F_MINHASH, FP_WORDS);
    index.upsert(1, checkGroup('解答题', '数学', 'a'), legacy, 0, version);
    index.build();
    index.upsert(1, checkGroup('解答题', '数学', 'a'), print, 0, version);
    expect(index.pending).toBe(0);
    const held = new Uint32Array(FP_WORDS);
    expect(index.printOf(1, Uint32Array.from(version), held, 0)).toBe(true);
    expect(Array.from(held)).toEqual(Array.from(print));
  });
});

describe('the check pool (workers/check.worker.ts on a real Piscina pool)', () => {
  it('answers as the calling thread does: same prints, same hits, same similarities and reasons', async () => {
    const pool = new Piscina({ filename: new URL('../../workers/check.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
    try {
      const onPool = checkOnPool(pool);
      expect(await onPool.print(input.content, null)).toEqual(printOf(input.content, null));
      const { index, load } = bank(rows, true);
      for (const scope of ['channel', 'subject'] as const) {
        const here = await checkQuestion(index, input, { scope }, load, checkOnThisThread());
        expect(here.some((hit) => hit.reason.stage === 'similar')).toBe(true);
        // Twice: the second time the pool's thread has the stored texts' data cached.
        for (let k = 0; k < 2; k++) expect(await checkQuestion(index, input, { scope }, load, onPool)).toEqual(here);
      }
    } finally {
      await pool.close();
    }
  });
});

describe('TextDataCache', () => {
  const text = (id: number, version: string, content: string): StoredText => ({ id, distance: 0, content, options: null, version });

  it("serves a stored text's data only for the version it was made from", () => {
    const cache = new TextDataCache(10);
    const first = cache.of(text(1, 'a', STEM));
    expect(cache.of(text(1, 'a', STEM))).toBe(first);
    const changed = cache.of(text(1, 'b', OTHER));
    expect(changed).not.toBe(first);
    expect(changed.text).toBe(textData(OTHER, null).text);
    expect(cache.size).toBe(1);
  });

  it('keeps at most its capacity, dropping the least recently used', () => {
    const cache = new TextDataCache(10);
    const content = (id: number) => `${STEM}（${id}）`;
    const made = Array.from({ length: 10 }, (_, id) => cache.of(text(id, 'v', content(id))));
    // Used since: the least recently used is now 1.
    expect(cache.of(text(0, 'v', content(0)))).toBe(made[0]!);
    cache.of(text(10, 'v', content(10)));
    // Past its capacity it keeps nine tenths: 1 and 2 went, 0 stayed.
    expect(cache.size).toBe(9);
    expect(cache.of(text(0, 'v', content(0)))).toBe(made[0]!);
    expect(cache.of(text(3, 'v', content(3)))).toBe(made[3]!);
    expect(cache.of(text(1, 'v', content(1)))).not.toBe(made[1]!);
  });

  it('keeps nothing with capacity 0', () => {
    const cache = new TextDataCache(0);
    expect(cache.of(text(1, 'v', STEM))).not.toBe(cache.of(text(1, 'v', STEM)));
    expect(cache.size).toBe(0);
  });
});
