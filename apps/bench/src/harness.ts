// Timing: warm-up, then at least `iters` timed calls (fewer when one call would blow the budget,
// and then the result is marked), median with min and max. Calls are awaited, and GPU work is
// synchronised by a read-back inside the runner, so asynchronous work is counted.
export interface Timing {
  median: number;
  min: number;
  max: number;
  n: number;
  /** Fewer than the requested iterations ran (one call exceeded budget / iterations). */
  truncated: boolean;
}

export interface MeasureOptions {
  iters: number;
  warmup: number;
  /** Time budget of the timed calls of one case, in ms. */
  budgetMs: number;
}

export async function measure(
  fn: () => Promise<void> | void,
  { iters, warmup, budgetMs }: MeasureOptions,
): Promise<Timing> {
  let first = 0;
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    await fn();
    first = performance.now() - t0;
  }
  const n = first * iters > budgetMs ? Math.max(1, Math.floor(budgetMs / Math.max(first, 1e-3))) : iters;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)],
    min: times[0],
    max: times[times.length - 1],
    n,
    truncated: n < iters,
  };
}

/**
 * Times one call under several settings (e.g. thread counts), alternating them in short blocks,
 * so a machine that changes speed mid-run (shared, noisy) affects every setting alike and their
 * ratio stays meaningful. Each block starts with one untimed call: right after a switch the
 * setting is not in its steady state (worker threads that sat idle through the other setting's
 * call wake late and find their caches cold: on the reference VM a conv2d forward+backward read
 * 1.6-1.9x on two threads over one call by call in three runs, 2.0-2.1x in blocks in two), and a
 * training loop runs one setting for many calls in a row. `settings[i]()` switches to setting i
 * (not timed).
 */
export async function measureAlternating(
  fn: () => Promise<void> | void,
  settings: (() => Promise<void> | void)[],
  { iters, warmup, budgetMs }: MeasureOptions,
  block = BLOCK,
): Promise<Timing[]> {
  let first = 0;
  for (const use of settings) {
    await use();
    for (let i = 0; i < warmup; i++) {
      const t0 = performance.now();
      await fn();
      first = Math.max(first, performance.now() - t0);
    }
  }
  const n = first * iters > budgetMs ? Math.max(1, Math.floor(budgetMs / Math.max(first, 1e-3))) : iters;
  const times = settings.map((): number[] => []);
  for (let done = 0; done < n; done += block) {
    for (const [s, use] of settings.entries()) {
      await use();
      if (warmup > 0) await fn();
      for (let i = done; i < Math.min(n, done + block); i++) {
        const t0 = performance.now();
        await fn();
        times[s].push(performance.now() - t0);
      }
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return { median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1], n, truncated: n < iters };
  });
}

/** Timed calls per setting in a row (measureAlternating). */
const BLOCK = 5;

export function copyBandwidth(bytes = 64 << 20): number {
  const a = new Float32Array(bytes / 4).fill(1);
  const b = new Float32Array(bytes / 4);
  b.set(a);
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    b.set(a);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  // A copy reads and writes every byte.
  return (2 * bytes) / (times[3] * 1e6);
}
