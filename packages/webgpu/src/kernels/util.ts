// Helpers for GPU kernels: the backend from a kernel's backend argument, broadcast strides, and
// dense (contiguous, offset 0) inputs for kernels that index them directly.
import { type Backend, broadcastShapes, contiguousStrides, getKernel, type Tensor } from '@softpool/tensor';
import type { WebGPUBackend } from '../backend.js';

export function gpu(b: Backend): WebGPUBackend {
  return b as WebGPUBackend;
}

/** Offset and strides that read `t` as if broadcast to `shape`. */
export function broadcastView(t: Tensor, shape: readonly number[]): { offset: number; strides: number[] } {
  const lead = shape.length - t.rank;
  const strides = shape.map((d, i) =>
    i < lead || (t.shape[i - lead] === 1 && d !== 1) ? 0 : t.strides[i - lead],
  );
  return { offset: t.offset, strides };
}

export function outView(shape: readonly number[]): { offset: number; strides: number[] } {
  return { offset: 0, strides: contiguousStrides(shape) };
}

export function bshape(inputs: readonly Tensor[]): number[] {
  return broadcastShapes('webgpu', ...inputs.map((t) => t.shape));
}

/** `t` itself when contiguous at offset 0, else a contiguous copy (which the caller disposes). */
export function dense(t: Tensor, backend: Backend): { t: Tensor; temp: boolean } {
  if (t.isContiguous && t.offset === 0) return { t, temp: false };
  return { t: getKernel('contiguous', backend.name)([t], {}, backend) as Tensor, temp: true };
}

/** Runs `fn` with dense versions of `inputs`, disposing the copies afterwards. */
export function withDense<T>(inputs: Tensor[], backend: Backend, fn: (dense: Tensor[]) => T): T {
  const d = inputs.map((t) => dense(t, backend));
  try {
    return fn(d.map((x) => x.t));
  } finally {
    for (const x of d) if (x.temp) x.t.dispose();
  }
}
