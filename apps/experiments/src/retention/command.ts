// `pnpm experiments retention`: how much of an image each pooling keeps (SSIM, PSNR), on photos
// (luminance and RGB) and on the Fashion-MNIST test images; writes the results file and the figure.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist, sliceDataset } from '@softpool/data';
import { POOLS, type PoolName } from '@softpool/models';
import { scope, tensor } from '@softpool/tensor';
import type { Command } from '../commands.js';
import { intFlag, listFlag, parseFlags } from '../flags.js';
import { writeAtomic } from '../results.js';
import { machine } from '../substitution/runner.js';
import { retentionFigure } from './figure.js';
import { cropPhoto, loadImage, luminance, type Photo, photoTensor } from './images.js';
import { retention, type Scores, UPSAMPLES, type Upsample } from './measure.js';

export const RETENTION_RESULTS = 'apps/experiments/results/retention.json';
export const RETENTION_FIGURE = 'docs/images/experiments/retention-figure.png';
const PHOTO_DIR = 'apps/experiments/assets/photos';
const KERNELS = [2, 3];

export interface RetentionRow {
  method: PoolName;
  kernel: number;
  upsample: Upsample;
  ssim: Stat;
  psnr: Stat;
}
export interface Stat {
  mean: number;
  std: number;
  /** Per image (photo sets only). */
  values?: number[];
}
export interface RetentionSet {
  set: 'photos' | 'fashion-mnist';
  colour: 'luminance' | 'rgb';
  images: string[] | number;
  rows: RetentionRow[];
  /** SoftPool at other temperatures (T = 1/255 weighs pixels as if they were in 0-255). */
  temperatures?: (RetentionRow & { temperature: number })[];
}
export interface RetentionResults {
  createdAt: string;
  machine: ReturnType<typeof machine>;
  note: string;
  sets: RetentionSet[];
}

function stat(v: number[], keep: boolean): Stat {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  return keep ? { mean, std, values: v } : { mean, std };
}

/** SoftPool temperatures of the scale study: T = 1/255 is SoftPool on pixels in 0-255. */
export const TEMPERATURES = [1, 0.1, 1 / 255];

/**
 * Rows of one image set: every method x kernel x resizing, scores pooled over the batches; with
 * `temperatures`, SoftPool at each of them instead (one row per temperature).
 */
function measureSet(
  batches: Iterable<() => ReturnType<typeof photoTensor>>,
  methods: readonly PoolName[],
  keepValues: boolean,
  temperatures?: readonly number[],
): (RetentionRow & { temperature?: number })[] {
  const acc = new Map<string, Scores>();
  const variants: [PoolName, number | undefined][] = temperatures
    ? temperatures.map((t) => ['soft', t])
    : methods.map((m) => [m, undefined]);
  for (const make of batches) {
    const x = make();
    for (const [method, temperature] of variants)
      for (const kernel of KERNELS) {
        const r = retention(x, method, kernel, temperature);
        for (const u of UPSAMPLES) {
          const key = `${method}/${kernel}/${u}/${temperature ?? ''}`;
          const a = acc.get(key) ?? { ssim: [], psnr: [] };
          a.ssim.push(...r[u].ssim);
          a.psnr.push(...r[u].psnr);
          acc.set(key, a);
        }
      }
    x.dispose();
  }
  return [...acc].map(([key, s]) => {
    const [method, kernel, upsample, temperature] = key.split('/');
    return {
      method: method as PoolName,
      kernel: Number(kernel),
      upsample: upsample as Upsample,
      ssim: stat(s.ssim, keepValues),
      psnr: stat(s.psnr, keepValues),
      ...(temperature ? { temperature: Number(temperature) } : {}),
    };
  });
}

/** The ranked table (best SSIM first) of one set, kernel and resizing. */
export function rankedTable(set: RetentionSet, kernel: number, upsample: Upsample): string {
  const rows = set.rows
    .filter((r) => r.kernel === kernel && r.upsample === upsample)
    .sort((a, b) => b.ssim.mean - a.ssim.mean);
  const head = '| rank | method | SSIM (mean ± std) | PSNR dB (mean ± std) |\n|---:|---|---:|---:|';
  return [
    head,
    ...rows.map(
      (r, i) =>
        `| ${i + 1} | ${r.method} | ${r.ssim.mean.toFixed(4)} ± ${r.ssim.std.toFixed(4)} | ${r.psnr.mean.toFixed(2)} ± ${r.psnr.std.toFixed(2)} |`,
    ),
  ].join('\n');
}

export const retentionCommand: Command = {
  summary: 'information kept by each pooling: SSIM/PSNR on photos and Fashion-MNIST, and the figure',
  help: `Usage: pnpm experiments retention [options]

Pools every image with every method (kernel 2 and 3, stride = kernel), resizes the result back to
the image's size (nearest and bilinear; bilinear is the headline), and compares it with the original
by SSIM (Gaussian window, sigma 1.5, scikit-image's settings) and PSNR, on the photos' luminance and
RGB channels and on the Fashion-MNIST test images. Learned methods run at their initial parameters.

Options:
  --images LIST      comma-separated PNG/JPEG files (default: the photos in ${PHOTO_DIR})
  --data DIR         the full Fashion-MNIST (default ${DEBIAN_FASHION_MNIST_DIR})
  --fashion N        use the first N Fashion-MNIST test images (default: all 10,000)
  --methods LIST     comma-separated subset of the methods (default: all)
  --quick            a 96x96 crop of the first photo, 100 embedded Fashion-MNIST images, no figure
  --out FILE         results file (default ${RETENTION_RESULTS})
  --figure FILE      figure PNG (default ${RETENTION_FIGURE})
  -h, --help         show this help`,
  async run(argv, ctx) {
    const f = parseFlags(argv, {
      images: { type: 'string' },
      data: { type: 'string' },
      fashion: { type: 'string' },
      methods: { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      figure: { type: 'string' },
    });
    if (f.help) {
      ctx.log(this.help);
      return 0;
    }
    const quick = f.quick === true;
    const methods = listFlag('methods', f.methods, POOLS) ?? POOLS;
    const fashionN = intFlag('fashion', f.fashion, 1, 1e6) ?? (quick ? 100 : undefined);
    let files: string[];
    if (typeof f.images === 'string') files = f.images.split(',').map((p) => ctx.path(p.trim()));
    else {
      const dir = ctx.root(PHOTO_DIR);
      files = (await readdir(dir))
        .filter((n) => n.endsWith('.png'))
        .sort()
        .map((n) => join(dir, n));
      if (quick) files = files.slice(0, 1);
    }
    let photos: Photo[] = [];
    for (const file of files) photos.push(await loadImage(file));
    if (quick) photos = photos.map((p) => cropPhoto(p, 96));
    const dir = f.data ? ctx.path(String(f.data)) : quick ? undefined : DEBIAN_FASHION_MNIST_DIR;
    let test = await loadFashionMnist({ split: 'test', dir }).catch((e: Error) => {
      throw new Error(
        `${e.message}${dir ? " (install Debian's dataset-fashion-mnist or pass --data DIR)" : ''}`,
      );
    });
    if (fashionN) test = sliceDataset(test, 0, Math.min(fashionN, test.labels.length));

    const sets: RetentionSet[] = [];
    const t0 = performance.now();
    const photoSet = (colour: 'luminance' | 'rgb', list: Photo[]) => {
      ctx.log(`photos (${colour}): ${list.map((p) => p.name).join(', ')}`);
      const batches = list.map((p) => () => photoTensor(p));
      sets.push({
        set: 'photos',
        colour,
        images: list.map((p) => p.name),
        rows: measureSet(batches, methods, true),
        temperatures: measureSet(batches, [], true, TEMPERATURES) as RetentionSet['temperatures'],
      });
    };
    photoSet('luminance', photos.map(luminance));
    const rgb = photos.filter((p) => p.channels === 3);
    if (rgb.length > 0) photoSet('rgb', rgb);
    if (ctx.shouldStop()) return 130;
    const n = test.labels.length;
    ctx.log(`fashion-mnist test images: ${n}`);
    const chunk = 1000;
    const fashion = Array.from({ length: Math.ceil(n / chunk) }, (_, b) => () => {
      const lo = b * chunk;
      const hi = Math.min(n, lo + chunk);
      const px = Float64Array.from(test.images.subarray(lo * 784, hi * 784), (v) => v / 255);
      return scope(() => tensor(px, { dtype: 'float64', shape: [hi - lo, 1, 28, 28] }));
    });
    sets.push({
      set: 'fashion-mnist',
      colour: 'luminance',
      images: n,
      rows: measureSet(fashion, methods, false),
      temperatures: measureSet(fashion, [], false, TEMPERATURES) as RetentionSet['temperatures'],
    });
    ctx.log(`measured in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const results: RetentionResults = {
      createdAt: new Date().toISOString(),
      machine: machine(),
      note: 'pooling in float32, resizing and metrics in float64; learned methods at their initial parameters (seed 0); stochastic methods in evaluation mode',
      sets,
    };
    const out = f.out
      ? ctx.path(String(f.out))
      : ctx.root(quick ? 'runs/experiments-quick/retention.json' : RETENTION_RESULTS);
    await mkdir(dirname(out), { recursive: true });
    await writeAtomic(out, `${JSON.stringify(results, null, 1)}\n`);
    ctx.log(`wrote ${out}`);
    for (const s of sets) {
      ctx.log(`\n${s.set} (${s.colour}), kernel 2, bilinear:`);
      ctx.log(rankedTable(s, 2, 'bilinear'));
    }
    if (!quick || f.figure) {
      const fig = f.figure ? ctx.path(String(f.figure)) : ctx.root(RETENTION_FIGURE);
      const photo = photos.find((p) => p.name === 'astronaut') ?? photos[0];
      const crop: [number, number, number] =
        photo.name === 'astronaut' ? [30, 150, 192] : [0, 0, Math.min(192, photo.height, photo.width)];
      const png = retentionFigure(photo, methods, {
        crop,
        // The astronaut's eye; elsewhere the top-left quarter.
        detail:
          photo.name === 'astronaut' ? [62, 40, 24] : [crop[2] / 4, crop[2] / 4, Math.floor(crop[2] / 8)],
        kernel: 2,
        columns: 7,
      });
      await mkdir(dirname(fig), { recursive: true });
      await writeFile(fig, png);
      ctx.log(`wrote ${fig}`);
    }
    return 0;
  },
};
