// Functional autograd (JAX-style): grad, valueAndGrad, vjp, and PyTorch's autograd.grad.
import {
  DTypeError,
  detach,
  fmtShape,
  isFloat,
  onesLike,
  ShapeError,
  scope,
  type Tensor,
} from '@softpool/tensor';
import { runBackward } from './engine.js';
import { noGrad } from './grad-mode.js';

/**
 * Gradients of `outputs` with respect to `inputs`, without touching `.grad` (PyTorch's
 * `torch.autograd.grad`). `gradOutputs` default to ones for one-element outputs.
 * @example const [dx] = gradients(loss, [x], undefined, { createGraph: true });
 */
export function gradients(
  outputs: Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  gradOutputs?: readonly Tensor[],
  options: { retainGraph?: boolean; createGraph?: boolean } = {},
): Tensor[] {
  const outs = Array.isArray(outputs) ? (outputs as readonly Tensor[]) : [outputs as Tensor];
  const seeds = outs.map((o, i) => {
    const g = gradOutputs?.[i];
    if (g) return g;
    if (o.size !== 1)
      throw new ShapeError(`gradients: output ${i} ${fmtShape(o.shape)} is not a scalar; pass gradOutputs`);
    return noGrad(() => onesLike(o));
  });
  const grads = runBackward(outs, seeds, { ...options, inputs });
  seeds.forEach((s, i) => {
    if (s !== gradOutputs?.[i]) s.dispose();
  });
  return grads;
}

/** Fresh leaves that require grad, standing in for the caller's tensors (which stay untouched). */
function leaves(args: readonly Tensor[], argnums: readonly number[]): Tensor[] {
  return args.map((a, i) => {
    if (!argnums.includes(i)) return a;
    if (!isFloat(a.dtype)) throw new DTypeError(`grad: argument ${i} must be a float tensor, got ${a.dtype}`);
    return detach(a).requiresGrad_();
  });
}

/**
 * `valueAndGrad(f)(...args)` returns `[f(...args), grads]`, where grads are the gradients of the
 * scalar output with respect to the arguments in `argnums` (default: the first).
 * @example const [loss, [dw]] = valueAndGrad((w) => sum(mul(w, w)))(w);
 */
export function valueAndGrad(
  f: (...args: Tensor[]) => Tensor,
  argnums: number | readonly number[] = 0,
): (...args: Tensor[]) => [Tensor, Tensor[]] {
  const nums = typeof argnums === 'number' ? [argnums] : [...argnums];
  return (...args) =>
    scope(() => {
      const xs = leaves(args, nums);
      const out = f(...xs);
      if (out.size !== 1)
        throw new ShapeError(`grad: the function must return a scalar, got ${fmtShape(out.shape)}`);
      const grads = gradients(
        out,
        nums.map((i) => xs[i]),
      );
      return [detach(out), grads] as [Tensor, Tensor[]];
    });
}

/**
 * `grad(f)(...args)` returns the gradient of scalar `f` with respect to argument `argnums`
 * (a tensor), or to several (an array).
 * @example const df = grad((x) => sum(exp(x))); df(x) // = exp(x)
 */
export function grad(
  f: (...args: Tensor[]) => Tensor,
  argnums: number | readonly number[] = 0,
): (...args: Tensor[]) => Tensor | Tensor[] {
  const vg = valueAndGrad(f, argnums);
  return (...args) => {
    const [value, grads] = vg(...args);
    value.dispose();
    return typeof argnums === 'number' ? grads[0] : grads;
  };
}

/**
 * Evaluates `f(...primals)` and returns it with a function mapping a cotangent (same shape as the
 * output) to the gradients of every primal: the vector-Jacobian product.
 * @example const [y, back] = vjp((x) => mul(x, x), x); const [dx] = back(onesLike(y));
 */
export function vjp(
  f: (...args: Tensor[]) => Tensor,
  ...primals: Tensor[]
): [Tensor, (cotangent: Tensor) => Tensor[]] {
  const xs = leaves(
    primals,
    primals.map((_, i) => i),
  );
  const out = f(...xs);
  const back = (cotangent: Tensor): Tensor[] => {
    if (cotangent.rank !== out.rank || cotangent.shape.some((d, i) => d !== out.shape[i])) {
      throw new ShapeError(
        `vjp: cotangent ${fmtShape(cotangent.shape)} must match the output ${fmtShape(out.shape)}`,
      );
    }
    return gradients(out, xs, [cotangent], { retainGraph: true });
  };
  return [out, back];
}
