// Higher-order gradients. With `createGraph`, backward records the ops of the gradient rules, so
// their results can be differentiated again. For that, what a rule reads must be connected to the
// graph it came from: a saved tensor is handed to the rule as a new handle whose gradFn is the node
// that made the original (leaves are handed over as themselves). A second backward then flows from
// the gradient, through the rule's ops, into that node and on to the leaves.
import { makeView, type Tensor } from '@softpool/tensor';
import { type Edge, slotOf } from './edge.js';

/** `saved` (the value of the tensor at the end of `edge`) as a tensor connected to the graph. */
export function reconnect(saved: Tensor, edge: Edge): Tensor {
  if (!edge) return saved;
  if ('leaf' in edge) return edge.leaf.isDisposed ? saved : edge.leaf;
  // A handle that belongs to the scope of this backward pass, pointing into the graph.
  const t = makeView(saved, saved.shape, saved.strides, saved.offset);
  t.gradFn = edge.node;
  edge.node.refs++;
  t.requiresGrad = true;
  slotOf.set(t, edge.slot);
  return t;
}
