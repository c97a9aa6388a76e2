// The WebGPU backend in a real browser: Debian's chromium, headless, WebGPU on SwiftShader, driven
// by playwright-core (never a downloaded browser). The page computes every check on the CPU and on
// WebGPU; here we assert they agree. Without chromium: skipped locally, a failure with CI=true.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { haveChromium, launchChromium } from '../../../tools/chromium.mjs';

const have = haveChromium();

describe.skipIf(!have)('WebGPU in chromium', () => {
  let server: Server;
  let url = '';

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('./browser/entry.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['@softpool/source'],
      // The Node-only Dawn binding is imported only when navigator.gpu is missing.
      external: ['webgpu'],
      logLevel: 'error',
    });
    const js = bundle.outputFiles[0].text;
    const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/entry.js"></script>';
    // localhost is a secure context, which WebGPU requires.
    server = createServer((req, res) => {
      const isJs = req.url === '/entry.js';
      res.writeHead(200, { 'content-type': isJs ? 'text/javascript' : 'text/html' });
      res.end(isJs ? js : html);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  }, 60_000);

  afterAll(() => {
    server?.close();
  });

  test('ops on navigator.gpu agree with the CPU backend in the same page', async () => {
    const browser = await launchChromium(chromium);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.waitForFunction(
        () => typeof (globalThis as { runChecks?: unknown }).runChecks === 'function',
        undefined,
        { timeout: 30_000 },
      );
      const result = (await page.evaluate(() =>
        (globalThis as unknown as { runChecks: () => Promise<Record<string, number | string>> }).runChecks(),
      )) as Record<string, number | string>;
      expect(errors).toEqual([]);
      expect(String(result.adapter)).not.toBe('');
      for (const k of ['matmul', 'matmulTextures', 'softmax', 'conv', 'sum'])
        expect(result[k], k).toBeLessThan(1e-4);
      // randn on the GPU: the same bits, then the device's own log and cos (SwiftShader's are coarser).
      expect(result.randn).toBeLessThan(1e-3);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
