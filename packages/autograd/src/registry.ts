// The gradient registry: op name -> the rule that turns output gradients into input gradients.
// Core ops register theirs in ./grads; other packages (layers' pooling) call registerGradient too.
import type { Attrs, DType, OpAttrs, OpName, Tensor } from '@softpool/tensor';

/** What a VJP rule can read about the forward call it differentiates. */
export interface VjpContext<A = Attrs> {
  readonly op: string;
  readonly attrs: A;
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
export interface GradientRule<A = Attrs> {
  /** What the rule reads at backward time; nothing else is kept alive. */
  save?: { inputs?: boolean | readonly number[]; outputs?: boolean };
  vjp(ctx: VjpContext<A>, grads: Tensor[]): (Tensor | null | undefined)[];
  /** Releases state the rule keeps in its attrs (custom functions), when the graph is freed. */
  release?(attrs: A): void;
}

const rules = new Map<string, GradientRule>();
const nonDifferentiable = new Map<string, string>();

/**
 * Registers the gradient of `op` (replacing any previous rule).
 * @example
 * registerGradient('exp', { save: { outputs: true }, vjp: (ctx, [g]) => [mul(g, ctx.outputs[0]!)] });
 */
export function registerGradient<Op extends OpName>(op: Op, rule: GradientRule<OpAttrs[Op]>): void {
  // Stored by name; the node hands each rule the attrs its own op was dispatched with.
  rules.set(op, rule as unknown as GradientRule);
}

export function getGradient(op: string): GradientRule | undefined {
  return rules.get(op);
}

/** Names of the ops with a registered gradient. */
export function listGradients(): string[] {
  return [...rules.keys()].sort();
}

/**
 * Declares that `op` has no gradient on purpose (a comparison, a random draw, a backward kernel
 * without a second derivative), with the reason backward gives if it meets one. Every op has a
 * gradient rule or a place on this list: a test checks it, so a missing rule is found at once
 * rather than at someone's backward time.
 */
export function markNonDifferentiable(op: OpName, reason: string): void {
  nonDifferentiable.set(op, reason);
}

/** Ops without a gradient on purpose, with the reason. */
export function listNonDifferentiable(): Map<string, string> {
  return new Map(nonDifferentiable);
}
