// Gradient accumulation and ownership. A node or leaf reached along several paths receives the
// sum of their gradients. Memory is the subtle part: a leaf's `.grad` outlives backward, so it must
// be a tensor nobody else writes into. A gradient this pass computed can be adopted as it is; the
// caller's seed, or a gradient that also flows to another leaf, is copied.
import { add, clone, keep, type Tensor } from '@softpool/tensor';
import type { Edge } from './edge.js';
import type { Node } from './engine.js';
import { noGrad } from './grad-mode.js';

export class GradientSums {
  readonly #nodes = new Map<Node, (Tensor | undefined)[]>();
  readonly #leaves = new Map<Tensor, Tensor>();
  /** Gradients this pass computed (not the caller's seeds): a leaf may adopt one without a copy. */
  readonly #produced = new Set<Tensor>();

  /** Adds `g` to the gradient waiting at the end of `edge`. `computed`: made by this pass. */
  add(edge: Edge, g: Tensor, computed = true): void {
    if (!edge) return;
    if (computed) this.#produced.add(g);
    const sum = (prev: Tensor | undefined): Tensor => {
      if (!prev) return g;
      const s = add(prev, g);
      this.#produced.add(s);
      return s;
    };
    if ('leaf' in edge) {
      this.#leaves.set(edge.leaf, sum(this.#leaves.get(edge.leaf)));
      return;
    }
    const slots = this.#nodes.get(edge.node) ?? [];
    slots[edge.slot] = sum(slots[edge.slot]);
    this.#nodes.set(edge.node, slots);
  }

  /** The summed gradients of a node's outputs, removed from the sums (undefined: none reached it). */
  take(node: Node): (Tensor | undefined)[] | undefined {
    const slots = this.#nodes.get(node);
    this.#nodes.delete(node);
    return slots;
  }

  leaf(t: Tensor): Tensor | undefined {
    return this.#leaves.get(t);
  }

  /**
   * Moves every leaf's gradient into its `.grad`. A leaf adopts its gradient when this pass made it
   * and no seed or other leaf shares its memory (later in-place accumulation must not write into
   * anything else); otherwise it gets a copy.
   */
  storeInLeaves(seeds: readonly Tensor[], createGraph: boolean): void {
    const seedStorage = new Set(seeds.map((g) => g.storage));
    const claimed = new Set<unknown>();
    for (const [leaf, g] of this.#leaves) {
      const own = this.#produced.has(g) && !seedStorage.has(g.storage) && !claimed.has(g.storage);
      claimed.add(g.storage);
      setGrad(leaf, g, createGraph, own);
    }
  }
}

/**
 * Adds `g` into `t.grad` (in place, unless the graph of the gradient itself is being built).
 * `adopt`: `g` belongs to nobody else, so a first gradient can be `g` itself rather than a copy.
 */
export function setGrad(t: Tensor, g: Tensor, createGraph: boolean, adopt = false): void {
  if (t.isDisposed) return;
  if (t.grad && !t.grad.isDisposed) {
    if (createGraph) {
      const sum = keep(add(t.grad, g));
      t.grad.dispose();
      t.grad = sum;
    } else {
      noGrad(() => t.grad!.add_(g));
    }
    return;
  }
  if (adopt && !createGraph) {
    t.grad = keep(g);
    return;
  }
  // A fresh copy: the same gradient tensor may also flow to other leaves or buffers.
  t.grad = keep(createGraph ? add(g, 0) : noGrad(() => clone(g)));
}
