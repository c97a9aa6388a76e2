// Edges of the graph: where an input's gradient goes. A node keeps one edge per input.
import type { Tensor } from '@softpool/tensor';
import type { Node } from './engine.js';

/** The node (and which of its outputs) that made an input, or the input itself if it is a leaf. */
export type Edge = { node: Node; slot: number } | { leaf: Tensor } | null;

/** Which output slot of its node a tensor is (ops with several outputs, e.g. batch norm). */
export const slotOf = new WeakMap<Tensor, number>();

/** The edge that leads from a use of `t` back to where `t` came from (null: needs no gradient). */
export function edgeTo(t: Tensor, isNode: (fn: unknown) => fn is Node): Edge {
  if (!t.requiresGrad) return null;
  if (isNode(t.gradFn)) return { node: t.gradFn, slot: slotOf.get(t) ?? 0 };
  return { leaf: t };
}
