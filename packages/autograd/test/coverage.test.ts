// Every op has a gradient rule or a declared reason not to: a gap shows up here, not at a user's
// backward time.
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import { listGradients, listNonDifferentiable, registerGradient } from '../src/index.js';

describe('gradient coverage', () => {
  it('every core op has a gradient rule or is on the non-differentiable list, never both', () => {
    const rules = new Set(listGradients());
    const none = listNonDifferentiable();
    const missing = sp.listOps().filter((op) => !rules.has(op) && !none.has(op));
    expect(missing).toEqual([]);
    expect([...none.keys()].filter((op) => rules.has(op))).toEqual([]);
  });
});

// Compile-time checks: gradient rules get their op's attrs type (tsc runs over the tests).
export function ruleTypeChecks(): void {
  // @ts-expect-error an op name that is not in OpAttrs does not compile
  registerGradient('tanhh', { vjp: (_ctx, [g]) => [g] });
  // @ts-expect-error 'softmax' has `axis`, not `axes`
  registerGradient('softmax', { vjp: ({ attrs }, [g]) => [attrs.axes ? g : g] });
}
