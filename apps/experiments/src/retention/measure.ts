// The retention measurement: pool each image with one method (kernel k, stride k), resize the
// result back to the image's size, and compare with the original by SSIM and PSNR.
// Pooling runs in float32 (as inside a network); resizing and the metrics in float64.
import { noGrad } from '@softpool/autograd';
import { interpolate, psnr, SoftPool2d, ssim } from '@softpool/layers';
import { createPool, type PoolName } from '@softpool/models';
import { cast, manualSeed, scope, type Tensor } from '@softpool/tensor';

export type Upsample = 'nearest' | 'bilinear';
export const UPSAMPLES: readonly Upsample[] = ['nearest', 'bilinear'];
/** scikit-image's resize orders: order 0 is PyTorch's 'nearest-exact', order 1 is 'bilinear'. */
const MODE = { nearest: 'nearest-exact', bilinear: 'bilinear' } as const;

/**
 * `x` [N, C, H, W] (float64, values in [0, 1]) pooled by `method` with kernel = stride = `kernel`.
 * Learned methods are created from a fixed seed and used at their initial parameters; stochastic
 * ones in evaluation mode (stochastic pooling takes its expectation, S3Pool its fixed grid).
 * `temperature` (SoftPool only) replaces the default T = 1.
 */
export function pooled(x: Tensor, method: PoolName, kernel: number, temperature?: number): Tensor {
  manualSeed(0);
  const m =
    temperature === undefined
      ? createPool(method, { channels: x.shape[1], kernelSize: kernel, stride: kernel })
      : new SoftPool2d(kernel, { stride: kernel, temperature });
  m.eval();
  // Only whole windows: the image cropped to multiples of the kernel (what floor-mode pooling sees
  // anyway; S3Pool requires it).
  const [H, W] = x.shape.slice(2);
  const y = noGrad(() =>
    scope(() => {
      const c = x.narrow(2, 0, H - (H % kernel)).narrow(3, 0, W - (W % kernel));
      return cast(m.forward(cast(c, 'float32')), 'float64');
    }),
  );
  for (const p of m.parameters()) p.dispose();
  return y;
}

/** The image resized back to `x`'s size. */
export function restored(x: Tensor, y: Tensor, upsample: Upsample): Tensor {
  return interpolate(y, { size: x.shape.slice(2), mode: MODE[upsample] });
}

export interface Scores {
  ssim: number[];
  psnr: number[];
}

/** Per-image SSIM and PSNR of `x` against `method`'s pooled images, for both resizings. */
export function retention(
  x: Tensor,
  method: PoolName,
  kernel: number,
  temperature?: number,
): Record<Upsample, Scores> {
  return scope(() => {
    const y = pooled(x, method, kernel, temperature);
    const out = {} as Record<Upsample, Scores>;
    for (const u of UPSAMPLES) {
      const r = restored(x, y, u);
      out[u] = {
        ssim: [...ssim(x, r, { reduction: 'none' }).dataSync()],
        psnr: [...psnr(x, r, { reduction: 'none' }).dataSync()],
      };
    }
    return out;
  });
}
