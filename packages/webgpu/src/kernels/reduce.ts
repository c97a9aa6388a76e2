// Reductions over any axes. The input is read as [kept..., reduced...] through its strides (no
// copy). Short rows: a thread per output. Long rows: a workgroup per output (tree in workgroup
// memory), and when there are few outputs, several workgroups per row and a second pass over the
// partial results. Then argmax/argmin and the softmax family along one axis.
import { BackendError, type DType, reducedShape, registerKernel, type Tensor } from '@softpool/tensor';
import { wgslType } from '../backend.js';
import { MATH } from '../wgsl.js';
import { gpu, withDense } from './util.js';

/** Most dims a reduction walks (after merging adjacent dims that are contiguous in memory). */
const MAX_RANK = 8;

/** Per op: WGSL combine of `acc` and `v`, and its identity per element type. */
type Reducer = 'sum' | 'prod' | 'max' | 'min' | 'all' | 'any';
const REDUCERS: Record<Reducer, { combine: string; init: Record<string, string> }> = {
  sum: { combine: 'acc + v', init: { f32: '0.0', i32: '0i', u32: '0u' } },
  prod: { combine: 'acc * v', init: { f32: '1.0', i32: '1i', u32: '1u' } },
  max: {
    combine: 'select(acc, v, v > acc || isnan_(v))',
    init: { f32: 'bits_(0xff800000u)', i32: 'i32(-2147483647 - 1)', u32: '0u' },
  },
  min: {
    combine: 'select(acc, v, v < acc || isnan_(v))',
    init: { f32: 'bits_(0x7f800000u)', i32: '2147483647i', u32: '0xffffffffu' },
  },
  all: { combine: 'select(0u, acc, v != 0u)', init: { u32: '1u' } },
  any: { combine: 'select(acc, 1u, v != 0u)', init: { u32: '0u' } },
};

/** Dims as (shape, stride) pairs with adjacent ones merged where memory allows. */
function merge(dims: { n: number; s: number }[]): { n: number; s: number }[] {
  const out: { n: number; s: number }[] = [];
  for (const d of dims) {
    if (d.n === 1) continue;
    const last = out[out.length - 1];
    if (last && last.s === d.s * d.n) {
      last.n *= d.n;
      last.s = d.s;
    } else out.push({ ...d });
  }
  return out;
}

/** params: [count, R, G, C, rk, rr, offset, keptShape, keptStrides, redShape, redStrides]. */
function layout(
  x: Tensor,
  axes: number[],
): { kept: { n: number; s: number }[]; red: { n: number; s: number }[]; R: number } {
  const dims = x.shape.map((n, d) => ({ n, s: x.strides[d] }));
  const kept = merge(dims.filter((_, d) => !axes.includes(d)));
  const red = merge(dims.filter((_, d) => axes.includes(d)));
  if (kept.length > MAX_RANK || red.length > MAX_RANK) {
    throw new BackendError(
      `webgpu: reductions walk at most ${MAX_RANK} non-contiguous dims; make the input contiguous first`,
    );
  }
  return { kept, red, R: red.reduce((a, d) => a * d.n, 1) };
}

const WALK = `
fn keptBase(o: u32) -> u32 {
  let rk = params[4];
  var rem = o;
  var off = params[6];
  for (var d = i32(rk) - 1; d >= 0; d--) {
    let s = params[7u + u32(d)];
    off += (rem % s) * params[7u + rk + u32(d)];
    rem = rem / s;
  }
  return off;
}
fn redOff(j: u32) -> u32 {
  let rk = params[4];
  let rr = params[5];
  let b = 7u + 2u * rk;
  var rem = j;
  var off = 0u;
  for (var d = i32(rr) - 1; d >= 0; d--) {
    let s = params[b + u32(d)];
    off += (rem % s) * params[b + rr + u32(d)];
    rem = rem / s;
  }
  return off;
}`;

function header(op: Reducer, T: string, src: string): string {
  const r = REDUCERS[op];
  // Integers are never NaN (and WGSL has no overloads for an integer isnan_).
  const combine = T === 'f32' ? r.combine : r.combine.replace('isnan_(v)', 'false');
  return `${MATH}
alias A = ${T};
fn load(k: u32) -> A { return A(${src}); }
fn combine(acc: A, v: A) -> A { return ${combine}; }
fn init() -> A { return ${r.init[T]}; }
${WALK}`;
}

/** One thread per output; the reduced dims are walked with an odometer (no divisions). */
function threadProgram(op: Reducer, T: string, src: string): string {
  return `${header(op, T, src)}
fn body(i: u32) {
  let rr = params[5];
  let b = 7u + 2u * params[4];
  var idx: array<u32, ${MAX_RANK}>;
  var off = keptBase(i);
  var acc = init();
  let R = params[1];
  for (var j = 0u; j < R; j++) {
    acc = combine(acc, load(off));
    for (var d = i32(rr) - 1; d >= 0; d--) {
      let ud = u32(d);
      idx[ud] += 1u;
      off += params[b + rr + ud];
      if (idx[ud] < params[b + ud]) { break; }
      off -= params[b + rr + ud] * params[b + ud];
      idx[ud] = 0u;
    }
  }
  out0[i] = acc;
}`;
}

/** Workgroup w reduces chunk (w % G) of output (w / G): 64 threads, then a tree. */
function groupProgram(op: Reducer, T: string, src: string): string {
  return `${header(op, T, src)}
var<workgroup> sh: array<A, 64>;
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let w = wg.x + wg.y * nw.x;
  let G = params[2];
  let C = params[3];
  let o = w / G;
  let valid = w < params[0];
  var acc = init();
  if (valid) {
    let base = keptBase(o);
    let start = (w % G) * C;
    let end = min(start + C, params[1]);
    for (var j = start + l; j < end; j += 64u) { acc = combine(acc, load(base + redOff(j))); }
  }
  sh[l] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (l < s) { sh[l] = combine(sh[l], sh[l + s]); }
    workgroupBarrier();
  }
  if (l == 0u && valid) { out0[w] = sh[0]; }
}`;
}

/** Reduces `x` over `axes` into a tensor of `shape` (element type of the accumulator: `dtype`). */
function reduceGpu(op: Reducer, x: Tensor, axes: number[], shape: number[], dtype: DType): Tensor {
  const backend = gpu(x.backend);
  const { kept, red, R } = layout(x, axes);
  const outputs = shape.reduce((a, b) => a * b, 1);
  const T = wgslType(dtype);
  // bool inputs of all/any are u32 on the GPU; int/float inputs are compared with zero.
  const src =
    op === 'all' || op === 'any'
      ? x.dtype === 'bool'
        ? 'in0[k]'
        : `select(0u, 1u, in0[k] != ${wgslType(x.dtype)}(0))`
      : 'in0[k]';
  const meta = (G: number, C: number) => [
    R,
    G,
    C,
    kept.length,
    red.length,
    x.offset,
    ...kept.map((d) => d.n),
    ...kept.map((d) => d.s),
    ...red.map((d) => d.n),
    ...red.map((d) => d.s),
  ];
  if (R <= 64 || outputs >= 16384 || outputs === 0) {
    const [out] = backend.runProgram({
      code: threadProgram(op, T, src),
      inputs: [x],
      outputs: [{ shape, dtype }],
      params: meta(1, R),
      threads: outputs,
    });
    return out;
  }
  // Enough workgroups to keep every core busy when there are few rows.
  const G = Math.max(1, Math.min(Math.ceil(R / 1024), Math.ceil(256 / outputs)));
  const C = Math.ceil(R / G);
  const program = groupProgram(op, T, src);
  if (G === 1) {
    const [out] = backend.runProgram({
      code: program,
      inputs: [x],
      outputs: [{ shape, dtype }],
      params: meta(1, C),
      threads: 0,
      workgroups: outputs,
    });
    return out;
  }
  const [partial] = backend.runProgram({
    code: program,
    inputs: [x],
    outputs: [{ shape: [outputs, G], dtype }],
    params: meta(G, C),
    threads: 0,
    workgroups: outputs * G,
  });
  // all/any partials are already 0/1 flags: the second pass combines them with the same rule.
  const out = reduceGpu(op, partial, [1], shape, dtype);
  partial.dispose();
  return out;
}

for (const op of Object.keys(REDUCERS) as Reducer[]) {
  registerKernel(op, 'webgpu', ([x], { axes, keepDim }) => {
    const dtype = op === 'all' || op === 'any' ? 'bool' : x.dtype;
    return reduceGpu(op, x, axes, reducedShape(x.shape, axes, keepDim), dtype);
  });
}

/** Index of the first max (min) along one axis, NaN winning, as on the CPU. */
function argReduce(x: Tensor, axes: number[], keepDim: boolean, greater: boolean): Tensor {
  const shape = reducedShape(x.shape, axes, keepDim);
  const backend = gpu(x.backend);
  if (x.rank === 0)
    return backend.runProgram({
      code: 'fn body(i: u32) { out0[i] = 0i; }',
      inputs: [],
      outputs: [{ shape, dtype: 'int32' }],
      threads: 1,
    })[0];
  const axis = axes[0];
  const keptDims = x.shape.map((_, d) => d).filter((d) => d !== axis);
  const T = wgslType(x.dtype);
  const cmp = greater ? 'v > best' : 'v < best';
  const nan = (e: string) => (T === 'f32' ? `isnan_(${e})` : 'false');
  const code = `${MATH}
fn body(i: u32) {
  let r = params[1];
  var rem = i;
  var off = params[2];
  for (var d = i32(r) - 1; d >= 0; d--) {
    let s = params[5u + u32(d)];
    off += (rem % s) * params[5u + r + u32(d)];
    rem = rem / s;
  }
  let n = params[3];
  let st = params[4];
  var best = in0[off];
  var bi = 0i;
  for (var j = 1u; j < n && !${nan('best')}; j++) {
    let v = in0[off + j * st];
    if (${cmp} || ${nan('v')}) { best = v; bi = i32(j); }
  }
  out0[i] = bi;
}`;
  const params = [
    keptDims.length,
    x.offset,
    x.shape[axis],
    x.strides[axis],
    ...keptDims.map((d) => x.shape[d]),
    ...keptDims.map((d) => x.strides[d]),
  ];
  const n = shape.reduce((a, b) => a * b, 1);
  return backend.runProgram({
    code,
    inputs: [x],
    outputs: [{ shape, dtype: 'int32' }],
    params,
    threads: n,
  })[0];
}

registerKernel('argmax', 'webgpu', ([x], { axes, keepDim }) => argReduce(x, axes, keepDim, true));
registerKernel('argmin', 'webgpu', ([x], { axes, keepDim }) => argReduce(x, axes, keepDim, false));

type SoftmaxOp = 'softmax' | 'logSoftmax' | 'logSumExp';

/** One thread per (outer, inner) row of a dense [outer, n, inner] layout: max, sum, then write. */
const SOFTMAX_WRITE: Record<SoftmaxOp, string> = {
  softmax: 'for (var j = 0u; j < n; j++) { out0[base + j * inner] = exp(in0[base + j * inner] - m) / s; }',
  logSoftmax:
    'let ls = log(s); for (var j = 0u; j < n; j++) { out0[base + j * inner] = in0[base + j * inner] - m - ls; }',
  logSumExp: 'out0[i] = select(m + log(s), m, isinf_(m));',
};

function softmaxFamily(op: SoftmaxOp, x: Tensor, axis: number, keepDim: boolean): Tensor {
  return withDense([x], x.backend, ([d]) => {
    const n = d.shape[axis];
    const inner = d.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = d.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const shape = op === 'logSumExp' ? reducedShape(d.shape, [axis], keepDim) : [...d.shape];
    const code = `${MATH}
fn isinf_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn body(i: u32) {
  let n = params[1];
  let inner = params[2];
  let base = (i / inner) * n * inner + i % inner;
  var m = bits_(0xff800000u);
  for (var j = 0u; j < n; j++) {
    let v = in0[base + j * inner];
    if (v > m || isnan_(v)) { m = v; }
  }
  var s = 0.0;
  for (var j = 0u; j < n; j++) { s += exp(in0[base + j * inner] - m); }
  ${SOFTMAX_WRITE[op]}
}`;
    return gpu(d.backend).runProgram({
      code,
      inputs: [d],
      outputs: [{ shape, dtype: d.dtype }],
      params: [n, inner],
      threads: outer * inner,
    })[0];
  });
}

registerKernel('softmax', 'webgpu', ([x], { axis }) => softmaxFamily('softmax', x, axis, false));
registerKernel('logSoftmax', 'webgpu', ([x], { axis }) => softmaxFamily('logSoftmax', x, axis, false));
registerKernel('logSumExp', 'webgpu', ([x], { axis, keepDim }) =>
  softmaxFamily('logSumExp', x, axis, keepDim),
);
