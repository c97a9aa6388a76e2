// PyTorch-style printing: aligned columns, a shared number format, summarised large tensors.
import type { TypedArray } from './dtype.js';
import type { Tensor } from './tensor.js';

const THRESHOLD = 1000;
const EDGE = 3;

function formatter(values: TypedArray, dtype: string): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (dtype === 'int32') return (v) => String(v);
  let allInt = true;
  let maxAbs = 0;
  let minAbs = Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (!Number.isInteger(v)) allInt = false;
    const a = Math.abs(v);
    maxAbs = Math.max(maxAbs, a);
    if (a > 0) minAbs = Math.min(minAbs, a);
  }
  const special = (v: number): string | undefined =>
    Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : undefined;
  if (allInt && maxAbs < 1e8) return (v) => special(v) ?? `${v}.`;
  const sci = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || maxAbs / minAbs > 1000;
  return (v) => special(v) ?? (sci ? v.toExponential(4) : v.toFixed(4));
}

/** Renders `values` (row-major, of `shape`) with indentation and '...' for summarised dims. */
export function formatValues(values: TypedArray, shape: readonly number[], dtype: string): string {
  const summarise = values.length > THRESHOLD;
  const fmt = formatter(values, dtype);
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const indices = (n: number): (number | null)[] =>
    summarise && n > 2 * EDGE
      ? [
          ...Array.from({ length: EDGE }, (_, i) => i),
          null,
          ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i),
        ]
      : Array.from({ length: n }, (_, i) => i);
  // First pass: the width of every printed number, so columns align.
  let width = 0;
  const visit = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      width = Math.max(width, fmt(values[offset]).length);
      return;
    }
    for (const i of indices(shape[dim])) if (i !== null) visit(dim + 1, offset + i * strides[dim]);
  };
  visit(0, 0);
  const render = (dim: number, offset: number, indent: number): string => {
    if (dim === shape.length) return fmt(values[offset]).padStart(width);
    const parts = indices(shape[dim]).map((i) =>
      i === null ? '...' : render(dim + 1, offset + i * strides[dim], indent + 1),
    );
    const sep =
      dim === shape.length - 1 ? ', ' : `,${'\n'.repeat(shape.length - dim - 1)}${' '.repeat(indent + 1)}`;
    return `[${parts.join(sep)}]`;
  };
  return render(0, 0, 7);
}

/** The text `t.toString()` returns; values only where the backend can read synchronously. */
export function formatTensor(t: Tensor, values: TypedArray | undefined): string {
  const extras: string[] = [];
  if (t.size > THRESHOLD || !values) extras.push(`shape=[${t.shape.join(', ')}]`);
  if (t.dtype !== 'float32') extras.push(`dtype=${t.dtype}`);
  if (t.device !== 'cpu') extras.push(`device=${t.device}`);
  if (t.gradFn) extras.push(`gradFn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) extras.push('requiresGrad=true');
  const body = values ? formatValues(values, t.shape, t.dtype) : '...';
  return `tensor(${[body, ...extras].join(', ')})`;
}
