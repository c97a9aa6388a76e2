// CPU kernels that move data between layouts: concat, pad, gather, indexSelect, oneHot.
import type { DType } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { registerKernel } from '../kernels.js';
import { contiguousStrides } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, empty, operand } from './backend.js';
import { mapStrided } from './codegen.js';

registerKernel('concat', 'cpu', (inputs, { axis }) => {
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
  const out = empty(shape, inputs[0].dtype);
  const strides = contiguousStrides(shape);
  let offset = 0;
  for (const t of inputs) {
    // Each input is copied into its slab of the output: a strided copy into an offset view.
    mapStrided('x1', { data: buf(out), offset, strides }, [operand(t)], t.shape);
    offset += t.shape[axis] * strides[axis];
  }
  return out;
});

/** For each output index along one dim, the source index (-1 = constant padding). */
function padIndex(n: number, before: number, after: number, mode: string): Int32Array {
  const idx = new Int32Array(n + before + after);
  for (let o = 0; o < idx.length; o++) {
    let i = o - before;
    if (i < 0 || i >= n) {
      if (mode === 'constant') i = -1;
      else if (mode === 'replicate') i = i < 0 ? 0 : n - 1;
      else i = i < 0 ? -i : 2 * (n - 1) - i; // reflect (without repeating the edge)
    }
    idx[o] = i;
  }
  return idx;
}

/**
 * Gathers `x` through one source-index table per dim (entries -1 read `fill`): the shared loop
 * behind pad and indexSelect, walking the output with a counter per dim.
 */
export function gatherByTables(
  x: Tensor,
  tables: Int32Array[],
  fill: number,
  dtype: DType = x.dtype,
): Tensor {
  const shape = tables.map((t) => t.length);
  const out = empty(shape, dtype);
  const o = buf(out);
  const data = buf(x);
  const r = shape.length;
  if (o.length === 0) return out;
  if (r === 0) {
    o[0] = data[x.offset];
    return out;
  }
  const idx = new Int32Array(r);
  const last = tables[r - 1];
  const lastStride = x.strides[r - 1];
  const n = shape[r - 1];
  let k = 0;
  while (k < o.length) {
    let base = x.offset;
    let valid = true;
    for (let d = 0; d < r - 1; d++) {
      const s = tables[d][idx[d]];
      if (s < 0) valid = false;
      base += s * x.strides[d];
    }
    for (let i = 0; i < n; i++, k++) {
      const s = last[i];
      o[k] = valid && s >= 0 ? data[base + s * lastStride] : fill;
    }
    for (let d = r - 2; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

registerKernel('pad', 'cpu', ([x], a) =>
  gatherByTables(
    x,
    x.shape.map((n, d) => padIndex(n, a.before[d], a.after[d], a.mode)),
    a.value,
  ),
);

/**
 * Copies the int32 index tensor out, checking every entry against the axis size. Negative
 * entries count from the end where `wrap` allows it (indexSelect, gather), as in PyTorch.
 */
function readIndex(op: string, index: Tensor, size: number, wrap = true): Int32Array {
  const idx = new Int32Array(index.size);
  mapStrided(
    'x1',
    { data: idx, offset: 0, strides: contiguousStrides(index.shape) },
    [operand(index)],
    index.shape,
  );
  const low = wrap ? -size : 0;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < low || idx[i] >= size)
      throw new ArgumentError(`${op}: index ${idx[i]} is out of range [${low}, ${size})`);
    if (idx[i] < 0) idx[i] += size;
  }
  return idx;
}

registerKernel('indexSelect', 'cpu', ([x, index], { axis }) =>
  gatherByTables(
    x,
    x.shape.map((n, d) => (d === axis ? readIndex('indexSelect', index, n) : identity(n))),
    0,
  ),
);

registerKernel('gather', 'cpu', ([x, index], { axis }) => {
  const out = empty(index.shape, x.dtype);
  const o = buf(out);
  const idx = readIndex('gather', index, x.shape[axis]);
  const data = buf(x);
  const shape = index.shape;
  const r = shape.length;
  const pos = new Int32Array(r);
  for (let k = 0; k < idx.length; k++) {
    let off = x.offset;
    for (let d = 0; d < r; d++) off += (d === axis ? idx[k] : pos[d]) * x.strides[d];
    o[k] = data[off];
    for (let d = r - 1; d >= 0; d--) {
      if (++pos[d] < shape[d]) break;
      pos[d] = 0;
    }
  }
  return out;
});

registerKernel('oneHot', 'cpu', ([indices], { numClasses, dtype }) => {
  const idx = readIndex('oneHot', indices, numClasses, false);
  const out = empty([...indices.shape, numClasses], dtype);
  const o = buf(out);
  for (let k = 0; k < idx.length; k++) o[k * numClasses + idx[k]] = 1;
  return out;
});

/** A contiguous copy of `x` that kernels may write into. */
function copyOf(x: Tensor): Tensor {
  const out = empty(x.shape, x.dtype);
  mapStrided('x1', operand(out), [operand(x)], x.shape);
  return out;
}

/** Calls `f(k, idx)` for every element k (row-major) of `shape` with its coordinates. */
function forEachIndex(shape: readonly number[], f: (k: number, idx: Int32Array) => void): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(shape.length);
  for (let k = 0; k < n; k++) {
    f(k, idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

registerKernel('sliceBackward', 'cpu', ([g], a) => {
  const out = empty(a.inputShape, g.dtype);
  const base = contiguousStrides(a.inputShape);
  const offset = a.starts.reduce((o, s, i) => o + (g.shape[i] > 0 ? s * base[i] : 0), 0);
  mapStrided(
    'x1',
    { data: buf(out), offset, strides: base.map((s, i) => s * a.steps[i]) },
    [operand(g)],
    g.shape,
  );
  return out;
});

registerKernel('padBackward', 'cpu', ([g], a) => {
  const out = empty(a.inputShape, g.dtype);
  const o = buf(out);
  const src = buf(g);
  const tables = a.inputShape.map((n, d) => padIndex(n, a.before[d], a.after[d], a.mode));
  const strides = contiguousStrides(a.inputShape);
  forEachIndex(g.shape, (_, idx) => {
    let to = 0;
    let from = g.offset;
    for (let d = 0; d < idx.length; d++) {
      const s = tables[d][idx[d]];
      if (s < 0) return; // constant padding has no source element
      to += s * strides[d];
      from += idx[d] * g.strides[d];
    }
    o[to] += src[from];
  });
  return out;
});

registerKernel('scatterAdd', 'cpu', ([base, index, src], { axis }) => {
  const out = copyOf(base);
  const o = buf(out);
  const idx = readIndex('scatterAdd', index, base.shape[axis]);
  const s = buf(src);
  const strides = contiguousStrides(base.shape);
  forEachIndex(index.shape, (k, pos) => {
    let to = 0;
    let from = src.offset;
    for (let d = 0; d < pos.length; d++) {
      to += (d === axis ? idx[k] : pos[d]) * strides[d];
      from += pos[d] * src.strides[d];
    }
    o[to] += s[from];
  });
  return out;
});

registerKernel('indexAdd', 'cpu', ([base, index, src], { axis }) => {
  const out = copyOf(base);
  const o = buf(out);
  const idx = readIndex('indexAdd', index, base.shape[axis]);
  const s = buf(src);
  const strides = contiguousStrides(base.shape);
  forEachIndex(src.shape, (_, pos) => {
    let to = 0;
    let from = src.offset;
    for (let d = 0; d < pos.length; d++) {
      to += (d === axis ? idx[pos[d]] : pos[d]) * strides[d];
      from += pos[d] * src.strides[d];
    }
    o[to] += s[from];
  });
  return out;
});
