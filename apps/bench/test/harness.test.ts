// The timing harness: alternating settings in blocks, each block after a switch starting with an
// untimed call; budgets cut the timed calls.
import { describe, expect, it } from 'vitest';
import { measureAlternating } from '../src/harness.js';

describe('measureAlternating', () => {
  it('alternates blocks of timed calls, each after a switch and an untimed call', async () => {
    const log: string[] = [];
    let current = '';
    const fn = () => {
      log.push(current);
    };
    const settings = ['a', 'b'].map((name) => () => {
      current = name;
      log.push(`use ${name}`);
    });
    const timings = await measureAlternating(fn, settings, { iters: 7, warmup: 1, budgetMs: 1e9 }, 3);
    expect(timings.map((t) => t.n)).toEqual([7, 7]);
    // warm-up per setting, then blocks of 3, 3 and 1 timed calls, each preceded by one untimed call
    const block = (s: string, k: number) => [`use ${s}`, s, ...Array<string>(k).fill(s)];
    expect(log).toEqual([
      'use a',
      'a',
      'use b',
      'b',
      ...block('a', 3),
      ...block('b', 3),
      ...block('a', 3),
      ...block('b', 3),
      ...block('a', 1),
      ...block('b', 1),
    ]);
  });

  it('keeps each setting its own times, and the budget cuts the count (marked truncated)', async () => {
    let slow = false;
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const timings = await measureAlternating(
      () => wait(slow ? 12 : 1),
      [() => void (slow = false), () => void (slow = true)],
      { iters: 50, warmup: 1, budgetMs: 120 },
    );
    expect(timings[1].median).toBeGreaterThan(timings[0].median);
    expect(timings[0].n).toBeLessThan(50);
    expect(timings.every((t) => t.truncated)).toBe(true);
  });
});
