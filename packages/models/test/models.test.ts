import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as M from '../src/index.js';

describe('models', () => {
  const x = sp.randn([2, 1, 28, 28]);
  for (const name of ['lenet5', 'vgg', 'resnet20']) {
    for (const pool of M.POOLS) {
      it(`${name} with ${pool} pooling gives [N, 10] logits and gradients for every parameter`, () => {
        sp.manualSeed(1);
        const model = M.createModel(name, { pool });
        const y = model.forward(x);
        expect(y.shape).toEqual([2, 10]);
        expect(y.dataSync().every(Number.isFinite)).toBe(true);
        if (name === 'lenet5') {
          y.sum().backward();
          for (const [n, p] of model.namedParameters()) expect([n, p.grad !== null]).toEqual([n, true]);
        }
      });
    }
  }

  it('the 3-D CNN takes clips [N, 1, T, H, W] with the N-d poolings and refuses 2-D-only ones', () => {
    const clip = sp.randn([2, 1, 8, 32, 32]);
    for (const pool of ['max', 'avg', 'soft', 'lp', 'edscw', 'ada'] as const) {
      expect(M.createModel('cnn3d', { pool }).forward(clip).shape).toEqual([2, 4]);
    }
    expect(() => M.createModel('cnn3d', { pool: 'gated' })).toThrow(
      "createPool: 'gated' pooling exists for 2-D inputs only; for 3-D use one of max, avg, soft, lp, edscw, ada",
    );
  });

  it('parameter counts (listed in the README) and clear errors for unknown names', () => {
    const counts = Object.fromEntries(
      ['lenet5', 'vgg', 'resnet20', 'cnn3d'].map((n) => [
        n,
        M.createModel(n, { pool: 'soft' }).numParameters(),
      ]),
    );
    expect(counts).toEqual({ lenet5: 61706, vgg: 66394, resnet20: 272186, cnn3d: 3788 });
    expect(() => M.createModel('alexnet')).toThrow(
      "createModel: unknown model 'alexnet'; choose one of lenet5, vgg, resnet20, cnn3d",
    );
    expect(() => M.createPool('median' as never, { channels: 1 })).toThrow(
      /createPool: unknown pooling 'median'/,
    );
  });
});
