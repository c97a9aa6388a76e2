// The built playground in Debian's chromium (headless, WebGPU on SwiftShader), driven by
// playwright-core: training on WebGPU and on the CPU beats chance and fills the charts, the pooling
// lab renders every method with finite metrics, the autograd panel's gradients match the library's,
// a corrupted safetensors upload shows an error, and no page logs a console error.
// UPDATE_SCREENSHOTS=1 also writes each panel's screenshot to docs/images/playground/.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, serializeSafetensors } from '@softpool/layers';
import { LeNet5 } from '@softpool/models';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../../../tools/chromium.mjs';
// @ts-expect-error a plain .mjs module without types
import { serve } from '../serve.mjs';

const have = haveChromium();
const root = fileURLToPath(new URL('../', import.meta.url));
const shots = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../../docs/images/playground/', import.meta.url))
  : undefined;

describe.skipIf(!have)('the playground in chromium', () => {
  let server: Server;
  let url = '';
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await build({ root, logLevel: 'error' });
    ({ server, url } = await serve(`${root}dist`));
    browser = await launchChromium(chromium);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.backend !== undefined, undefined, {
      timeout: 60_000,
    });
    if (shots) mkdirSync(shots, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  const train = async (backend: 'webgpu' | 'cpu') => {
    await page.click('#tab-train');
    await page.selectOption('#backend', backend);
    await page.fill('#limit', '600');
    await page.fill('#epochs', '2');
    await page.fill('#batch', '32');
    await page.click('#train-start');
    await page.waitForFunction(
      () => document.getElementById('panel-train')?.dataset.state === 'finished',
      undefined,
      {
        timeout: 240_000,
      },
    );
    const testAcc = Number(await page.getAttribute('#train-status', 'data-test-acc'));
    const lossPoints = Number(await page.getAttribute('#chart-loss', 'data-points'));
    const accPoints = Number(await page.getAttribute('#chart-acc', 'data-points'));
    const status = await page.textContent('#train-status');
    return { testAcc, lossPoints, accPoints, status };
  };

  it('trains on WebGPU (SwiftShader): test accuracy above chance, charts with points', async () => {
    expect(await page.getAttribute('body', 'data-backend')).toBe('webgpu');
    const r = await train('webgpu');
    expect(r.testAcc).toBeGreaterThan(0.3); // chance is 0.1
    expect(r.lossPoints).toBe(2 * Math.ceil(600 / 32));
    expect(r.accPoints).toBe(2);
    expect(await page.$$eval('#samples figure', (f) => f.length)).toBe(24);
    expect(
      await page.$$eval('#confusion td', (c) => c.reduce((s, td) => s + Number(td.textContent), 0)),
    ).toBe(120);
    console.log(`playground webgpu: ${r.status}`);
    if (shots) await page.screenshot({ path: `${shots}train.png`, fullPage: true });
  }, 300_000);

  it('trains on the CPU too', async () => {
    const r = await train('cpu');
    expect(r.testAcc).toBeGreaterThan(0.3);
    expect(r.accPoints).toBe(2);
    console.log(`playground cpu: ${r.status}`);
  }, 300_000);

  it('pauses, resumes and stops', async () => {
    await page.fill('#limit', '3000');
    await page.fill('#epochs', '3');
    await page.click('#train-start');
    await page.waitForFunction(() =>
      /step [3-9]/.test(document.getElementById('train-status')?.textContent ?? ''),
    );
    await page.click('#train-pause');
    await page.waitForTimeout(300); // a step in flight may still report
    const paused = await page.textContent('#train-status');
    await page.waitForTimeout(1000);
    expect(await page.textContent('#train-status')).toBe(paused);
    await page.click('#train-pause'); // now "Resume"
    await page.waitForFunction(
      (before) => document.getElementById('train-status')?.textContent !== before,
      paused,
    );
    await page.click('#train-stop');
    await page.waitForFunction(() => document.getElementById('panel-train')?.dataset.state === 'finished');
    expect(await page.textContent('#train-status')).toMatch(/\(stopped\)$/);
    expect(await page.isEnabled('#train-start')).toBe(true);
  }, 120_000);

  it('predicts what is drawn', async () => {
    const pad = await page.$('#draw');
    const box = (await pad!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.8, { steps: 10 });
    await page.mouse.up();
    await page.waitForSelector('#probabilities [data-class="9"]');
    const text = await page.textContent('#probabilities');
    const total = [...(text ?? '').matchAll(/([\d.]+) %/g)].reduce((s, m) => s + Number(m[1]), 0);
    expect(total).toBeGreaterThan(99);
    expect(total).toBeLessThan(101);
  });

  it('downloads the model as safetensors and loads one written by pnpm train --export-weights', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#model-download')]);
    const saved = parseSafetensors(readFileSync((await download.path())!));
    expect(Object.keys(saved.tensors)).toContain('conv1.weight');
    expect(JSON.parse(saved.metadata.args)).toEqual({ model: 'lenet5', pool: 'soft' });
    for (const t of Object.values(saved.tensors)) t.dispose();
    // The layout `pnpm train --export-weights` writes: plain names, metadata naming the model.
    const model = new LeNet5({ pool: 'max' });
    const bytes = await serializeSafetensors(model.stateDict(), {
      format: 'softpool-weights-1',
      args: JSON.stringify({ model: 'lenet5', pool: 'max' }),
    });
    await page.setInputFiles('#model-upload', {
      name: 'weights.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(bytes),
    });
    await page.waitForFunction(() =>
      /Loaded a lenet5 with max pooling/.test(document.getElementById('train-status')?.textContent ?? ''),
    );
  });

  it('refuses a corrupted safetensors file with a message and keeps the model', async () => {
    await page.setInputFiles('#model-upload', {
      name: 'broken.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from([255, 0, 0, 0, 0, 0, 0, 0, 123, 34]),
    });
    await page.waitForFunction(() => (document.getElementById('train-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#train-error')).toMatch(/safetensors/i);
    expect(await page.isEnabled('#model-download')).toBe(true);
  });

  it('the pooling lab renders every method with finite SSIM and PSNR', async () => {
    await page.click('#tab-lab');
    await page.waitForFunction(
      () => document.getElementById('panel-lab')?.dataset.rendered === '13',
      undefined,
      {
        timeout: 120_000,
      },
    );
    const captions = await page.$$eval('#lab-grid figcaption', (fs) => fs.map((f) => f.textContent ?? ''));
    expect(captions).toHaveLength(13);
    for (const c of captions) {
      const [, s, p] = /SSIM ([-\d.]+) · PSNR ([-\d.]+) dB/.exec(c) ?? [];
      expect(Number.isFinite(Number(s)) && Number.isFinite(Number(p)), c).toBe(true);
    }
    const lab = await page.$('#lab-original');
    const box = (await lab!.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    expect(await page.textContent('#lab-weights-text')).toMatch(/weights \[/);
    // The same from the keyboard: focus the photo, move the window with the arrow keys.
    await page.focus('#lab-original');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#lab-weights-text')).toMatch(/^window at \(\d+, \d+\)/);
    if (shots) await page.screenshot({ path: `${shots}lab.png`, fullPage: true });
  }, 180_000);

  it("the autograd panel's graph and gradients match the library's", async () => {
    await page.click('#tab-autograd');
    await page.click('#ag-run');
    await page.waitForSelector('#ag-graph svg');
    // micrograd's README values, which the library reproduces (apps/examples' tour checks them).
    expect(await page.textContent('#ag-summary')).toBe('g = 24.7041; dg/da = 138.8338; dg/db = 645.5773');
    await page.click('#ag-next');
    expect(await page.textContent('#ag-steps li.current')).toMatch(/^f = pow/);
    if (shots) await page.screenshot({ path: `${shots}autograd.png`, fullPage: true });
  });

  it('without WebGPU, falls back to the CPU with a visible note; fits a phone screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    phone.on('pageerror', (e) => errors.push(String(e)));
    await phone.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }),
    );
    await phone.goto(url);
    await phone.waitForFunction(() => document.body.dataset.backend !== undefined, undefined, {
      timeout: 60_000,
    });
    expect(await phone.getAttribute('body', 'data-backend')).toBe('cpu');
    const status = (await phone.textContent('#backend-status')) ?? '';
    expect(status).toMatch(/no WebGPU adapter in this browser: training runs on the CPU/);
    // The page is cross-origin isolated, so the CPU backend runs its worker threads here too.
    const cores = await phone.evaluate(() => navigator.hardwareConcurrency);
    // Chromium has relaxed SIMD (since 114), so the fused multiply-add kernels run there.
    expect(status).toContain(`WebAssembly, relaxed SIMD, ${cores} thread${cores === 1 ? '' : 's'}`);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await phone.close();
  }, 120_000);

  it('works under a sub-path (relative asset paths)', async () => {
    const sub = await serve(root); // the app is now at /dist/
    const other = await browser.newPage();
    other.on('pageerror', (e) => errors.push(String(e)));
    await other.goto(`${sub.url}dist/#lab`);
    await other.waitForFunction(
      () => document.getElementById('panel-lab')?.dataset.rendered === '13',
      undefined,
      {
        timeout: 120_000,
      },
    );
    await other.waitForFunction(() => document.body.dataset.backend !== undefined, undefined, {
      timeout: 60_000,
    });
    await other.close();
    sub.server.close();
  }, 180_000);

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
