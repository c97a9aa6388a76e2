// Welch's two-sample t-test (unequal variances), two-sided; the t distribution's CDF from stdlib.
import tcdf from '@stdlib/stats-base-dists-t-cdf';

export interface Welch {
  /** mean(a) - mean(b) */
  diff: number;
  t: number;
  df: number;
  /** Two-sided p-value; NaN when either sample has fewer than 2 values or both have no spread. */
  p: number;
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const variance = (v: number[]) => {
  const m = mean(v);
  return v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1);
};

/** Welch's t-test of a against b (scipy's `ttest_ind(a, b, equal_var=False)`). */
export function welch(a: number[], b: number[]): Welch {
  const diff = mean(a) - mean(b);
  if (a.length < 2 || b.length < 2) return { diff, t: Number.NaN, df: Number.NaN, p: Number.NaN };
  const va = variance(a) / a.length;
  const vb = variance(b) / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { diff, t: Number.NaN, df: Number.NaN, p: Number.NaN };
  const t = diff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { diff, t, df, p: 2 * tcdf(-Math.abs(t), df) };
}
