import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gradcheck, noGrad } from '@softpool/autograd';
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';
import { values } from './helpers.js';

const vals = (t: sp.Tensor) => Array.from(t.dataSync());

describe('SoftPool definition', () => {
  it('window [1, 2, 4, 5] gives 4.58878 with the documented weights and gradients', () => {
    const x = sp.tensor([[[1, 2, 4, 5]]], { dtype: 'float64', requiresGrad: true });
    const y = L.softPool1d(x, { kernelSize: 4 });
    expect(y.itemSync()).toBeCloseTo(4.58878, 5);
    y.backward();
    const exact = [-0.03302, -0.05508, 0.10535, 0.98276];
    vals(x.grad!).forEach((g, i) => {
      expect(g).toBeCloseTo(exact[i], 5);
    });
    const xp = sp.tensor([[[1, 2, 4, 5]]], { dtype: 'float64', requiresGrad: true });
    L.softPool1d(xp, { kernelSize: 4, gradient: 'paper' }).backward();
    const weights = [0.012755, 0.034671, 0.256187, 0.696387];
    vals(xp.grad!).forEach((g, i) => {
      expect(g).toBeCloseTo(weights[i], 6);
    });
    expect(vals(xp.grad!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('per channel, unbatched inputs, kernel 1 is the identity, constant windows return the constant', () => {
    const x = values([2, 5, 6], 3, { requiresGrad: false });
    expect(vals(L.softPool2d(x, { kernelSize: 1 }))).toEqual(vals(x));
    expect(L.softPool2d(x, { kernelSize: 2 }).shape).toEqual([2, 2, 3]);
    const c = sp.full([1, 2, 4, 4], 3.25, { dtype: 'float64' });
    expect(vals(L.softPool2d(c, { kernelSize: 2 })).every((v) => v === 3.25)).toBe(true);
    // Channels do not share weights: channel 1 = channel 0 + 100 gives output + 100 exactly.
    const two = sp.concat([x.slice([[0, 1]]), sp.add(x.slice([[0, 1]]), 100)]);
    const out = L.softPool2d(two, { kernelSize: 2 });
    const [a, b] = [vals(out.slice([0])), vals(out.slice([1]))];
    a.forEach((v, i) => {
      expect(b[i] - v).toBeCloseTo(100, 9);
    });
  });

  it('properties: min <= y <= max per window, shift-equivariant, not scale-equivariant', () => {
    const x = values([2, 3, 7, 8], 5, { requiresGrad: false, lo: -5, hi: 5 });
    const opts = { kernelSize: 3, stride: 2, padding: 1 };
    const y = vals(L.softPool2d(x, opts));
    const mx = vals(L.maxPool2d(x, opts));
    const mn = vals(sp.neg(L.maxPool2d(sp.neg(x), opts)));
    y.forEach((v, i) => {
      expect(v).toBeLessThanOrEqual(mx[i] + 1e-12);
      expect(v).toBeGreaterThanOrEqual(mn[i] - 1e-12);
    });
    const shifted = vals(L.softPool2d(sp.add(x, 7.5), opts));
    shifted.forEach((v, i) => {
      expect(v - y[i]).toBeCloseTo(7.5, 9);
    });
    const scaled = vals(L.softPool2d(sp.mul(x, 3), opts));
    expect(scaled.some((v, i) => Math.abs(v - 3 * y[i]) > 1e-3)).toBe(true);
  });

  it('is stable: inputs scaled by 300 and shifted by -500 give finite, correct outputs and gradients', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const base = values([1, 2, 6, 6], 7, { requiresGrad: false, dtype });
      const x = sp.sub(sp.mul(base, 300), 500).requiresGrad_();
      const y = L.softPool2d(x, { kernelSize: 2 });
      const out = vals(y);
      expect(out.every(Number.isFinite)).toBe(true);
      // Reference: the same windows in float64 with the max subtracted by hand.
      const xv = vals(x);
      const ref: number[] = [];
      for (let c = 0; c < 2; c++)
        for (let oy = 0; oy < 3; oy++)
          for (let ox = 0; ox < 3; ox++) {
            const w = [0, 1].flatMap((dy) =>
              [0, 1].map((dx) => xv[c * 36 + (2 * oy + dy) * 6 + 2 * ox + dx]),
            );
            const m = Math.max(...w);
            const e = w.map((v) => Math.exp(v - m));
            ref.push(e.reduce((s, v, i) => s + v * w[i], 0) / e.reduce((s, v) => s + v, 0));
          }
      out.forEach((v, i) => {
        expect(Math.abs(v - ref[i])).toBeLessThan(dtype === 'float32' ? 1e-3 : 1e-9);
      });
      y.sum().backward();
      expect(vals(x.grad!).every(Number.isFinite)).toBe(true);
      const big = sp.tensor([[[1e4, -1e4, 9999, 3]]], { dtype });
      const [first, second] = vals(L.softPool1d(big, { kernelSize: 2 }));
      expect(first).toBe(1e4);
      expect(second).toBeCloseTo(9999, 6);
      expect(vals(L.softPool1d(sp.tensor([[[-500, -500.5]]], { dtype }), { kernelSize: 2 }))[0]).toBeCloseTo(
        -500 - 0.5 / (1 + Math.exp(0.5)),
        3,
      );
    }
  });

  it('non-finite rule: NaN -> NaN; +inf -> +inf; all -inf -> -inf', () => {
    const x = sp.tensor([[[Number.NaN, 1, Infinity, 2, -Infinity, -Infinity, -Infinity, 3]]], {
      dtype: 'float64',
    });
    const y = vals(L.softPool1d(x, { kernelSize: 2 }));
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y[1]).toBe(Infinity);
    expect(y[2]).toBe(-Infinity);
    expect(y[3]).toBe(3);
  });

  it('temperature: small T tends to max, large T to the mean', () => {
    const x = sp.tensor([[[1, 2, 4, 5]]], { dtype: 'float64' });
    expect(L.softPool1d(x, { kernelSize: 4, temperature: 0.01 }).itemSync()).toBeCloseTo(5, 6);
    expect(L.softPool1d(x, { kernelSize: 4, temperature: 1e6 }).itemSync()).toBeCloseTo(3, 4);
  });
});

describe('float32 kernels (WebAssembly SIMD) agree with the float64 reference kernels', () => {
  // Rows wide enough that groups of 4 windows take the vector fast paths (stride 1 and 2), with
  // padded and ragged edges taking the lane-by-lane paths, and overlapping windows in backward.
  const geometries: [string, number[], L.PoolOptions][] = [
    ['k2 s2', [2, 3, 6, 37], { kernelSize: 2 }],
    ['k2 s2 pad1', [1, 2, 5, 34], { kernelSize: 2, padding: 1 }],
    ['k2 s2, every group 2x2 (no statistics read back)', [2, 2, 4, 32], { kernelSize: 2 }],
    ['k2 s2, every group 2x2, last row and column in no window', [1, 2, 5, 33], { kernelSize: 2 }],
    ['k(2,2) s(1,2): overlapping rows', [1, 2, 5, 32], { kernelSize: 2, stride: [1, 2] }],
    ['k3 s1 pad1 (overlap)', [1, 2, 5, 29], { kernelSize: 3, stride: 1, padding: 1 }],
    ['k3 s2 pad1', [1, 2, 7, 41], { kernelSize: 3, stride: 2, padding: 1 }],
    ['k2 s1 dilation 2', [1, 2, 6, 23], { kernelSize: 2, stride: 1, dilation: 2 }],
    // Many planes back to back whose outputs are not whole vectors wide (LeNet-5's 14 and 5).
    ['k2 s2, planes 28 wide', [3, 6, 28, 28], { kernelSize: 2 }],
    ['k2 s2, planes 10 wide', [4, 16, 10, 10], { kernelSize: 2 }],
    ['k3 s2 pad1, planes 9 wide', [3, 5, 9, 9], { kernelSize: 3, stride: 2, padding: 1 }],
    // Outputs of 16 KiB and more live in WebAssembly memory: the kernels write them in place.
    ['k2 s2, resident outputs written in place', [4, 16, 28, 28], { kernelSize: 2 }],
    ['k3 s2, resident outputs written in place', [4, 16, 29, 29], { kernelSize: 3, stride: 2 }],
  ];
  const methods: [string, (x: sp.Tensor, o: L.PoolOptions) => sp.Tensor][] = [
    ['softPool', (x, o) => L.softPool2d(x, o)],
    ['softPool T=0.5', (x, o) => L.softPool2d(x, { ...o, temperature: 0.5 })],
    ['softPool paper gradient', (x, o) => L.softPool2d(x, { ...o, gradient: 'paper' })],
    ['maxPool', (x, o) => L.maxPool2d(x, o)],
    ['avgPool', (x, o) => L.avgPool2d(x, o)],
  ];
  /** Runs `f` in float64 and in float32 on the same data: outputs and input gradients agree. */
  const agree = (shape: number[], f: (x: sp.Tensor) => sp.Tensor, seed: number) => {
    sp.manualSeed(seed);
    const x64 = sp.mul(sp.randn(shape, { dtype: 'float64' }), 3);
    const g64 = sp.randn(f(x64).shape, { dtype: 'float64' });
    const run = (x: sp.Tensor, g: sp.Tensor) => {
      const xi = x.detach().requiresGrad_();
      const y = f(xi);
      y.backward(g);
      return [vals(y), vals(xi.grad!)];
    };
    const [y64, dx64] = run(x64, g64);
    const [y32, dx32] = run(sp.cast(x64, 'float32'), sp.cast(g64, 'float32'));
    const worst = (a: number[], b: number[]) =>
      Math.max(...a.map((v, i) => Math.abs(v - b[i]) / (1 + Math.abs(b[i]))));
    expect(worst(y32, y64)).toBeLessThan(1e-5);
    expect(worst(dx32, dx64)).toBeLessThan(1e-4);
  };
  for (const [gName, shape, opts] of geometries)
    for (const [mName, f] of methods)
      it(`${mName} ${gName}: output and input gradient`, () => agree(shape, (x) => f(x, opts), 7));

  // 1-D and 3-D kernel-2 stride-2 SoftPool: one-pass groups with 1 and 4 tap rows (and, with an odd
  // length, the other paths for the last group).
  const nd: [string, number[], (x: sp.Tensor, o: L.SoftPoolOptions) => sp.Tensor, L.SoftPoolOptions][] = [
    ['1d', [2, 3, 64], L.softPool1d, { kernelSize: 2 }],
    ['1d ragged', [1, 2, 37], L.softPool1d, { kernelSize: 2 }],
    ['1d, last element in no window', [1, 2, 65], L.softPool1d, { kernelSize: 2 }],
    ['3d', [1, 2, 4, 4, 32], L.softPool3d, { kernelSize: 2 }],
    ['3d ragged', [1, 2, 5, 4, 34], L.softPool3d, { kernelSize: 2 }],
    ['3d overlapping in depth', [1, 2, 4, 4, 32], L.softPool3d, { kernelSize: 2, stride: [1, 2, 2] }],
  ];
  for (const [name, shape, f, base] of nd)
    for (const o of [{}, { gradient: 'paper' as const }, { temperature: 0.5 }])
      it(`softPool ${name} ${JSON.stringify(base)} ${JSON.stringify(o)}: output and input gradient`, () =>
        agree(shape, (x) => f(x, { ...base, ...o }), 3));

  // Max and average pooling's kernel-2 stride-2 groups take a tree over both taps of each tap row
  // (1, 2 or 4 rows: 1-D, 2-D, 3-D), ragged rows ending in a group with lanes past the output.
  const pairs: [string, number[], (x: sp.Tensor, o: L.PoolOptions) => sp.Tensor][] = [
    ['maxPool1d', [2, 3, 38], L.maxPool1d],
    ['maxPool3d', [1, 2, 4, 6, 22], L.maxPool3d],
    ['avgPool1d', [2, 3, 38], L.avgPool1d],
    ['avgPool3d', [1, 2, 4, 6, 22], L.avgPool3d],
    ['avgPool3d pad 1', [1, 2, 4, 6, 22], (x, o) => L.avgPool3d(x, { ...o, padding: 1 })],
  ];
  for (const [name, shape, f] of pairs)
    it(`${name} ${JSON.stringify(shape)} k2 s2: output and input gradient`, () =>
      agree(shape, (x) => f(x, { kernelSize: 2 }), 5));

  it('maxPool: ties, NaN and all -inf windows on the vector paths give the reference values and indices', () => {
    // Rows of 18 (9 windows of 2x2: two groups of 4, then one lane): window 0 ties everywhere,
    // 1 ties between its rows, 2 has a NaN second, 3 a NaN third and fourth, 4 only -inf, 5 -inf
    // then its maximum in the second row, 6 a tie of its two last taps, 7 -0 first against +0,
    // 8 the maximum last. The first maximum in scan order wins, and the first NaN.
    const nan = Number.NaN;
    const ninf = -Infinity;
    const row0 = [5, 5, 1, 2, 0, nan, nan, 1, ninf, ninf, ninf, ninf, 0, 1, -0, 0, 1, 2];
    const row1 = [5, 5, 2, 1, 7, 1, 2, nan, ninf, ninf, 3, -2, 4, 4, 0, -0, 3, 9];
    const run = (dtype: 'float32' | 'float64', spatial: 1 | 2 | 3) => {
      const data =
        spatial === 1
          ? [[[...row0, ...row1]]]
          : spatial === 2
            ? [[[row0, row1]]]
            : [
                [
                  [
                    [row0, row1],
                    [row1, row0],
                  ],
                ],
              ];
      const x = sp.tensor(data, { dtype, requiresGrad: true });
      const [y, idx] = L.maxPoolWithIndices(x, spatial, { kernelSize: 2 });
      y.backward(sp.onesLike(y));
      return [vals(y), vals(idx), vals(x.grad!)];
    };
    for (const spatial of [1, 2, 3] as const) {
      const [y64, i64, g64] = run('float64', spatial);
      const [y32, i32, g32] = run('float32', spatial);
      expect(i32).toEqual(i64);
      expect(y32).toEqual(y64);
      expect(g32).toEqual(g64);
      if (spatial === 2) {
        expect(i64).toEqual([0, 3, 5, 6, 8, 28, 30, 14, 35]);
        expect(Object.is(y64[7], -0)).toBe(true);
      }
    }
  });

  it('softPool kernel 2 stride 2 keeps no window statistics for the backward, also with ragged rows', () => {
    // The backward rebuilds them from the inputs wherever every group takes the kernel-2 path (rows
    // of any width: the last group's lanes past the row are masked); with padding it reads them.
    const kept = (shape: number[], o: L.SoftPoolOptions) => {
      const x = sp.randn(shape).requiresGrad_();
      const before = sp.memory().tensors;
      const y = L.softPool2d(x, o);
      const n = sp.memory().tensors - before;
      y.dispose();
      x.dispose();
      return n;
    };
    const wholeVectors = kept([2, 2, 4, 32], { kernelSize: 2 }); // 16 outputs a row
    expect(kept([2, 3, 28, 28], { kernelSize: 2 })).toBe(wholeVectors); // 14 outputs a row
    expect(kept([2, 3, 10, 10], { kernelSize: 2 })).toBe(wholeVectors); // 5
    expect(kept([2, 3, 10, 10], { kernelSize: 2, padding: 1 })).toBe(wholeVectors + 2); // m and s
  });

  it('softPool: non-finite windows on the vector paths follow the reference rule', () => {
    // Two rows of 16: windows (2x2) 0..7; window 1 holds a NaN, 2 a +inf, 3 only -inf, 5 one -inf.
    const row0 = [1, 2, Number.NaN, 0, Infinity, 1, -Infinity, -Infinity, 0, 1, -Infinity, 3, 4, 5, 6, 7];
    const row1 = [3, 4, 1, 2, 0, 0, -Infinity, -Infinity, 2, 2, 1, 1, 0, 0, 1, 1];
    const run = (dtype: 'float32' | 'float64') => {
      const x = sp.tensor([[[row0, row1]]], { dtype, requiresGrad: true });
      const y = L.softPool2d(x, { kernelSize: 2 });
      y.backward(sp.onesLike(y));
      return [vals(y), vals(x.grad!)];
    };
    const [y64, dx64] = run('float64');
    const [y32, dx32] = run('float32');
    const same = (a: number, b: number) =>
      Number.isNaN(b)
        ? Number.isNaN(a)
        : Number.isFinite(b)
          ? Math.abs(a - b) < 1e-5 * (1 + Math.abs(b))
          : a === b;
    expect(y64.slice(1, 4)).toEqual([Number.NaN, Infinity, -Infinity]);
    for (const [i, v] of y32.entries()) expect(same(v, y64[i]), `y[${i}] ${v} vs ${y64[i]}`).toBe(true);
    for (const [i, v] of dx32.entries()) expect(same(v, dx64[i]), `dx[${i}] ${v} vs ${dx64[i]}`).toBe(true);
  });
});

describe('gradcheck of every pooling method (float64)', () => {
  const geometries: [string, number[], L.PoolOptions][] = [
    ['1d k3 s2 pad1', [2, 2, 9], { kernelSize: 3, stride: 2, padding: 1 }],
    ['2d k3 s1 pad1 (overlap)', [1, 2, 5, 5], { kernelSize: 3, stride: 1, padding: 1 }],
    ['2d k(3,2) s(2,1) ceil', [1, 2, 6, 5], { kernelSize: [3, 2], stride: [2, 1], ceilMode: true }],
    ['2d k2 dilation 2', [1, 1, 6, 6], { kernelSize: 2, dilation: 2 }],
    ['3d k2 s(1,2,2) pad(1,0,1)', [1, 2, 3, 4, 4], { kernelSize: 2, stride: [1, 2, 2], padding: [1, 0, 1] }],
  ];
  const methods: [
    string,
    (x: sp.Tensor, o: L.PoolOptions, spatial: number) => sp.Tensor,
    { lo?: number }?,
  ][] = [
    ['softPool', (x, o, n) => [L.softPool1d, L.softPool2d, L.softPool3d][n - 1](x, o)],
    [
      'softPool T=0.5',
      (x, o, n) => [L.softPool1d, L.softPool2d, L.softPool3d][n - 1](x, { ...o, temperature: 0.5 }),
    ],
    ['maxPool', (x, o, n) => [L.maxPool1d, L.maxPool2d, L.maxPool3d][n - 1](x, o)],
    ['avgPool', (x, o, n) => [L.avgPool1d, L.avgPool2d, L.avgPool3d][n - 1](x, o)],
    [
      'avgPool countIncludePad=false',
      (x, o, n) => [L.avgPool1d, L.avgPool2d, L.avgPool3d][n - 1](x, { ...o, countIncludePad: false }),
    ],
    [
      'lpPool p=2',
      (x, o, n) => [L.lpPool1d, L.lpPool2d, L.lpPool3d][n - 1](x, { ...o, normType: 2 }),
      { lo: 0.2 },
    ],
    [
      'lpPool p=3.5',
      (x, o, n) => [L.lpPool1d, L.lpPool2d, L.lpPool3d][n - 1](x, { ...o, normType: 3.5 }),
      { lo: 0.2 },
    ],
    ['edscwPool', (x, o, n) => [L.edscwPool1d, L.edscwPool2d, L.edscwPool3d][n - 1](x, o)],
  ];
  for (const [method, fn, range] of methods) {
    for (const [gname, shape, opts] of geometries) {
      it(`${method} ${gname}`, () => {
        const x = values(shape, shape.length * 7 + gname.length, { lo: range?.lo ?? -2, hi: 2 });
        expect(gradcheck((t) => fn(t, opts, shape.length - 2), [x]).ok).toBe(true);
      });
    }
  }

  it("softPool with gradient: 'paper' fails gradcheck by design", () => {
    const x = values([1, 1, 4, 4], 3);
    expect(
      gradcheck((t) => L.softPool2d(t, { kernelSize: 2, gradient: 'paper' }), [x], { raise: false }).ok,
    ).toBe(false);
  });

  it('composites: adaPool, mixed, gated, tree, lip, dpp, stochastic (eval), adaptive, global', () => {
    const x = values([1, 2, 4, 4], 11);
    const opts = { kernelSize: 2 };
    const p = (shape: number[], seed: number, lo = -1, hi = 1) => values(shape, seed, { lo, hi });
    const checks: [string, () => boolean][] = [
      ['adaPool2d', () => gradcheck((t, b) => L.adaPool2d(t, b, opts), [x, p([], 1, 0.2, 0.8)]).ok],
      [
        'mixedPool2d',
        () => gradcheck((t, a) => L.mixedPool2d(t, a, opts), [x, p([2, 1, 1], 2, 0.1, 0.9)]).ok,
      ],
      ['gatedPool2d', () => gradcheck((t, w) => L.gatedPool2d(t, w, opts), [x, p([2, 2, 2], 3)]).ok],
      [
        'treePool2d',
        () =>
          gradcheck(
            (t, a, b, g) => L.treePool2d(t, [a, b], [g], opts),
            [x, p([2, 2], 4), p([2, 2], 5), p([2, 2], 7)],
          ).ok,
      ],
      ['lipPool2d', () => gradcheck((t, l) => L.lipPool2d(t, l, opts), [x, p([1, 2, 4, 4], 8)]).ok],
      [
        'dppPool2d',
        () =>
          gradcheck((t, a, l) => L.dppPool2d(t, a, l, opts), [x, p([], 9, 0.1, 0.5), p([], 10, 0.5, 1.5)]).ok,
      ],
      [
        'stochasticPool2d eval',
        () =>
          gradcheck(
            (t) => L.stochasticPool2d(t, { ...opts, training: false }),
            [values([1, 2, 4, 4], 12, { lo: 0.1, hi: 2 })],
          ).ok,
      ],
      [
        'adaptiveAvgPool2d',
        () => gradcheck((t) => L.adaptiveAvgPool2d(t, [3, 2]), [values([1, 2, 5, 4], 13)]).ok,
      ],
      ['adaptiveMaxPool1d', () => gradcheck((t) => L.adaptiveMaxPool1d(t, 3), [values([1, 2, 7], 14)]).ok],
      ['globalAvgPool', () => gradcheck((t) => L.globalAvgPool(t), [x]).ok],
      ['globalMaxPool', () => gradcheck((t) => L.globalMaxPool(t), [x]).ok],
    ];
    for (const [name, check] of checks) expect([name, check()]).toEqual([name, true]);
  });
});

describe('the baselines', () => {
  it('maxPool returns PyTorch-style indices; the gradient goes to the first maximum', () => {
    const x = sp.tensor(
      [
        [
          [
            [1, 3, 3, 0],
            [2, 3, 1, 1],
          ],
        ],
      ],
      { requiresGrad: true },
    );
    const [y, idx] = L.maxPoolWithIndices(x, 2, { kernelSize: 2 });
    expect(vals(y)).toEqual([3, 3]);
    expect(vals(idx)).toEqual([1, 2]);
    y.sum().backward();
    expect(vals(x.grad!)).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('adaptive pooling follows PyTorch windows; global pooling reduces every spatial dim', () => {
    const x = sp.arange(10, undefined, 1, { dtype: 'float32' }).reshape([1, 1, 10]);
    expect(vals(L.adaptiveAvgPool1d(x, 3))).toEqual([1.5, 4.5, 7.5]);
    expect(vals(L.adaptiveMaxPool1d(x, 4))).toEqual([2, 4, 7, 9]);
    const y = values([2, 3, 4, 5], 1, { requiresGrad: false });
    expect(L.globalAvgPool(y).shape).toEqual([2, 3]);
    expect(L.adaptiveAvgPool2d(y, [null, 1]).shape).toEqual([2, 3, 4, 1]);
  });

  it('stochastic pooling samples taps in proportion to their value and is seeded', () => {
    const x = sp.tensor([
      [
        [
          [1, 3],
          [0, 0],
        ],
      ],
    ]);
    const g = new sp.Generator(1);
    let threes = 0;
    for (let i = 0; i < 400; i++)
      if (L.stochasticPool2d(x, { kernelSize: 2, generator: g }).itemSync() === 3) threes++;
    expect(threes / 400).toBeGreaterThan(0.68);
    expect(threes / 400).toBeLessThan(0.82);
    const a = vals(
      L.stochasticPool2d(values([1, 2, 8, 8], 2, { lo: 0, requiresGrad: false }), {
        kernelSize: 2,
        generator: new sp.Generator(9),
      }),
    );
    const b = vals(
      L.stochasticPool2d(values([1, 2, 8, 8], 2, { lo: 0, requiresGrad: false }), {
        kernelSize: 2,
        generator: new sp.Generator(9),
      }),
    );
    expect(a).toEqual(b);
    expect(L.stochasticPool2d(x, { kernelSize: 2, training: false }).itemSync()).toBeCloseTo(10 / 4, 6);
    expect(L.stochasticPool2d(sp.zeros([1, 1, 2, 2]), { kernelSize: 2 }).itemSync()).toBe(0);
  });

  it('S3Pool keeps every stride-th row and column in eval mode and random ones in training', () => {
    const x = sp.arange(16, undefined, 1, { dtype: 'float32' }).reshape([1, 1, 4, 4]);
    const evalOut = L.s3Pool2d(x, { stride: 2, kernelSize: 1, training: false });
    expect(vals(evalOut)).toEqual([0, 2, 8, 10]);
    const train = L.s3Pool2d(x, { stride: 2, kernelSize: 1, training: true, generator: new sp.Generator(3) });
    expect(train.shape).toEqual([1, 1, 2, 2]);
    expect(() => L.s3Pool2d(sp.zeros([1, 1, 5, 4]), { stride: 2 })).toThrow(
      's3Pool2d: input height 5 and width 4 must be multiples of gridSize 2',
    );
  });
});

describe('bad input gives clear errors', () => {
  const x = sp.zeros([1, 2, 4, 4]);
  const cases: [() => unknown, string | RegExp][] = [
    [() => L.softPool2d(x, { kernelSize: 5 }), 'softPool2d: kernelSize 5 exceeds padded input height 4'],
    [() => L.softPool2d(x, { kernelSize: [2, 5] }), 'softPool2d: kernelSize 5 exceeds padded input width 4'],
    [
      () => L.softPool2d(sp.zeros([1, 4, 4]).reshape([4, 4]), { kernelSize: 2 }),
      'softPool2d: expected a 4-D input [N, C, H, W] or [C, H, W], got [4,4]',
    ],
    [() => L.maxPool1d(sp.zeros([1, 2, 3, 3]), { kernelSize: 2 }), /maxPool1d: expected a 3-D input/],
    [
      () => L.softPool2d(x, { kernelSize: 2, stride: 0 }),
      'softPool2d: stride must be a positive integer, got 0',
    ],
    [
      () => L.avgPool2d(x, { kernelSize: 2, padding: 2 }),
      'avgPool2d: padding 2 must be at most half the kernelSize 2 (height)',
    ],
    [
      () => L.maxPool2d(x, { kernelSize: 2, dilation: 4 }),
      'maxPool2d: dilated kernel span 5 (kernelSize 2, dilation 4) exceeds padded input height 4',
    ],
    [
      () => L.softPool1d(sp.zeros([1, 1, 1]), { kernelSize: 2, padding: 1, dilation: 2 }),
      /softPool1d: window 0 along length holds no input element/,
    ],
    [
      () => L.softPool2d(x, { kernelSize: 2, gradient: 'approx' as never }),
      "softPool2d: gradient must be 'exact' or 'paper', got 'approx'",
    ],
    [
      () => L.softPool2d(x, { kernelSize: 2, temperature: 0 }),
      'softPool2d: temperature must be a positive finite number, got 0',
    ],
    [
      () => L.softPool2d(sp.zeros([1, 1, 2, 2], { dtype: 'int32' }), { kernelSize: 2 }),
      'softPool2d: input must be float32 or float64, got int32',
    ],
    [
      () => L.lpPool2d(x, { kernelSize: 2, normType: 0 }),
      'lpPool2d: normType must be a positive finite number, got 0',
    ],
    [() => L.softPool2d(x, undefined as never), 'softPool2d: options.kernelSize is required'],
    [
      () => L.softPool3d(sp.zeros([2, 4, 4]), { kernelSize: 2 }),
      'softPool3d: expected a 5-D input [N, C, D, H, W] or [C, D, H, W], got [2,4,4]',
    ],
    [
      () => L.softPool2d(x, { kernelSize: [2, 2, 2] }),
      'softPool2d: kernelSize must be a number or 2 numbers, got [2,2,2]',
    ],
    [
      () => L.softPool2d(x, { kernelSize: { h: 2 } as never }),
      'softPool2d: kernelSize must be a number or 2 numbers, got {"h":2}',
    ],
    [
      () => L.adaptiveAvgPool2d(x, [1]),
      'adaptiveAvgPool2d: outputSize must be a number or 2 entries, got [1]',
    ],
    [
      () => L.gatedPool2d(x, sp.zeros([3, 3]), { kernelSize: 2 }),
      'gatedPool2d: weights must be [2, 2] or [2, 2, 2], got [3,3]',
    ],
  ];
  for (const [call, message] of cases) {
    it(String(message), () => {
      expect(call).toThrow(message as never);
      try {
        call();
      } catch (e) {
        expect(e).toBeInstanceOf(sp.SoftpoolError);
      }
    });
  }
});

describe('modules', () => {
  it('window modules wrap the functions; learned ones register their parameters', () => {
    const x = values([2, 4, 8, 8], 1, { requiresGrad: false, dtype: 'float32' });
    expect(vals(new L.SoftPool2d(2).forward(x))).toEqual(vals(L.softPool2d(x, { kernelSize: 2 })));
    expect(new L.MaxPool2d(3, { stride: 2, padding: 1 }).forward(x).shape).toEqual([2, 4, 4, 4]);
    const whole = new L.MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 });
    expect(vals(whole.forward(x))).toEqual(vals(L.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 })));
    expect(String(whole)).toContain('MaxPool2d(kernelSize=3, stride=2, padding=1)');
    expect(new L.LPPool2d(2, 2).forward(sp.abs(x)).shape).toEqual([2, 4, 4, 4]);
    expect(new L.AdaptiveAvgPool2d(1).forward(x).shape).toEqual([2, 4, 1, 1]);
    expect(new L.GlobalAvgPool().forward(x).shape).toEqual([2, 4]);
    expect(new L.MixedPool2d(2).numParameters()).toBe(1);
    expect(new L.MixedPool2d(2, { channels: 4 }).numParameters()).toBe(4);
    expect(new L.GatedPool2d(2, { channels: 4 }).numParameters()).toBe(16);
    expect(new L.TreePool2d(2).numParameters()).toBe(7 * 4);
    expect(new L.LIPPool2d(4, 2).numParameters()).toBe(4 * 9 + 4);
    expect(new L.DPPPool2d(2).numParameters()).toBe(2);
    expect(new L.AdaPool2d(2, { betaShape: [4, 4] }).numParameters()).toBe(16);
    for (const m of [
      new L.MixedPool2d(2),
      new L.GatedPool2d(2),
      new L.TreePool2d(2),
      new L.LIPPool2d(4, 2),
      new L.DPPPool2d(2),
      new L.AdaPool2d(2),
      new L.EDSCWPool2d(2),
    ]) {
      const y = m.forward(x);
      expect(y.shape).toEqual([2, 4, 4, 4]);
      if (m.parameters().length === 0) continue;
      y.sum().backward();
      for (const p of m.parameters()) expect(p.grad).not.toBeNull();
    }
    expect(String(new L.SoftPool2d(2, { stride: 1 }))).toContain('SoftPool2d(stride=1, kernelSize=2)');
  });

  it('stochastic modules honour train() and eval()', () => {
    const m = new L.StochasticPool2d(2, { generator: new sp.Generator(4) });
    const x = sp.tensor([
      [
        [
          [1, 3],
          [0, 0],
        ],
      ],
    ]);
    m.eval();
    expect(m.forward(x).itemSync()).toBeCloseTo(2.5, 6);
    m.train();
    expect([1, 3]).toContain(m.forward(x).itemSync());
    const s3 = new L.S3Pool2d(2, { kernelSize: 1 }).eval();
    expect(vals(s3.forward(sp.arange(16, undefined, 1, { dtype: 'float32' }).reshape([1, 1, 4, 4])))).toEqual(
      [0, 2, 8, 10],
    );
  });
});

describe('on the CPU worker threads', () => {
  it('every float32 kernel gives the same bits for 1, 2, 3 and 4 threads (planes split over them)', async () => {
    const cases: [string, number[], (x: sp.Tensor) => sp.Tensor][] = [
      ['softPool k2', [8, 16, 28, 28], (x) => L.softPool2d(x, { kernelSize: 2 })],
      [
        'softPool k3 s2 pad1',
        [8, 16, 27, 27],
        (x) => L.softPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
      ],
      ['softPool k2, 14 wide', [8, 16, 14, 28], (x) => L.softPool2d(x, { kernelSize: 2 })],
      ['maxPool k2', [8, 16, 28, 28], (x) => L.maxPool2d(x, { kernelSize: 2 })],
      [
        'maxPool k3 s1 pad1',
        [8, 16, 13, 13],
        (x) => L.maxPool2d(x, { kernelSize: 3, stride: 1, padding: 1 }),
      ],
      ['avgPool k2', [8, 16, 10, 10], (x) => L.avgPool2d(x, { kernelSize: 2 })],
      [
        'avgPool k3 s2 pad1',
        [8, 16, 27, 27],
        (x) => L.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
      ],
      ['softPool 1-D', [8, 64, 200], (x) => L.softPool1d(x, { kernelSize: 2 })],
      ['softPool 3-D', [4, 8, 8, 8, 32], (x) => L.softPool3d(x, { kernelSize: 2 })],
    ];
    for (const [name, shape, f] of cases) {
      const results: number[][] = [];
      for (const threads of [1, 2, 3, 4]) {
        sp.setNumThreads(threads);
        expect(await sp.threadsReady()).toBe(threads);
        sp.manualSeed(11);
        const x = sp.randn(shape).requiresGrad_();
        const y = f(x);
        y.backward(sp.cos(y.detach()));
        const bitsOf = (t: sp.Tensor) => Array.from(new Int32Array(Float32Array.from(t.dataSync()).buffer));
        results.push([...bitsOf(y), ...bitsOf(x.grad!)]);
      }
      for (const r of results.slice(1)) expect(r, name).toEqual(results[0]);
    }
    sp.setNumThreads(1);
  });

  it('without shared memory (a page that is not cross-origin isolated) the module runs on one thread, same bits', () => {
    // A child process where the CPU backend cannot share its memory: the pooling module's
    // unshared variant is registered instead and computes the same values.
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const run = `const [sp, L] = [await import('@softpool/tensor'), await import('${src}')];
      // Registering the module restarts running workers: pool once, then wait for them.
      L.maxPool2d(sp.zeros([1, 1, 2, 2]), { kernelSize: 2 });
      const threads = await sp.threadsReady();
      sp.manualSeed(5);
      const x = sp.randn([4, 8, 28, 28]).requiresGrad_();
      const y = L.softPool2d(x, { kernelSize: 2 });
      y.backward(sp.cos(y.detach()));
      const m = L.maxPool2d(x.detach(), { kernelSize: 3, stride: 2, padding: 1 });
      const h = (t) => Array.from(new Int32Array(Float32Array.from(t.dataSync()).buffer)).reduce((a, v) => (a * 31 + v) | 0, 7);
      console.log(sp.cpuInfo().sharedMemory + '/' + threads, h(y), h(x.grad), h(m));`;
    const hashes = (isolated: boolean) => {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions=@softpool/source',
          '--input-type=module',
          '-e',
          `globalThis.crossOriginIsolated = ${isolated}; ${run}`,
        ],
        {
          encoding: 'utf8',
          timeout: 60_000,
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          env: { ...process.env, SOFTPOOL_NUM_THREADS: '2' },
        },
      );
      expect(r.status, r.stderr.slice(-1500)).toBe(0);
      return r.stdout.trim().split('\n').at(-1)!.split(' ');
    };
    const [sharedOff, ...plain] = hashes(false);
    const [sharedOn, ...threaded] = hashes(true);
    expect([sharedOff, sharedOn]).toEqual(['false/1', 'true/2']);
    expect(plain).toEqual(threaded);
  }, 120_000);
});

describe('memory', () => {
  it('the SoftPool graph keeps only the input, the output and two statistics per window', () => {
    /** Bytes a SoftPool call adds, in units of its output's bytes (all released with the output). */
    const grow = (f: () => sp.Tensor) => {
      const before = sp.memory().bytes;
      const y = f();
      const units = (sp.memory().bytes - before) / (y.size * 4);
      y.dispose();
      expect(sp.memory().bytes).toBe(before);
      return units;
    };
    const x = values([2, 3, 8, 8], 1, { dtype: 'float32' });
    const k3 = { kernelSize: 3, stride: 2, padding: 1 };
    // Saved handles share memory with x and y: the new bytes are y + window max + sum of exps ...
    expect(grow(() => L.softPool2d(x, k3))).toBe(3);
    // ... none without a backward to feed ...
    expect(grow(() => noGrad(() => L.softPool2d(x, k3)))).toBe(1);
    expect(grow(() => L.softPool2d(x.detach(), k3))).toBe(1);
    // ... and none for kernel-2 stride-2 windows, whose float32 backward rebuilds them (1-D to 3-D).
    expect(grow(() => L.softPool2d(x, { kernelSize: 2 }))).toBe(1);
    const x1 = values([2, 3, 64], 1, { dtype: 'float32' });
    const x3 = values([1, 2, 4, 4, 32], 1, { dtype: 'float32' });
    expect(grow(() => L.softPool1d(x1, { kernelSize: 2 }))).toBe(1);
    expect(grow(() => L.softPool3d(x3, { kernelSize: 2 }))).toBe(1);
    expect(grow(() => L.softPool3d(x3, { kernelSize: 2, stride: [1, 2, 2] }))).toBe(1);
    expect(grow(() => L.softPool3d(x3, { kernelSize: 2, stride: [2, 2, 1] }))).toBe(3);
  });
});
