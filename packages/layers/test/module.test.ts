import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';

class Net extends L.Module {
  conv = new L.Conv2d(1, 4, 3, { padding: 1 });
  bn = new L.BatchNorm2d(4);
  pool = new L.SoftPool2d(2);
  head = new L.Linear(4 * 4 * 4, 3);
  override forward(x: sp.Tensor): sp.Tensor {
    return this.head.forward(
      sp.flatten(this.pool.forward(sp.relu(this.bn.forward(this.conv.forward(x)))), 1),
    );
  }
}

describe('Module', () => {
  it('finds parameters, buffers and children by property, with dotted names', () => {
    const net = new Net();
    expect([...net.namedParameters()].map(([n]) => n)).toEqual([
      'conv.weight',
      'conv.bias',
      'bn.weight',
      'bn.bias',
      'head.weight',
      'head.bias',
    ]);
    expect([...net.namedBuffers()].map(([n]) => n)).toEqual([
      'bn.runningMean',
      'bn.runningVar',
      'bn.numBatchesTracked',
    ]);
    expect(Object.keys(net.stateDict())).toEqual(
      [...net.namedParameters(), ...net.namedBuffers(true)].map(([n]) => n),
    );
    expect(net.numParameters()).toBe(4 * 9 + 4 + 4 + 4 + 64 * 3 + 3);
    expect(net.children().map((m) => m.constructor.name)).toEqual([
      'Conv2d',
      'BatchNorm2d',
      'SoftPool2d',
      'Linear',
    ]);
    const seq = new L.Sequential(new L.Linear(2, 2), new L.ReLU());
    expect([...seq.namedParameters()].map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    const list = new L.ModuleList([new L.Linear(1, 1)]);
    expect(list.parameters().length).toBe(2);
    const dict = new L.ModuleDict({ a: new L.Linear(1, 2) });
    expect([...dict.namedParameters()].map(([n]) => n)).toEqual(['a.weight', 'a.bias']);
  });

  it('train()/eval() reach every submodule; toString summarises like PyTorch', () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.bn.training).toBe(true);
    const s = String(net);
    expect(s).toContain('Net(');
    expect(s).toContain('(conv): Conv2d(1, 4, kernelSize=[3, 3], padding=1)');
    expect(s).toContain('(pool): SoftPool2d(kernelSize=2)');
    expect(s).toContain(`Trainable parameters: ${net.numParameters()}`);
  });

  it('stateDict / loadStateDict round trip with strict key and shape checks', () => {
    const a = new Net();
    const b = new Net();
    b.loadStateDict(a.stateDict());
    const x = sp.randn([2, 1, 8, 8]);
    a.eval();
    b.eval();
    expect(Array.from(b.forward(x).dataSync())).toEqual(Array.from(a.forward(x).dataSync()));
    const sd = a.stateDict();
    const { 'head.bias': _, ...missing } = sd;
    expect(() => b.loadStateDict(missing)).toThrow('loadStateDict: missing keys: head.bias');
    expect(() => b.loadStateDict({ ...sd, extra: sp.zeros([1]) })).toThrow(
      'loadStateDict: unexpected keys: extra',
    );
    expect(b.loadStateDict(missing, { strict: false }).missing).toEqual(['head.bias']);
    expect(() => b.loadStateDict({ ...sd, 'head.bias': sp.zeros([4]) })).toThrow(
      "loadStateDict: shape mismatch for 'head.bias': checkpoint [4], model [3]",
    );
  });

  it('a tiny MLP and a tiny CNN overfit one batch to near-zero loss', () => {
    sp.manualSeed(0);
    const x = sp.randn([16, 6]);
    const y = sp.randint(0, 3, [16]);
    const mlp = new L.Sequential(new L.Linear(6, 32), new L.ReLU(), new L.Linear(32, 3));
    const opt = new L.Adam(mlp.parameters(), { lr: 0.02 });
    let loss = 0;
    for (let i = 0; i < 300; i++) {
      opt.zeroGrad();
      loss = sp.scope(() => {
        const l = L.crossEntropy(mlp.forward(x), y);
        l.backward();
        return l.itemSync();
      });
      opt.step();
    }
    expect(loss).toBeLessThan(0.01);
    const imgs = sp.randn([8, 1, 8, 8]);
    const labels = sp.randint(0, 3, [8]);
    const net = new Net();
    const opt2 = new L.Adam(net.parameters(), { lr: 0.02 });
    for (let i = 0; i < 200; i++) {
      opt2.zeroGrad();
      loss = sp.scope(() => {
        const l = L.crossEntropy(net.forward(imgs), labels);
        l.backward();
        return l.itemSync();
      });
      opt2.step();
    }
    expect(loss).toBeLessThan(0.05);
  });
});
