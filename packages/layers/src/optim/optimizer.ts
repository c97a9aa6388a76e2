// Optimizer base: parameter groups with their hyperparameters, per-parameter state, a step that
// runs without recording gradients and releases its temporaries, and PyTorch-shaped state dicts.
import { markNonDifferentiable, noGrad, zeroGrad } from '@softpool/autograd';
import { ArgumentError, hasKernel, keep, StateError, scope, type Tensor } from '@softpool/tensor';
import './cpu/fused.js';

for (const op of ['adamStep', 'sgdStep'] as const)
  markNonDifferentiable(op, 'it is an optimizer update, run without recording gradients');

/** A group of parameters sharing hyperparameters (any field overrides the optimizer default). */
export type ParamGroupSpec<O> = { params: Iterable<Tensor> } & Partial<O>;
export type ParamGroup<O> = O & { params: Tensor[]; lr: number; initialLr?: number };

/** Per-parameter state: tensors (moments) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** Serialisable optimizer state: PyTorch's layout, parameters referred to by their position. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: Record<string, unknown>[];
}

export abstract class Optimizer<O extends { lr: number }> {
  readonly paramGroups: ParamGroup<O>[];
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: Iterable<Tensor> | ParamGroupSpec<O>[], defaults: O) {
    const list = [...(params as Iterable<Tensor | ParamGroupSpec<O>>)];
    const specs =
      list.length > 0 && !('shape' in (list[0] as object))
        ? (list as ParamGroupSpec<O>[])
        : [{ params: list as Tensor[] }];
    this.paramGroups = specs.map((s) => ({ ...defaults, ...s, params: [...s.params] }) as ParamGroup<O>);
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) {
      if (g.params.length === 0)
        throw new ArgumentError(`${this.constructor.name}: a parameter group is empty`);
      if (!(g.lr >= 0)) throw new ArgumentError(`${this.constructor.name}: lr must be >= 0, got ${g.lr}`);
      for (const p of g.params) {
        if (seen.has(p))
          throw new ArgumentError(`${this.constructor.name}: a parameter appears in more than one group`);
        if (!p.requiresGrad)
          throw new ArgumentError(`${this.constructor.name}: parameters must require grad`);
        seen.add(p);
      }
    }
  }

  /** Updates one parameter in place from its gradient; `state` persists across steps. */
  protected abstract update(p: Tensor, grad: Tensor, group: ParamGroup<O>, state: ParamState): void;

  /** One optimisation step over every parameter that has a gradient. */
  step(): void {
    noGrad(() =>
      scope(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            if (!p.grad) continue;
            let st = this.state.get(p);
            if (!st) this.state.set(p, (st = {}));
            this.update(p, p.grad, group, st);
            // State tensors outlive this scope.
            for (const v of Object.values(st)) if (typeof v !== 'number') keep(v);
          }
        }
      }),
    );
  }

  /** Releases every parameter's gradient. */
  zeroGrad(): void {
    for (const g of this.paramGroups) zeroGrad(g.params);
  }

  /**
   * Whether the fused in-place op `op` can update `p`: the backend has it, and `p` and the other
   * tensors (gradient, existing state) are contiguous float tensors of one dtype and device.
   */
  protected fusable(
    op: 'adamStep' | 'sgdStep',
    p: Tensor,
    grad: Tensor,
    state: (Tensor | undefined)[],
  ): boolean {
    if (!hasKernel(op, p.device) || (p.dtype !== 'float32' && p.dtype !== 'float64')) return false;
    const same = (t: Tensor) => t.dtype === p.dtype && t.device === p.device;
    // The gradient may be strided (a linear layer's weight gradient is a transposed product):
    // `fusedGrad` copies it once, which costs far less than the composed ops.
    return same(grad) && [p, ...state].every((t) => t === undefined || (t.isContiguous && same(t)));
  }

  /** `grad` as the fused ops take it: itself when contiguous, else a contiguous copy (release it). */
  protected fusedGrad(grad: Tensor): Tensor {
    return grad.isContiguous ? grad : grad.contiguous();
  }

  /** Replaces a state tensor, releasing the previous one. */
  protected setState(state: ParamState, key: string, value: Tensor): Tensor {
    const prev = state[key];
    if (prev && typeof prev !== 'number' && prev !== value) prev.dispose();
    state[key] = keep(value);
    return value;
  }

  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    for (const g of this.paramGroups) for (const p of g.params) index.set(p, index.size);
    const state: Record<number, ParamState> = {};
    for (const [p, st] of this.state) state[index.get(p)!] = { ...st };
    const paramGroups = this.paramGroups.map(({ params, ...rest }) => ({
      ...rest,
      params: params.map((p) => index.get(p)!),
    }));
    return { state, paramGroups };
  }

  /** Restores hyperparameters and state (copies tensors) from `stateDict()` of the same setup. */
  loadStateDict(sd: OptimizerStateDict): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new StateError(
        `${this.constructor.name}.loadStateDict: ${sd.paramGroups.length} parameter groups, expected ${this.paramGroups.length}`,
      );
    }
    const params: Tensor[] = [];
    sd.paramGroups.forEach((g, i) => {
      const own = this.paramGroups[i];
      const ids = g.params as number[];
      if (ids.length !== own.params.length) {
        throw new StateError(
          `${this.constructor.name}.loadStateDict: group ${i} has ${ids.length} parameters, expected ${own.params.length}`,
        );
      }
      const { params: _, ...hyper } = g;
      Object.assign(own, hyper);
      params.push(...own.params);
    });
    for (const st of this.state.values())
      for (const v of Object.values(st)) if (typeof v !== 'number') v.dispose();
    this.state.clear();
    for (const [i, st] of Object.entries(sd.state)) {
      const p = params[Number(i)];
      if (!p)
        throw new StateError(`${this.constructor.name}.loadStateDict: state for unknown parameter ${i}`);
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(st)) {
        if (typeof v === 'number') copy[k] = v;
        else {
          if (v.rank !== p.rank && v.size !== 1 && v.size !== p.size) {
            throw new StateError(
              `${this.constructor.name}.loadStateDict: state '${k}' of parameter ${i} has shape [${v.shape}], parameter [${p.shape}]`,
            );
          }
          copy[k] = keep(noGrad(() => v.to(p.device).clone()));
        }
      }
      this.state.set(p, copy);
    }
  }
}
