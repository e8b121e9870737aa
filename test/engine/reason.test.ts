import { describe, expect, it } from 'bun:test';
import { valueSymbol } from 'piscina';
import { dedupGroup } from '../../workers/dedup/engine.ts';
import { checksMask, memberReason, REASON_CHECKS, REASON_STAGES, STAGE_EXACT, STAGE_REVIEWED, STAGE_SIMILAR } from '../../workers/dedup/reason.ts';
import dedupWorker from '../../workers/dedup.worker.ts';
import { packTexts } from '../../workers/packed-texts.ts';
import type { GroupJob, GroupResult } from '../../workers/protocol.ts';

const field = '关于电场强度，下列说法正确的是\nA. 电场强度的方向就是正电荷受到的电场力的方向\nB. 电场中某点的场强与试探电荷无关\nC. 电场强度是矢量\nD. 场强的单位是牛每库';
const contents = [
  field,
  // The same text in traditional Chinese, numbered, labels in another style: exact.
  '3．關於電場強度，下列說法正確的是 (A)電場強度的方向就是正電荷受到的電場力的方向 (B)電場中某點的場強與試探電荷無關 (C)電場強度是矢量 (D)場強的單位是牛每庫',
  // One word added: similar.
  field.replace('下列说法正确的是', '下列说法中正确的是'),
  // One key word flipped: another question.
  field.replace('正确', '错误'),
];
const job = (texts: string[]): GroupJob => ({
  ids: Float64Array.from(texts, (_, i) => i + 1), contents: packTexts(texts), options: packTexts(texts.map(() => null)), opts: { maxDistance: 3, minSimilarity: 0.8 },
});
const reasons = (result: GroupResult) => result.clusters.map((c) => c.members.map((m, k) => ({ id: m.questionId, ...memberReason(c.stages?.[k], c.checks?.[k]) })));

describe('member reason', () => {
  it('names the stage that joined each member and the checks that agreed with the canonical question', () => {
    expect(reasons(dedupGroup(job(contents)))).toEqual([[
      { id: 1, stage: 'exact', checks: ['text'] },
      { id: 2, stage: 'exact', checks: ['text'] },
      { id: 3, stage: 'similar', checks: ['similarity', 'key_words', 'options'] },
    ]]);
  });

  it('names numbers and formulas when the canonical question has some', () => {
    const stem = '已知函数 f(x)=2x^2-3x+1，求 f(x) 在区间 [0,2] 上的最大值和最小值，并写出取得最值时 x 的值';
    const [cluster] = reasons(dedupGroup(job([stem, stem.replace('并写出', '并求出')])));
    expect(cluster![1]).toEqual({ id: 2, stage: 'similar', checks: ['similarity', 'numbers', 'formulas', 'key_words'] });
  });

  it('arrives on the main thread as two buffers for the whole result, not two arrays per cluster', () => {
    const moved = dedupWorker(job([...contents, '一物体做自由落体运动，下落 2 s 时的速度为多少', '一物体做自由落体运动，下落 2 s 时的速度为多少？']));
    const result = moved[valueSymbol];
    expect(result.clusters).toHaveLength(2);
    const buffers = new Set(result.clusters.flatMap((c) => [c.stages!.buffer, c.checks!.buffer]));
    expect(buffers.size).toBe(2);
  });

  it('keeps codes and bit names stable: stored numbers mean the same thing later', () => {
    expect([STAGE_EXACT, STAGE_SIMILAR, STAGE_REVIEWED].map((code) => REASON_STAGES[code])).toEqual(['exact', 'similar', 'reviewed']);
    expect(REASON_CHECKS).toEqual(['text', 'similarity', 'numbers', 'formulas', 'key_words', 'options']);
    expect(memberReason(STAGE_REVIEWED, checksMask(['numbers', 'options']))).toEqual({ stage: 'reviewed', checks: ['numbers', 'options'] });
    expect(memberReason(null, null)).toBeNull();
  });
});
