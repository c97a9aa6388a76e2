// Custom differentiable functions with a hand-written backward, like torch.autograd.Function.
import { ANY_BACKEND, clone, registerKernel, run, shareHandle, type Tensor } from '@softpool/tensor';
import { noGrad } from './grad-mode.js';
import { registerGradient } from './registry.js';

/** What `forward` can stash for `backward`. */
export interface FunctionContext {
  /** Tensors backward needs; kept alive (even if the caller disposes them) until the graph is freed. */
  saveForBackward(...tensors: Tensor[]): void;
  /** Any other plain data for backward. */
  data: Record<string, unknown>;
}

export interface BackwardContext {
  saved: readonly Tensor[];
  data: Record<string, unknown>;
  needsGrad: readonly boolean[];
}

export interface FunctionSpec {
  /** A unique name: the op is registered as `fn:<name>` and shows up so in graphs and errors. */
  name: string;
  /** Computes the output from tensor inputs (runs without recording). */
  forward(ctx: FunctionContext, ...inputs: Tensor[]): Tensor;
  /** Gradients of the inputs from the output gradient (null for inputs without one). */
  backward(ctx: BackwardContext, grad: Tensor): (Tensor | null)[];
}

interface State {
  saved: Tensor[];
  data: Record<string, unknown>;
}

/**
 * Defines a differentiable function from a forward and a backward. Calls go through the dispatch
 * point like any op, so they show up in graphs and compose with everything else.
 * @example
 * const cube = defineFunction({
 *   name: 'cube',
 *   forward: (ctx, x) => { ctx.saveForBackward(x); return mul(mul(x, x), x); },
 *   backward: ({ saved: [x] }, g) => [mul(g, mul(mul(x, x), 3))],
 * });
 * cube(x).sum().backward();
 */
export function defineFunction(spec: FunctionSpec): (...inputs: Tensor[]) => Tensor {
  const op = `fn:${spec.name}` as const;
  registerKernel(op, ANY_BACKEND, (inputs, attrs) => {
    const { state } = attrs as { state: State };
    const ctx: FunctionContext = {
      saveForBackward: (...ts) => {
        state.saved.push(...ts.map(shareHandle));
      },
      data: state.data,
    };
    const out = noGrad(() => spec.forward(ctx, ...inputs));
    // The output must be a new tensor: the graph attaches to it.
    return inputs.includes(out) ? clone(out) : out;
  });
  registerGradient(op, {
    vjp: ({ attrs, needsGrad }, [g]) => {
      const { saved, data } = attrs.state as State;
      return spec.backward({ saved, data, needsGrad }, g);
    },
    release: (attrs) => {
      for (const t of (attrs.state as State).saved) t.dispose();
    },
  });
  return (...inputs: Tensor[]) => {
    const state: State = { saved: [], data: {} };
    const out = run(op, inputs, { state });
    // Without a graph nobody will call backward: release what forward saved now.
    if (!out.requiresGrad) for (const t of state.saved) t.dispose();
    return out;
  };
}
