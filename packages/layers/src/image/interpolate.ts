// Resizing (PyTorch's `F.interpolate`): nearest, nearest-exact and (bi/tri)linear over the trailing
// 1-3 spatial axes. Separable: each axis is resampled by index selection (and, for linear modes, a
// weighted sum of two selections), so it runs on every backend and autograd differentiates it
// through `indexSelect` without a kernel of its own.
import {
  ArgumentError,
  add,
  checkTensor,
  DTypeError,
  fmtShape,
  indexSelect,
  isFloat,
  mul,
  ShapeError,
  showArg,
  type Tensor,
  tensor,
} from '@softpool/tensor';

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'trilinear';

export interface InterpolateOptions {
  /** Output spatial size: one number for every axis, or one per axis. */
  size?: number | readonly number[];
  /** Output = floor(input * scaleFactor); coordinates use 1 / scaleFactor, as PyTorch does. */
  scaleFactor?: number | readonly number[];
  /** Default 'nearest' (PyTorch's default). */
  mode?: InterpolateMode;
  /**
   * Linear modes: map the corner pixels' centres onto each other (true) or the pixel edges (false,
   * the default: `src = (dst + 0.5) / scale - 0.5`, clamped at the border, like PyTorch's
   * `align_corners=False` and scikit-image's `resize(..., mode='edge')`).
   */
  alignCorners?: boolean;
}

const MODES: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear'];
const LINEAR_RANK: Partial<Record<InterpolateMode, number>> = { linear: 1, bilinear: 2, trilinear: 3 };
/** Largest output axis: beyond it the index tables alone would not fit in memory. */
const MAX_SIZE = 2 ** 24;

function perAxis(name: string, v: number | readonly number[], n: number): number[] {
  if (typeof v !== 'number' && !Array.isArray(v))
    throw new ArgumentError(`interpolate: ${name} must be a number or ${n} numbers, got ${showArg(v)}`);
  const a = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (a.length !== n)
    throw new ArgumentError(`interpolate: ${name} must be a number or ${n} numbers, got ${showArg(v)}`);
  return a;
}

/** Source index and weights of one output axis. */
function axisTable(
  mode: InterpolateMode,
  inSize: number,
  outSize: number,
  scale: number,
  alignCorners: boolean,
): { lo: Int32Array; hi: Int32Array; t: Float64Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    if (mode === 'nearest') {
      lo[o] = Math.min(Math.floor(o * scale), inSize - 1);
    } else if (mode === 'nearest-exact') {
      lo[o] = Math.min(Math.floor((o + 0.5) * scale), inSize - 1);
    } else {
      const src = alignCorners
        ? outSize > 1
          ? (o * (inSize - 1)) / (outSize - 1)
          : 0
        : Math.max(0, (o + 0.5) * scale - 0.5);
      const i0 = Math.min(Math.floor(src), inSize - 1);
      lo[o] = i0;
      hi[o] = Math.min(i0 + 1, inSize - 1);
      t[o] = src - i0;
    }
  }
  return { lo, hi, t };
}

/**
 * Resizes the trailing spatial axes of `x` ([N, C, L], [N, C, H, W] or [N, C, D, H, W]).
 * @example interpolate(x, { size: [56, 56], mode: 'bilinear' }); interpolate(x, { scaleFactor: 2 })
 */
export function interpolate(x: Tensor, options: InterpolateOptions = {}): Tensor {
  checkTensor('interpolate', x);
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`interpolate: options must be an object, got ${showArg(options)}`);
  const { size, scaleFactor, mode = 'nearest', alignCorners } = options;
  if (!MODES.includes(mode))
    throw new ArgumentError(`interpolate: mode must be one of ${MODES.join(', ')}, got ${showArg(mode)}`);
  if (!isFloat(x.dtype)) throw new DTypeError(`interpolate: expected a float tensor, got ${x.dtype}`);
  const spatial = x.rank - 2;
  if (spatial < 1 || spatial > 3)
    throw new ShapeError(`interpolate: expected [N, C, ...1-3 spatial axes], got ${fmtShape(x.shape)}`);
  const linearRank = LINEAR_RANK[mode];
  if (linearRank !== undefined && linearRank !== spatial)
    throw new ShapeError(
      `interpolate: mode '${mode}' needs ${linearRank} spatial axes, got ${fmtShape(x.shape)}; use '${['linear', 'bilinear', 'trilinear'][spatial - 1]}'`,
    );
  if (alignCorners !== undefined && typeof alignCorners !== 'boolean')
    throw new ArgumentError(
      `interpolate: alignCorners must be a boolean, got ${JSON.stringify(alignCorners)}`,
    );
  if (alignCorners && linearRank === undefined)
    throw new ArgumentError(`interpolate: alignCorners applies to linear modes only, not '${mode}'`);
  if ((size === undefined) === (scaleFactor === undefined))
    throw new ArgumentError('interpolate: give exactly one of size and scaleFactor');
  const inSizes = x.shape.slice(2);
  let outSizes: number[];
  let scales: number[];
  if (size !== undefined) {
    outSizes = perAxis('size', size, spatial);
    for (const s of outSizes)
      if (!Number.isInteger(s) || s < 1 || s > MAX_SIZE)
        throw new ArgumentError(
          `interpolate: size must hold integers in [1, ${MAX_SIZE}], got ${JSON.stringify(size)}`,
        );
    scales = outSizes.map((o, i) => inSizes[i] / o);
  } else {
    const f = perAxis('scaleFactor', scaleFactor as number | number[], spatial);
    for (const s of f)
      if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0)
        throw new ArgumentError(
          `interpolate: scaleFactor must be positive, got ${JSON.stringify(scaleFactor)}`,
        );
    outSizes = inSizes.map((n, i) => Math.floor(n * f[i]));
    if (outSizes.some((s) => s < 1 || s > MAX_SIZE))
      throw new ArgumentError(
        `interpolate: scaleFactor ${JSON.stringify(scaleFactor)} turns ${fmtShape(inSizes)} into ${fmtShape(outSizes)}; every size must be in [1, ${MAX_SIZE}]`,
      );
    scales = f.map((s) => 1 / s);
  }
  if (inSizes.some((n) => n === 0))
    throw new ShapeError(`interpolate: cannot resize empty spatial axes ${fmtShape(x.shape)}`);
  let y = x;
  for (let d = 0; d < spatial; d++) {
    // Same size: every mode maps each index onto itself.
    if (outSizes[d] === inSizes[d]) continue;
    const axis = d + 2;
    const { lo, hi, t } = axisTable(mode, inSizes[d], outSizes[d], scales[d], alignCorners === true);
    const opts = { backend: x.backend };
    const ilo = tensor(lo, { dtype: 'int32', ...opts });
    let next: Tensor;
    if (linearRank === undefined) {
      next = indexSelect(y, axis, ilo);
    } else {
      // (1 - t) * x[lo] + t * x[hi], weights shaped to broadcast along `axis`.
      const wshape = new Array<number>(x.rank).fill(1);
      wshape[axis] = outSizes[d];
      const ihi = tensor(hi, { dtype: 'int32', ...opts });
      const w0 = tensor(
        Float64Array.from(t, (v) => 1 - v),
        { dtype: x.dtype, ...opts },
      ).reshape(wshape);
      const w1 = tensor(t, { dtype: x.dtype, ...opts }).reshape(wshape);
      const a = indexSelect(y, axis, ilo);
      const b = indexSelect(y, axis, ihi);
      const pa = mul(a, w0);
      const pb = mul(b, w1);
      next = add(pa, pb);
      for (const tmp of [ihi, w0, w1, a, b, pa, pb]) tmp.dispose();
    }
    ilo.dispose();
    if (y !== x) y.dispose();
    y = next;
  }
  return y === x ? x.clone() : y;
}
