// Fashion-MNIST (Zalando Research, MIT licence): 28x28 grey images of 10 clothing classes. By
// default a class-balanced subset shipped with this package (10,000 train / 2,000 test images) is
// used, so nothing needs downloading; `dir` points at the full dataset (Debian's
// dataset-fashion-mnist installs it under /usr/share/datasets/fashion-mnist).
import { ArgumentError } from '@softpool/tensor';
import { checkDataset, type ImageDataset } from './dataset.js';
import { IdxError, readIdx } from './idx.js';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's dataset-fashion-mnist package puts the full dataset. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export type Split = 'train' | 'test';

const FILES: Record<Split, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

async function readFile(path: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ArgumentError(`fashion-mnist: cannot read ${path} (${code ?? (e as Error).message})`);
  }
}

/** The first of `names` that exists in `dir` (plain or .gz). */
async function locate(dir: string, name: string): Promise<string> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  for (const candidate of [`${name}.gz`, name, name.replace(/-idx(\d)-/, '.idx$1-')]) {
    const p = join(dir, candidate);
    try {
      await fs.access(p);
      return p;
    } catch {}
  }
  throw new ArgumentError(
    `fashion-mnist: ${name}(.gz) not found in ${dir}; expected the four IDX files of the dataset`,
  );
}

/** Builds a dataset from IDX image and label bytes (gzipped or not), validating both. */
export async function fashionMnistFromIdx(
  imageBytes: Uint8Array,
  labelBytes: Uint8Array,
  what = 'fashion-mnist',
): Promise<ImageDataset> {
  const images = await readIdx(imageBytes, `${what} images`);
  const labels = await readIdx(labelBytes, `${what} labels`);
  if (
    images.shape.length !== 3 ||
    images.shape[1] !== 28 ||
    images.shape[2] !== 28 ||
    !(images.data instanceof Uint8Array)
  ) {
    throw new IdxError(`${what}: images must be ubyte [N,28,28], got [${images.shape.join(',')}]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new IdxError(`${what}: ${labels.shape[0]} labels for ${images.shape[0]} images`);
  }
  return checkDataset(
    {
      images: images.data,
      labels: Int32Array.from(labels.data),
      imageShape: [1, 28, 28],
      numClasses: 10,
      classNames: FASHION_MNIST_CLASSES,
    },
    what,
  );
}

export interface FashionMnistOptions {
  split: Split;
  /** Directory with the dataset's IDX files (.gz or not); default: the embedded subset. */
  dir?: string;
}

/**
 * Loads Fashion-MNIST (Node). Corrupt or truncated files give a clear error.
 * @example const train = await loadFashionMnist({ split: 'train' });
 */
export async function loadFashionMnist({ split, dir }: FashionMnistOptions): Promise<ImageDataset> {
  if (split !== 'train' && split !== 'test')
    throw new ArgumentError(`fashion-mnist: split must be 'train' or 'test', got '${split}'`);
  if (dir) {
    // One after the other, so a directory missing both files always names the images first
    // (Promise.all rejects with whichever lookup fails first in time).
    const img = await locate(dir, FILES[split][0]);
    const lab = await locate(dir, FILES[split][1]);
    return fashionMnistFromIdx(await readFile(img), await readFile(lab), `fashion-mnist ${split} (${dir})`);
  }
  const { fileURLToPath } = await import('node:url');
  const base = new URL(`../assets/fashion-mnist-subset-${split}-`, import.meta.url);
  const [img, lab] = ['images.idx.gz', 'labels.idx.gz'].map((s) =>
    fileURLToPath(new URL(`${base.href}${s}`)),
  );
  return fashionMnistFromIdx(await readFile(img), await readFile(lab), `embedded fashion-mnist ${split}`);
}
