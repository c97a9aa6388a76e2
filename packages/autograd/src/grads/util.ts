// Helpers shared by gradient rules.
import { add, div, eq, expand, type gt, type lt, mul, reshape, sum, type Tensor } from '@softpool/tensor';
import type { GradientRule } from '../registry.js';

/**
 * Sums a broadcast gradient back to `shape`: over the leading dims broadcasting added, and over
 * dims where `shape` has 1. Returns `g` itself when nothing was broadcast.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(sum(g, axes, { keepDim: true }), shape);
}

/** The shape a reduction kept (reduced axes as 1), to broadcast its gradient back. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** The rule of maximum (minimum): the winner takes the gradient; ties split it evenly. */
export function extremumRule(wins: typeof gt | typeof lt): GradientRule {
  return {
    save: { inputs: true },
    vjp: ({ inputs: [a, b], inputShapes: [sa, sb], needsGrad }, [g]) => {
      const tie = mul(eq(a!, b!), 0.5);
      return [
        needsGrad[0] ? sumTo(mul(g, add(wins(a!, b!), tie)), sa) : null,
        needsGrad[1] ? sumTo(mul(g, add(wins(b!, a!), tie)), sb) : null,
      ];
    },
  };
}

/** The rule of max (min) reductions: tied extremes share the gradient evenly. */
export const extremeReductionRule: GradientRule = {
  save: { inputs: true, outputs: true },
  vjp: ({ inputs: [x], outputs: [y], attrs, inputShapes: [shape] }, [g]) => {
    const kept = keptShape(shape, attrs.axes as number[]);
    const hit = eq(x!, expand(reshape(y!, kept), shape));
    const count = sum(hit, attrs.axes as number[], { keepDim: true });
    return [mul(hit, expand(div(reshape(g, kept), count), shape))];
  },
};
