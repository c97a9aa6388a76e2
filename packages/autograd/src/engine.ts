// The autograd engine: reverse-mode differentiation in one file, top to bottom.
//
// Forward: whenever an op runs on a tensor that requires grad, the core's dispatch point calls
// `record`. We create a Node that remembers the op's gradient rule, the tensors the rule will need
// (saved as extra handles, with their version numbers), and one edge per input pointing at the
// node that produced it, or at the input itself when it is a leaf (a tensor the user created).
//
// Backward: starting from the output, we order the reachable nodes so that every node comes after
// all the nodes that use its outputs (a topological order), then visit them once each. A visit
// hands the node the gradient of its outputs; the rule turns it into gradients of its inputs
// (a vector-Jacobian product), which are added into the buffers of the nodes they came from.
// Leaves collect their gradient into `.grad`.
import {
  ArgumentError,
  type Attrs,
  add,
  type BackwardOptions,
  clone,
  type DType,
  DTypeError,
  fmtShape,
  type GradFn,
  isFloat,
  keep,
  makeView,
  onesLike,
  ShapeError,
  StateError,
  scope,
  setGradRecorder,
  shareHandle,
  type Tensor,
  zeros,
} from '@softpool/tensor';
import { type GradientRule, getGradient, type VjpContext } from './registry.js';

// ---- grad mode --------------------------------------------------------------------------------

let gradEnabled = true;

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    const result = fn();
    if (result instanceof Promise)
      throw new ArgumentError('noGrad/enableGrad: the function must be synchronous');
    return result;
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

// ---- the graph --------------------------------------------------------------------------------

/** Where an input's gradient goes: the node (and output slot) that made it, or a leaf tensor. */
type Edge = { node: Node; slot: number } | { leaf: Tensor } | null;

/** A saved tensor and the storage version it had when saved. */
interface Saved {
  tensor: Tensor;
  version: number;
}

/** Which output slot of its node a tensor is (ops with several outputs). */
const slotOf = new WeakMap<Tensor, number>();

export class Node implements GradFn {
  readonly next: Edge[];
  readonly inputShapes: number[][];
  readonly inputDtypes: DType[];
  readonly inputDevices: string[];
  readonly outputMeta: { shape: number[]; dtype: DType }[];
  savedInputs: (Saved | undefined)[] = [];
  savedOutputs: (Saved | undefined)[] = [];
  /** Output slots whose gradient should be stored on the tensor (retainGrad). */
  readonly retained = new Map<number, Tensor>();
  /** Output tensors and downstream nodes that still refer to this node. */
  refs = 0;
  freed = false;

  constructor(
    readonly name: string,
    readonly rule: GradientRule | undefined,
    readonly attrs: Attrs,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
  ) {
    this.inputShapes = inputs.map((t) => [...t.shape]);
    this.inputDtypes = inputs.map((t) => t.dtype);
    this.inputDevices = inputs.map((t) => t.device);
    this.outputMeta = outputs.map((t) => ({ shape: [...t.shape], dtype: t.dtype }));
    this.next = inputs.map((t): Edge => {
      if (!t.requiresGrad) return null;
      if (t.gradFn instanceof Node) {
        t.gradFn.refs++;
        return { node: t.gradFn, slot: slotOf.get(t) ?? 0 };
      }
      return { leaf: t };
    });
    const save = rule?.save ?? {};
    const wanted = (i: number): boolean =>
      save.inputs === true || (Array.isArray(save.inputs) && save.inputs.includes(i));
    this.savedInputs = inputs.map((t, i) =>
      wanted(i) ? { tensor: shareHandle(t), version: t.version } : undefined,
    );
    this.savedOutputs = outputs.map((t) =>
      save.outputs ? { tensor: shareHandle(t), version: t.version } : undefined,
    );
  }

  /** Drops what the rule saved (after backward, or when nobody can reach this node any more). */
  freeSaved(): void {
    if (this.freed) return;
    this.freed = true;
    for (const s of [...this.savedInputs, ...this.savedOutputs]) s?.tensor.dispose();
    this.rule?.release?.(this.attrs);
  }

  /** Called when an output tensor is disposed or a downstream node goes away. */
  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const e of this.next) if (e && 'node' in e) e.node.release();
  }

  /**
   * The saved tensors, checked against in-place modification since they were saved. With
   * `createGraph`, each is reconnected to the graph it came from (leaves are returned as
   * themselves), so the gradient computed from them can be differentiated again.
   */
  context(needsGrad: boolean[], createGraph: boolean): VjpContext {
    const open = (s: Saved | undefined, what: string, edge: Edge): Tensor | undefined => {
      if (!s) return undefined;
      if (s.tensor.version !== s.version) {
        throw new StateError(
          `backward: a tensor saved by '${this.name}' (its ${what}, ${fmtShape(s.tensor.shape)}) was modified in place after ` +
            `it was saved (version ${s.tensor.version}, saved at ${s.version}); clone it before modifying it`,
        );
      }
      if (!createGraph || !edge) return s.tensor;
      if ('leaf' in edge) return edge.leaf.isDisposed ? s.tensor : edge.leaf;
      // A handle that belongs to the scope of this backward pass, pointing into the graph.
      const t = makeView(s.tensor, s.tensor.shape, s.tensor.strides, s.tensor.offset);
      t.gradFn = edge.node;
      edge.node.refs++;
      t.requiresGrad = true;
      slotOf.set(t, edge.slot);
      return t;
    };
    return {
      op: this.name,
      attrs: this.attrs,
      inputs: this.savedInputs.map((s, i) => open(s, `input ${i}`, this.next[i])),
      outputs: this.savedOutputs.map((s, k) => open(s, `output ${k}`, { node: this, slot: k })),
      inputShapes: this.inputShapes,
      inputDtypes: this.inputDtypes,
      inputDevices: this.inputDevices,
      needsGrad,
    };
  }
}

/** Called by the core's dispatch after every op with an input that requires grad. */
function record(op: string, inputs: readonly Tensor[], attrs: Attrs, outputs: readonly Tensor[]): void {
  const differentiable = outputs.filter((o) => isFloat(o.dtype) && !inputs.includes(o));
  if (differentiable.length === 0) return; // comparisons, argmax, in-place writes
  const node = new Node(op, getGradient(op), attrs, inputs, outputs);
  outputs.forEach((o, slot) => {
    if (!differentiable.includes(o)) return;
    o.gradFn = node;
    o.requiresGrad = true;
    slotOf.set(o, slot);
    node.refs++;
  });
}

// ---- backward ---------------------------------------------------------------------------------

export interface GradOptions extends BackwardOptions {
  /** When given, return the gradients of these tensors instead of accumulating into `.grad`. */
  inputs?: readonly Tensor[];
}

/** Nodes reachable from `roots`, each after every node that feeds gradient into it. */
function topologicalOrder(roots: Node[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative depth-first search (deep graphs would overflow the JS stack recursively).
  const stack: [Node, number][] = roots.map((n) => [n, 0]);
  for (const r of roots) seen.add(r);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.next.length) {
      top[1]++;
      const e = node.next[i];
      if (e && 'node' in e && !seen.has(e.node)) {
        seen.add(e.node);
        stack.push([e.node, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/**
 * The engine's one entry point. Propagates `grads` (one per root) back through the graph, and
 * either accumulates into the leaves' `.grad` or, with `options.inputs`, returns the gradients of
 * those tensors (zeros where no gradient reaches them).
 */
export function runBackward(
  roots: readonly Tensor[],
  grads: readonly Tensor[],
  options: GradOptions = {},
): Tensor[] {
  // As in PyTorch, building the gradient's graph keeps this graph (it is part of the new one).
  const { createGraph = false, retainGraph = createGraph, inputs } = options;
  // Gradients per (node, output slot), and per leaf; summed as contributions arrive.
  const buffers = new Map<Node, (Tensor | undefined)[]>();
  const leafGrads = new Map<Tensor, Tensor>();
  const wanted = new Set(inputs ?? []);
  const captured = new Map<Tensor, Tensor>();
  // Gradients this pass computed (not the caller's seeds): a leaf may adopt one without a copy.
  const produced = new Set<Tensor>();

  const accumulate = (edge: Edge, g: Tensor): void => {
    if (!edge) return;
    const sum = (prev: Tensor | undefined): Tensor => {
      if (!prev) return g;
      const s = add(prev, g);
      produced.add(s);
      return s;
    };
    if ('leaf' in edge) {
      leafGrads.set(edge.leaf, sum(leafGrads.get(edge.leaf)));
      return;
    }
    const slots = buffers.get(edge.node) ?? [];
    slots[edge.slot] = sum(slots[edge.slot]);
    buffers.set(edge.node, slots);
  };

  return withGradMode(createGraph, () =>
    scope(() => {
      const rootNodes: Node[] = [];
      roots.forEach((root, i) => {
        if (!root.requiresGrad) {
          throw new StateError(
            `backward: tensor ${fmtShape(root.shape)} does not require grad and has no gradient function`,
          );
        }
        accumulate(
          root.gradFn instanceof Node ? { node: root.gradFn, slot: slotOf.get(root) ?? 0 } : { leaf: root },
          grads[i],
        );
        if (root.gradFn instanceof Node) rootNodes.push(root.gradFn);
      });

      for (const node of topologicalOrder(rootNodes)) {
        const slots = buffers.get(node);
        if (!slots) continue; // no gradient reaches this node
        buffers.delete(node);
        if (node.freed) {
          throw new StateError(
            `backward: the graph through '${node.name}' was freed by an earlier backward; ` +
              'pass { retainGraph: true } to the first backward to run backward twice',
          );
        }
        if (!node.rule) {
          throw new StateError(
            `backward: no gradient is registered for op '${node.name}' (registerGradient('${node.name}', ...))`,
          );
        }
        // Outputs that received no gradient contribute zeros.
        const outGrads = node.outputMeta.map((m, k) => slots[k] ?? zeros(m.shape, { dtype: m.dtype }));
        for (const [k, t] of node.retained) setGrad(t, outGrads[k], createGraph);
        for (const t of wanted) if (t.gradFn === node) captured.set(t, outGrads[slotOf.get(t) ?? 0]);

        const needsGrad = node.next.map((e) => e !== null);
        const inGrads = node.rule.vjp(node.context(needsGrad, createGraph), outGrads);
        node.next.forEach((edge, i) => {
          const g = inGrads[i];
          if (!edge || !g) return;
          if (
            g.shape.length !== node.inputShapes[i].length ||
            g.shape.some((d, k) => d !== node.inputShapes[i][k])
          ) {
            throw new ShapeError(
              `backward: the gradient rule of '${node.name}' returned ${fmtShape(g.shape)} for input ${i} of shape ${fmtShape(node.inputShapes[i])}`,
            );
          }
          const cast = g.dtype === node.inputDtypes[i] ? g : g.cast(node.inputDtypes[i]);
          produced.add(cast);
          accumulate(edge, cast);
        });
        if (!retainGraph) node.freeSaved();
      }

      if (inputs) {
        return inputs.map((t) => {
          const g = leafGrads.get(t) ?? captured.get(t);
          return keep(g ? clone(g) : zeros(t.shape, { dtype: t.dtype, backend: t.backend }));
        });
      }
      // A leaf adopts its gradient when this pass made it and no seed or other leaf shares its
      // memory (later in-place accumulation must not write into anything else); else a copy.
      const seeds = new Set(grads.map((g) => g.storage));
      const claimed = new Set<unknown>();
      for (const [leaf, g] of leafGrads) {
        const own = produced.has(g) && !seeds.has(g.storage) && !claimed.has(g.storage);
        claimed.add(g.storage);
        setGrad(leaf, g, createGraph, own);
      }
      return [];
    }),
  );
}

/**
 * Adds `g` into `t.grad` (in place, unless the graph of the gradient itself is being built).
 * `adopt`: `g` belongs to nobody else, so a first gradient can be `g` itself rather than a copy.
 */
function setGrad(t: Tensor, g: Tensor, createGraph: boolean, adopt = false): void {
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

function backwardFrom(t: Tensor, gradient: Tensor | undefined, options: BackwardOptions): void {
  if (!gradient && t.size !== 1) {
    throw new ShapeError(
      `backward: a gradient is needed for non-scalar outputs (shape ${fmtShape(t.shape)}); pass t.backward(gradOutput) or reduce first`,
    );
  }
  if (gradient && (gradient.rank !== t.rank || gradient.shape.some((d, i) => d !== t.shape[i]))) {
    throw new ShapeError(
      `backward: gradient ${fmtShape(gradient.shape)} does not match the output ${fmtShape(t.shape)}`,
    );
  }
  if (!isFloat(t.dtype)) throw new DTypeError(`backward: only float outputs have gradients, got ${t.dtype}`);
  const seed = gradient ?? noGrad(() => onesLike(t));
  try {
    runBackward([t], [seed], options);
  } finally {
    if (!gradient) seed.dispose();
  }
}

function retainGrad(t: Tensor): void {
  if (!t.requiresGrad) throw new StateError(`retainGrad: tensor ${fmtShape(t.shape)} does not require grad`);
  if (t.gradFn instanceof Node) t.gradFn.retained.set(slotOf.get(t) ?? 0, t);
}

setGradRecorder({
  get enabled() {
    return gradEnabled;
  },
  record,
  backward: backwardFrom,
  retainGrad,
});
