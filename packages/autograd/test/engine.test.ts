import * as sp from '@softpool/tensor';
import { isGradRecording } from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import { enableGrad, gradgradcheck, noGrad, zeroGrad } from '../src/index.js';
import { leaf } from './helpers.js';

const vals = (t: sp.Tensor | null) => Array.from(t!.dataSync());

// Ops a test adds are declared, as any package adding ops declares them.
declare module '@softpool/tensor' {
  interface OpAttrs {
    noGradOp: sp.NoAttrs;
  }
}

describe('backward', () => {
  it('computes gradients of a small expression (the README example)', () => {
    const x = sp.tensor([1, 2, 3], { requiresGrad: true });
    const w = sp.tensor([0.5, -1, 2], { requiresGrad: true });
    const loss = sp.sum(sp.mul(sp.tanh(sp.mul(x, w)), x));
    loss.backward();
    const xw = [0.5, -2, 6];
    const xs = [1, 2, 3];
    const ws = [0.5, -1, 2];
    // d/dx [tanh(xw) x] = tanh(xw) + x w (1 - tanh^2(xw));  d/dw = x^2 (1 - tanh^2(xw))
    const dx = xs.map((v, i) => Math.tanh(xw[i]) + v * ws[i] * (1 - Math.tanh(xw[i]) ** 2));
    const dw = xs.map((v, i) => v * v * (1 - Math.tanh(xw[i]) ** 2));
    vals(x.grad).forEach((g, i) => {
      expect(g).toBeCloseTo(dx[i], 5);
    });
    vals(w.grad).forEach((g, i) => {
      expect(g).toBeCloseTo(dw[i], 5);
    });
    expect(loss.gradFn?.name).toBe('sum');
    expect(x.isLeaf).toBe(true);
    expect(loss.isLeaf).toBe(false);
  });

  it('accumulates across backward calls until zeroGrad', () => {
    const x = sp.tensor([1, 2], { requiresGrad: true });
    sp.sum(sp.mul(x, 3)).backward();
    sp.sum(sp.mul(x, 3)).backward();
    expect(vals(x.grad)).toEqual([6, 6]);
    zeroGrad([x]);
    expect(x.grad).toBeNull();
    sp.sum(x).backward();
    expect(vals(x.grad)).toEqual([1, 1]);
  });

  it('sums contributions when a tensor is used several times', () => {
    const x = sp.tensor([2], { requiresGrad: true });
    const y = sp.add(sp.mul(x, x), sp.mul(x, 3)); // x^2 + 3x -> 2x + 3
    y.backward();
    expect(vals(x.grad)).toEqual([7]);
  });

  it('takes an explicit gradient for non-scalar outputs', () => {
    const x = sp.tensor([1, 2, 3], { requiresGrad: true });
    sp.mul(x, 2).backward(sp.tensor([1, 0, -1]));
    expect(vals(x.grad)).toEqual([2, 0, -2]);
  });

  it('retainGrad keeps gradients of intermediate tensors', () => {
    const x = sp.tensor([1, 2], { requiresGrad: true });
    const h = sp.mul(x, 3).retainGrad();
    sp.sum(sp.square(h)).backward();
    expect(vals(h.grad)).toEqual([6, 12]);
    expect(vals(x.grad)).toEqual([18, 36]);
  });

  it('retainGraph allows a second backward; without it the graph is freed', () => {
    const x = sp.tensor([1, 2], { requiresGrad: true });
    const y = sp.sum(sp.exp(x));
    y.backward({ retainGraph: true });
    y.backward();
    expect(vals(x.grad)[0]).toBeCloseTo(2 * Math.E, 5);
    expect(() => y.backward()).toThrow(
      /backward: the graph through 'sum' was freed by an earlier backward; pass \{ retainGraph: true \}/,
    );
  });

  it('detach and noGrad stop recording; enableGrad resumes it', () => {
    const x = sp.tensor([1], { requiresGrad: true });
    expect(sp.detach(sp.mul(x, 2)).requiresGrad).toBe(false);
    const y = noGrad(() => {
      expect(isGradRecording()).toBe(false);
      const inner = enableGrad(() => sp.mul(x, 2));
      expect(inner.requiresGrad).toBe(true);
      return sp.mul(x, 2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(isGradRecording()).toBe(true);
  });

  it('comparisons and integer results do not require grad', () => {
    const x = sp.tensor([1, 2], { requiresGrad: true });
    expect(sp.gt(x, 1).requiresGrad).toBe(false);
    expect(sp.argmax(x).requiresGrad).toBe(false);
  });

  it("a transposed operand's gradient keeps its layout: a Linear weight's gradient is contiguous", () => {
    // x @ W^T: W's gradient arrives as (dY^T x), not as a transposed view of x^T dY, with the same
    // values (the same sums in the same order), so optimizers need not copy it.
    const x = sp.randn([64, 40]);
    const w = sp.randn([30, 40]).requiresGrad_();
    const g = sp.randn([64, 30]);
    sp.matmul(x, w.T).backward(g);
    expect(w.grad!.isContiguous).toBe(true);
    const bits = (t: sp.Tensor) => Array.from(new Int32Array(Float32Array.from(t.dataSync()).buffer));
    expect(bits(w.grad!)).toEqual(bits(sp.matmul(x.T, g).T.contiguous()));
    // the same for a transposed first operand
    const a = sp.randn([40, 64]).requiresGrad_();
    const b = sp.randn([40, 30]);
    sp.matmul(a.T, b).backward(g);
    expect(a.grad!.isContiguous).toBe(true);
    expect(bits(a.grad!)).toEqual(bits(sp.matmul(g, b.T).T.contiguous()));
  });

  it('gives clear errors', () => {
    const x = sp.tensor([1, 2], { requiresGrad: true });
    expect(() => sp.mul(x, 2).backward()).toThrow(
      'backward: a gradient is needed for non-scalar outputs (shape [2]); pass t.backward(gradOutput) or reduce first',
    );
    expect(() => sp.sum(sp.tensor([1, 2])).backward()).toThrow(
      'backward: tensor [] does not require grad and has no gradient function',
    );
    expect(() => sp.tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(
      'requiresGrad: only float tensors can require gradients, got dtype int32',
    );
    expect(() => sp.mul(x, 2).backward(sp.ones([3]))).toThrow(
      'backward: gradient [3] does not match the output [2]',
    );
    // A saved tensor modified in place after it was saved.
    const a = sp.tensor([1, 2], { requiresGrad: true });
    const b = sp.tensor([3, 4]);
    const y = sp.sum(sp.mul(a, b));
    b.add_(1);
    expect(() => y.backward()).toThrow(
      "backward: a tensor saved by 'mul' (its input 1, [2]) was modified in place after it was saved (version 1, saved at 0); clone it before modifying it",
    );
    // In-place on a tensor that requires grad while recording.
    expect(() => a.add_(1)).toThrow(
      /add_: in-place update of a tensor that requires grad while gradients are recorded/,
    );
    noGrad(() => a.add_(1));
    expect(vals(a)).toEqual([2, 3]);
  });

  it('ops without a registered gradient fail at backward, naming the op', () => {
    sp.registerKernel('noGradOp', 'cpu', ([t]) => sp.clone(t));
    const x = sp.tensor([1], { requiresGrad: true });
    const y = sp.run('noGradOp', [x]);
    expect(() => sp.sum(y).backward()).toThrow(
      "backward: no gradient is registered for op 'noGradOp' (registerGradient('noGradOp', ...))",
    );
  });
});

describe('higher-order gradients (createGraph)', () => {
  it('second derivative of tanh and exp by hand', () => {
    const x = sp.tensor([0.3, -0.7], { dtype: 'float64', requiresGrad: true });
    const y = sp.sum(sp.tanh(x));
    y.backward({ createGraph: true });
    const g = x.grad!;
    expect(g.requiresGrad).toBe(true);
    x.grad = null; // keep g alive (zeroGrad would release it)
    sp.sum(g).backward();
    // d2/dx2 tanh = -2 tanh (1 - tanh^2)
    vals(x.grad).forEach((v, i) => {
      const t = Math.tanh([0.3, -0.7][i]);
      expect(v).toBeCloseTo(-2 * t * (1 - t * t), 10);
    });
    g.dispose();
  });

  it('gradgradcheck: tanh, exp, softmax, matmul, conv2d', () => {
    expect(gradgradcheck((x) => sp.tanh(x), [leaf([4], 1)]).ok).toBe(true);
    expect(gradgradcheck((x) => sp.mul(sp.relu(x), x), [leaf([6], 9)]).ok).toBe(true);
    expect(gradgradcheck((x) => sp.exp(x), [leaf([4], 2)]).ok).toBe(true);
    expect(gradgradcheck((x) => sp.softmax(x, 1), [leaf([2, 3], 3)]).ok).toBe(true);
    expect(gradgradcheck((a, b) => sp.matmul(a, b), [leaf([2, 3], 4), leaf([3, 2], 5)]).ok).toBe(true);
    expect(
      gradgradcheck(
        (x, w) => sp.conv2d(x, w, { padding: 1, stride: 2 }),
        [leaf([1, 2, 4, 4], 6), leaf([2, 2, 3, 3], 7)],
      ).ok,
    ).toBe(true);
    expect(gradgradcheck((x) => sp.logSoftmax(sp.mul(x, x), 0), [leaf([4], 8)]).ok).toBe(true);
  });
});
