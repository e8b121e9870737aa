import { describe, expect, it } from 'bun:test';
import { diffTexts } from '../src/dashboard/client/diff.ts';
import { reconcile } from '../src/dashboard/client/reconcile.ts';
import type { Task } from '../src/tasks/task.schema.ts';
import { chromiumAvailable } from './support/browser.ts';
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

describe('reconcile (a REST snapshot against what the socket already said)', () => {
  const base: Task = {
    id: 1, task_name: 't', status: 'running', scope: 'channel', filters: {}, max_distance: 3, min_similarity: 0.8,
    total_groups: 10, processed_groups: 0, progress_percentage: 0, total_questions: 100, processed_questions: 0,
    duplicate_count: 0, cluster_count: 0, reviewed_cluster_count: 0, confirmed_cluster_count: 0, dismissed_cluster_count: 0,
    include_resolved: false, error: null, created_at: 'c', started_at: 's1', finished_at: null,
  };
  const at = (patch: Partial<Task>): Task => ({ ...base, ...patch });

  it('ignores a running snapshot of a run the socket already saw finish', () => {
    expect(reconcile(at({ status: 'completed', processed_groups: 10 }), at({ processed_groups: 0 }))).toBeUndefined();
  });

  it('never moves a running task backwards, even when the snapshot starts the run', () => {
    const merged = reconcile(at({ started_at: null, processed_groups: 4, progress_percentage: 40 }), at({ started_at: 's1' }));
    expect(merged).toMatchObject({ processed_groups: 4, progress_percentage: 40, started_at: 's1' });
  });

  it('takes a new run of a finished task, and a finished snapshot of a running one', () => {
    expect(reconcile(at({ status: 'completed', processed_groups: 10 }), at({ started_at: 's2' }))).toMatchObject({ status: 'running', processed_groups: 0 });
    expect(reconcile(at({ processed_groups: 3 }), at({ status: 'cancelled', processed_groups: 5 }))).toMatchObject({ status: 'cancelled' });
  });
});

describe('chromiumAvailable', () => {
  it('skips with a message outside CI and fails in CI when the browser is missing', () => {
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (text: string) => void warnings.push(text);
    try {
      expect(chromiumAvailable('suite x', '/nonexistent/chromium', {})).toBe(false);
      expect(warnings).toEqual(['SKIPPED suite x: /nonexistent/chromium not found (apt-get install -y chromium)']);
      expect(() => chromiumAvailable('suite x', '/nonexistent/chromium', { CI: '1' })).toThrow('CI must install');
      expect(chromiumAvailable('suite x', process.execPath, { CI: '1' })).toBe(true);
    } finally {
      console.warn = warn;
    }
  });
});
