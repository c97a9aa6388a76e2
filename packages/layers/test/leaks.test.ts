// Outside any scope: building every layer and calling it (batched and unbatched where it applies),
// then disposing what the caller holds (outputs, parameters, buffers), leaves no live tensor.
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';

type Make = [string, () => L.Module, number[]];

const layers: Make[] = [
  ['SoftPool1d', () => new L.SoftPool1d(2), [2, 3, 8]],
  ['SoftPool2d', () => new L.SoftPool2d(2), [2, 3, 8, 8]],
  ['SoftPool3d', () => new L.SoftPool3d(2), [1, 2, 4, 4, 4]],
  ['MaxPool2d', () => new L.MaxPool2d(3, { stride: 2 }), [2, 3, 8, 8]],
  ['AvgPool2d', () => new L.AvgPool2d(2), [2, 3, 8, 8]],
  ['LPPool2d', () => new L.LPPool2d(2, 2), [2, 3, 8, 8]],
  ['EDSCWPool2d', () => new L.EDSCWPool2d(2), [2, 3, 8, 8]],
  ['AdaPool2d', () => new L.AdaPool2d(2), [2, 3, 8, 8]],
  ['StochasticPool2d', () => new L.StochasticPool2d(2), [2, 3, 8, 8]],
  ['MixedPool2d', () => new L.MixedPool2d(2, { channels: 3 }), [2, 3, 8, 8]],
  ['GatedPool2d', () => new L.GatedPool2d(2, { channels: 3 }), [2, 3, 8, 8]],
  ['TreePool2d', () => new L.TreePool2d(2, { channels: 3 }), [2, 3, 8, 8]],
  ['LIPPool2d', () => new L.LIPPool2d(3, 2), [2, 3, 8, 8]],
  ['S3Pool2d', () => new L.S3Pool2d(2), [2, 3, 8, 8]],
  ['DPPPool2d', () => new L.DPPPool2d(2, { channels: 3 }), [2, 3, 8, 8]],
  ['AdaptiveAvgPool2d', () => new L.AdaptiveAvgPool2d([3, 2]), [2, 3, 8, 8]],
  ['GlobalAvgPool', () => new L.GlobalAvgPool(), [2, 3, 8, 8]],
  ['Conv2d', () => new L.Conv2d(3, 4, 3, { padding: 1 }), [2, 3, 8, 8]],
  ['Linear', () => new L.Linear(8, 5), [2, 8]],
  ['BatchNorm2d', () => new L.BatchNorm2d(3), [2, 3, 4, 4]],
  ['Dropout', () => new L.Dropout(0.5), [2, 8]],
  ['ReLU', () => new L.ReLU(), [2, 8]],
];

function release(m: L.Module): void {
  for (const t of Object.values(m.stateDict())) t.dispose();
  for (const p of m.parameters()) p.dispose();
}

describe('no leaked tensors outside scopes', () => {
  for (const [name, make, shape] of layers)
    it(name, () => {
      const before = sp.memory().tensors;
      const m = make();
      for (const training of [true, false]) {
        if (training) m.train();
        else m.eval();
        const x = sp.randn(shape);
        m.forward(x).dispose();
        x.dispose();
      }
      release(m);
      expect(sp.memory().tensors).toBe(before);
    });

  it('ops with number operands, and unbatched pooling', () => {
    const before = sp.memory().tensors;
    const t = sp.randn([3, 4]);
    for (const r of [sp.mul(t, 2), sp.add(2, t), sp.sub(t, 1), sp.div(t, 3), sp.pow(t, 2), sp.maximum(t, 0)])
      r.dispose();
    const img = sp.randn([3, 8, 8]);
    for (const r of [
      L.softPool2d(img, { kernelSize: 2 }),
      L.maxPool2d(img, { kernelSize: 2 }),
      L.adaptiveAvgPool2d(img, 2),
    ])
      r.dispose();
    const u = L.uniform([5], -1, 1);
    u.dispose();
    t.dispose();
    img.dispose();
    expect(sp.memory().tensors).toBe(before);
  });
});

describe('the safety net without scopes', () => {
  it('a 2,000-step training loop that disposes only its loss stays bounded', async () => {
    const net = new L.Sequential(new L.Linear(16, 32), new L.ReLU(), new L.Linear(32, 4));
    const opt = new L.SGD(net.parameters(), { lr: 0.01 });
    const x = sp.randn([8, 16]);
    const y = sp.randint(0, 4, [8]);
    const before = sp.memory().tensors;
    let most = 0;
    for (let step = 0; step < 2000; step++) {
      opt.zeroGrad();
      const loss = L.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      await loss.item(); // the CPU read-back lets finalizers run now and then
      loss.dispose();
      most = Math.max(most, sp.memory().tensors - before);
    }
    // Without the net this loop leaves about 10 tensors per step: 20,000 here.
    expect(most).toBeLessThan(5000);
  }, 60_000);
});
