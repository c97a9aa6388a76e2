// Pooling window geometry shared by every method and backend: output sizes (PyTorch's rules,
// ceil mode included), validation with errors that name the op and the sizes, and per-axis window
// tables: for each output position the input indices of its real taps (padding is excluded).
import { ArgumentError, checkTensor, fmtShape, ShapeError, showArg, type Tensor } from '@softpool/tensor';

export type IntOrTuple = number | readonly number[];

/** Options of the window-based poolings (per-axis tuples or one number for all axes). */
export interface PoolOptions {
  kernelSize: IntOrTuple;
  /** Default: kernelSize. */
  stride?: IntOrTuple | null;
  /** Implicit padding on both sides; padded taps are excluded from windows. Default 0. */
  padding?: IntOrTuple;
  /** Spacing between taps. Default 1. */
  dilation?: IntOrTuple;
  /** Use ceil instead of floor for the output size (PyTorch's rule). Default false. */
  ceilMode?: boolean;
}

/** Resolved geometry of one call, as kernels receive it in their attrs. */
export interface PoolGeometry {
  [key: string]: unknown;
  kernel: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  ceilMode: boolean;
  /** Adaptive pooling: the output size per axis (kernel/stride/padding then unused). */
  adaptive?: number[];
}

const AXIS_NAMES: Record<number, string[]> = {
  1: ['length'],
  2: ['height', 'width'],
  3: ['depth', 'height', 'width'],
};

export function axisName(spatial: number, axis: number): string {
  return AXIS_NAMES[spatial]?.[axis] ?? `dim ${axis}`;
}

function tuple(op: string, name: string, v: IntOrTuple, n: number, min: number): number[] {
  if (typeof v !== 'number' && !Array.isArray(v))
    throw new ArgumentError(`${op}: ${name} must be a number or ${n} numbers, got ${showArg(v)}`);
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (list.length !== n)
    throw new ArgumentError(`${op}: ${name} must be a number or ${n} numbers, got [${list.join(',')}]`);
  for (const x of list) {
    if (!Number.isInteger(x) || x < min) {
      throw new ArgumentError(
        `${op}: ${name} must be ${min > 0 ? 'a positive integer' : 'an integer >= 0'}, got ${x}`,
      );
    }
  }
  return list;
}

/** Output length along one axis (PyTorch's pooling_output_shape). */
export function outputLength(
  len: number,
  k: number,
  s: number,
  p: number,
  d: number,
  ceilMode: boolean,
): number {
  const span = len + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((ceilMode ? span + s - 1 : span) / s) + 1;
  // In ceil mode the last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * s >= len + p) out--;
  return out;
}

/** Validates the options against the input's spatial sizes and resolves them per axis. */
export function resolveGeometry(
  op: string,
  spatialShape: readonly number[],
  options: PoolOptions,
): PoolGeometry {
  const n = spatialShape.length;
  if (typeof options !== 'object' || options === null || options.kernelSize === undefined) {
    throw new ArgumentError(`${op}: options.kernelSize is required`);
  }
  const kernel = tuple(op, 'kernelSize', options.kernelSize, n, 1);
  const stride = tuple(op, 'stride', options.stride ?? kernel, n, 1);
  const padding = tuple(op, 'padding', options.padding ?? 0, n, 0);
  const dilation = tuple(op, 'dilation', options.dilation ?? 1, n, 1);
  const ceilMode = options.ceilMode ?? false;
  if (typeof ceilMode !== 'boolean')
    throw new ArgumentError(`${op}: ceilMode must be a boolean, got ${JSON.stringify(ceilMode)}`);
  for (let i = 0; i < n; i++) {
    const name = axisName(n, i);
    if (2 * padding[i] > kernel[i]) {
      throw new ArgumentError(
        `${op}: padding ${padding[i]} must be at most half the kernelSize ${kernel[i]} (${name})`,
      );
    }
    const span = dilation[i] * (kernel[i] - 1) + 1;
    const padded = spatialShape[i] + 2 * padding[i];
    if (span > padded) {
      const what =
        dilation[i] > 1
          ? `dilated kernel span ${span} (kernelSize ${kernel[i]}, dilation ${dilation[i]})`
          : `kernelSize ${kernel[i]}`;
      throw new ShapeError(`${op}: ${what} exceeds padded input ${name} ${padded}`);
    }
    const out = outputLength(spatialShape[i], kernel[i], stride[i], padding[i], dilation[i], ceilMode);
    for (let o = 0; o < out; o++) {
      let real = false;
      for (let t = 0; t < kernel[i] && !real; t++) {
        const x = o * stride[i] - padding[i] + t * dilation[i];
        real = x >= 0 && x < spatialShape[i];
      }
      if (!real) {
        throw new ShapeError(
          `${op}: window ${o} along ${name} holds no input element (size ${spatialShape[i]}, kernelSize ${kernel[i]}, ` +
            `stride ${stride[i]}, padding ${padding[i]}, dilation ${dilation[i]}); reduce padding or dilation`,
        );
      }
    }
  }
  return { kernel, stride, padding, dilation, ceilMode };
}

/** Output spatial sizes of a resolved geometry. */
export function outputShape(spatialShape: readonly number[], g: PoolGeometry): number[] {
  if (g.adaptive) return [...g.adaptive];
  return spatialShape.map((len, i) =>
    outputLength(len, g.kernel[i], g.stride[i], g.padding[i], g.dilation[i], g.ceilMode),
  );
}

/**
 * Windows along one axis in CSR form: output o covers input indices idx[start[o] .. start[o+1]),
 * its real taps in order. `total[o]` counts taps including padding (avg pooling's
 * countIncludePad divisor, PyTorch's rule: padding counts, the ceil-mode overhang does not).
 */
export interface AxisWindows {
  out: number;
  start: Int32Array;
  idx: Int32Array;
  total: Int32Array;
}

export function axisWindows(len: number, g: PoolGeometry, axis: number): AxisWindows {
  if (g.adaptive) {
    // PyTorch's adaptive windows: [floor(o*L/out), ceil((o+1)*L/out)).
    const out = g.adaptive[axis];
    const start = new Int32Array(out + 1);
    const idx: number[] = [];
    for (let o = 0; o < out; o++) {
      start[o] = idx.length;
      const a = Math.floor((o * len) / out);
      const b = Math.ceil(((o + 1) * len) / out);
      for (let x = a; x < b; x++) idx.push(x);
    }
    start[out] = idx.length;
    const total = Int32Array.from({ length: out }, (_, o) => start[o + 1] - start[o]);
    return { out, start, idx: Int32Array.from(idx), total };
  }
  const k = g.kernel[axis];
  const s = g.stride[axis];
  const p = g.padding[axis];
  const d = g.dilation[axis];
  const out = outputLength(len, k, s, p, d, g.ceilMode);
  const start = new Int32Array(out + 1);
  const total = new Int32Array(out);
  // Typed from the start: a growing array took seconds for a 2^23-long axis.
  const idx = new Int32Array(out * k);
  let n = 0;
  for (let o = 0; o < out; o++) {
    start[o] = n;
    for (let t = 0; t < k; t++) {
      const x = o * s - p + t * d;
      if (x >= 0 && x < len) idx[n++] = x;
      if (x < len + p) total[o]++;
    }
  }
  start[out] = n;
  return { out, start, idx: n === idx.length ? idx : idx.slice(0, n), total };
}

/** The inverse: for input index i, the (output, tap position in that window) pairs covering it. */
export interface AxisCover {
  start: Int32Array;
  out: Int32Array;
}

export function axisCover(len: number, w: AxisWindows): AxisCover {
  const lists: number[][] = Array.from({ length: len }, () => []);
  for (let o = 0; o < w.out; o++) for (let j = w.start[o]; j < w.start[o + 1]; j++) lists[w.idx[j]].push(o);
  const start = new Int32Array(len + 1);
  const out: number[] = [];
  lists.forEach((l, i) => {
    start[i] = out.length;
    out.push(...l);
  });
  start[len] = out.length;
  return { start, out: Int32Array.from(out) };
}

/**
 * Splits x into (batched input, spatial rank) and remembers whether it was unbatched: inputs are
 * [N, C, ...spatial] or [C, ...spatial].
 */
export function poolInput(op: string, x: Tensor, spatial: number): { input: Tensor; unbatched: boolean } {
  checkTensor(op, x);
  if (x.rank === spatial + 2) return { input: x, unbatched: false };
  if (x.rank === spatial + 1) return { input: x.unsqueeze(0), unbatched: true };
  const layout =
    spatial === 1
      ? '[N, C, L] or [C, L]'
      : spatial === 2
        ? '[N, C, H, W] or [C, H, W]'
        : '[N, C, D, H, W] or [C, D, H, W]';
  throw new ShapeError(`${op}: expected a ${spatial + 2}-D input ${layout}, got ${fmtShape(x.shape)}`);
}

/** The geometry part of a pooling op's attrs (its other settings stay out of plan cache keys). */
export function geometryOf(attrs: Record<string, unknown>): PoolGeometry {
  const { kernel, stride, padding, dilation, ceilMode, adaptive } = attrs as PoolGeometry;
  return adaptive
    ? { kernel, stride, padding, dilation, ceilMode, adaptive }
    : { kernel, stride, padding, dilation, ceilMode };
}

/**
 * A softPool kernel's outputs [y, m, s] as the op returns them: y alone when attrs.stats is false
 * (no backward will run), the statistics' storage released at once.
 */
export function softPoolOutputs(outs: Tensor[], attrs: Record<string, unknown>): Tensor[] {
  if (attrs.stats !== false) return outs;
  for (const t of outs.slice(1)) t.dispose();
  return [outs[0]];
}
