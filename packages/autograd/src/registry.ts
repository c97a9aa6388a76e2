// The gradient registry: op name -> the rule that turns output gradients into input gradients.
// Core ops register theirs in ./grads; other packages (layers' pooling) call registerGradient too.
import type { Attrs, DType, Tensor } from '@softpool/tensor';

/** What a VJP rule can read about the forward call it differentiates. */
export interface VjpContext {
  readonly op: string;
  readonly attrs: Attrs;
  /** Forward inputs the rule asked to save (`save.inputs`); undefined for the others. */
  readonly inputs: readonly (Tensor | undefined)[];
  /** Forward outputs, when the rule asked to save them (`save.outputs`). */
  readonly outputs: readonly (Tensor | undefined)[];
  /** Shapes and dtypes of every input (always available, even when not saved). */
  readonly inputShapes: readonly (readonly number[])[];
  readonly inputDtypes: readonly DType[];
  /** Backend names of the inputs. */
  readonly inputDevices: readonly string[];
  /** Which inputs need a gradient; a rule may return null for the others. */
  readonly needsGrad: readonly boolean[];
}

/**
 * A vector-Jacobian product: given dL/d(outputs), return dL/d(inputs) (null: no gradient).
 * Rules are written with differentiable tensor ops, so `createGraph` can differentiate them again.
 */
export interface GradientRule {
  /** What the rule reads at backward time; nothing else is kept alive. */
  save?: { inputs?: boolean | readonly number[]; outputs?: boolean };
  vjp(ctx: VjpContext, grads: Tensor[]): (Tensor | null | undefined)[];
  /** Releases state the rule keeps in its attrs (custom functions), when the graph is freed. */
  release?(attrs: Attrs): void;
}

const rules = new Map<string, GradientRule>();

/**
 * Registers the gradient of `op` (replacing any previous rule).
 * @example
 * registerGradient('exp', { save: { outputs: true }, vjp: (ctx, [g]) => [mul(g, ctx.outputs[0]!)] });
 */
export function registerGradient(op: string, rule: GradientRule): void {
  rules.set(op, rule);
}

export function getGradient(op: string): GradientRule | undefined {
  return rules.get(op);
}

/** Names of the ops with a registered gradient. */
export function listGradients(): string[] {
  return [...rules.keys()].sort();
}
