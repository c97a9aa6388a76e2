// Looking at the backward graph: Graphviz DOT (toDot) and an indented text dump (printGraph).
import { fmtShape, type Tensor } from '@softpool/tensor';
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

/**
 * The backward graph of `t` in Graphviz DOT: one box per op (name and output shape), one ellipse
 * per leaf that requires grad, edges in the direction gradients flow.
 * @example writeFileSync('graph.dot', toDot(loss)); // then: dot -Tsvg graph.dot
 */
export function toDot(t: Tensor): string {
  const { nodes, leaves } = walk(t);
  const id = new Map<unknown, string>([
    ...nodes.map((n, i): [unknown, string] => [n, `op${i}`]),
    ...leaves.map((l, i): [unknown, string] => [l, `leaf${i}`]),
  ]);
  const lines = ['digraph backward {', '  rankdir=BT;', '  node [fontname="Helvetica", fontsize=10];'];
  for (const n of nodes) lines.push(`  ${id.get(n)} [shape=box, label="${n.name}\\n${shapeOf(n)}"];`);
  for (const l of leaves)
    lines.push(`  ${id.get(l)} [shape=ellipse, label="leaf\\n${fmtShape(l.shape)} ${l.dtype}"];`);
  for (const n of nodes) {
    for (const e of n.next) if (e) lines.push(`  ${id.get(n)} -> ${id.get('node' in e ? e.node : e.leaf)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
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
