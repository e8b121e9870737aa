import { describe, expect, it } from 'bun:test';
import { InteractiveWork } from '../../src/tasks/interactive-work.ts';

/** Background work waits for checks in flight and just answered (interactive-work.ts), but never longer than its bound. */
describe('InteractiveWork', () => {
  it('lets a step go at once when no check runs', async () => {
    const work = new InteractiveWork();
    const began = performance.now();
    await work.quiet(1000);
    expect(performance.now() - began).toBeLessThan(50);
  });

  it('holds a step until the checks in flight have answered', async () => {
    const work = new InteractiveWork();
    const order: string[] = [];
    let answer!: () => void;
    const check = work.during(() => new Promise<void>((resolve) => (answer = resolve)).then(() => void order.push('check answered')));
    const step = work.quiet(10_000).then(() => void order.push('task step'));
    await Bun.sleep(30);
    expect(order).toEqual([]);
    answer();
    await Promise.all([check, step]);
    expect(order).toEqual(['check answered', 'task step']);
  });

  it('holds a step for a settle period after the last check, and again when another check comes within it', async () => {
    const work = new InteractiveWork(80);
    await work.during(async () => {});
    let stepped = false;
    const began = performance.now();
    const step = work.quiet(10_000).then(() => void (stepped = true));
    await Bun.sleep(40);
    // A second check inside the settle period: the period starts again when it answers.
    await work.during(() => Bun.sleep(10));
    const secondAnswered = performance.now();
    await Bun.sleep(40);
    expect(stepped).toBe(false);
    await step;
    expect(performance.now() - secondAnswered).toBeGreaterThanOrEqual(75);
    expect(performance.now() - began).toBeLessThan(1000);
  });

  it('lets a step go after its bound while checks keep coming, and counts a failed check as done', async () => {
    const work = new InteractiveWork();
    let answer!: () => void;
    const endless = work.during(() => new Promise<void>((resolve) => (answer = resolve)));
    const began = performance.now();
    await work.quiet(40);
    expect(performance.now() - began).toBeGreaterThanOrEqual(35);
    answer();
    await endless;
    await expect(work.during(() => Promise.reject(new Error('bad check')))).rejects.toThrow('bad check');
    const after = performance.now();
    await work.quiet(10_000);
    expect(performance.now() - after).toBeLessThan(50);
  });
});
