// Adaptive and global pooling: the output size is given and the windows follow it (PyTorch's
// rule: window o along an axis of length L spans [floor(o L / out), ceil((o + 1) L / out))).
import { ArgumentError, checkTensor, type Tensor } from '@softpool/tensor';
import type { PoolGeometry } from './geometry.js';
import { first, runGeometry } from './run.js';

/** Output size per axis; null keeps that axis's input size. */
export type OutputSize = number | readonly (number | null)[];

function geometry(name: string, x: Tensor, spatial: number, size: OutputSize): PoolGeometry {
  checkTensor(name, x);
  if (typeof size !== 'number' && !Array.isArray(size))
    throw new ArgumentError(
      `${name}: outputSize must be a number or an array of ${spatial} numbers (or nulls), got ${JSON.stringify(size) ?? String(size)}`,
    );
  const list = typeof size === 'number' ? new Array<number>(spatial).fill(size) : [...size];
  if (list.length !== spatial)
    throw new ArgumentError(
      `${name}: outputSize must be a number or ${spatial} entries, got [${list.join(',')}]`,
    );
  if (x.rank < spatial + 1)
    throw new ArgumentError(
      `${name}: expected [N, C, ...${spatial} spatial] or [C, ...], got rank ${x.rank}`,
    );
  const inSpatial = x.shape.slice(x.rank - spatial);
  const adaptive = list.map((v, i) => (v === null ? inSpatial[i] : v));
  for (const [i, v] of adaptive.entries()) {
    if (!Number.isInteger(v) || v < 1)
      throw new ArgumentError(`${name}: outputSize must be positive integers, got ${v}`);
    if (inSpatial[i] === 0) throw new ArgumentError(`${name}: input has an empty spatial dim ${i}`);
    // Every window holds at least one input element: an output larger than the input would only
    // repeat elements (and a huge one would allocate what the input never justified).
    if (v > inSpatial[i])
      throw new ArgumentError(
        `${name}: outputSize ${v} exceeds the input's size ${inSpatial[i]} along spatial axis ${i}; adaptive pooling downsamples (use interpolate to upsample)`,
      );
  }
  const ones = new Array<number>(spatial).fill(1);
  return {
    kernel: ones,
    stride: ones,
    padding: ones.map(() => 0),
    dilation: ones,
    ceilMode: false,
    adaptive,
  };
}

function adaptiveAvg(name: string, spatial: number, x: Tensor, size: OutputSize): Tensor {
  return first(
    runGeometry(name, 'avgPool', spatial, x, geometry(name, x, spatial, size), { countIncludePad: false }),
  );
}

function adaptiveMax(name: string, spatial: number, x: Tensor, size: OutputSize): Tensor {
  return first(runGeometry(name, 'maxPool', spatial, x, geometry(name, x, spatial, size)));
}

export const adaptiveAvgPool1d = (x: Tensor, outputSize: OutputSize): Tensor =>
  adaptiveAvg('adaptiveAvgPool1d', 1, x, outputSize);
/**
 * 2-D adaptive average pooling.
 * @example adaptiveAvgPool2d(x, [7, 7])
 */
export const adaptiveAvgPool2d = (x: Tensor, outputSize: OutputSize): Tensor =>
  adaptiveAvg('adaptiveAvgPool2d', 2, x, outputSize);
export const adaptiveAvgPool3d = (x: Tensor, outputSize: OutputSize): Tensor =>
  adaptiveAvg('adaptiveAvgPool3d', 3, x, outputSize);
export const adaptiveMaxPool1d = (x: Tensor, outputSize: OutputSize): Tensor =>
  adaptiveMax('adaptiveMaxPool1d', 1, x, outputSize);
export const adaptiveMaxPool2d = (x: Tensor, outputSize: OutputSize): Tensor =>
  adaptiveMax('adaptiveMaxPool2d', 2, x, outputSize);
export const adaptiveMaxPool3d = (x: Tensor, outputSize: OutputSize): Tensor =>
  adaptiveMax('adaptiveMaxPool3d', 3, x, outputSize);

/** Mean over every spatial dim of [N, C, ...]: [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  checkTensor('globalAvgPool', x);
  if (x.rank < 3) throw new ArgumentError(`globalAvgPool: expected [N, C, ...spatial], got rank ${x.rank}`);
  return x.mean(x.shape.slice(2).map((_, i) => i + 2));
}

/** Maximum over every spatial dim of [N, C, ...]: [N, C]. */
export function globalMaxPool(x: Tensor): Tensor {
  checkTensor('globalMaxPool', x);
  if (x.rank < 3) throw new ArgumentError(`globalMaxPool: expected [N, C, ...spatial], got rank ${x.rank}`);
  return x.max(x.shape.slice(2).map((_, i) => i + 2));
}
