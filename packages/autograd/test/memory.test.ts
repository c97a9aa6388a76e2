// Saved tensors are released after backward, graphs are released with their outputs, and a long
// training loop keeps the live-tensor count and bytes flat.
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import { gradcheck, gradgradcheck, noGrad } from '../src/index.js';

describe('memory', () => {
  it('backward frees what the graph saved; disposing outputs frees graphs never run backward', () => {
    const x = sp.randn([64, 64]).requiresGrad_();
    const before = sp.memory();
    sp.scope(() => {
      const loss = sp.sum(sp.exp(sp.tanh(sp.matmul(x, x))));
      const forward = sp.memory();
      loss.backward();
      // The saved handles (matmul's inputs, tanh's and exp's outputs) are gone; x.grad arrived.
      expect(sp.memory().tensors).toBe(forward.tensors - 4 + 1);
    });
    expect(sp.memory().tensors).toBe(before.tensors + 1);
    x.grad!.dispose();
    x.grad = null;
    expect(sp.memory()).toEqual(before);
    // Forward only: disposing the outputs (the scope does) releases the graph and what it saved.
    sp.scope(() => {
      sp.sum(sp.exp(sp.tanh(sp.matmul(x, x))));
    });
    expect(sp.memory()).toEqual(before);
  });

  it('a training step in a scope is flat over 10,000 steps (tensor count and bytes)', () => {
    sp.manualSeed(0);
    const w1 = sp.mul(sp.randn([4, 16]), 0.5).requiresGrad_();
    const b1 = sp.zeros([16]).requiresGrad_();
    const w2 = sp.mul(sp.randn([16, 3]), 0.5).requiresGrad_();
    const params = [w1, b1, w2];
    const x = sp.randn([8, 4]);
    const target = sp.tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' });
    const step = (): number =>
      sp.scope(() => {
        const hidden = sp.relu(sp.add(sp.matmul(x, w1), b1));
        const logp = sp.logSoftmax(sp.matmul(hidden, w2), 1);
        const loss = sp.neg(sp.mean(sp.gather(logp, 1, sp.unsqueeze(target, 1))));
        loss.backward();
        noGrad(() => {
          for (const p of params) {
            p.sub_(sp.mul(p.grad!, 0.1));
            p.grad!.zero_();
          }
        });
        return loss.itemSync();
      });
    const first = step();
    for (let i = 0; i < 10; i++) step();
    const warm = sp.memory();
    let last = first;
    for (let i = 0; i < 10_000; i++) last = step();
    expect(sp.memory()).toEqual(warm);
    expect(last).toBeLessThan(first); // it did learn something
  }, 240_000); // 10,000 steps: a memory test, not a speed test (it takes 15-60 s on a busy 2-core machine)

  it('gradcheck and gradgradcheck leave no tensor behind (full Jacobians and random projections)', () => {
    const x = sp.randn([3], { dtype: 'float64' }).requiresGrad_();
    const big = sp.randn([80, 80], { dtype: 'float64' }).requiresGrad_();
    const before = sp.memory().tensors;
    expect(gradcheck((t) => sp.relu(t), [x]).ok).toBe(true);
    expect(gradcheck((t) => sp.tanh(t), [big]).ok).toBe(true); // random projections above 4096 entries
    expect(gradgradcheck((t) => sp.tanh(t), [x]).ok).toBe(true);
    sp.scope(() => gradcheck((t) => sp.exp(t), [x], { raise: false }));
    expect(sp.memory().tensors).toBe(before);
  });
});
