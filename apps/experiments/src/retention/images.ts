// Image files in and out: PNG (pngjs) and JPEG (jpeg-js) decoded to float planes in [0, 1],
// luminance by scikit-image's rgb2gray weights, and PNG encoding of float planes.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Tensor, tensor } from '@softpool/tensor';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export class ImageError extends Error {}

/** An image as float64 planes in [0, 1]: [C, H, W] with C = 1 (grey) or 3 (RGB). */
export interface Photo {
  name: string;
  channels: 1 | 3;
  height: number;
  width: number;
  /** Row-major [C, H, W]. */
  data: Float64Array;
}

/** Decodes PNG or JPEG bytes (RGBA from both decoders; alpha is dropped). */
export function decodeImage(bytes: Uint8Array, name: string): Photo {
  let rgba: { width: number; height: number; data: Uint8Array };
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) rgba = PNG.sync.read(Buffer.from(bytes));
    else if (bytes[0] === 0xff && bytes[1] === 0xd8)
      rgba = jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 512 });
    else throw new Error('not a PNG or JPEG file');
  } catch (e) {
    throw new ImageError(`cannot decode image ${name}: ${(e as Error).message}`);
  }
  const { width, height, data } = rgba;
  const n = width * height;
  let grey = true;
  for (let i = 0; i < n && grey; i++)
    grey = data[4 * i] === data[4 * i + 1] && data[4 * i] === data[4 * i + 2];
  const channels = grey ? 1 : 3;
  const out = new Float64Array(channels * n);
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) out[c * n + i] = data[4 * i + c] / 255;
  return { name, channels, height, width, data: out };
}

export async function loadImage(path: string): Promise<Photo> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new ImageError(
      `cannot read image ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return decodeImage(bytes, basename(path).replace(/\.(png|jpe?g)$/i, ''));
}

/** scikit-image's rgb2gray: 0.2125 R + 0.7154 G + 0.0721 B (grey images unchanged). */
export function luminance(p: Photo): Photo {
  if (p.channels === 1) return p;
  const n = p.width * p.height;
  const d = p.data;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.2125 * d[i] + 0.7154 * d[n + i] + 0.0721 * d[2 * n + i];
  return { ...p, channels: 1, data: out };
}

/** [1, C, H, W] tensor of a photo. */
export function photoTensor(p: Photo, dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return tensor(p.data, { dtype, shape: [1, p.channels, p.height, p.width] });
}

/** PNG bytes of float planes [C, H, W] in [0, 1] (C = 1 or 3), clamped and rounded. */
export function encodePng(data: ArrayLike<number>, channels: number, height: number, width: number): Buffer {
  const png = new PNG({ width, height });
  const n = width * height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = data[(channels === 1 ? 0 : c) * n + i];
      png.data[4 * i + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** The centred size x size crop of a photo (smaller photos are kept whole). */
export function cropPhoto(p: Photo, size: number): Photo {
  const h = Math.min(size, p.height);
  const w = Math.min(size, p.width);
  const top = (p.height - h) >> 1;
  const left = (p.width - w) >> 1;
  const data = new Float64Array(p.channels * h * w);
  for (let c = 0; c < p.channels; c++)
    for (let y = 0; y < h; y++) {
      const src = c * p.height * p.width + (top + y) * p.width + left;
      data.set(p.data.subarray(src, src + w), c * h * w + y * w);
    }
  return { ...p, height: h, width: w, data };
}
