// The kernel registry: op name -> backend name -> kernel. Backends fill it; other packages (the
// layers package's pooling) add their own ops through the same public functions.
import type { Backend } from './backend.js';
import { BackendError } from './errors.js';
import type { OpAttrs, OpName } from './op-attrs.js';
import type { Tensor } from './tensor.js';

/** Attributes of one op call: plain data (numbers, strings, arrays), never tensors. */
export type Attrs = Record<string, unknown>;

/**
 * A kernel computes an op's outputs on one backend. Inputs are validated by the op's front-end
 * function before dispatch, so kernels can trust shapes and dtypes.
 */
export type Kernel<A = Attrs> = (inputs: Tensor[], attrs: A, backend: Backend) => Tensor | Tensor[];

/** Backend name under which a kernel serves every backend (views, which only touch metadata). */
export const ANY_BACKEND = '*';

const registry = new Map<string, Map<string, Kernel>>();

/**
 * Registers `kernel` for `op` on `backend` (or `ANY_BACKEND`). Re-registering replaces the previous
 * kernel, so a package can provide a faster one.
 * @example
 * registerKernel('softPool2d', 'cpu', (inputs, attrs) => ...);
 */
export function registerKernel<Op extends OpName>(
  op: Op,
  backend: string,
  kernel: Kernel<OpAttrs[Op]>,
): void {
  let byBackend = registry.get(op);
  if (!byBackend) registry.set(op, (byBackend = new Map()));
  byBackend.set(backend, kernel as Kernel);
}

/** The kernel for `op` on `backend`; throws naming the backends that do have it. */
export function getKernel(op: string, backend: string): Kernel {
  const byBackend = registry.get(op);
  const kernel = byBackend?.get(backend) ?? byBackend?.get(ANY_BACKEND);
  if (kernel) return kernel;
  if (!byBackend)
    throw new BackendError(`${op}: no such op is registered (is the package that provides it imported?)`);
  throw new BackendError(
    `${op}: no kernel for backend '${backend}'; available on: ${[...byBackend.keys()].join(', ')}. ` +
      `Move the inputs with .to('${[...byBackend.keys()][0]}')`,
  );
}

export function hasKernel(op: string, backend: string): boolean {
  const byBackend = registry.get(op);
  return !!(byBackend?.has(backend) || byBackend?.has(ANY_BACKEND));
}

/** Op names with a kernel on `backend` (for conformance tests and docs). */
export function listOps(backend?: string): string[] {
  return [...registry.entries()]
    .filter(([, m]) => backend === undefined || m.has(backend) || m.has(ANY_BACKEND))
    .map(([op]) => op)
    .sort();
}
