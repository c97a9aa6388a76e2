import { existsSync } from 'node:fs';
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as D from '../src/index.js';

function tinyDataset(n = 10): D.ImageDataset {
  const images = Uint8Array.from({ length: n * 16 }, (_, i) => i % 256);
  return {
    images,
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    imageShape: [1, 4, 4],
    numClasses: 3,
  };
}

describe('IDX', () => {
  const valid = D.encodeIdx([2, 2, 2], Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  it('parses valid files, gzipped or not', async () => {
    const a = await D.readIdx(valid);
    expect(a.shape).toEqual([2, 2, 2]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const { gzipSync } = await import('node:zlib');
    const b = await D.readIdx(new Uint8Array(gzipSync(valid)));
    expect(Array.from(b.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('parses big-endian multi-byte types', () => {
    const bytes = new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe]);
    expect(Array.from(D.parseIdx(bytes).data)).toEqual([256, -2]);
  });

  it('rejects corrupt and truncated files with a clear error', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [valid.subarray(0, 3), /too short for an IDX header/],
      [Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), /does not start with the IDX magic/],
      [Uint8Array.from([0, 0, 0x42, 1, 0, 0, 0, 0]), /unknown data type code 0x42/],
      [valid.subarray(0, 10), /truncated inside its header/],
      [valid.subarray(0, valid.length - 1), /is truncated: shape \[2,2,2\] of ubyte needs 24 bytes, got 23/],
      [Uint8Array.from([...valid, 9]), /1 unexpected trailing bytes/],
    ];
    for (const [bytes, msg] of cases) expect(() => D.parseIdx(bytes, 'x')).toThrow(msg);
    const { gzipSync } = await import('node:zlib');
    const gz = new Uint8Array(gzipSync(valid));
    await expect(D.readIdx(gz.subarray(0, gz.length - 6), 'x')).rejects.toThrow(/x is not valid gzip/);
  });
});

describe('Fashion-MNIST', () => {
  it('the embedded subset is class balanced: 10,000 train and 2,000 test images', async () => {
    const train = await D.loadFashionMnist({ split: 'train' });
    const test = await D.loadFashionMnist({ split: 'test' });
    expect(train.labels.length).toBe(10000);
    expect(test.labels.length).toBe(2000);
    expect(train.imageShape).toEqual([1, 28, 28]);
    const counts = new Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    expect(train.classNames?.[9]).toBe('Ankle boot');
  });

  it('loads the full dataset from a directory when it is installed', async () => {
    if (!existsSync(D.DEBIAN_FASHION_MNIST_DIR)) return;
    const test = await D.loadFashionMnist({ split: 'test', dir: D.DEBIAN_FASHION_MNIST_DIR });
    expect(test.labels.length).toBe(10000);
  });

  it('missing directories and corrupt files are clear errors', async () => {
    await expect(D.loadFashionMnist({ split: 'train', dir: '/nonexistent' })).rejects.toThrow(
      /train-images-idx3-ubyte\(\.gz\) not found in \/nonexistent/,
    );
    await expect(D.loadFashionMnist({ split: 'val' as never })).rejects.toThrow(
      "fashion-mnist: split must be 'train' or 'test', got 'val'",
    );
    const img = D.encodeIdx([1, 28, 27], new Uint8Array(28 * 27));
    await expect(D.fashionMnistFromIdx(img, D.encodeIdx([1], new Uint8Array(1)))).rejects.toThrow(
      'fashion-mnist: images must be ubyte [N,28,28], got [1,28,27]',
    );
    const ok = D.encodeIdx([2, 28, 28], new Uint8Array(2 * 784));
    await expect(D.fashionMnistFromIdx(ok, D.encodeIdx([1], new Uint8Array(1)))).rejects.toThrow(
      'fashion-mnist: 1 labels for 2 images',
    );
    await expect(D.fashionMnistFromIdx(ok, D.encodeIdx([2], Uint8Array.from([0, 12])))).rejects.toThrow(
      'fashion-mnist: label 12 of image 1 is outside [0, 10)',
    );
  });
});

describe('DataLoader', () => {
  it('batches, drops the last partial batch on request, and normalises', () => {
    const loader = new D.DataLoader(tinyDataset(10), { batchSize: 4, mean: [0.5], std: [0.25] });
    const batches = [...loader.epoch(0)];
    expect(batches.map((b) => b.x.shape[0])).toEqual([4, 4, 2]);
    expect(batches[0].x.shape).toEqual([4, 1, 4, 4]);
    expect(batches[0].x.dataSync()[1]).toBeCloseTo((1 / 255 - 0.5) / 0.25, 6);
    expect(Array.from(batches[0].y.dataSync())).toEqual([0, 1, 2, 0]);
    expect(new D.DataLoader(tinyDataset(10), { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('shuffling is seeded, differs between epochs, and visits every item once', () => {
    const a = new D.DataLoader(tinyDataset(50), { batchSize: 8, shuffle: true, seed: 3 });
    const b = new D.DataLoader(tinyDataset(50), { batchSize: 8, shuffle: true, seed: 3 });
    expect(Array.from(a.order(1))).toEqual(Array.from(b.order(1)));
    expect(Array.from(a.order(1))).not.toEqual(Array.from(a.order(2)));
    expect([...a.order(0)].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Resuming mid-epoch gives exactly the remaining batches.
    const full = [...a.epoch(4)].map((x) => Array.from(x.x.dataSync()));
    const rest = [...b.epoch(4, 3)].map((x) => Array.from(x.x.dataSync()));
    expect(rest).toEqual(full.slice(3));
  });

  it('augmentation: flips and crops with padding, deterministically', () => {
    const d = tinyDataset(64);
    const plain = new D.DataLoader(d, { batchSize: 64 });
    const aug = new D.DataLoader(d, {
      batchSize: 64,
      augment: { horizontalFlip: true, randomCrop: 1 },
      seed: 5,
    });
    const x0 = plain.assemble(Int32Array.from([0])).x.dataSync();
    const xs = aug
      .assemble(
        Int32Array.from({ length: 64 }, () => 0),
        0,
        0,
      )
      .x.dataSync();
    let changed = 0;
    for (let k = 0; k < 64; k++) if (xs.subarray(k * 16, (k + 1) * 16).some((v, i) => v !== x0[i])) changed++;
    expect(changed).toBeGreaterThan(20);
    expect(Array.from(aug.assemble(Int32Array.from([0, 1]), 3, 7).x.dataSync())).toEqual(
      Array.from(aug.assemble(Int32Array.from([0, 1]), 3, 7).x.dataSync()),
    );
    expect(() => new D.DataLoader(d, { batchSize: 0 })).toThrow(
      'DataLoader: batchSize must be a positive integer, got 0',
    );
    expect(() => new D.DataLoader(d, { batchSize: 1, mean: [0, 0] })).toThrow(
      'DataLoader: mean needs 1 values (one per channel), got 2',
    );
  });

  it('does not leak tensors across an epoch when batches are disposed', () => {
    const loader = new D.DataLoader(tinyDataset(40), { batchSize: 8, shuffle: true });
    const before = sp.memory().tensors;
    for (const { x, y } of loader.epoch(0)) {
      x.dispose();
      y.dispose();
    }
    expect(sp.memory().tensors).toBe(before);
  });
});

describe('moving shapes clips', () => {
  it('are seeded, [1, T, H, W], and the class is the direction of motion', () => {
    const a = D.movingShapes({ count: 40, seed: 1 });
    const b = D.movingShapes({ count: 40, seed: 1 });
    expect(a.imageShape).toEqual([1, 8, 32, 32]);
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
    // The centre of mass moves the labelled way between the first and the last frame.
    const n = 8 * 32 * 32;
    for (let i = 0; i < 40; i++) {
      const com = (t: number) => {
        let sx = 0;
        let sy = 0;
        let m = 0;
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) {
            const v = a.images[i * n + (t * 32 + y) * 32 + x];
            sx += v * x;
            sy += v * y;
            m += v;
          }
        return [sx / m, sy / m];
      };
      const [x0, y0] = com(0);
      const [x1, y1] = com(7);
      const moved = [x1 - x0, x0 - x1, y1 - y0, y0 - y1][a.labels[i]];
      expect(moved).toBeGreaterThan(5);
    }
    const loader = new D.DataLoader(a, { batchSize: 4 });
    expect([...loader.epoch(0)][0].x.shape).toEqual([4, 1, 8, 32, 32]);
  });
});

describe('gzip bombs', () => {
  it('readIdx stops inflating past the size the IDX header declares', async () => {
    const { gzipSync } = await import('node:zlib');
    const { encodeIdx, readIdx } = await import('../src/index.js');
    const bomb = new Uint8Array(16 + 200e6);
    bomb.set(encodeIdx([1, 28, 28], new Uint8Array(784)).subarray(0, 16));
    const gz = gzipSync(bomb);
    const rss = process.memoryUsage().rss;
    await expect(readIdx(gz, 'bomb')).rejects.toThrow(
      'idx: bomb inflates to more than the 800 bytes its IDX header declares',
    );
    expect(process.memoryUsage().rss - rss).toBeLessThan(50e6);
    expect((await readIdx(gzipSync(encodeIdx([3, 2], new Uint8Array(6).fill(9))))).shape).toEqual([3, 2]);
  });
});
