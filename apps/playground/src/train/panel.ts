// The Train panel: controls, live charts (uPlot), confusion matrix, test images with predictions,
// a drawing pad, and model download/upload. All the work happens in the training worker.
import { FASHION_MNIST_CLASSES } from '@softpool/data';
import { POOLS } from '@softpool/models';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { button, el, field, select } from '../dom.js';
import type { EpochReport, FromWorker, ToWorker, TrainConfig } from './protocol.js';

/** Short class names for labels and the confusion matrix. */
const CLASSES = FASHION_MNIST_CLASSES;

export interface TrainPanel {
  /** Resolves once the worker picked its backend. */
  ready: Promise<Extract<FromWorker, { type: 'ready' }>>;
}

export function trainPanel(root: HTMLElement, wantGpu: boolean): TrainPanel {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

  const model = select('Model', 'model', [
    ['lenet5', 'LeNet-5'],
    ['vgg', 'VGG-style'],
  ]);
  const pool = select(
    'Pooling',
    'pool',
    POOLS.map((p) => [p, p === 'soft' ? 'soft (SoftPool)' : p]),
  );
  pool.input.value = 'soft';
  const backend = select('Backend', 'backend', [
    ['webgpu', 'WebGPU'],
    ['cpu', 'CPU'],
  ]);
  backend.input.value = wantGpu ? 'webgpu' : 'cpu';
  const batch = field('Batch size', 'batch', 'number', '64', { min: '1', max: '1024' });
  const epochs = field('Epochs', 'epochs', 'number', '2', { min: '1', max: '100' });
  const lr = field('Learning rate', 'lr', 'number', '0.002', { min: '0.00001', max: '1', step: '0.0001' });
  const seed = field('Seed', 'seed', 'number', '1', { min: '0' });
  const limit = field('Training images', 'limit', 'number', '2000', { min: '100', max: '10000' });
  const start = button('train-start', 'Train');
  const pause = button('train-pause', 'Pause', { secondary: true, disabled: true });
  const stop = button('train-stop', 'Stop', { secondary: true, disabled: true });
  const download = button('model-download', 'Download model', { secondary: true, disabled: true });
  const upload = el('input', {
    type: 'file',
    id: 'model-upload',
    accept: '.safetensors',
  }) as HTMLInputElement;
  const uploadLabel = el('label', {}, 'Load safetensors', upload);
  const status = el('p', { class: 'stats', id: 'train-status', role: 'status' }, 'Ready.');
  const error = el('p', { class: 'error', id: 'train-error', role: 'alert' });

  const lossChart = el('div', { id: 'chart-loss' });
  const accChart = el('div', { id: 'chart-acc' });
  const confusion = el('div', { id: 'confusion' });
  const samples = el('div', { class: 'samples', id: 'samples' });
  const pad = el('canvas', {
    class: 'draw',
    id: 'draw',
    width: '28',
    height: '28',
    'aria-label': 'Drawing pad, 28 by 28 pixels',
  }) as HTMLCanvasElement;
  const clear = button('draw-clear', 'Clear', { secondary: true });
  const bars = el('div', { class: 'bars', id: 'probabilities', 'aria-live': 'polite' });

  root.append(
    el(
      'div',
      { class: 'controls' },
      model.label,
      pool.label,
      backend.label,
      batch.label,
      epochs.label,
      lr.label,
      seed.label,
      limit.label,
      start,
      pause,
      stop,
      download,
      uploadLabel,
    ),
    status,
    error,
    el(
      'div',
      { class: 'grid' },
      el('div', { class: 'card' }, el('h2', {}, 'Loss'), lossChart),
      el('div', { class: 'card' }, el('h2', {}, 'Accuracy'), accChart),
      el('div', { class: 'card' }, el('h2', {}, 'Confusion matrix (test)'), confusion),
      el('div', { class: 'card' }, el('h2', {}, 'Test images: predicted (true)'), samples),
      el('div', { class: 'card' }, el('h2', {}, 'Draw an item'), pad, clear, bars),
    ),
  );

  // Charts: per-step training loss and accuracy, per-epoch test accuracy.
  const series = {
    step: [] as number[],
    loss: [] as number[],
    acc: [] as number[],
    test: [] as (number | null)[],
  };
  const lossPlot = new uPlot(
    {
      width: 300,
      height: 200,
      scales: { x: { time: false } },
      series: [{ label: 'step' }, { label: 'train loss', stroke: '#2d6cdf' }],
    },
    [[], []],
    lossChart,
  );
  const accPlot = new uPlot(
    {
      width: 300,
      height: 200,
      scales: { x: { time: false }, y: { range: [0, 1] } },
      series: [
        { label: 'step' },
        { label: 'train', stroke: '#2d6cdf' },
        { label: 'test', stroke: '#d9480f', points: { show: true, size: 7 } },
      ],
    },
    [[], [], []],
    accChart,
  );
  // Charts follow their cards' width (the panel may be hidden, 0 wide, when they are made).
  for (const [plot, box] of [
    [lossPlot, lossChart],
    [accPlot, accChart],
  ] as const) {
    new ResizeObserver(() => {
      if (box.clientWidth > 0) plot.setSize({ width: box.clientWidth, height: 200 });
    }).observe(box);
  }
  const redraw = () => {
    lossPlot.setData([series.step, series.loss]);
    accPlot.setData([series.step, series.acc, series.test]);
    // For tests and assistive tech: how many points each chart shows.
    lossChart.dataset.points = String(series.step.length);
    accChart.dataset.points = String(series.test.filter((v) => v !== null).length);
  };

  const setRunning = (running: boolean) => {
    start.toggleAttribute('disabled', running);
    pause.toggleAttribute('disabled', !running);
    stop.toggleAttribute('disabled', !running);
    for (const f of [model, pool, backend, batch, epochs, lr, seed, limit])
      f.input.toggleAttribute('disabled', running);
  };

  let paused = false;
  let resolveReady: (m: Extract<FromWorker, { type: 'ready' }>) => void = () => {};
  const ready = new Promise<Extract<FromWorker, { type: 'ready' }>>((r) => (resolveReady = r));

  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const m = event.data;
    if (m.type === 'ready') resolveReady(m);
    else if (m.type === 'progress') {
      series.step.push(m.epoch * m.steps + m.step);
      series.loss.push(m.loss);
      series.acc.push(m.acc);
      series.test.push(null);
      if (series.step.length % 5 === 0 || m.step === m.steps) redraw();
      status.textContent = `epoch ${m.epoch + 1}, step ${m.step}/${m.steps}: loss ${m.loss.toFixed(3)}, accuracy ${(100 * m.acc).toFixed(1)} %, ${m.imgsPerSec.toFixed(0)} images/s, ${Math.ceil(m.eta)} s left`;
    } else if (m.type === 'epoch') {
      series.test[series.test.length - 1] = m.testAcc;
      redraw();
      status.dataset.testAcc = String(m.testAcc);
      status.textContent += ` — test accuracy ${(100 * m.testAcc).toFixed(1)} % after epoch ${m.epoch + 1}`;
      showConfusion(confusion, m);
      showSamples(samples, m);
      download.removeAttribute('disabled');
    } else if (m.type === 'finished') {
      setRunning(false);
      status.textContent += m.stopped ? ' (stopped)' : ' (done)';
      root.dataset.state = 'finished';
    } else if (m.type === 'prediction') showProbabilities(bars, m.probs);
    else if (m.type === 'saved') {
      const url = URL.createObjectURL(
        new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
      );
      const a = el('a', { href: url, download: 'softpool-model.safetensors' });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } else if (m.type === 'loaded') {
      error.textContent = '';
      status.textContent = `Loaded a ${m.model} with ${m.pool} pooling: draw an item to try it.`;
      download.removeAttribute('disabled');
    } else if (m.type === 'error') {
      error.textContent = m.message;
      setRunning(false);
    }
  };

  start.addEventListener('click', () => {
    error.textContent = '';
    series.step.length = series.loss.length = series.acc.length = series.test.length = 0;
    redraw();
    root.dataset.state = 'running';
    const config: TrainConfig = {
      model: model.input.value as TrainConfig['model'],
      pool: pool.input.value as TrainConfig['pool'],
      backend: backend.input.value as TrainConfig['backend'],
      batchSize: Number(batch.input.value),
      epochs: Number(epochs.input.value),
      lr: Number(lr.input.value),
      seed: Number(seed.input.value),
      limit: Number(limit.input.value) || undefined,
    };
    setRunning(true);
    paused = false;
    pause.textContent = 'Pause';
    send({ type: 'start', config });
  });
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    send({ type: paused ? 'pause' : 'resume' });
  });
  stop.addEventListener('click', () => send({ type: 'stop' }));
  download.addEventListener('click', () => send({ type: 'save' }));
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    send({ type: 'load', bytes }, [bytes.buffer]);
    upload.value = '';
  });
  backend.input.addEventListener('change', () =>
    send({ type: 'init', backend: backend.input.value as 'webgpu' | 'cpu' }),
  );

  drawingPad(pad, clear, (pixels) => send({ type: 'predict', pixels }, [pixels.buffer]));
  send({ type: 'init', backend: wantGpu ? 'webgpu' : 'cpu' });
  return { ready };
}

function showConfusion(root: HTMLElement, m: EpochReport): void {
  const max = Math.max(...m.confusion.flat(), 1);
  const head = el(
    'tr',
    {},
    el('th', {}, ''),
    ...CLASSES.map((_, j) => el('th', { title: CLASSES[j] }, String(j))),
  );
  const rows = m.confusion.map((row, i) =>
    el(
      'tr',
      {},
      el('th', { title: CLASSES[i] }, String(i)),
      ...row.map((v) => {
        const cell = el('td', { title: `true ${CLASSES[i]}, predicted` }, String(v));
        cell.style.background = `rgba(45, 108, 223, ${(v / max).toFixed(3)})`;
        if (v / max > 0.5) cell.style.color = '#fff';
        return cell;
      }),
    ),
  );
  root.replaceChildren(
    el(
      'table',
      { class: 'confusion' },
      el('caption', {}, 'rows: true class, columns: predicted'),
      head,
      ...rows,
    ),
  );
}

function showSamples(root: HTMLElement, m: EpochReport): void {
  root.replaceChildren(
    ...m.samples.map((s) => {
      const canvas = el('canvas', { width: '28', height: '28' }) as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const img = ctx.createImageData(28, 28);
      // The loader's normalised pixels back to 0-255 for display.
      s.pixels.forEach((v, i) => {
        const g = Math.max(0, Math.min(255, Math.round((v * 0.353 + 0.286) * 255)));
        img.data.set([g, g, g, 255], i * 4);
      });
      ctx.putImageData(img, 0, 0);
      return el(
        'figure',
        { class: s.pred === s.label ? '' : 'wrong' },
        canvas,
        el('figcaption', {}, `${CLASSES[s.pred]} (${CLASSES[s.label]})`),
      );
    }),
  );
}

function showProbabilities(root: HTMLElement, probs: number[]): void {
  const best = probs.indexOf(Math.max(...probs));
  root.replaceChildren(
    ...probs.map((p, i) => {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${(p * 120).toFixed(1)}px`;
      return el(
        'div',
        { 'data-class': String(i) },
        el('span', { style: `width:7rem;font-weight:${i === best ? 600 : 400}` }, CLASSES[i]),
        bar,
        `${(100 * p).toFixed(1)} %`,
      );
    }),
  );
}

/** A 28x28 pad drawn with the mouse or a finger; each stroke sends the pixels (0-1) for a prediction. */
function drawingPad(
  canvas: HTMLCanvasElement,
  clear: HTMLElement,
  onDraw: (pixels: Float32Array) => void,
): void {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const reset = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, 28, 28);
  };
  reset();
  let drawing = false;
  const at = (e: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * 28, ((e.clientY - r.top) / r.height) * 28];
  };
  const paint = (e: PointerEvent) => {
    const [x, y] = at(e);
    const g = ctx.createRadialGradient(x, y, 0, x, y, 2);
    g.addColorStop(0, 'rgba(255,255,255,1)');
    g.addColorStop(1, 'rgba(255,255,255,0)');
    ctx.fillStyle = g;
    ctx.fillRect(x - 2, y - 2, 4, 4);
  };
  const send = () => {
    const { data } = ctx.getImageData(0, 0, 28, 28);
    onDraw(Float32Array.from({ length: 784 }, (_, i) => data[i * 4] / 255));
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    paint(e);
  });
  canvas.addEventListener('pointermove', (e) => drawing && paint(e));
  canvas.addEventListener('pointerup', () => {
    drawing = false;
    send();
  });
  clear.addEventListener('click', reset);
}
