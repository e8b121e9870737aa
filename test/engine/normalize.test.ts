import { describe, expect, it } from 'bun:test';
import { normalizeQuestion, splitInlineOptions } from '../../workers/dedup/normalize.ts';

const norm = (s: string, o: string | null = null) => normalizeQuestion(s, o);

describe('normalizeQuestion', () => {
  it('strips HTML tags and entities', () => {
    expect(norm('<p>已知&nbsp;<b>集合</b> A</p>')).toBe(norm('已知 集合 A'));
  });

  it('does not treat a < b in a formula as a tag', () => {
    expect(norm('若 $a<b$ 且 $c>d$')).toContain('a<b');
  });

  it('maps full-width characters and Chinese punctuation to one form', () => {
    expect(norm('已知ｘ＋１＝２，求ｘ。')).toBe(norm('已知x+1=2,求x.'));
  });

  it('drops question numbers, source tags and score notes', () => {
    const plain = norm('已知函数 f(x)=x^2, 求 f(2)');
    expect(norm('1. （5分）已知函数 f(x)=x^2, 求 f(2)')).toBe(plain);
    expect(norm('12、(本小题满分12分) 已知函数 f(x)=x^2, 求 f(2)')).toBe(plain);
    expect(norm('(2019·全国卷Ⅰ) 已知函数 f(x)=x^2, 求 f(2)')).toBe(plain);
  });

  it('keeps digits and operators: x^2+1 and x^2-1 stay different', () => {
    expect(norm('$x^2+1$')).not.toBe(norm('$x^2-1$'));
    expect(norm('$x^{2}+1$')).toBe(norm('$x^2+1$'));
  });

  it('canonicalises LaTeX synonyms and spacing', () => {
    expect(norm('$\\dfrac{1}{2} \\leqslant \\left( x \\right)$')).toBe(norm('$\\frac{1}{2}\\le(x)$'));
    expect(norm('则 $A \\cap B=(\\quad)$')).toBe(norm('则 A∩B=（  ）'));
  });

  it('sorts options so that shuffled choices match', () => {
    const a = norm('下列说法正确的是\nA. 甲\nB. 乙\nC. 丙\nD. 丁');
    const b = norm('下列说法正确的是\nA. 丙\nB. 甲\nC. 丁\nD. 乙');
    expect(a).toBe(b);
    expect(norm('下列说法正确的是', '["乙","甲","丁","丙"]')).toBe(a);
    expect(norm('下列说法正确的是', '{"A":"A. 丁","B":"B. 丙","C":"C. 乙","D":"D. 甲"}')).toBe(a);
  });

  it('keeps a single space only between words', () => {
    expect(norm('Have  you   finished , reading ?')).toBe('have you finished,reading?');
  });
});

describe('splitInlineOptions', () => {
  it('finds the A-B-C-D chain and leaves the stem', () => {
    const r = splitInlineOptions('问题 A. 1 B. 2 C. 3 D. 4');
    expect(r).not.toBeNull();
    expect(r!.stems.map((t) => t.trim())).toEqual(['问题']);
    expect(r!.blocks.map((b) => b.map((o) => o.trim()))).toEqual([['1', '2', '3', '4']]);
  });

  it('finds one block per sub-question of a passage, and labels after a full stop', () => {
    const r = splitInlineOptions('材料。\n10.顺序是 A.甲 B.乙 C.丙\n11.可能是。A.春 B.夏 C.秋 D.冬');
    expect(r!.blocks.map((b) => b.map((o) => o.trim()))).toEqual([['甲', '乙', '丙'], ['春', '夏', '秋', '冬']]);
  });

  it('returns null when there is no option list', () => {
    expect(splitInlineOptions('集合 A 与集合 B 的交集')).toBeNull();
  });
});
