import { describe, expect, it } from 'bun:test';
import { diffTexts } from '../src/dashboard/client/diff.ts';
import { mathTokens, splitMath, tokenKey } from '../src/dashboard/client/math.ts';
import { htmlToText, optionLines, questionText } from '../src/dashboard/client/question-text.ts';
import { applyReviewed, clustersPath, isStale, keyCommand, moveFocus, progressPercent, readAddress, writeAddress } from '../src/dashboard/client/review-state.ts';
import type { ReviewCluster } from '../src/dashboard/client/review-types.ts';

describe('splitMath', () => {
  it('finds inline and display formulas with their TeX, and keeps the text between', () => {
    expect(splitMath('设 $x^2=4$，则 $$\\frac{1}{x}$$ 与 \\(y\\) 或 \\[z\\]')).toEqual([
      { text: '设 ' },
      { text: '$x^2=4$', tex: 'x^2=4', display: false },
      { text: '，则 ' },
      { text: '$$\\frac{1}{x}$$', tex: '\\frac{1}{x}', display: true },
      { text: ' 与 ' },
      { text: '\\(y\\)', tex: 'y', display: false },
      { text: ' 或 ' },
      { text: '\\[z\\]', tex: 'z', display: true },
    ]);
  });

  it('leaves an escaped or lone dollar as text, and no inline formula spans a blank line', () => {
    expect(splitMath('costs \\$5 and \\$6')).toEqual([{ text: 'costs \\$5 and \\$6' }]);
    expect(splitMath('price $5')).toEqual([{ text: 'price $5' }]);
    expect(splitMath('a $x\n\ny$ b').every((piece) => piece.tex === undefined)).toBe(true);
    expect(splitMath('').length).toBe(0);
  });

  it('gives the diff a formula as one token, so a changed formula is marked whole', () => {
    expect(mathTokens('已知 $a+b$ 求')).toEqual(['已', '知', ' ', '$a+b$', ' ', '求']);
    const { right } = diffTexts('已知 $\\frac{1}{2}$ 求值', '已知 $\\dfrac{1}{2}$ 求值', mathTokens);
    expect(right.filter((s) => s.changed).map((s) => s.text)).toEqual(['$\\dfrac{1}{2}$']);
  });

  it('does not mark a formula whose only change is spacing TeX ignores', () => {
    expect(tokenKey('$ x^{2} , y $')).toBe(tokenKey('$x^{2},y$'));
    expect(tokenKey('$$a+b$$')).toBe(tokenKey('\\[ a + b \\]'));
    expect(tokenKey('$\\alpha b$')).not.toBe(tokenKey('$\\alphab$')); // there the space ends a command
    expect(tokenKey('$a+b$')).not.toBe(tokenKey('$$a+b$$')); // inline and display typeset differently
    expect(tokenKey('分')).toBe('分');
    const { left, right } = diffTexts('求 $f(x)=x^2, x>0$ 的值', '求 $ f(x) = x^2,  x > 0 $ 的值', mathTokens, tokenKey);
    expect([...left, ...right].some((s) => s.changed)).toBe(false);
    expect(right.map((s) => s.text).join('')).toBe('求 $ f(x) = x^2,  x > 0 $ 的值'); // each side keeps its own text
  });
});

describe('question text', () => {
  it('turns stored HTML into lines of text, entities decoded, formulas with < and > untouched', () => {
    expect(htmlToText('<div class="question"><p>第一行<br/>第二行 &nbsp;&lt;3&gt;</p><p>$a<b$ 且 $c>d$</p></div>')).toBe('第一行\n第二行  <3>\n$a<b$ 且 $c>d$');
    expect(htmlToText('图 <img src="x.png"> 中 &#65;&#x42; &unknown;')).toBe('图 [image] 中 AB &unknown;');
    expect(htmlToText('no markup: 1 < 2')).toBe('no markup: 1 < 2');
    expect(htmlToText('<script>alert(1)</script>')).toBe('<script>alert(1)</script>'); // shown as text, never run
  });

  it('labels options once, from an array or an object', () => {
    expect(optionLines(['6 种', '7 种'])).toEqual(['A. 6 种', 'B. 7 种']);
    expect(optionLines({ A: 'A. 6 种', B: '7 种', C: 'C、8 种' })).toEqual(['A. 6 种', 'B. 7 种', 'C、8 种']);
    expect(optionLines(null)).toEqual([]);
    expect(questionText({ content: '<p>分子式为 $C_5H_{11}Cl$ 的同分异构体共有</p>', options: ['6 种', '7 种'] })).toBe('分子式为 $C_5H_{11}Cl$ 的同分异构体共有\nA. 6 种\nB. 7 种');
  });
});

describe('review screen address and requests', () => {
  it('reads a task, page and filters from the address and writes them back', () => {
    const address = readAddress('?task=3&review=unreviewed&min_similarity=0.9&page=2');
    expect(address).toEqual({ task: 3, page: 2, filters: { review: 'unreviewed', min_similarity: '0.9', max_similarity: '' } });
    expect(writeAddress(address)).toBe('?task=3&review=unreviewed&min_similarity=0.9&page=2');
  });

  it('drops what is not a task id, a page, a review state or a similarity', () => {
    expect(readAddress('?task=x&page=-1&review=maybe&min_similarity=2&max_similarity=abc')).toEqual({
      task: null, page: 1, filters: { review: '', min_similarity: '', max_similarity: '' },
    });
  });

  it('asks for one page with its questions, only the chosen filters', () => {
    expect(clustersPath(7, 2, { review: 'partial', min_similarity: '', max_similarity: '0.95' })).toBe(
      '/api/dedup/tasks/7/clusters?include=questions&page=2&page_size=10&review=partial&max_similarity=0.95',
    );
  });
});

describe('keyboard review', () => {
  const press = (key: string, patch: Partial<{ ctrlKey: boolean; altKey: boolean; metaKey: boolean; target: unknown }> = {}) =>
    keyCommand({ key, ctrlKey: false, altKey: false, metaKey: false, target: null, ...patch } as Parameters<typeof keyCommand>[0]);

  it('maps the review keys, and none while typing or with a modifier', () => {
    expect(['j', 'k', 'J', 'K', 'y', 'n', 'x', 'c'].map((key) => press(key))).toEqual(['next', 'previous', 'next-cluster', 'previous-cluster', 'confirm', 'dismiss', 'reject', 'canonical']);
    expect(press('y', { target: { tagName: 'INPUT' } })).toBeNull();
    expect(press('j', { target: { tagName: 'SELECT' } })).toBeNull();
    expect(press('c', { ctrlKey: true })).toBeNull();
    expect(press('q')).toBeNull();
  });

  const cluster = (cluster_id: number, canonical: number, ...others: number[]): ReviewCluster => ({
    cluster_id,
    group: { type_name: 't', subject_name: 's', channel_code: 'c' },
    canonical_question_id: canonical,
    // The service lists members by distance; the canonical is not necessarily first.
    members: [...others.map((id) => ({ question_id: id, distance: 1, similarity: 0.9 })), { question_id: canonical, distance: 0, similarity: 1 }],
  });
  const page = [cluster(1, 10, 11, 12), cluster(2, 20, 21)];

  it('steps through every member with j/k (canonical first), jumps clusters with J/K, stays at the ends', () => {
    let focus = moveFocus(page, null, 'next');
    expect(focus).toEqual({ cluster_id: 1, question_id: 11 }); // a cluster is entered at its first non-canonical member
    const seen = [focus];
    for (let i = 0; i < 4; i++) seen.push((focus = moveFocus(page, focus, 'next')));
    expect(seen.map((f) => f!.question_id)).toEqual([11, 12, 20, 21, 21]);
    expect(moveFocus(page, { cluster_id: 2, question_id: 20 }, 'previous')).toEqual({ cluster_id: 1, question_id: 12 });
    expect(moveFocus(page, { cluster_id: 1, question_id: 10 }, 'previous')).toEqual({ cluster_id: 1, question_id: 10 });
    expect(moveFocus(page, { cluster_id: 1, question_id: 12 }, 'next-cluster')).toEqual({ cluster_id: 2, question_id: 21 });
    expect(moveFocus(page, { cluster_id: 2, question_id: 21 }, 'previous-cluster')).toEqual({ cluster_id: 1, question_id: 11 });
    expect(moveFocus(page, null, 'previous')).toEqual({ cluster_id: 2, question_id: 21 });
    expect(moveFocus([], null, 'next')).toBeNull();
    // A focus on a question that left its cluster starts again at the cluster's entry.
    expect(moveFocus(page, { cluster_id: 1, question_id: 99 }, 'next')).toEqual({ cluster_id: 1, question_id: 11 });
  });
});

describe('live decisions', () => {
  const question = (id: number) => ({ id, content: `q${id}` }) as unknown as NonNullable<ReviewCluster['members'][number]['question']>;
  const shown: ReviewCluster = {
    cluster_id: 5,
    group: { type_name: 't', subject_name: 's', channel_code: 'c' },
    canonical_question_id: 1,
    members: [1, 2, 3].map((id) => ({ question_id: id, distance: id - 1, similarity: 1 - (id - 1) / 10, question: question(id) })),
    review: { state: 'unreviewed', decided_by: null, decided_at: null, note: null },
  };

  it('takes the event’s review, canonical and members, keeping the questions the page loaded', () => {
    const review = { state: 'partial' as const, decided_by: 'bob', decided_at: '2026-12-04T21:00:00.000Z', note: null };
    const next = applyReviewed(shown, { review, canonical_question_id: 2, members: [{ question_id: 2, distance: 0, similarity: 1 }, { question_id: 1, distance: 1, similarity: 0.9 }] });
    expect(next.review).toEqual(review);
    expect(next.canonical_question_id).toBe(2);
    expect(next.members.map((m) => [m.question_id, m.question?.content])).toEqual([[2, 'q2'], [1, 'q1']]);
  });

  it('calls an answer stale only when it was decided before what the page shows', () => {
    const at = (decided_at: string | null) => ({ state: 'confirmed' as const, decided_by: 'a', decided_at, note: null });
    expect(isStale(at('2026-12-04T21:00:01Z'), at('2026-12-04T21:00:00Z'))).toBe(true);
    expect(isStale(at('2026-12-04T21:00:00Z'), at('2026-12-04T21:00:00Z'))).toBe(false);
    expect(isStale(at(null), at('2026-12-04T21:00:00Z'))).toBe(false);
    expect(isStale(undefined, at('2026-12-04T21:00:00Z'))).toBe(false);
  });

  it('shows progress as a percentage to two decimals, 0 with no clusters', () => {
    expect(progressPercent(1, 3)).toBe(33.33);
    expect(progressPercent(0, 0)).toBe(0);
  });
});
