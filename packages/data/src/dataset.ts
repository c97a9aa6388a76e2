// In-memory image classification datasets: uint8 pixels [N, C, H, W] and int32 labels, as the
// IDX files hold them. Conversion to float (and normalisation) happens per batch in the loader.
import { ArgumentError } from '@softpool/tensor';

export interface ImageDataset {
  /** Pixels in [0, 255], row-major [N, C, H, W]. */
  images: Uint8Array;
  labels: Int32Array;
  /** [C, ...spatial] of one item: [C, H, W] for images, [C, T, H, W] for clips. */
  imageShape: readonly number[];
  numClasses: number;
  /** Class names, when known. */
  classNames?: string[];
}

export function datasetSize(d: ImageDataset): number {
  return d.labels.length;
}

/** Values per item. */
export function itemSize(d: ImageDataset): number {
  return d.imageShape.reduce((a, b) => a * b, 1);
}

/** Checks the arrays agree with each other and with the class count. */
export function checkDataset(d: ImageDataset, what = 'dataset'): ImageDataset {
  const n = itemSize(d);
  if (d.images.length !== d.labels.length * n) {
    throw new ArgumentError(
      `${what}: ${d.images.length} pixel values for ${d.labels.length} items of [${d.imageShape.join(',')}]`,
    );
  }
  for (let i = 0; i < d.labels.length; i++) {
    if (d.labels[i] < 0 || d.labels[i] >= d.numClasses) {
      throw new ArgumentError(`${what}: label ${d.labels[i]} of image ${i} is outside [0, ${d.numClasses})`);
    }
  }
  return d;
}

/** The first `perClass` images of every class (a class-balanced subset, order kept). */
export function balancedSubset(d: ImageDataset, perClass: number): ImageDataset {
  const n = itemSize(d);
  const counts = new Array<number>(d.numClasses).fill(0);
  const pick: number[] = [];
  for (let i = 0; i < d.labels.length; i++) {
    if (counts[d.labels[i]] < perClass) {
      counts[d.labels[i]]++;
      pick.push(i);
    }
  }
  const images = new Uint8Array(pick.length * n);
  for (const [k, src] of pick.entries()) images.set(d.images.subarray(src * n, (src + 1) * n), k * n);
  return { ...d, images, labels: Int32Array.from(pick, (i) => d.labels[i]) };
}

/** The images with indices in [start, end). */
export function sliceDataset(d: ImageDataset, start: number, end: number): ImageDataset {
  const n = itemSize(d);
  return { ...d, images: d.images.subarray(start * n, end * n), labels: d.labels.subarray(start, end) };
}
