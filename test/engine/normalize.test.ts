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

describe('normalizeQuestion, other notations of the same question (issue 12)', () => {
  const same = (...forms: string[]) => expect(new Set(forms.map((f) => norm(f))).size).toBe(1);

  it('writes math in Unicode, LaTeX and plain text one way', () => {
    same('解方程x²+2x−3=0', '解方程$x^2+2x-3=0$', '解方程 $x^{2}+2x-3=0$', '解方程\\(x^{2} + 2x - 3 = 0\\)', '解方程$$x^2+2x-3=0$$');
    same('求√2的值', '求$\\sqrt{2}$的值', '求$\\sqrt2$的值');
    same('x=½', 'x=$\\frac{1}{2}$', 'x=$\\dfrac12$', 'x=1/2', 'x=(1/2)');
    same('3×4', '$3\\times 4$', '3*4');
    same('6÷2', '$6\\div 2$');
    same('x≤1', '$x\\le 1$', '$x\\leqslant 1$', '$x\\leq1$');
    same('30°', '$30^\\circ$', '$30^{\\circ}$');
    same('α+β=π', '$\\alpha+\\beta=\\pi$');
    same('x−1', 'x-1');
    same('√(x+1)', '$\\sqrt{x+1}$');
    same('$\\frac{x+1}{2}$', '(x+1)/2');
    same('x₁+x₂', '$x_1+x_2$');
    same('x¹⁰', '$x^{10}$', 'x^(10)');
    same('$\\frac{\\sqrt{3}}{2}$', '√3/2', '(√3)/2');
  });

  it('keeps a mixed number apart from a plain one, and a decimal that opens the stem', () => {
    same('$3\\frac{1}{4}$', '3(1/4)', '3¼');
    expect(norm('3(1/4)')).not.toBe(norm('31/4'));
    expect(norm('2.75-1(5/6)+3(1/4)')).not.toBe(norm('12.75-1(5/6)+3(1/4)'));
    expect(norm('2.75-1(5/6)+3(1/4)')).toContain('2.75');
  });

  it('writes traditional Chinese as simplified', () => {
    same('關於電場強度，下列說法正確的是', '关于电场强度，下列说法正确的是');
    same('下列關於細胞結構與功能的敘述，錯誤的是', '下列关于细胞结构与功能的叙述，错误的是');
  });

  it('brings a character that is simplified and traditional at once (么 of 什么, 乾, 著) to one form in both editions', () => {
    same('什么是质数？请举例说明什么情况下一个数是合数', '什麼是質數？請舉例說明什麼情況下一個數是合數');
    same('乾隆年间的著作', '乾隆年間的著作');
    same('头发和面条', '頭髮和麵條');
  });

  it('drops prefixes in any order and combination', () => {
    const plain = norm('已知函数 f(x)=x^2, 求 f(2)');
    for (const prefixed of ['（4分）4．', '4．（4分）', '第3题 ', '【2019·全国卷Ⅰ】', '(2018·北京)3.', '3、【2019·全国卷Ⅰ】(5分)', '(本小题满分12分)第12题']) {
      expect(norm(`${prefixed}已知函数 f(x)=x^2, 求 f(2)`)).toBe(plain);
    }
  });

  it('reads option labels in any style, inline or one per line, or as JSON', () => {
    const want = norm('下列说法正确的是\nA. 甲\nB. 乙\nC. 丙\nD. 丁');
    for (const [a, b, c, d] of [['A．', 'B．', 'C．', 'D．'], ['A、', 'B、', 'C、', 'D、'], ['(A)', '(B)', '(C)', '(D)'], ['A)', 'B)', 'C)', 'D)'], ['Ａ．', 'Ｂ．', 'Ｃ．', 'Ｄ．']]) {
      expect(norm(`下列说法正确的是 ${a}甲 ${b}乙 ${c}丙 ${d}丁`)).toBe(want);
      expect(norm(`下列说法正确的是\n${a} 甲\n${b} 乙\n${c} 丙\n${d} 丁`)).toBe(want);
    }
    expect(norm('下列说法正确的是', '["甲","乙","丙","丁"]')).toBe(want);
    expect(norm('下列说法正确的是', '{"A":"A) 甲","B":"B) 乙","C":"C) 丙","D":"D) 丁"}')).toBe(want);
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
