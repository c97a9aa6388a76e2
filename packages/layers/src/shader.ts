// Helpers for the WGSL kernels this package registers on shader backends (WebGPU), reached through
// the core's ShaderBackend interface so that no backend package is imported.
import {
  type Backend,
  BackendError,
  getKernel,
  isShaderBackend,
  type ShaderBackend,
  type Tensor,
} from '@softpool/tensor';

export function shaderBackend(op: string, b: Backend): ShaderBackend {
  if (!isShaderBackend(b)) throw new BackendError(`${op}: backend '${b.name}' cannot run WGSL programs`);
  return b;
}

/** Runs `fn` with dense (contiguous, offset 0) versions of `inputs`, disposing any copies after. */
export function withDense<T>(inputs: Tensor[], backend: Backend, fn: (d: Tensor[]) => T): T {
  const copies = inputs.map((t) =>
    t.isContiguous && t.offset === 0
      ? t
      : (getKernel('contiguous', backend.name)([t], {}, backend) as Tensor),
  );
  try {
    return fn(copies);
  } finally {
    copies.forEach((c, i) => {
      if (c !== inputs[i]) c.dispose();
    });
  }
}
