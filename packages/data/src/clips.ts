// A synthetic video dataset for 3-D CNNs: short clips of one shape moving across a dark frame.
// The class is the direction of motion (right, left, down, up), so it can only be read from time,
// not from any single frame. Seeded: the same seed gives the same clips.
import { ArgumentError, Generator, rand, randn } from '@softpool/tensor';
import type { ImageDataset } from './dataset.js';

export interface MovingShapesOptions {
  count: number;
  frames?: number;
  size?: number;
  seed?: number;
  /**
   * Standard deviation of Gaussian pixel noise added to every frame (pixel units, 0-255; the
   * result is rounded and clamped). Default 0. Noise makes the task hard enough that models differ.
   */
  noise?: number;
}

export const MOVING_SHAPES_CLASSES = ['right', 'left', 'down', 'up'];

/**
 * Clips as a dataset of [1, frames, size, size] "images" (uint8 pixels), labels 0..3.
 * @example const clips = movingShapes({ count: 512, seed: 1 });
 */
export function movingShapes({
  count,
  frames = 8,
  size = 32,
  seed = 0,
  noise = 0,
}: MovingShapesOptions): ImageDataset {
  if (!Number.isInteger(count) || count <= 0)
    throw new ArgumentError(`movingShapes: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(frames) || frames < 2)
    throw new ArgumentError(`movingShapes: frames must be an integer >= 2, got ${frames}`);
  if (!Number.isInteger(size) || size < 12)
    throw new ArgumentError(`movingShapes: size must be an integer >= 12, got ${size}`);
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0 || noise > 255)
    throw new ArgumentError(`movingShapes: noise must be a number in [0, 255], got ${noise}`);
  const r = rand([count * 6], { generator: new Generator(seed), dtype: 'float64', backend: 'cpu' });
  const u = r.dataSync();
  r.dispose();
  const n = frames * size * size;
  const images = new Uint8Array(count * n);
  const labels = new Int32Array(count);
  const speed = Math.max(1, Math.floor((size - 8) / frames));
  for (let i = 0; i < count; i++) {
    const label = Math.floor(u[6 * i] * 4);
    const shape = Math.floor(u[6 * i + 1] * 3); // square, disc, cross
    const half = 2 + Math.floor(u[6 * i + 2] * 2);
    const travel = speed * (frames - 1);
    const lo = half;
    const hi = size - half - 1;
    // Start so the whole path stays inside the frame.
    const along = lo + Math.floor(u[6 * i + 3] * Math.max(1, hi - lo - travel));
    const across = lo + Math.floor(u[6 * i + 4] * Math.max(1, hi - lo));
    const bright = 160 + Math.floor(u[6 * i + 5] * 95);
    labels[i] = label;
    for (let t = 0; t < frames; t++) {
      const pos = label % 2 === 0 ? along + speed * t : along + travel - speed * t;
      const [cx, cy] = label < 2 ? [pos, across] : [across, pos];
      for (let dy = -half; dy <= half; dy++)
        for (let dx = -half; dx <= half; dx++) {
          const inside =
            shape === 0 || (shape === 1 ? dx * dx + dy * dy <= half * half : dx === 0 || dy === 0);
          if (inside) images[i * n + (t * size + cy + dy) * size + cx + dx] = bright;
        }
    }
  }
  if (noise > 0) {
    // A separate stream, so the clean clips are the same with and without noise.
    const g = new Generator(seed + 0x9e3779b9);
    for (let i = 0; i < count; i++) {
      const z = randn([n], { generator: g, backend: 'cpu' });
      const zs = z.dataSync();
      z.dispose();
      for (let j = 0; j < n; j++) {
        const v = Math.round(images[i * n + j] + noise * zs[j]);
        images[i * n + j] = Math.min(255, Math.max(0, v));
      }
    }
  }
  return {
    images,
    labels,
    imageShape: [1, frames, size, size],
    numClasses: 4,
    classNames: MOVING_SHAPES_CLASSES,
  };
}
