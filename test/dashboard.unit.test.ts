import { describe, expect, it } from 'bun:test';
import { diffTexts } from '../src/dashboard/client/diff.ts';
import { generateSampleBank } from '../src/sample/generate.ts';
import { questionInput } from '../src/questions/question.schema.ts';

describe('diffTexts', () => {
  it('marks only what differs, CJK by character and Latin by word', () => {
    const { left, right } = diffTexts('计算 3 times 4 的值', '1. 计算 3 times 5 的值');
    expect(left.filter((s) => s.changed).map((s) => s.text)).toEqual(['4']);
    expect(right.filter((s) => s.changed).map((s) => s.text)).toEqual(['1.', '5']);
    expect(right.map((s) => s.text).join('')).toBe('1. 计算 3 times 5 的值');
  });

  it('marks nothing for identical texts', () => {
    expect(diffTexts('同一道题', '同一道题').right).toEqual([{ text: '同一道题', changed: false }]);
  });
});

describe('generateSampleBank', () => {
  it('makes the same valid bank for the same seed, with planted near-duplicates', () => {
    const bank = generateSampleBank({ count: 200, seed: 3 });
    expect(bank).toEqual(generateSampleBank({ count: 200, seed: 3 }));
    expect(bank.every((q) => questionInput.safeParse(q).success)).toBe(true);
    expect(new Set(bank.map((q) => q.external_id)).size).toBe(200);
    const groups = new Set(bank.map((q) => `${q.type_name}|${q.subject_name}|${q.channel_code}`));
    expect(groups.size).toBeGreaterThan(10);
    // Planted copies are near, never exact: every text is distinct, yet some share their source's answer and options.
    expect(new Set(bank.map((q) => q.content)).size).toBe(200);
    const withSameOptions = bank.filter((q, i) => q.options && bank.findIndex((p) => p.options === q.options) !== i);
    expect(withSameOptions.length).toBeGreaterThan(10);
  });
});
