import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';
import { fromT, layers } from './fixtures.js';

const OPT: Record<string, new (p: sp.Tensor[], o: never) => L.Optimizer<{ lr: number }>> = {
  SGD: L.SGD as never,
  Adam: L.Adam as never,
  AdamW: L.AdamW as never,
  RMSprop: L.RMSprop as never,
};

describe('optimizers against PyTorch (5 steps on a quadratic)', () => {
  const f = layers.optimizers;
  for (const c of f.cases) {
    it(`${c.optimizer} ${JSON.stringify(c.options)}`, () => {
      const p = fromT(f.p0, 'float64', true);
      const opt = new OPT[c.optimizer]([p], c.options as never);
      const cc = fromT(f.c);
      const d = fromT(f.d);
      for (const expected of c.trajectory as number[][]) {
        opt.zeroGrad();
        sp.scope(() => sp.add(sp.sum(sp.mul(cc, sp.square(p))), sp.sum(sp.mul(d, p))).backward());
        opt.step();
        Array.from(p.dataSync()).forEach((v, i) => {
          expect(v).toBeCloseTo(expected[i], 10);
        });
      }
    });
  }

  it('parameter groups, state dict round trip, clear errors', () => {
    const a = sp.ones([2]).requiresGrad_();
    const b = sp.ones([2]).requiresGrad_();
    const opt = new L.Adam([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    sp.scope(() => sp.sum(sp.mul(a, b)).backward());
    opt.step();
    const sd = opt.stateDict();
    expect(sd.paramGroups[1].params).toEqual([1]);
    expect(sd.state[0].step as number).toBe(1);
    const a2 = sp.ones([2]).requiresGrad_();
    const b2 = sp.ones([2]).requiresGrad_();
    const opt2 = new L.Adam([{ params: [a2] }, { params: [b2] }]);
    opt2.loadStateDict(sd);
    expect(opt2.paramGroups[1].lr).toBe(0.5);
    expect(Array.from((opt2.state.get(b2)!.expAvg as sp.Tensor).dataSync())).toEqual(
      Array.from((opt.state.get(b)!.expAvg as sp.Tensor).dataSync()),
    );
    expect(() => new L.SGD([sp.ones([1])], { lr: 0.1 })).toThrow('SGD: parameters must require grad');
    expect(() => new L.SGD([a], { lr: 0.1, nesterov: true })).toThrow(
      'SGD: nesterov needs momentum > 0 and dampening 0',
    );
    expect(() => new L.Adam([a], { betas: [1, 0.9] })).toThrow('Adam: betas must be in [0, 1), got [1, 0.9]');
    expect(() => opt2.loadStateDict({ state: {}, paramGroups: [] })).toThrow(
      /0 parameter groups, expected 2/,
    );
  });

  it('Adam, AdamW and SGD run one fused op per parameter, matching the composed ops', () => {
    for (const [Opt, options, op] of [
      [L.Adam, { lr: 0.05, weightDecay: 0.01, amsgrad: true, betas: [0.8, 0.9] }, 'adamStep'],
      [L.AdamW, { lr: 0.1, weightDecay: 0.1 }, 'adamStep'],
      [L.SGD, { lr: 0.1 }, 'sgdStep'],
      [L.SGD, { lr: 0.05, momentum: 0.9, nesterov: true }, 'sgdStep'],
      [L.SGD, { lr: 0.05, momentum: 0.8, dampening: 0.1, weightDecay: 0.01 }, 'sgdStep'],
    ] as const) {
      // The same values as a contiguous parameter (fused) and a transposed view (composed ops).
      const values = sp.randn([4, 3], { dtype: 'float64' });
      const fused = values.clone().requiresGrad_();
      const composed = values.clone().transpose(0, 1).requiresGrad_();
      expect(composed.isContiguous).toBe(false);
      const optF = new (Opt as typeof L.Adam)([fused], options as never);
      const optC = new (Opt as typeof L.Adam)([composed], options as never);
      const ops: string[] = [];
      const off = sp.onDispatch((name) => ops.push(name));
      for (let i = 0; i < 4; i++) {
        for (const [p, opt] of [
          [fused, optF],
          [composed, optC],
        ] as const) {
          opt.zeroGrad();
          sp.scope(() => sp.sum(sp.mul(sp.square(p), sp.sin(p))).backward());
          ops.length = 0;
          opt.step();
          // The first step may also make the state (zeros: 'full').
          const own = ops.filter((name) => name !== 'full');
          if (p === fused) expect(own).toEqual([op]);
          else expect(own).not.toContain(op);
          if (p === fused && i > 0) expect(ops).toEqual([op]);
        }
        const f = fused.dataSync();
        const c = composed.transpose(0, 1).contiguous().dataSync();
        for (let k = 0; k < f.length; k++) expect(f[k]).toBeCloseTo(c[k], 12);
      }
      off();
    }
  });

  it('a strided gradient (a weight used transposed) is copied once and takes the fused op', () => {
    for (const [Opt, op] of [
      [L.Adam, 'adamStep'],
      [L.SGD, 'sgdStep'],
    ] as const) {
      const values = sp.randn([4, 3], { dtype: 'float64' });
      const x = sp.randn([3, 4], { dtype: 'float64' });
      const fused = values.clone().requiresGrad_();
      const composed = values.clone().transpose(0, 1).requiresGrad_();
      const optF = new (Opt as typeof L.Adam)([fused], { lr: 0.1 } as never);
      const optC = new (Opt as typeof L.Adam)([composed], { lr: 0.1 } as never);
      for (let i = 0; i < 3; i++) {
        for (const [w, opt] of [
          [fused, optF],
          [composed.transpose(0, 1), optC],
        ] as const) {
          opt.zeroGrad();
          // d/dW of a product with W^T: the transpose of a contiguous gradient, a strided view
          sp.scope(() => sp.sum(sp.square(sp.mul(x, w.transpose(0, 1)))).backward());
        }
        expect(fused.grad!.isContiguous).toBe(false);
        const ops: string[] = [];
        const before = sp.memory().tensors;
        const off = sp.onDispatch((name) => ops.push(name));
        optF.step();
        off();
        expect(ops.filter((name) => name !== 'full')).toEqual(['contiguous', op]);
        expect(sp.memory().tensors - before).toBe(i === 0 ? (Opt === L.Adam ? 2 : 0) : 0);
        optC.step();
        const c = composed.transpose(0, 1).contiguous().dataSync();
        fused.dataSync().forEach((v, k) => {
          expect(v).toBeCloseTo(c[k], 12);
        });
      }
    }
  });

  it("a linear weight's gradient (x @ W^T) arrives contiguous: the step copies nothing", () => {
    const w = sp.randn([4, 3]).requiresGrad_();
    const opt = new L.Adam([w], { lr: 0.1 });
    sp.scope(() => sp.sum(sp.square(sp.matmul(sp.randn([5, 3]), w.transpose(0, 1)))).backward());
    expect(w.grad!.isContiguous).toBe(true);
    const ops: string[] = [];
    const off = sp.onDispatch((name) => ops.push(name));
    opt.step();
    off();
    expect(ops.filter((name) => name !== 'full')).toEqual(['adamStep']);
  });

  it('large float32 parameters (WebAssembly steps, on the threads) match the JavaScript loops bit for bit', async () => {
    // One 5000-element parameter takes the WebAssembly kernel; the same values as five 1000-element
    // parameters take the JavaScript loop. Their elements are independent, so the bits must agree.
    for (const threads of [1, 3]) {
      sp.setNumThreads(threads);
      await sp.threadsReady();
      for (const [Opt, options] of [
        [L.Adam, { lr: 0.01, weightDecay: 0.01, amsgrad: true, betas: [0.8, 0.9] }],
        [L.AdamW, { lr: 0.02, weightDecay: 0.1 }],
        [L.SGD, { lr: 0.1 }],
        [L.SGD, { lr: 0.05, momentum: 0.9, nesterov: true }],
        [L.SGD, { lr: 0.05, momentum: 0.8, dampening: 0.1, weightDecay: 0.01 }],
      ] as const) {
        sp.manualSeed(3);
        const init = sp.randn([5000]);
        const big = init.clone().requiresGrad_();
        const small = Array.from({ length: 5 }, (_, i) =>
          init
            .slice([[i * 1000, (i + 1) * 1000]])
            .contiguous()
            .requiresGrad_(),
        );
        const optB = new (Opt as typeof L.Adam)([big], options as never);
        const optS = new (Opt as typeof L.Adam)(small, options as never);
        for (let step = 0; step < 3; step++) {
          const g = sp.randn([5000]);
          big.grad = g;
          small.forEach((p, i) => {
            p.grad = g.slice([[i * 1000, (i + 1) * 1000]]).contiguous();
          });
          optB.step();
          optS.step();
          const b = new Int32Array(big.dataSync().slice().buffer);
          const joined = new Float32Array(5000);
          small.forEach((p, i) => {
            joined.set(p.dataSync(), i * 1000);
          });
          expect(Array.from(b)).toEqual(Array.from(new Int32Array(joined.buffer)));
        }
      }
    }
    sp.setNumThreads(1);
  });

  it('optimizer steps release their temporaries (flat memory)', () => {
    const p = sp.randn([64]).requiresGrad_();
    const opt = new L.AdamW([p]);
    const step = () => {
      opt.zeroGrad();
      sp.scope(() => sp.sum(sp.square(p)).backward());
      opt.step();
    };
    step();
    const before = sp.memory();
    for (let i = 0; i < 50; i++) step();
    expect(sp.memory()).toEqual(before);
  });

  it('clipGradNorm scales gradients to the max norm and returns the norm', () => {
    const a = sp.tensor([3, 0]).requiresGrad_();
    const b = sp.tensor([0, 4]).requiresGrad_();
    sp.sum(sp.add(sp.mul(a, a.detach()), sp.mul(b, b.detach()))).backward(); // grads (3,0) and (0,4)
    const norm = L.clipGradNorm([a, b], 1);
    expect(norm.itemSync()).toBeCloseTo(5, 5);
    expect(Array.from(a.grad!.dataSync())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(b.grad!.dataSync())[1]).toBeCloseTo(0.8, 5);
    expect(L.clipGradNorm([a, b], 10, Infinity).itemSync()).toBeCloseTo(0.8, 5);
  });
});

describe('schedulers against PyTorch', () => {
  const f = layers.schedulers;
  const cases: [string, (o: L.SGD) => L.LRScheduler][] = [
    ['StepLR', (o) => new L.StepLR(o, 3, 0.5)],
    ['CosineAnnealingLR', (o) => new L.CosineAnnealingLR(o, 10, 0.01)],
    ['LinearLR', (o) => new L.LinearLR(o, 0.25, 1, 4)],
    ['OneCycleLR', (o) => new L.OneCycleLR(o, 1, 20)],
    ['OneCycleLR3', (o) => new L.OneCycleLR(o, 1, 20, { annealStrategy: 'linear', threePhase: true })],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const p = sp.zeros([1]).requiresGrad_();
      const o = new L.SGD([p], { lr: 0.1, momentum: 0.9 });
      const s = make(o);
      const lrs = [o.paramGroups[0].lr];
      const mom = [o.paramGroups[0].momentum];
      for (let i = 1; i < f[name].lr.length; i++) {
        s.step();
        lrs.push(o.paramGroups[0].lr);
        mom.push(o.paramGroups[0].momentum);
      }
      lrs.forEach((v, i) => {
        expect(v).toBeCloseTo(f[name].lr[i], 10);
      });
      mom.forEach((v, i) => {
        expect(v).toBeCloseTo(f[name].momentum[i], 10);
      });
    });
  }

  it('OneCycleLR refuses to step past totalSteps; state dicts restore the position', () => {
    const p = sp.zeros([1]).requiresGrad_();
    const o = new L.SGD([p], { lr: 0.1 });
    const s = new L.OneCycleLR(o, 1, 2, { cycleMomentum: false });
    s.step();
    s.step();
    expect(() => s.step()).toThrow('OneCycleLR: stepped 3 times, more than totalSteps 2');
    const o2 = new L.SGD([p], { lr: 0.1 });
    const s2 = new L.StepLR(o2, 2, 0.1);
    s2.step();
    s2.step();
    const o3 = new L.SGD([p], { lr: 0.1 });
    const s3 = new L.StepLR(o3, 2, 0.1);
    s3.loadStateDict(s2.stateDict());
    expect(o3.paramGroups[0].lr).toBeCloseTo(o2.paramGroups[0].lr, 12);
  });
});
