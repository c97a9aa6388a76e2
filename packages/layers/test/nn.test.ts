import { gradcheck, gradgradcheck } from '@softpool/autograd';
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';
import { batchNormBackwardLoops, batchNormLoops } from '../src/nn/cpu/batchNorm.js';
import { expectT, fromT, layers } from './fixtures.js';

const set = (p: sp.Tensor, t: { shape: number[]; data: number[] }) => p.replaceData_(fromT(t, 'float64'));

describe('layers against PyTorch', () => {
  it('Linear forward and gradients', () => {
    const f = layers.linear;
    const lin = new L.Linear(5, 3);
    set(lin.weight, f.weight);
    set(lin.bias!, f.bias);
    const x = fromT(f.x, 'float64', true);
    const y = lin.forward(x);
    expectT(y, f.y);
    y.backward(fromT(f.g));
    expectT(x.grad!, f.dx);
    expectT(lin.weight.grad!, f.dw);
    expectT(lin.bias!.grad!, f.db);
  });

  it('Conv2d forward and gradients', () => {
    const f = layers.conv2d;
    const conv = new L.Conv2d(3, 4, 3, { stride: 2, padding: 1 });
    set(conv.weight, f.weight);
    set(conv.bias!, f.bias);
    const x = fromT(f.x, 'float64', true);
    const y = conv.forward(x);
    expectT(y, f.y);
    y.backward(fromT(f.g));
    expectT(x.grad!, f.dx);
    expectT(conv.weight.grad!, f.dw);
    expectT(conv.bias!.grad!, f.db);
  });

  it('BatchNorm2d: batch statistics and gradients in training, running statistics in eval', () => {
    const f = layers.batchnorm2d;
    const bn = new L.BatchNorm2d(3, { momentum: 0.2 });
    set(bn.weight!, { shape: [3], data: [1, 0.5, 2] });
    set(bn.bias!, { shape: [3], data: [0, 0.1, -0.2] });
    bn.runningMean!.replaceData_(sp.zeros([3], { dtype: 'float64' }));
    bn.runningVar!.replaceData_(sp.ones([3], { dtype: 'float64' }));
    const x1 = fromT(f.x1, 'float64', true);
    const y1 = bn.forward(x1);
    expectT(y1, f.y1);
    y1.backward(fromT(f.g1));
    expectT(x1.grad!, f.dx1);
    expectT(bn.weight!.grad!, f.dweight);
    expectT(bn.bias!.grad!, f.dbias);
    bn.forward(fromT(f.x2));
    expectT(bn.runningMean!, f.runningMean);
    expectT(bn.runningVar!, f.runningVar);
    expect(bn.numBatchesTracked!.itemSync()).toBe(2);
    bn.eval();
    expectT(bn.forward(fromT(f.x3)), f.y3);
    // Eval mode leaves the running statistics alone.
    expectT(bn.runningMean!, f.runningMean);
  });

  it('the fused batch norm passes gradcheck (input, weight, bias) in float64', () => {
    const bn = new L.BatchNorm2d(2);
    const w = sp.tensor([0.7, 1.3], { dtype: 'float64', requiresGrad: true });
    const b = sp.tensor([0.1, -0.2], { dtype: 'float64', requiresGrad: true });
    bn.weight!.replaceData_(w);
    bn.bias!.replaceData_(b);
    const x = sp.randn([3, 2, 2, 2], { dtype: 'float64' }).requiresGrad_();
    const f = (xx: sp.Tensor, ww: sp.Tensor, bb: sp.Tensor) => {
      bn.weight!.replaceData_(ww);
      bn.bias!.replaceData_(bb);
      return sp.dispatch('batchNorm', [xx, ww, bb], { eps: 1e-5 })[0];
    };
    expect(gradcheck(f, [x, w, b]).ok).toBe(true);
  });

  it('the fused batch norm is exact and passes gradcheck where runs are not multiples of 4 (3, 7, 1)', () => {
    // The kernels sum each run four elements at a time, then the remainder.
    for (const shape of [
      [2, 2, 3],
      [3, 2, 7],
      [5, 2],
    ]) {
      const x = sp.randn(shape, { dtype: 'float64' }).requiresGrad_();
      const w = sp.tensor([0.7, 1.3], { dtype: 'float64', requiresGrad: true });
      const b = sp.tensor([0.1, -0.2], { dtype: 'float64', requiresGrad: true });
      const f = (xx: sp.Tensor, ww: sp.Tensor, bb: sp.Tensor) =>
        sp.dispatch('batchNorm', [xx, ww, bb], { eps: 1e-5 })[0];
      const [N, C] = shape;
      const S = (shape[2] ?? 1) as number;
      const xs = x.dataSync();
      const y = f(x, w, b).dataSync();
      for (let c = 0; c < C; c++) {
        const vals: number[] = [];
        for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) vals.push(xs[(n * C + c) * S + i]);
        const mu = vals.reduce((p, q) => p + q, 0) / vals.length;
        const v = vals.reduce((p, q) => p + (q - mu) ** 2, 0) / vals.length;
        const [wc, bc] = [[0.7, 1.3][c], [0.1, -0.2][c]];
        for (let n = 0; n < N; n++)
          for (let i = 0; i < S; i++) {
            const at = (n * C + c) * S + i;
            expect(y[at]).toBeCloseTo(((xs[at] - mu) / Math.sqrt(v + 1e-5)) * wc + bc, 12);
          }
      }
      expect(gradcheck(f, [x, w, b]).ok).toBe(true);
    }
  });

  it('float32 batch norm in WebAssembly (with worker threads) gives the bits of the JavaScript loops', async () => {
    for (const threads of [2, 3]) {
      sp.setNumThreads(threads);
      await sp.threadsReady();
      for (const shape of [
        [5, 3],
        [2, 4, 7],
        [3, 2, 4, 4],
        [8, 6, 41, 41], // large enough for the worker threads; runs of 1681 (a remainder of 1)
      ]) {
        const [N, C] = shape;
        const S = shape.slice(2).reduce((a, b) => a * b, 1);
        const x = sp.randn(shape);
        const gamma = sp.randn([C]);
        const beta = sp.randn([C]);
        const dy = sp.randn(shape);
        /** The JavaScript loops' y, mean and variance (relu(y) with `relu`). */
        const loops = (relu: boolean) => {
          const out = [new Float32Array(x.size), new Float32Array(C), new Float32Array(C)] as const;
          batchNormLoops(x.dataSync(), [N, C, S], gamma.dataSync(), beta.dataSync(), 1e-5, ...out, relu);
          return out;
        };
        const [y, mean, variance] = sp.dispatch('batchNorm', [x, gamma, beta], { eps: 1e-5 });
        expect([y, mean, variance].map((t) => t.dataSync())).toEqual([...loops(false)]);
        // With relu fused: the relu of the same outputs.
        const [yr] = sp.dispatch('batchNorm', [x, gamma, beta], { eps: 1e-5, relu: true });
        expect(yr.dataSync()).toEqual(loops(true)[0]);
        expect(yr.dataSync()).toEqual(sp.relu(y).dataSync());
        const grads = sp.dispatch('batchNormBackward', [dy, x, gamma, mean, variance], { eps: 1e-5 });
        const wantG = [new Float32Array(x.size), new Float32Array(C), new Float32Array(C)];
        batchNormBackwardLoops(
          dy.dataSync(),
          x.dataSync(),
          [N, C, S],
          gamma.dataSync(),
          mean.dataSync(),
          variance.dataSync(),
          1e-5,
          ...(wantG as [Float32Array, Float32Array, Float32Array]),
        );
        expect(grads.map((t) => t.dataSync())).toEqual(wantG);
      }
    }
  });

  it('Sequential runs BatchNorm then ReLU as one op, with the bits of the two', async () => {
    for (const [dtype, threads] of [
      ['float32', 1],
      ['float32', 2],
      ['float64', 1],
    ] as const) {
      sp.setNumThreads(threads);
      await sp.threadsReady();
      const run = (fused: boolean) => {
        sp.manualSeed(5);
        const bn = new L.BatchNorm2d(3);
        bn.weight!.replaceData_(sp.randn([3], { dtype }));
        bn.bias!.replaceData_(sp.randn([3], { dtype }));
        const x = sp.randn([4, 3, 5, 7], { dtype }).requiresGrad_();
        const ops: string[] = [];
        const off = sp.onDispatch((op, _b, _i, _ms, attrs) => ops.push(op + (attrs?.relu ? '+relu' : '')));
        const y = fused ? new L.Sequential(bn, new L.ReLU()).forward(x) : sp.relu(bn.forward(x));
        off();
        sp.sum(sp.mul(y, sp.randn(y.shape, { dtype }))).backward();
        const out = [y, x.grad!, bn.weight!.grad!, bn.bias!.grad!, bn.runningMean!, bn.runningVar!];
        return { values: out.map((t) => Array.from(t.dataSync())), ops };
      };
      const fused = run(true);
      const apart = run(false);
      expect(fused.ops).toContain('batchNorm+relu');
      expect(fused.ops).not.toContain('relu');
      expect(apart.ops).toContain('relu');
      expect(fused.values).toEqual(apart.values);
    }
  });

  it('forwardRelu in eval mode (running statistics) is relu of the forward', () => {
    const bn = new L.BatchNorm2d(2);
    bn.runningMean!.replaceData_(sp.tensor([0.5, -1]));
    bn.runningVar!.replaceData_(sp.tensor([2, 0.5]));
    bn.eval();
    const x = sp.randn([3, 2, 4, 4]);
    expect(bn.forwardRelu(x).dataSync()).toEqual(sp.relu(bn.forward(x)).dataSync());
    expect(new L.Sequential(bn, new L.ReLU()).forward(x).dataSync()).toEqual(
      sp.relu(bn.forward(x)).dataSync(),
    );
  });

  it('BatchNorm1d without affine, cumulative average (momentum null)', () => {
    const f = layers.batchnorm1d_cumulative;
    const bn = new L.BatchNorm1d(4, { affine: false, momentum: null });
    bn.runningMean!.replaceData_(sp.zeros([4], { dtype: 'float64' }));
    bn.runningVar!.replaceData_(sp.ones([4], { dtype: 'float64' }));
    bn.forward(fromT(f.a1));
    bn.forward(fromT(f.a2));
    expectT(bn.runningMean!, f.runningMean);
    expectT(bn.runningVar!, f.runningVar);
    expect(bn.parameters()).toEqual([]);
    expect(() => bn.forward(sp.zeros([1, 4]))).toThrow(/training needs more than 1 value per channel/);
    expect(() => bn.forward(sp.zeros([2, 3]))).toThrow(
      'BatchNorm1d: expected 2-D or 3-D input with 4 channels in dim 1, got [2,3]',
    );
  });

  it('losses: crossEntropy (ignoreIndex, weights, label smoothing, probabilities, 2-D), nllLoss, mse, BCE with logits', () => {
    const f = layers.losses;
    const target = fromT(f.target, 'int32');
    const weight = fromT(f.weight);
    for (const c of f.cases) {
      const logits = fromT(f.logits, 'float64', true);
      const o = {
        reduction: c.options.reduction,
        labelSmoothing: c.options.labelSmoothing,
        weight: c.options.weighted ? weight : undefined,
      };
      const loss =
        c.fn === 'nllLoss'
          ? L.nllLoss(sp.logSoftmax(logits, 1), target)
          : c.options.probs
            ? L.crossEntropy(logits, fromT(c.options.probs), { labelSmoothing: c.options.labelSmoothing })
            : L.crossEntropy(logits, target, o);
      expectT(loss, c.loss);
      loss.sum().backward();
      expectT(logits.grad!, c.grad);
    }
    const s = layers.crossEntropy2d;
    const seg = fromT(s.logits, 'float64', true);
    const l2 = L.crossEntropy(seg, fromT(s.target, 'int32'));
    expectT(l2, s.loss);
    l2.backward();
    expectT(seg.grad!, s.grad);
    const m = layers.mse;
    const a = fromT(m.a, 'float64', true);
    const mse = L.mseLoss(a, fromT(m.b));
    expectT(mse, m.loss);
    mse.backward();
    expectT(a.grad!, m.grad);
    const b = layers.bce;
    const z = fromT(b.z, 'float64', true);
    const bce = L.binaryCrossEntropyWithLogits(z, fromT(b.y), { posWeight: fromT(b.posWeight) });
    expectT(bce, b.loss);
    bce.backward();
    expectT(z.grad!, b.grad);
  });

  it('nllLoss on [N, C] is one op (fused CPU kernels), equal to the composite with its gradients', () => {
    // The composite still serves [N, C, ...] inputs: the same rows as [N, C, 1] take it.
    const ops: string[] = [];
    for (const dtype of ['float64', 'float32'] as const)
      for (const reduction of ['mean', 'sum', 'none'] as const)
        for (const weighted of [false, true]) {
          sp.manualSeed(4);
          const logits = sp.randn([7, 5], { dtype });
          const target = sp.tensor([0, 4, -100, 2, 2, 1, 3], { dtype: 'int32' });
          const weight = weighted ? sp.rand([5], { dtype }) : undefined;
          const run = (x: sp.Tensor, t: sp.Tensor, record: boolean) => {
            const xi = x.detach().requiresGrad_();
            const off = sp.onDispatch((op) => record && ops.push(op));
            const loss = L.nllLoss(sp.logSoftmax(xi, 1), t, { reduction, weight });
            off();
            loss.sum().backward();
            return [Array.from(loss.dataSync()), Array.from(xi.grad!.dataSync())];
          };
          ops.length = 0;
          const [fused, fusedGrad] = run(logits, target, true);
          expect(ops).toEqual(['logSoftmax', 'nllLoss']);
          const [composite, compositeGrad] = run(logits.unsqueeze(2), target.unsqueeze(1), false);
          const tol = dtype === 'float64' ? 12 : 5;
          for (const [i, v] of fused.entries()) expect(v).toBeCloseTo(composite[i], tol);
          for (const [i, v] of fusedGrad.entries()) expect(v).toBeCloseTo(compositeGrad[i], tol);
        }
  });

  it('nllLoss (fused): float64 gradient and second derivative checks; bad targets are named', () => {
    const logits = sp.randn([4, 3], { dtype: 'float64' }).requiresGrad_();
    const target = sp.tensor([2, 0, -100, 1], { dtype: 'int32' });
    const weight = sp.tensor([0.5, 2, 1], { dtype: 'float64' });
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const f = (x: sp.Tensor) => L.crossEntropy(x, target, { reduction, weight });
      expect(gradcheck(f, [logits]).ok).toBe(true);
      expect(gradgradcheck(f, [logits]).ok).toBe(true);
    }
    expect(() => L.nllLoss(sp.zeros([2, 3]), sp.tensor([1, 3], { dtype: 'int32' }))).toThrow(
      'nllLoss: target 3 at [1] is not a class index in [0, 3) nor ignoreIndex -100',
    );
    expect(() => L.crossEntropy(sp.zeros([2, 3]), sp.tensor([-1, 0], { dtype: 'int32' }))).toThrow(
      'nllLoss: target -1 at [0] is not a class index in [0, 3) nor ignoreIndex -100',
    );
  });

  it('loss errors name the shapes', () => {
    expect(() => L.crossEntropy(sp.zeros([2, 3]), sp.zeros([3], { dtype: 'int32' }))).toThrow(
      'nllLoss: input [2,3] needs target [N, ...spatial] = [2], got [3]',
    );
    expect(() => L.nllLoss(sp.zeros([2, 3]), sp.zeros([2]))).toThrow(
      'nllLoss: target must hold int32 class indices, got float32',
    );
    expect(() => L.nllLoss(sp.zeros([2, 3], { dtype: 'int32' }), sp.zeros([2], { dtype: 'int32' }))).toThrow(
      'nllLoss: input must hold float log-probabilities, got int32',
    );
    expect(() =>
      L.crossEntropy(sp.zeros([2, 3]), sp.zeros([2], { dtype: 'int32' }), { labelSmoothing: 2 }),
    ).toThrow(/labelSmoothing must be in \[0, 1\]/);
    expect(() => L.mseLoss(sp.zeros([2]), sp.zeros([2]), { reduction: 'avg' as never })).toThrow(
      "mseLoss: reduction must be 'mean', 'sum' or 'none', got 'avg'",
    );
  });
});

describe('Dropout, activations, init', () => {
  it('Dropout scales kept values by 1/(1-p), is seeded, and is the identity in eval', () => {
    const x = sp.ones([10000]);
    const d = new L.Dropout(0.25, { generator: new sp.Generator(1) });
    const y = d.forward(x);
    const kept = Array.from(y.dataSync()).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / 10000 - 0.75)).toBeLessThan(0.02);
    const again = new L.Dropout(0.25, { generator: new sp.Generator(1) }).forward(x);
    expect(Array.from(again.dataSync())).toEqual(Array.from(y.dataSync()));
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(() => new L.Dropout(1.5)).toThrow('Dropout: p must be in [0, 1], got 1.5');
  });

  it('activation modules match the functions; Flatten keeps the batch dim', () => {
    const x = sp.randn([2, 3, 4]);
    expect(Array.from(new L.ReLU().forward(x).dataSync())).toEqual(Array.from(sp.relu(x).dataSync()));
    expect(new L.Flatten().forward(x).shape).toEqual([2, 12]);
    expect(
      new L.Softmax(1)
        .forward(x)
        .sum(1)
        .dataSync()
        .every((v) => Math.abs(v - 1) < 1e-6),
    ).toBe(true);
    expect(new L.Identity().forward(x)).toBe(x);
    for (const m of [
      new L.LeakyReLU(0.2),
      new L.GELU('tanh'),
      new L.Sigmoid(),
      new L.Tanh(),
      new L.LogSoftmax(),
    ])
      expect(m.forward(x).shape).toEqual([2, 3, 4]);
  });

  it('default initialisation follows PyTorch bounds; init functions fill in place', () => {
    sp.manualSeed(0);
    const conv = new L.Conv2d(8, 4, 3);
    const bound = 1 / Math.sqrt(8 * 9);
    expect(sp.max(sp.abs(conv.weight)).itemSync()).toBeLessThanOrEqual(bound);
    expect(sp.max(sp.abs(conv.weight)).itemSync()).toBeGreaterThan(bound * 0.9);
    const w = sp.zeros([256, 128]);
    L.kaimingNormal_(w, { nonlinearity: 'relu' });
    expect(sp.std(w).itemSync()).toBeCloseTo(Math.sqrt(2 / 128), 2);
    L.xavierUniform_(w);
    expect(sp.max(w).itemSync()).toBeLessThanOrEqual(Math.sqrt(6 / 384));
    L.constant_(w, 0.5);
    expect(sp.mean(w).itemSync()).toBe(0.5);
    expect(L.fans([16, 3, 3, 3])).toEqual({ fanIn: 27, fanOut: 144 });
  });
});
