#!/usr/bin/env node
// Builds the class-balanced Fashion-MNIST subset embedded in @softpool/data: the first 1,000
// training and 200 test images of each class from the full dataset (Debian's
// dataset-fashion-mnist), written as gzipped IDX files to packages/data/assets/.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';

function idx(bytes) {
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { shape, data: bytes.subarray(4 + 4 * rank) };
}

function encode(shape, data) {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  for (const [i, d] of shape.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(data, 4 + 4 * shape.length);
  return gzipSync(out, { level: 9 });
}

for (const [split, prefix, perClass] of [
  ['train', 'train', 1000],
  ['test', 't10k', 200],
]) {
  const images = idx(gunzipSync(readFileSync(join(src, `${prefix}-images-idx3-ubyte.gz`))));
  const labels = idx(gunzipSync(readFileSync(join(src, `${prefix}-labels-idx1-ubyte.gz`))));
  const counts = new Array(10).fill(0);
  const pick = [];
  for (let i = 0; i < labels.data.length; i++) if (counts[labels.data[i]]++ < perClass) pick.push(i);
  const img = new Uint8Array(pick.length * 784);
  for (const [k, p] of pick.entries()) img.set(images.data.subarray(p * 784, (p + 1) * 784), k * 784);
  const lab = Uint8Array.from(pick, (p) => labels.data[p]);
  const out = join(root, 'packages', 'data', 'assets', `fashion-mnist-subset-${split}-`);
  writeFileSync(`${out}images.idx.gz`, encode([pick.length, 28, 28], img));
  writeFileSync(`${out}labels.idx.gz`, encode([pick.length], lab));
  console.log(`${split}: ${pick.length} images`);
}
