import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import {
  defineFunction,
  grad,
  gradcheck,
  gradients,
  printGraph,
  toDot,
  toSvg,
  valueAndGrad,
  vjp,
} from '../src/index.js';
import { leaf } from './helpers.js';

const vals = (t: sp.Tensor) => Array.from(t.dataSync());

describe('functional API', () => {
  it('grad and valueAndGrad do not touch the caller tensors', () => {
    const x = sp.tensor([1, 2, 3]);
    const dx = grad((t) => sp.sum(sp.mul(t, t)))(x) as sp.Tensor;
    expect(vals(dx)).toEqual([2, 4, 6]);
    expect(x.requiresGrad).toBe(false);
    expect(x.grad).toBeNull();
    const [value, [da, db]] = valueAndGrad((a, b) => sp.sum(sp.mul(a, b)), [0, 1])(
      sp.tensor([1, 2]),
      sp.tensor([3, 4]),
    );
    expect(value.itemSync()).toBe(11);
    expect(vals(da)).toEqual([3, 4]);
    expect(vals(db)).toEqual([1, 2]);
    expect(() => grad((t) => sp.mul(t, 2))(x)).toThrow('grad: the function must return a scalar, got [3]');
  });

  it('gradients with createGraph give second derivatives: d2(x^3)/dx2 = 6x', () => {
    const x = sp.tensor([2], { dtype: 'float64', requiresGrad: true });
    const [g] = gradients(sp.sum(sp.pow(x, 3)), [x], undefined, { createGraph: true });
    const [h] = gradients(g, [x]);
    expect(vals(g)).toEqual([12]);
    expect(vals(h)).toEqual([12]);
  });

  it('vjp returns the output and a pullback', () => {
    const [y, back] = vjp((a) => sp.mul(a, a), sp.tensor([1, 2, 3]));
    expect(vals(y)).toEqual([1, 4, 9]);
    expect(vals(back(sp.tensor([1, 1, 0]))[0])).toEqual([2, 4, 0]);
    expect(vals(back(sp.tensor([0, 0, 1]))[0])).toEqual([0, 0, 6]); // the graph is kept for reuse
    expect(() => back(sp.ones([2]))).toThrow('vjp: cotangent [2] must match the output [3]');
  });

  it('gradients returns zeros for inputs the output does not depend on, and gradients of non-leaves', () => {
    const a = sp.tensor([1, 2], { requiresGrad: true });
    const b = sp.tensor([5], { requiresGrad: true });
    const h = sp.mul(a, 3);
    const [ga, gb, gh] = gradients(sp.sum(sp.square(h)), [a, b, h]);
    expect(vals(ga)).toEqual([18, 36]);
    expect(vals(gb)).toEqual([0]);
    expect(vals(gh)).toEqual([6, 12]);
    expect(a.grad).toBeNull();
  });
});

describe('custom functions', () => {
  it('defineFunction uses the hand-written backward and passes gradcheck', () => {
    let backwardCalls = 0;
    const cube = defineFunction({
      name: 'cube',
      forward: (ctx, x) => {
        ctx.saveForBackward(x);
        return sp.mul(sp.mul(x, x), x);
      },
      backward: ({ saved: [x] }, g) => {
        backwardCalls++;
        return [sp.mul(g, sp.mul(sp.mul(x, x), 3))];
      },
    });
    const x = sp.tensor([1, -2], { requiresGrad: true });
    sp.sum(cube(x)).backward();
    expect(vals(x.grad!)).toEqual([3, 12]);
    expect(backwardCalls).toBe(1);
    expect(gradcheck(cube, [leaf([4], 3)]).ok).toBe(true);
    expect(cube(x).gradFn?.name).toBe('fn:cube');
    expect(vals(cube(sp.tensor([2])))).toEqual([8]);
  });
});

describe('graph introspection', () => {
  it('toDot names leaves and results and summarises values and gradients; toSvg renders it', async () => {
    const x = sp.tensor([[1, 2]]);
    const w = sp.tensor([[0.5], [-1]], { requiresGrad: true });
    const h = sp.relu(sp.matmul(x, w));
    h.retainGrad();
    const loss = sp.sum(sp.mul(h, h));
    loss.backward();
    const names = { 'fc.weight': w, h };
    const dot = toDot(loss, { names, values: true, grads: true });
    expect(dot).toContain('label="fc.weight\\n[2,1] float32\\nvalue [0.5, -1]\\ngrad [0, 0]"');
    expect(dot).toContain('label="h = relu\\n[1,1]\\nvalue [0]\\ngrad [0]"');
    expect(dot).toContain('label="sum\\n[]\\nvalue [0]\\ngrad none"');
    expect(toDot(loss, { names: Object.entries(names) })).toBe(toDot(loss, { names }));
    const svg = await toSvg(loss, { names });
    expect(svg).toMatch(/^<\?xml|<svg/);
    expect(svg).toContain('fc.weight');
  });

  it('toDot and printGraph describe the backward graph', () => {
    const x = sp.tensor([[1, 2]], { requiresGrad: true });
    const w = sp.tensor([[1], [1]], { requiresGrad: true });
    const h = sp.relu(sp.matmul(x, w));
    const loss = sp.sum(sp.add(h, h));
    const dot = toDot(loss);
    expect(dot).toMatch(/^digraph backward \{/);
    expect(dot).toContain('label="matmul\\n[1,1]"');
    expect(dot).toContain('label="leaf\\n[1,2] float32"');
    expect(dot.match(/->/g)?.length).toBe(6);
    const text = printGraph(loss);
    expect(text).toBe(
      [
        '#1 sum []',
        '  #2 add [1,1]',
        '    #3 relu [1,1]',
        '      #4 matmul [1,1]',
        '        leaf [1,2] float32',
        '        leaf [2,1] float32',
        '    relu [1,1] (see #3)',
        '',
      ].join('\n'),
    );
    expect(printGraph(sp.tensor([1]))).toBe('(no graph: the tensor does not require grad)\n');
  });
});
