// interpolate, ssim and psnr against scikit-image fixtures (tools/fixtures/images.py), gradient
// checks in float64, errors, and no leaked tensors.
import { readFileSync } from 'node:fs';
import { gradcheck } from '@softpool/autograd';
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import { interpolate, psnr, ssim } from '../src/index.js';
import { values } from './helpers.js';

interface Fixture {
  resize: { input: number[][]; size: [number, number]; order: 0 | 1; output: number[][] }[];
  metrics: { x: number[][] | number[][][]; y: number[][] | number[][][]; ssim: number; psnr: number }[];
}
const fx: Fixture = JSON.parse(readFileSync(new URL('./fixtures/image.json', import.meta.url), 'utf8'));
const f64 = (v: unknown) => sp.tensor(v as number[], { dtype: 'float64' });
const maxDiff = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((v, i) => Math.abs(v - a[i])));

describe('interpolate', () => {
  it("matches scikit-image's resize (order 0: nearest-exact, order 1: bilinear; mode 'edge')", () => {
    for (const c of fx.resize) {
      const x = f64(c.input).reshape([1, 1, c.input.length, c.input[0].length]);
      const y = interpolate(x, { size: c.size, mode: c.order === 0 ? 'nearest-exact' : 'bilinear' });
      expect(y.shape).toEqual([1, 1, ...c.size]);
      expect(maxDiff(y.dataSync(), c.output.flat())).toBeLessThan(1e-12);
    }
  });

  it('follows PyTorch for nearest, scaleFactor and alignCorners', () => {
    const x = f64([1, 2, 3]).reshape([1, 1, 3]);
    // torch: F.interpolate(x, size=5) -> [1,1,2,2,3]; scale_factor=2 linear -> [1,1.25,1.75,2.25,2.75,3]
    expect([...interpolate(x, { size: 5 }).dataSync()]).toEqual([1, 1, 2, 2, 3]);
    expect([...interpolate(x, { scaleFactor: 2, mode: 'linear' }).dataSync()]).toEqual([
      1, 1.25, 1.75, 2.25, 2.75, 3,
    ]);
    expect([...interpolate(x, { size: 5, mode: 'linear', alignCorners: true }).dataSync()]).toEqual([
      1, 1.5, 2, 2.5, 3,
    ]);
    const v = values([2, 3, 2, 3, 4], 3, { requiresGrad: false });
    const t = interpolate(v, { size: [3, 5, 2], mode: 'trilinear' });
    expect(t.shape).toEqual([2, 3, 3, 5, 2]);
    expect(interpolate(v, { size: [2, 3, 4] }).dataSync()).toEqual(v.dataSync());
  });

  it('passes gradcheck in float64 (nearest and linear modes, up and down)', () => {
    const x = values([1, 2, 3, 4]);
    for (const o of [
      { size: [5, 7], mode: 'bilinear' },
      { size: [2, 3], mode: 'bilinear', alignCorners: true },
      { scaleFactor: 1.5, mode: 'nearest' },
    ] as const)
      expect(gradcheck((a: sp.Tensor) => interpolate(a, o), [x]).ok).toBe(true);
  });

  it('rejects bad arguments with its own errors', () => {
    const x = sp.zeros([1, 1, 4, 4]);
    const cases: [() => unknown, RegExp][] = [
      [() => interpolate(x), /give exactly one of size and scaleFactor/],
      [() => interpolate(x, { size: 2, scaleFactor: 2 }), /give exactly one of size and scaleFactor/],
      [() => interpolate(x, { size: [2] }), /size must be a number or 2 numbers/],
      [() => interpolate(x, { size: 2 ** 31 }), /size must hold integers in \[1, 16777216\]/],
      [() => interpolate(x, { size: 0 }), /size must hold integers/],
      [() => interpolate(x, { scaleFactor: 1e9 }), /every size must be in/],
      [() => interpolate(x, { scaleFactor: -1 }), /scaleFactor must be positive/],
      [() => interpolate(x, { size: 2, mode: 'cubic' as never }), /mode must be one of nearest/],
      [
        () => interpolate(x, { size: 2, mode: 'linear' }),
        /mode 'linear' needs 1 spatial axes.*use 'bilinear'/,
      ],
      [() => interpolate(x, { size: 2, alignCorners: true }), /alignCorners applies to linear modes only/],
      [
        () => interpolate(sp.zeros([4, 4]), { size: 2 }),
        /expected \[N, C, \.\.\.1-3 spatial axes\], got \[4,4\]/,
      ],
      [
        () => interpolate(sp.zeros([1, 1, 4], { dtype: 'int32' }), { size: 2 }),
        /expected a float tensor, got int32/,
      ],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
    expect(() => interpolate(x)).toThrow(sp.ArgumentError);
  });
});

describe('ssim and psnr', () => {
  it("match scikit-image's structural_similarity (Gaussian, sigma 1.5) and PSNR within 1e-10", () => {
    for (const c of fx.metrics) {
      const x = f64(c.x);
      const y = f64(c.y);
      expect(Math.abs(ssim(x, y).dataSync()[0] - c.ssim)).toBeLessThan(1e-10);
      expect(Math.abs(psnr(x, y).dataSync()[0] - c.psnr)).toBeLessThan(1e-10);
    }
  });

  it('per image with reduction none; identical images give SSIM 1 and PSNR Infinity', () => {
    const a = values([3, 2, 16, 16], 5, { lo: 0, hi: 1, requiresGrad: false });
    const b = values([3, 2, 16, 16], 6, { lo: 0, hi: 1, requiresGrad: false });
    const per = ssim(a, b, { reduction: 'none' });
    expect(per.shape).toEqual([3]);
    const one = ssim(a.narrow(0, 1, 1), b.narrow(0, 1, 1)).dataSync()[0];
    expect(per.dataSync()[1]).toBeCloseTo(one, 12);
    expect(ssim(a, a).dataSync()[0]).toBeCloseTo(1, 12);
    expect(psnr(a, a).dataSync()[0]).toBe(Number.POSITIVE_INFINITY);
  });

  it('pass gradcheck in float64', () => {
    const a = values([1, 1, 12, 13], 7, { lo: 0, hi: 1 });
    const b = values([1, 1, 12, 13], 8, { lo: 0, hi: 1 });
    expect(gradcheck((x: sp.Tensor, y: sp.Tensor) => ssim(x, y), [a, b]).ok).toBe(true);
    expect(gradcheck((x: sp.Tensor, y: sp.Tensor) => psnr(x, y), [a, b]).ok).toBe(true);
  });

  it('reject bad input with its own errors, and leak nothing', () => {
    const a = sp.zeros([1, 1, 16, 16]);
    const b = sp.ones([1, 1, 16, 16]);
    const before = sp.memory().tensors;
    ssim(a, b).dispose();
    psnr(a, b).dispose();
    ssim(a.reshape([16, 16]), b.reshape([16, 16]), { reduction: 'none' }).dispose();
    expect(sp.memory().tensors).toBe(before + 2); // the two reshaped views above
    const cases: [() => unknown, RegExp][] = [
      [
        () => ssim(a, sp.zeros([1, 1, 16, 15])),
        /expected two images of one shape.*\[1,1,16,16\] and \[1,1,16,15\]/,
      ],
      [() => ssim(sp.zeros([8, 8]), sp.zeros([8, 8])), /images \[8,8\] are smaller than the 11x11 window/],
      [() => ssim(a, a, { dataRange: 0 }), /dataRange must be a positive number, got 0/],
      [() => ssim(a, a, { reduction: 'sum' as never }), /reduction must be 'mean' or 'none'/],
      [() => psnr(a, sp.zeros([1, 1, 16, 16], { dtype: 'float64' })), /two float tensors of one dtype/],
      [() => psnr(a, 3 as never), /psnr: y must be a Tensor|psnr/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});
