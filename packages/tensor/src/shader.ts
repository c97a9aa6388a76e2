// Programs for backends that run WGSL (WebGPU): the interface other packages use to add GPU
// kernels for their own ops without importing a backend package. Apart from backend.ts, because
// it names tensors (backend.ts must not: the Tensor class depends on it).
import type { Backend } from './backend.js';
import type { DType } from './dtype.js';
import type { Tensor } from './tensor.js';

/** One compute dispatch: WGSL source, tensor inputs, outputs to create, scalar parameters. */
export interface ComputeProgram {
  /** WGSL source; the pipeline is cached by this text. Bindings: see the backend's documentation. */
  code: string;
  inputs: readonly Tensor[];
  outputs: readonly { shape: readonly number[]; dtype: DType }[];
  /** 32-bit parameters (u32 bit patterns, written by `u32`/`f32` helpers). */
  params?: readonly number[];
  /** Threads to launch (the backend picks the workgroup grid; `@workgroup_size(64)` is assumed). */
  threads: number;
  /** Explicit workgroup count instead of `threads`, for programs with their own workgroup layout. */
  workgroups?: number;
  /** Bind every input and output as `array<vec4<T>>` (their sizes must be multiples of 4). */
  vec4?: boolean;
  /**
   * A device-side check: the program may call `fail_()` (e.g. on an out-of-range index); the
   * next read-back then throws this message.
   */
  check?: string;
  /** Existing tensors to write instead of new outputs (in-place updates); `outputs` is then ignored. */
  into?: readonly Tensor[];
}

/**
 * A backend that runs WGSL programs (WebGPU). Packages add GPU kernels for their own ops through
 * it, without depending on the backend package: `registerKernel('softPool', 'webgpu', ...)`.
 */
export interface ShaderBackend extends Backend {
  runProgram(program: ComputeProgram): Tensor[];
}

export function isShaderBackend(b: Backend): b is ShaderBackend {
  return typeof (b as Partial<ShaderBackend>).runProgram === 'function';
}
