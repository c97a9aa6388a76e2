// With the layers loaded (pooling and batch-norm ops), every op still has a gradient rule or a
// declared reason not to; a second derivative through a pooling layer stops with that reason.
import { gradients, listGradients, listNonDifferentiable } from '@softpool/autograd';
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import { softPool2d } from '../src/index.js';

describe('gradient coverage with the layers', () => {
  it('every op has a gradient rule or is on the non-differentiable list', () => {
    const rules = new Set(listGradients());
    const none = listNonDifferentiable();
    expect(sp.listOps().filter((op) => !rules.has(op) && !none.has(op))).toEqual([]);
    expect(none.has('softPoolBackward')).toBe(true);
  });

  it('a second derivative through SoftPool names the reason', () => {
    const x = sp.randn([1, 1, 4, 4], { dtype: 'float64' }).requiresGrad_();
    const [g] = gradients(softPool2d(x, { kernelSize: 2 }).sum(), [x], undefined, { createGraph: true });
    expect(() => gradients(g.sum(), [x])).toThrow(
      "backward: op 'softPoolBackward' is not differentiable: second derivatives of pooling are not implemented",
    );
  });
});
