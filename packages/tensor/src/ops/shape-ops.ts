// Ops that build new layouts from existing data: concat, stack, split, chunk, pad, repeat, tile.

import { run } from '../dispatch.js';
import { promoteTypes } from '../dtype.js';
import { ArgumentError, fmtShape, ShapeError } from '../errors.js';
import { checkShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, intList, showArg } from './util.js';
import { expand, narrow, reshape, unsqueeze } from './view.js';

/** A non-empty array (checked at run time for JS callers; TS narrowing of readonly arrays is avoided). */
function isList(x: readonly Tensor[]): boolean {
  return Array.isArray(x as unknown) && x.length > 0;
}

/**
 * Joins tensors along an existing axis. All other dims must match; dtypes promote.
 * @example concat([a, b], 1)
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isList(tensors)) throw new ArgumentError('concat: expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    checkTensor('concat', t, `tensors[${i}]`);
  });
  const first = tensors[0];
  if (first.rank === 0) throw new ShapeError('concat: 0-d tensors cannot be concatenated; use stack');
  const a = normalizeAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(
        `concat: shapes ${tensors.map((x) => fmtShape(x.shape)).join(', ')} differ outside axis ${axis}`,
      );
    }
  }
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  const inputs = tensors.map((t) => (t.dtype === dtype ? t : run('cast', [t], { dtype })));
  return run('concat', inputs, { axis: a });
}

/** Joins tensors of one shape along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isList(tensors)) throw new ArgumentError('stack: expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    checkTensor('stack', t, `tensors[${i}]`);
  });
  const shape = tensors[0].shape;
  if (tensors.some((t) => fmtShape(t.shape) !== fmtShape(shape))) {
    throw new ShapeError(
      `stack: all tensors need the same shape, got ${tensors.map((t) => fmtShape(t.shape)).join(', ')}`,
    );
  }
  const a = normalizeAxis('stack', axis, shape.length + 1);
  return concat(
    tensors.map((t) => unsqueeze(t, a)),
    a,
  );
}

/**
 * Splits into views along `axis`: chunks of `size` (the last may be smaller) or the given sizes.
 * @example split(x, [2, 3], 1)
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', x);
  const a = normalizeAxis('split', axis, x.rank);
  const n = x.shape[a];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) {
      throw new ArgumentError(`split: size must be a positive integer, got ${sizeOrSections}`);
    }
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - s));
    if (n === 0) sizes = [0];
  } else {
    if (!Array.isArray(sizeOrSections))
      throw new ArgumentError(
        `split: expected a section size or an array of sizes, got ${JSON.stringify(sizeOrSections) ?? String(sizeOrSections)}`,
      );
    sizes = [...sizeOrSections];
    const total = sizes.reduce((p, q) => p + q, 0);
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== n) {
      throw new ArgumentError(
        `split: sections [${sizes.join(',')}] must be integers >= 0 summing to ${n} (axis ${axis})`,
      );
    }
  }
  let start = 0;
  return sizes.map((s) => {
    const part = narrow(x, a, start, s);
    start += s;
    return part;
  });
}

/** Splits into `chunks` nearly equal views along `axis` (PyTorch's rule: ceil-sized chunks). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  checkTensor('chunk', x);
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new ArgumentError(`chunk: chunks must be a positive integer, got ${showArg(chunks)}`);
  const n = x.shape[normalizeAxis('chunk', axis, x.rank)];
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

export type PadMode = 'constant' | 'reflect' | 'replicate';

/**
 * Pads the last dims, PyTorch-style: `pads` = [left, right] for the last dim, then [top, bottom]
 * for the one before, and so on.
 * @example pad(img, [1, 1, 2, 2], { mode: 'reflect' }) // W by 1, H by 2 on each side
 */
export function pad(
  x: Tensor,
  pads: readonly number[],
  options: { mode?: PadMode; value?: number } = {},
): Tensor {
  checkTensor('pad', x);
  intList('pad', 'pads', pads);
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`pad: options must be an object, got ${showArg(options)}`);
  const mode = options.mode ?? 'constant';
  if (!['constant', 'reflect', 'replicate'].includes(mode)) {
    throw new ArgumentError(`pad: mode must be 'constant', 'reflect' or 'replicate', got '${mode}'`);
  }
  if (pads.length % 2 !== 0 || pads.length / 2 > x.rank) {
    throw new ArgumentError(`pad: pads [${pads.join(',')}] must hold pairs for at most ${x.rank} dims`);
  }
  const before = new Array<number>(x.rank).fill(0);
  const after = new Array<number>(x.rank).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.rank - 1 - i;
    const [l, r] = [pads[2 * i], pads[2 * i + 1]];
    if (!Number.isInteger(l) || !Number.isInteger(r) || l < 0 || r < 0) {
      throw new ArgumentError(`pad: pads must be integers >= 0, got [${pads.join(',')}]`);
    }
    if (mode === 'reflect' && (l >= x.shape[d] || r >= x.shape[d])) {
      throw new ArgumentError(
        `pad: reflect padding (${l}, ${r}) must be smaller than dim ${d} of size ${x.shape[d]} in ${fmtShape(x.shape)}`,
      );
    }
    if (mode === 'replicate' && x.shape[d] === 0 && l + r > 0) {
      throw new ArgumentError(`pad: replicate padding needs a non-empty dim ${d} in ${fmtShape(x.shape)}`);
    }
    before[d] = l;
    after[d] = r;
  }
  checkShape(
    'pad',
    x.shape.map((d, i) => d + before[i] + after[i]),
  );
  const value = options.value ?? 0;
  if (typeof value !== 'number')
    throw new ArgumentError(`pad: value must be a number, got ${JSON.stringify(value) ?? String(value)}`);
  if (mode !== 'constant' && options.value !== undefined)
    throw new ArgumentError(`pad: value applies only to mode 'constant'`);
  return run('pad', [x], { before, after, mode, value });
}

/**
 * The adjoint of `pad` for 'reflect' and 'replicate' (for 'constant' it is a slice): folds each
 * padded element's gradient back onto the element it copied. `before`/`after` are per dim.
 */
export function padBackward(
  grad: Tensor,
  inputShape: readonly number[],
  before: readonly number[],
  after: readonly number[],
  mode: PadMode,
): Tensor {
  checkTensor('padBackward', grad, 'grad');
  for (const [name, v] of [
    ['inputShape', inputShape],
    ['before', before],
    ['after', after],
  ] as const)
    if (intList('padBackward', name, v).length !== (inputShape as unknown[]).length)
      throw new ArgumentError(`padBackward: ${name} must have one entry per input dim, got ${showArg(v)}`);
  const expected = inputShape.map((d, i) => d + before[i] + after[i]);
  if (grad.rank !== inputShape.length || grad.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `padBackward: grad ${fmtShape(grad.shape)} must be ${fmtShape(expected)} for input ${fmtShape(inputShape)}`,
    );
  }
  return run('padBackward', [grad], {
    inputShape: [...inputShape],
    before: [...before],
    after: [...after],
    mode,
  });
}

function repeatWith(op: string, x: Tensor, reps: number[]): Tensor {
  if (reps.some((r) => !Number.isInteger(r) || r < 0))
    throw new ArgumentError(`${op}: repeats must be integers >= 0, got [${reps.join(',')}]`);
  const lead = reps.length - x.rank;
  const shape = [...new Array<number>(lead).fill(1), ...x.shape];
  // [d0, d1] -> [1, d0, 1, d1] -> expand [r0, d0, r1, d1] -> [r0*d0, r1*d1]: whole copies side by side.
  const interleaved = reshape(
    x,
    shape.flatMap((d) => [1, d]),
  );
  const expanded = expand(
    interleaved,
    shape.flatMap((d, i) => [reps[i], d]),
  );
  return reshape(
    expanded,
    shape.map((d, i) => d * reps[i]),
  );
}

/** Repeats the whole tensor along each dim (PyTorch's `repeat`); `repeats` may add leading dims. */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  checkTensor('repeat', x);
  intList('repeat', 'repeats', repeats);
  if (repeats.length < x.rank) {
    throw new ArgumentError(
      `repeat: need at least ${x.rank} repeats for ${fmtShape(x.shape)}, got [${repeats.join(',')}]`,
    );
  }
  return repeatWith('repeat', x, [...repeats]);
}

/** NumPy's `tile`: like `repeat`, but fewer reps than dims apply to the last dims. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  checkTensor('tile', x);
  intList('tile', 'reps', reps);
  const full = [...new Array<number>(Math.max(0, x.rank - reps.length)).fill(1), ...reps];
  return repeatWith('tile', x, full);
}
