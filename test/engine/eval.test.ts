import { describe, expect, it } from 'bun:test';
import { DEFAULT_MAX_DISTANCE, DEFAULT_MIN_SIMILARITY } from '../../workers/protocol.ts';
import { buildEvalSet, GAOKAO_PATH, loadGaokao } from './evalset.ts';
import { score } from './score.ts';
import { HELD_OUT_KINDS } from './variants.ts';

const rows = loadGaokao();
if (rows === null) {
  console.warn(`eval.test: skipped, ${GAOKAO_PATH} is absent (the GAOKAO-Bench data lives in ../shared/data)`);
}
const defaults = { maxDistance: DEFAULT_MAX_DISTANCE, minSimilarity: DEFAULT_MIN_SIMILARITY };

describe.skipIf(rows === null)('evaluation set from GAOKAO-Bench, default options', () => {
  const set = buildEvalSet(rows ?? []);
  const s = score(set, defaults);

  it('is big enough to mean something, with every kind present', () => {
    expect(set.positives.length).toBeGreaterThan(3000);
    expect(set.hardNegatives.length).toBeGreaterThan(1000);
    const kinds = new Set([...set.positives, ...set.hardNegatives].map((p) => p.kind));
    for (const k of ['natural', 'natural-near', 'html', 'fullwidth', 'renumber', 'latex', 'shuffle', 'edit', ...HELD_OUT_KINDS, 'number', 'option']) {
      expect(kinds.has(k)).toBe(true);
    }
  });

  it('reaches pairwise precision >= 0.98 and recall >= 0.95', () => {
    expect(s.precision).toBeGreaterThanOrEqual(0.98);
    expect(s.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('merges at most 1% of hard negatives (changed numbers, changed options, shared templates)', () => {
    expect(s.hardNegativesMerged).toBeLessThanOrEqual(0.01);
    for (const merged of Object.values(s.mergedByKind)) expect(merged).toBeLessThanOrEqual(0.02);
  });
});

describe.skipIf(rows === null)('evaluation set, variant kinds held out from tuning', () => {
  const set = buildEvalSet(rows ?? [], { kinds: HELD_OUT_KINDS, seed: 99 });
  const s = score(set, defaults);

  it('holds precision, recall and the hard-negative bound', () => {
    expect(s.precision).toBeGreaterThanOrEqual(0.98);
    expect(s.recall).toBeGreaterThanOrEqual(0.95);
    expect(s.hardNegativesMerged).toBeLessThanOrEqual(0.01);
  });

  it('finds each held-out formatting kind', () => {
    for (const kind of HELD_OUT_KINDS) {
      const r = s.recallByKind[kind];
      if (r !== undefined) expect(r).toBeGreaterThanOrEqual(0.95);
    }
  });
});
