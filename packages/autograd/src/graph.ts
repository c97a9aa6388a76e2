// Looking at the backward graph: Graphviz DOT (toDot), rendered to SVG (toSvg), and an indented
// text dump (printGraph).
import { fmtShape, StateError, type Tensor } from '@softpool/tensor';
import { Node } from './engine.js';

interface Visit {
  nodes: Node[];
  leaves: Tensor[];
}

function walk(t: Tensor): Visit {
  const nodes: Node[] = [];
  const leaves: Tensor[] = [];
  const seen = new Set<unknown>();
  const stack: unknown[] = [t.gradFn ?? t];
  while (stack.length) {
    const item = stack.pop();
    if (seen.has(item)) continue;
    seen.add(item);
    if (item instanceof Node) {
      nodes.push(item);
      for (const e of item.next) if (e) stack.push('node' in e ? e.node : e.leaf);
    } else leaves.push(item as Tensor);
  }
  return { nodes, leaves };
}

const shapeOf = (n: Node): string => n.outputMeta.map((m) => fmtShape(m.shape)).join(' ');

export interface DotOptions {
  /**
   * Labels for tensors: parameters by their module path (`model.namedParameters()`), or any
   * tensor of the graph (inputs, intermediate results). An op node takes the name of its output.
   */
  names?: Iterable<readonly [string, Tensor]> | Record<string, Tensor>;
  /** Add a summary of each named or leaf tensor's values (CPU tensors: values or mean/min/max). */
  values?: boolean;
  /** Add a summary of each named or leaf tensor's `.grad`. */
  grads?: boolean;
}

/** A short description of the values: all of them when few, else mean and range. */
function summary(t: Tensor): string {
  if (t.isDisposed) return 'disposed';
  if (!t.backend.readSync) return fmtShape(t.shape);
  const v = Array.from(t.dataSync(), Number);
  const f = (x: number) => String(Number(x.toPrecision(4)));
  if (v.length <= 4) return `[${v.map(f).join(', ')}]`;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return `mean ${f(mean)} in [${f(Math.min(...v))}, ${f(Math.max(...v))}]`;
}

/**
 * The backward graph of `t` in Graphviz DOT: one box per op (name and output shape), one ellipse
 * per leaf that requires grad, edges in the direction gradients flow. `names` labels leaves and
 * results; `values` and `grads` add summaries of them. `toSvg` renders it.
 * @example toDot(loss, { names: model.namedParameters(), grads: true })
 */
export function toDot(t: Tensor, options: DotOptions = {}): string {
  const { nodes, leaves } = walk(t);
  const named = new Map<Tensor, string>();
  const entries = options.names
    ? Symbol.iterator in options.names
      ? options.names
      : Object.entries(options.names)
    : [];
  for (const [name, x] of entries as Iterable<readonly [string, Tensor]>) named.set(x, name);
  // Op nodes get the name (and summaries) of the output tensor we know of, if any.
  const outputOf = new Map<Node, Tensor>();
  for (const x of [t, ...named.keys()]) if (x.gradFn instanceof Node) outputOf.set(x.gradFn, x);
  const id = new Map<unknown, string>([
    ...nodes.map((n, i): [unknown, string] => [n, `op${i}`]),
    ...leaves.map((l, i): [unknown, string] => [l, `leaf${i}`]),
  ]);
  const details = (x: Tensor | undefined): string[] => {
    if (!x) return [];
    const out: string[] = [];
    if (options.values) out.push(`value ${summary(x)}`);
    if (options.grads) out.push(`grad ${x.grad ? summary(x.grad) : 'none'}`);
    return out;
  };
  const label = (lines: string[]) => lines.map((l) => l.replace(/["\\]/g, '\\$&')).join('\\n');
  const lines = ['digraph backward {', '  rankdir=BT;', '  node [fontname="Helvetica", fontsize=10];'];
  for (const n of nodes) {
    const out = outputOf.get(n);
    const title = out && named.has(out) ? `${named.get(out)} = ${n.name}` : n.name;
    lines.push(`  ${id.get(n)} [shape=box, label="${label([title, shapeOf(n), ...details(out)])}"];`);
  }
  for (const l of leaves) {
    const title = named.get(l) ?? 'leaf';
    lines.push(
      `  ${id.get(l)} [shape=ellipse, label="${label([title, `${fmtShape(l.shape)} ${l.dtype}`, ...details(l)])}"];`,
    );
  }
  for (const n of nodes) {
    for (const e of n.next) if (e) lines.push(`  ${id.get(n)} -> ${id.get('node' in e ? e.node : e.leaf)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * `toDot` rendered to SVG by Graphviz compiled to WebAssembly (the optional `@viz-js/viz`
 * package: `npm i @viz-js/viz`). Works in Node and browsers.
 */
export async function toSvg(t: Tensor, options: DotOptions = {}): Promise<string> {
  const dot = toDot(t, options);
  let viz: { instance(): Promise<{ renderString(dot: string, o: { format: string }): string }> };
  try {
    viz = (await import('@viz-js/viz' as string)) as typeof viz;
  } catch (e) {
    throw new StateError(
      `toSvg: cannot load the optional '@viz-js/viz' package (${(e as Error).message.split('\n')[0]}); install it, or render toDot's output with Graphviz`,
    );
  }
  return (await viz.instance()).renderString(dot, { format: 'svg' });
}

/**
 * The backward graph as indented text, one op per line with its output shape; shared subgraphs
 * are printed once and referenced afterwards.
 */
export function printGraph(t: Tensor): string {
  const out: string[] = [];
  const printed = new Map<Node, number>();
  const visit = (item: Node | Tensor, depth: number): void => {
    const pad = '  '.repeat(depth);
    if (!(item instanceof Node)) {
      out.push(`${pad}leaf ${fmtShape(item.shape)} ${item.dtype}`);
      return;
    }
    const seen = printed.get(item);
    if (seen !== undefined) {
      out.push(`${pad}${item.name} ${shapeOf(item)} (see #${seen})`);
      return;
    }
    printed.set(item, printed.size + 1);
    out.push(`${pad}#${printed.size} ${item.name} ${shapeOf(item)}`);
    for (const e of item.next) if (e) visit('node' in e ? e.node : e.leaf, depth + 1);
  };
  if (t.gradFn instanceof Node) visit(t.gradFn, 0);
  else
    out.push(
      t.requiresGrad
        ? `leaf ${fmtShape(t.shape)} ${t.dtype}`
        : '(no graph: the tensor does not require grad)',
    );
  return `${out.join('\n')}\n`;
}
