// Kernels that move data between layouts: concat, pad and its adjoint, sliceBackward, gather,
// indexSelect, oneHot, scatterAdd, indexAdd. Scatters are written in gather form (each output
// element sums its own sources), so they are deterministic and need no float atomics. Index
// entries are checked on the device; a bad one fails the next read-back with the op's message.
import {
  contiguousStrides,
  type DType,
  makeTensor,
  makeView,
  registerKernel,
  type Tensor,
} from '@softpool/tensor';
import { wgslType } from '../backend.js';
import { f32bits, MATH } from '../wgsl.js';
import { mapGpu } from './elementwise.js';
import { gpu, withDense } from './util.js';

/** A new zero-filled tensor on the backend of `like`. */
function zerosOn(like: Tensor, shape: readonly number[], dtype: DType = like.dtype): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return makeTensor(like.backend, like.backend.allocate(dtype, size), dtype, [...shape]);
}

/** Writes `src` into the view of `out` at `offset` with `strides` (an in-place strided copy). */
function copyInto(out: Tensor, src: Tensor, offset: number, strides: number[]): void {
  if (src.size === 0) return;
  const view = makeView(out, [...src.shape], strides, offset);
  mapGpu('x1', [src], out.dtype, [], view);
  view.dispose();
}

registerKernel('concat', 'webgpu', (inputs, { axis }) => {
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
  const out = zerosOn(inputs[0], shape);
  const strides = contiguousStrides(shape);
  let offset = 0;
  for (const t of inputs) {
    copyInto(out, t, offset, strides);
    offset += t.shape[axis] * strides[axis];
  }
  return out;
});

registerKernel('sliceBackward', 'webgpu', ([g], a) => {
  const out = zerosOn(g, a.inputShape);
  const base = contiguousStrides(a.inputShape);
  const offset = a.starts.reduce((o, s, i) => o + (g.shape[i] > 0 ? s * base[i] : 0), 0);
  copyInto(
    out,
    g,
    offset,
    base.map((s, i) => s * a.steps[i]),
  );
  return out;
});

const MODES: Record<string, number> = { constant: 0, replicate: 1, reflect: 2 };

/** Dense x, output coordinates walked from the output shape (params: r, outShape, inShape, before). */
const PAD = `${MATH}
fn body(i: u32) {
  let r = params[2];
  let mode = params[1];
  var rem = i;
  var off = 0u;
  var stride = 1u;
  var inside = true;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let ud = u32(d);
    let o = rem % params[3u + ud];
    rem = rem / params[3u + ud];
    let n = i32(params[3u + r + ud]);
    var k = i32(o) - i32(params[3u + 2u * r + ud]);
    if (k < 0 || k >= n) {
      if (mode == 0u) { inside = false; }
      else if (mode == 1u) { k = select(n - 1, 0, k < 0); }
      else { k = select(2 * (n - 1) - k, -k, k < 0); }
    }
    off += u32(max(k, 0)) * stride;
    stride *= u32(n);
  }
  out0[i] = select(T(VALUE), in0[off], inside);
}`;

registerKernel('pad', 'webgpu', (inputs, a, backend) =>
  withDense(inputs, backend, ([x]) => {
    const shape = x.shape.map((n, d) => n + a.before[d] + a.after[d]);
    const T = wgslType(x.dtype);
    const value = x.dtype === 'float32' ? `bits_(${f32bits(a.value)}u)` : `${Math.trunc(Number(a.value))}`;
    return gpu(backend).runProgram({
      code: `alias T = ${T};${PAD.replace('VALUE', value)}`,
      inputs: [x],
      outputs: [{ shape, dtype: x.dtype }],
      params: [MODES[a.mode], x.rank, ...shape, ...x.shape, ...a.before],
      threads: shape.reduce((p, q) => p * q, 1),
    })[0];
  }),
);

/**
 * The adjoint of pad along one dim, as a gather: input index j receives output j + before, plus
 * (replicate) the whole padded run at an edge, or (reflect) its mirror images. params: outer,
 * n (input), m (output), inner, before, after, mode.
 */
const PAD_FOLD = `
fn body(i: u32) {
  let n = params[2]; let m = params[3]; let inner = params[4];
  let before = params[5]; let after = params[6]; let mode = params[7];
  let q = i % inner;
  let j = (i / inner) % n;
  let base = (i / (inner * n)) * m * inner + q;
  var acc = in0[base + (j + before) * inner];
  if (mode == 1u) {
    if (j == 0u) { for (var o = 0u; o < before; o++) { acc += in0[base + o * inner]; } }
    if (j == n - 1u) { for (var o = 0u; o < after; o++) { acc += in0[base + (before + n + o) * inner]; } }
  } else if (mode == 2u) {
    if (j >= 1u && j <= before) { acc += in0[base + (before - j) * inner]; }
    let mirror = before + 2u * (n - 1u) - j;
    if (j < n - 1u && mirror >= before + n && mirror < before + n + after) { acc += in0[base + mirror * inner]; }
  }
  out0[i] = acc;
}`;

registerKernel('padBackward', 'webgpu', (inputs, a, backend) =>
  withDense(inputs, backend, ([g]) => {
    // One fold per padded dim; each pass shrinks that dim from padded to input size.
    let cur = g;
    const shape = [...g.shape];
    for (let d = 0; d < shape.length; d++) {
      if (a.before[d] === 0 && a.after[d] === 0) continue;
      const n = a.inputShape[d];
      const outer = shape.slice(0, d).reduce((p, q) => p * q, 1);
      const inner = shape.slice(d + 1).reduce((p, q) => p * q, 1);
      const next = [...shape];
      next[d] = n;
      const [out] = gpu(backend).runProgram({
        code: PAD_FOLD,
        inputs: [cur],
        outputs: [{ shape: next, dtype: g.dtype }],
        params: [outer, n, shape[d], inner, a.before[d], a.after[d], MODES[a.mode]],
        threads: outer * n * inner,
      });
      if (cur !== g) cur.dispose();
      cur = out;
      shape[d] = n;
    }
    return cur === g ? mapGpu('x1', [g], g.dtype) : cur;
  }),
);

/** WGSL: reads index entry k of a dense int32 index, wrapping negatives when allowed; fails when out of range. */
function readIndex(wrap: boolean): string {
  return `
fn idx_(k: u32, size: u32) -> u32 {
  var v = in1[k];
  if (${wrap ? 'v < 0i && v >= -i32(size)' : 'false'}) { v += i32(size); }
  if (v < 0i || v >= i32(size)) { fail_(); return 0u; }
  return u32(v);
}`;
}

function rangeMessage(op: string, size: number, wrap: boolean): string {
  return `${op}: an index is out of range [${wrap ? -size : 0}, ${size})`;
}

/** Dense operands; params: r, axis, shape (of the output), then the source strides. */
const GATHER = `
fn body(i: u32) {
  let r = params[1];
  let axis = params[2];
  var rem = i;
  var off = 0u;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let ud = u32(d);
    let n = params[3u + ud];
    var c = rem % n;
    rem = rem / n;
    if (ud == axis) { c = idx_(INDEX, params[3u + 2u * r]); }
    off += c * params[3u + r + ud];
  }
  out0[i] = in0[off];
}`;

function gatherLike(
  op: string,
  x: Tensor,
  index: Tensor,
  axis: number,
  shape: number[],
  indexExpr: string,
): Tensor {
  return withDense(
    [x, index],
    x.backend,
    ([dx, di]) =>
      gpu(x.backend).runProgram({
        code: readIndex(true) + GATHER.replace('INDEX', indexExpr),
        inputs: [dx, di],
        outputs: [{ shape, dtype: x.dtype }],
        params: [x.rank, axis, ...shape, ...contiguousStrides(x.shape), x.shape[axis]],
        threads: shape.reduce((p, q) => p * q, 1),
        check: rangeMessage(op, x.shape[axis], true),
      })[0],
  );
}

// gather: the index has the output's shape; indexSelect: a 1-D index picks along the axis.
registerKernel('gather', 'webgpu', ([x, index], { axis }) =>
  gatherLike('gather', x, index, axis, [...index.shape], 'i'),
);
registerKernel('indexSelect', 'webgpu', ([x, index], { axis }) => {
  const shape = [...x.shape];
  shape[axis] = index.size;
  return gatherLike('indexSelect', x, index, axis, shape, 'c');
});

registerKernel('oneHot', 'webgpu', (inputs, { numClasses, dtype }, backend) =>
  withDense(inputs, backend, ([index]) => {
    const T = wgslType(dtype);
    return gpu(backend).runProgram({
      code: `${readIndex(false).replaceAll('in1', 'in0')}
fn body(i: u32) { let n = params[1]; out0[i] = select(${T}(0), ${T}(1), idx_(i / n, n) == i % n); }`,
      inputs: [index],
      outputs: [{ shape: [...index.shape, numClasses], dtype }],
      params: [numClasses],
      threads: index.size * numClasses,
      check: rangeMessage('oneHot', numClasses, false),
    })[0];
  }),
);

/**
 * out = base + the sources that land on each element. scatterAdd: src[p with axis=k] lands on
 * index[p with axis=k] for p inside the index's shape; indexAdd: src[.., k, ..] lands on index[k].
 * params: r, axis, base shape, index shape, src strides, index strides, axis size.
 */
const SCATTER = `
fn body(i: u32) {
  let r = params[1];
  let axis = params[2];
  let size = params[3u + axis];
  var rem = i;
  var srcOff = 0u;
  var idxOff = 0u;
  var inside = true;
  var dst = 0u;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let ud = u32(d);
    let c = rem % params[3u + ud];
    rem = rem / params[3u + ud];
    if (ud == axis) { dst = c; continue; }
    if (c >= params[3u + r + ud]) { inside = false; }
    srcOff += c * params[3u + 2u * r + ud];
    idxOff += c * params[3u + 3u * r + ud];
  }
  var acc = in0[i];
  if (inside) {
    let K = params[3u + r + axis];
    for (var k = 0u; k < K; k++) {
      if (idx_(IDX, size) == dst) { acc += in2[srcOff + k * params[3u + 2u * r + axis]]; }
    }
  }
  out0[i] = acc;
}`;

function scatterLike(
  op: string,
  base: Tensor,
  index: Tensor,
  src: Tensor,
  axis: number,
  perElement: boolean,
): Tensor {
  return withDense([base, index, src], base.backend, ([b, di, s]) => {
    // For indexAdd the index is 1-D along the axis: its "shape" over the other dims is src's.
    const idxShape = perElement ? index.shape : src.shape.map((n, d) => (d === axis ? index.size : n));
    const idxStrides = perElement
      ? contiguousStrides(index.shape)
      : src.shape.map((_, d) => (d === axis ? 1 : 0));
    return gpu(base.backend).runProgram({
      code:
        readIndex(true) +
        SCATTER.replace('IDX', perElement ? 'idxOff + k * params[3u + 3u * r + axis]' : 'k'),
      inputs: [b, di, s],
      outputs: [{ shape: [...base.shape], dtype: base.dtype }],
      params: [base.rank, axis, ...base.shape, ...idxShape, ...contiguousStrides(src.shape), ...idxStrides],
      threads: base.size,
      check: rangeMessage(op, base.shape[axis], true),
    })[0];
  });
}

registerKernel('scatterAdd', 'webgpu', ([base, index, src], { axis }) =>
  scatterLike('scatterAdd', base, index, src, axis, true),
);
registerKernel('indexAdd', 'webgpu', ([base, index, src], { axis }) =>
  scatterLike('indexAdd', base, index, src, axis, false),
);
