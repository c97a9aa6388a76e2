// The pooling lab: every pooling method applied to a photo (luminance, on the CPU of this page),
// upsampled back for viewing, with its SSIM and PSNR against the original — the same functions
// (`ssim`, `psnr`, `interpolate`) as the retention experiment. Hovering the photo shows SoftPool's
// weights over the window under the pointer; the temperature slider moves SoftPool between
// average-like (high T) and max-like (low T).

import { noGrad } from '@softpool/autograd';
import { interpolate, type Module, psnr, SoftPool2d, ssim } from '@softpool/layers';
import { createPool, POOLS } from '@softpool/models';
import { manualSeed, scope, type Tensor, tensor } from '@softpool/tensor';
import { el, field, select } from '../dom.js';

const PHOTOS = ['astronaut', 'camera', 'chelsea', 'coffee', 'rocket'];
const photoUrl = (name: string) =>
  new URL(`../../../experiments/assets/photos/${name}.png`, import.meta.url).href;
/** Larger photos are scaled down first: 13 methods on a 256x256 image take well under a second. */
const MAX_SIDE = 256;

interface Plane {
  data: Float32Array;
  width: number;
  height: number;
}

export function labPanel(root: HTMLElement): void {
  const photo = select(
    'Photo',
    'lab-photo',
    PHOTOS.map((p) => [p, p]),
  );
  const kernel = select('Kernel', 'lab-kernel', [
    ['2', '2'],
    ['3', '3'],
  ]);
  const stride = select('Stride', 'lab-stride', [
    ['2', '2'],
    ['1', '1'],
    ['3', '3'],
  ]);
  const temperature = field('SoftPool temperature (log10 T)', 'lab-temperature', 'range', '0', {
    min: '-3',
    max: '1',
    step: '0.1',
  });
  const temperatureText = el('output', { for: 'lab-temperature', id: 'lab-temperature-value' }, 'T = 1');
  const file = el('input', { type: 'file', id: 'lab-file', accept: 'image/*' }) as HTMLInputElement;
  const status = el('p', { class: 'stats', id: 'lab-status', role: 'status' });
  const original = el('canvas', {
    id: 'lab-original',
    tabindex: '0',
    'aria-label':
      "The photo: hover it, or focus it and use the arrow keys, to see SoftPool's weights over a window",
  }) as HTMLCanvasElement;
  const weights = el('canvas', {
    id: 'lab-weights',
    width: '3',
    height: '3',
    'aria-label': "SoftPool's weights over the window under the pointer",
  }) as HTMLCanvasElement;
  const weightsText = el('p', { class: 'stats', id: 'lab-weights-text' }, 'Hover the photo.');
  const grid = el('div', { class: 'lab-grid', id: 'lab-grid' });
  root.append(
    el(
      'div',
      { class: 'controls' },
      photo.label,
      el('label', { for: 'lab-file' }, 'Or your own image', file),
      kernel.label,
      stride.label,
      temperature.label,
      temperatureText,
    ),
    status,
    el(
      'div',
      { class: 'grid' },
      el('div', { class: 'card' }, el('h2', {}, 'Original (luminance)'), original),
      el('div', { class: 'card' }, el('h2', {}, 'SoftPool weights under the pointer'), weights, weightsText),
    ),
    grid,
  );
  original.style.width = '100%';
  original.style.imageRendering = 'pixelated';
  weights.style.width = '120px';
  weights.style.imageRendering = 'pixelated';

  let plane: Plane | undefined;
  const T = () => 10 ** Number(temperature.input.value);

  const render = () => {
    if (!plane) return;
    const t0 = performance.now();
    const results = poolAll(plane, Number(kernel.input.value), Number(stride.input.value), T());
    grid.replaceChildren(
      ...results.map((r) =>
        el(
          'figure',
          { 'data-method': r.method },
          planeCanvas(r.pooled),
          el('figcaption', {}, `${r.method}: SSIM ${r.ssim.toFixed(4)} · PSNR ${r.psnr.toFixed(2)} dB`),
        ),
      ),
    );
    status.textContent = `${results.length} methods, kernel ${kernel.input.value}, stride ${stride.input.value}, on ${plane.width}x${plane.height} in ${(performance.now() - t0).toFixed(0)} ms (learned methods at their initial parameters)`;
    root.dataset.rendered = String(results.length);
  };

  const load = async (src: string | Blob) => {
    try {
      plane = await decode(src);
      drawPlane(original, plane);
      render();
    } catch (e) {
      status.textContent = `Cannot read that image: ${(e as Error).message}`;
    }
  };

  // The window under the pointer, or moved with the arrow keys when the photo has focus.
  const at = { x: 0, y: 0 };
  const inspect = (x: number, y: number) => {
    if (!plane) return;
    const k = Number(kernel.input.value);
    at.x = Math.min(plane.width - k, Math.max(0, x));
    at.y = Math.min(plane.height - k, Math.max(0, y));
    showWeights(weights, weightsText, plane, at.x, at.y, k, T());
  };
  original.addEventListener('pointermove', (e) => {
    if (!plane) return;
    const r = original.getBoundingClientRect();
    inspect(
      Math.floor(((e.clientX - r.left) / r.width) * plane.width),
      Math.floor(((e.clientY - r.top) / r.height) * plane.height),
    );
  });
  const MOVES: Record<string, [number, number]> = {
    ArrowLeft: [-1, 0],
    ArrowRight: [1, 0],
    ArrowUp: [0, -1],
    ArrowDown: [0, 1],
  };
  original.addEventListener('keydown', (e) => {
    const move = MOVES[e.key];
    if (!move) return;
    e.preventDefault();
    const step = Number(stride.input.value);
    inspect(at.x + move[0] * step, at.y + move[1] * step);
  });
  photo.input.addEventListener('change', () => load(photoUrl(photo.input.value)));
  file.addEventListener('change', () => file.files?.[0] && load(file.files[0]));
  for (const f of [kernel, stride]) f.input.addEventListener('change', render);
  temperature.input.addEventListener('input', () => {
    temperatureText.textContent = `T = ${T().toPrecision(2)}`;
  });
  temperature.input.addEventListener('change', render);
  root.addEventListener('dragover', (e) => e.preventDefault());
  root.addEventListener('drop', (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void load(f);
  });
  void load(photoUrl(PHOTOS[0]));
}

interface Result {
  method: string;
  pooled: Plane;
  ssim: number;
  psnr: number;
}

/** Every method on the plane: pooled, upsampled bilinearly to the original size, compared. */
function poolAll(p: Plane, k: number, s: number, temperature: number): Result[] {
  return noGrad(() =>
    scope(() => {
      const x = tensor(p.data, { shape: [1, 1, p.height, p.width] });
      return POOLS.map((method) => {
        manualSeed(0); // learned methods start from the same parameters on every render
        const pool: Module =
          method === 'soft'
            ? new SoftPool2d({ kernelSize: k, stride: s, temperature })
            : createPool(method, { channels: 1, kernelSize: k, stride: s });
        pool.eval();
        const y = pool.forward(x);
        const up = interpolate(y, { size: [p.height, p.width], mode: 'bilinear' });
        const result = {
          method,
          pooled: { data: Float32Array.from(y.dataSync()), width: y.shape[3], height: y.shape[2] },
          ssim: ssim(x, up).itemSync(),
          psnr: psnr(x, up).itemSync(),
        };
        for (const t of [...pool.parameters(), ...pool.buffers()] as Tensor[]) t.dispose();
        return result;
      });
    }),
  );
}

/** Decodes an image with the browser and takes scikit-image's luminance, scaled to MAX_SIDE. */
async function decode(src: string | Blob): Promise<Plane> {
  const blob = typeof src === 'string' ? await (await fetch(src)).blob() : src;
  const bitmap = await createImageBitmap(blob);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(4, Math.round(bitmap.width * scale));
  const height = Math.max(4, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0, width, height);
  const { data } = ctx.getImageData(0, 0, width, height);
  const lum = new Float32Array(width * height);
  for (let i = 0; i < lum.length; i++)
    lum[i] = (0.2125 * data[4 * i] + 0.7154 * data[4 * i + 1] + 0.0721 * data[4 * i + 2]) / 255;
  return { data: lum, width, height };
}

function drawPlane(canvas: HTMLCanvasElement, p: Plane): void {
  canvas.width = p.width;
  canvas.height = p.height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(p.width, p.height);
  for (let i = 0; i < p.data.length; i++) {
    const g = Math.round(Math.max(0, Math.min(1, p.data[i])) * 255);
    img.data.set([g, g, g, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

function planeCanvas(p: Plane): HTMLCanvasElement {
  const canvas = el('canvas') as HTMLCanvasElement;
  drawPlane(canvas, p);
  return canvas;
}

/** SoftPool's weights w = softmax(a / T) over the k x k window at (x, y), as a heat map. */
function showWeights(
  canvas: HTMLCanvasElement,
  text: HTMLElement,
  p: Plane,
  x: number,
  y: number,
  k: number,
  T: number,
): void {
  const a: number[] = [];
  for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) a.push(p.data[(y + j) * p.width + x + i]);
  const m = Math.max(...a.map((v) => v / T));
  const e = a.map((v) => Math.exp(v / T - m));
  const total = e.reduce((s, v) => s + v, 0);
  const w = e.map((v) => v / total);
  canvas.width = k;
  canvas.height = k;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(k, k);
  const top = Math.max(...w);
  for (const [i, v] of w.entries()) img.data.set([217, 72, 15, Math.round((v / top) * 255)], 4 * i);
  ctx.putImageData(img, 0, 0);
  const y0 = w.reduce((s, v, i) => s + v * a[i], 0);
  text.textContent = `window at (${x}, ${y}): pixels [${a.map((v) => v.toFixed(2)).join(', ')}], weights [${w.map((v) => v.toFixed(2)).join(', ')}], SoftPool ${y0.toFixed(3)}`;
}
