// The retention figure: one photo crop pooled by every method (kernel 2), each shown resized back
// with nearest neighbours (so the pooled pixels stay visible) above a zoomed detail. Composed as
// SVG (tiles as embedded PNGs, labels as text) and rendered to PNG by resvg.
import { Resvg } from '@resvg/resvg-js';
import type { PoolName } from '@softpool/models';
import { scope, type Tensor } from '@softpool/tensor';
import { encodePng, type Photo, photoTensor } from './images.js';
import { pooled, restored } from './measure.js';

export interface FigureOptions {
  /** Crop [top, left, size] of the photo. */
  crop: [number, number, number];
  /** Detail [top, left, size] inside the crop, magnified to the tile size. */
  detail: [number, number, number];
  kernel: number;
  columns: number;
}

/** [C, h, w] values of rows/cols [top, top + size) x [left, left + size) of a [1, C, H, W] tensor. */
function cut(t: Tensor, top: number, left: number, size: number): Float64Array {
  return scope(() => Float64Array.from(t.narrow(2, top, size).narrow(3, left, size).contiguous().dataSync()));
}

function zoom(src: Float64Array, channels: number, size: number, factor: number): Float64Array {
  const n = size * factor;
  const out = new Float64Array(channels * n * n);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++)
        out[c * n * n + y * n + x] =
          src[c * size * size + Math.floor(y / factor) * size + Math.floor(x / factor)];
  return out;
}

const href = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** PNG bytes of the figure. */
export function retentionFigure(photo: Photo, methods: readonly PoolName[], o: FigureOptions): Buffer {
  const [top, left, size] = o.crop;
  const [dt, dl, ds] = o.detail;
  const factor = Math.max(1, Math.floor(size / ds));
  const C = photo.channels;
  const tiles: { label: string; crop: Float64Array; detail: Float64Array }[] = [];
  scope(() => {
    const x = photoTensor(photo).narrow(2, top, size).narrow(3, left, size).contiguous();
    const add = (label: string, img: Tensor) =>
      tiles.push({
        label,
        crop: cut(img, 0, 0, size),
        detail: zoom(cut(img, dt, dl, ds), C, ds, factor),
      });
    add('original', x);
    for (const m of methods) add(m, restored(x, pooled(x, m, o.kernel), 'nearest'));
  });
  const pad = 8;
  const label = 22;
  const dsz = ds * factor;
  const cellW = Math.max(size, dsz) + pad;
  const cellH = label + size + pad / 2 + dsz + pad;
  const rows = Math.ceil(tiles.length / o.columns);
  const width = o.columns * cellW + pad;
  const height = rows * cellH + pad + 28;
  const parts = tiles.map((t, i) => {
    const x = pad + (i % o.columns) * cellW;
    const y = 28 + pad + Math.floor(i / o.columns) * cellH;
    return [
      `<text x="${x + size / 2}" y="${y + 16}" text-anchor="middle" font-size="15" font-family="DejaVu Sans">${esc(t.label)}</text>`,
      `<image x="${x}" y="${y + label}" width="${size}" height="${size}" href="${href(encodePng(t.crop, C, size, size))}"/>`,
      `<rect x="${x + dl}" y="${y + label + dt}" width="${ds}" height="${ds}" fill="none" stroke="#e33" stroke-width="1"/>`,
      `<image x="${x}" y="${y + label + size + pad / 2}" width="${dsz}" height="${dsz}" href="${href(encodePng(t.detail, C, dsz, dsz))}"/>`,
    ].join('');
  });
  const title = `${photo.name}: ${size}x${size} crop pooled with kernel ${o.kernel}, stride ${o.kernel} (shown resized back by nearest neighbour); below, the red square magnified ${factor}x`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad}" y="20" font-size="15" font-family="DejaVu Sans">${esc(title)}</text>
${parts.join('\n')}
</svg>`;
  return new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    imageRendering: 1, // optimizeSpeed: no smoothing of the pixel tiles
  })
    .render()
    .asPng();
}
