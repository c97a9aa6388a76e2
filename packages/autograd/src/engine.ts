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
//
// What this file leaves to others, to stay readable: grad mode (grad-mode.ts), edges and output
// slots (edge.ts), saved tensors and their in-place checks (saved.ts), summing gradients and who
// owns them (accumulate.ts), and the rewiring higher-order gradients need (higher-order.ts).
import {
  type Attrs,
  type BackwardOptions,
  clone,
  type DType,
  DTypeError,
  expand,
  fmtShape,
  type GradFn,
  isFloat,
  keep,
  onesLike,
  ShapeError,
  StateError,
  scope,
  setGradRecorder,
  type Tensor,
  zeros,
} from '@softpool/tensor';
import { GradientSums, setGrad } from './accumulate.js';
import { type Edge, edgeTo, slotOf } from './edge.js';
import { isGradModeOn, noGrad, withGradMode } from './grad-mode.js';
import { reconnect } from './higher-order.js';
import { type GradientRule, getGradient, listNonDifferentiable, type VjpContext } from './registry.js';
import { type Saved, save, unpack } from './saved.js';

// ---- the graph --------------------------------------------------------------------------------

const isNode = (fn: unknown): fn is Node => fn instanceof Node;

/** One recorded op: its gradient rule, what the rule saved, and one edge per input. */
export class Node implements GradFn {
  readonly next: Edge[];
  readonly inputShapes: number[][];
  readonly inputDtypes: DType[];
  readonly inputDevices: string[];
  readonly outputMeta: { shape: number[]; dtype: DType }[];
  readonly savedInputs: (Saved | undefined)[];
  readonly savedOutputs: (Saved | undefined)[];
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
    this.next = inputs.map((t) => edgeTo(t, isNode));
    for (const e of this.next) if (e && 'node' in e) e.node.refs++;
    const wanted = rule?.save ?? {};
    const savesInput = (i: number): boolean =>
      wanted.inputs === true || (Array.isArray(wanted.inputs) && wanted.inputs.includes(i));
    this.savedInputs = inputs.map((t, i) => (savesInput(i) ? save(t) : undefined));
    this.savedOutputs = outputs.map((t) => (wanted.outputs ? save(t) : undefined));
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

  /** What the rule reads: the saved tensors (checked, and with `createGraph` reconnected). */
  context(createGraph: boolean): VjpContext {
    const open = (s: Saved | undefined, what: string, edge: Edge): Tensor | undefined => {
      if (!s) return undefined;
      const t = unpack(s, this.name, what);
      return createGraph ? reconnect(t, edge) : t;
    };
    return {
      op: this.name,
      attrs: this.attrs,
      inputs: this.savedInputs.map((s, i) => open(s, `input ${i}`, this.next[i])),
      outputs: this.savedOutputs.map((s, k) => open(s, `output ${k}`, { node: this, slot: k })),
      inputShapes: this.inputShapes,
      inputDtypes: this.inputDtypes,
      inputDevices: this.inputDevices,
      needsGrad: this.next.map((e) => e !== null),
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
  const seen = new Set<Node>(roots);
  // Iterative depth-first search (deep graphs would overflow the JS stack recursively).
  const stack: [Node, number][] = roots.map((n) => [n, 0]);
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
  const wanted = new Set(inputs ?? []);
  const captured = new Map<Tensor, Tensor>();
  return withGradMode(createGraph, () =>
    scope(() => {
      const sums = new GradientSums();
      roots.forEach((root, i) => {
        if (!root.requiresGrad) {
          throw new StateError(
            `backward: tensor ${fmtShape(root.shape)} does not require grad and has no gradient function`,
          );
        }
        sums.add(edgeTo(root, isNode), grads[i], false);
      });

      for (const node of topologicalOrder(roots.flatMap((r) => (isNode(r.gradFn) ? [r.gradFn] : [])))) {
        const slots = sums.take(node);
        if (!slots) continue; // no gradient reaches this node
        const rule = runnableRule(node);
        // Outputs that received no gradient contribute zeros; integer outputs (max pooling's
        // indices), which no gradient can reach, a broadcast zero instead of a filled tensor.
        const outGrads = node.outputMeta.map(
          (m, k) =>
            slots[k] ??
            (isFloat(m.dtype)
              ? zeros(m.shape, { dtype: m.dtype })
              : expand(zeros([], { dtype: m.dtype }), m.shape)),
        );
        for (const [k, t] of node.retained) setGrad(t, outGrads[k], createGraph);
        for (const t of wanted) if (t.gradFn === node) captured.set(t, outGrads[slotOf.get(t) ?? 0]);

        const inGrads = rule.vjp(node.context(createGraph), outGrads);
        node.next.forEach((edge, i) => {
          const g = inGrads[i];
          if (edge && g) sums.add(edge, checkedGradient(node, i, g));
        });
        if (!retainGraph) node.freeSaved();
      }

      if (inputs) {
        return inputs.map((t) => {
          const g = sums.leaf(t) ?? captured.get(t);
          return keep(g ? clone(g) : zeros(t.shape, { dtype: t.dtype, backend: t.backend }));
        });
      }
      sums.storeInLeaves(grads, createGraph);
      return [];
    }),
  );
}

/** The node's gradient rule, or the error that says why backward cannot go through it. */
function runnableRule(node: Node): GradientRule {
  if (node.freed) {
    throw new StateError(
      `backward: the graph through '${node.name}' was freed by an earlier backward; ` +
        'pass { retainGraph: true } to the first backward to run backward twice',
    );
  }
  if (!node.rule) {
    const why = listNonDifferentiable().get(node.name);
    throw new StateError(
      why
        ? `backward: op '${node.name}' is not differentiable: ${why}`
        : `backward: no gradient is registered for op '${node.name}' (registerGradient('${node.name}', ...))`,
    );
  }
  return node.rule;
}

/** A rule's gradient for input `i`: checked against the input's shape, in the input's dtype. */
function checkedGradient(node: Node, i: number, g: Tensor): Tensor {
  const shape = node.inputShapes[i];
  if (g.shape.length !== shape.length || g.shape.some((d, k) => d !== shape[k])) {
    throw new ShapeError(
      `backward: the gradient rule of '${node.name}' returned ${fmtShape(g.shape)} for input ${i} of shape ${fmtShape(shape)}`,
    );
  }
  return g.dtype === node.inputDtypes[i] ? g : g.cast(node.inputDtypes[i]);
}

// ---- the entry points the core calls (t.backward(), t.retainGrad()) -----------------------------

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
  if (isNode(t.gradFn)) t.gradFn.retained.set(slotOf.get(t) ?? 0, t);
}

setGradRecorder({
  get enabled() {
    return isGradModeOn();
  },
  record,
  backward: backwardFrom,
  retainGrad,
});
