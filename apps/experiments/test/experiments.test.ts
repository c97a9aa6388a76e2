// The experiments app: the resumable runner (killed mid-grid, rerun), atomic results, report
// generation from a small results file, the retention pipeline against scikit-image, bad input.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { avgPool2d, psnr, ssim } from '@softpool/layers';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../src/report/report.js';
import { welch } from '../src/report/stats.js';
import { appendResult, parseLines, readResults } from '../src/results.js';
import { decodeImage, loadImage, luminance, photoTensor } from '../src/retention/images.js';
import { restored } from '../src/retention/measure.js';
import { deepPools, plan } from '../src/substitution/grid.js';
import type { RunRecord } from '../src/substitution/runner.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'softpool-experiments-'));
const tsx = ['tsx', '--conditions=@softpool/source', cli];

function runCli(args: string[]) {
  return spawnSync('npx', [...tsx, ...args], { cwd: root, encoding: 'utf8', timeout: 240_000 });
}

describe('results files', () => {
  it('append atomically: parallel appends all land, each a whole line', async () => {
    const file = join(tmp(), 'r.jsonl');
    await Promise.all(Array.from({ length: 20 }, (_, i) => appendResult(file, { i, pad: 'x'.repeat(1000) })));
    const rows = await readResults<{ i: number }>(file);
    expect(rows.map((r) => r.i).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(readdirSync(join(file, '..'))).toEqual(['r.jsonl']); // no temporary or lock files left
  });

  it('name the file and line of a corrupt line', () => {
    expect(() => parseLines('{"a":1}\n{"b":\n', 'r.jsonl')).toThrow('r.jsonl:2: not a JSON line');
    expect(() => parseLines('[1]\n', 'r.jsonl')).toThrow('r.jsonl:1: expected a JSON object');
  });
});

describe('grid', () => {
  it('is seed-major and names the deeper model`s extra methods only once LeNet-5 is complete', () => {
    const specs = plan('full', ['lenet'], []);
    expect(specs).toHaveLength(39);
    expect(specs.slice(0, 13).every((s) => s.seed === 1)).toBe(true);
    expect(plan('full', ['deep'], []).map((s) => s.pool)).toEqual([
      ...'max avg soft '.repeat(3).trim().split(' '),
    ]);
    const lenet = specs.map((s) => ({
      pool: s.pool,
      finalTestAcc: s.pool === 'lip' ? 0.95 : s.pool === 'ada' ? 0.94 : 0.9,
    }));
    expect(deepPools(lenet, 3)).toEqual(['max', 'avg', 'soft', 'lip', 'ada']);
    expect(deepPools(lenet.slice(1), 3)).toBeNull();
  });

  it('a run killed mid-grid resumes: finished runs are skipped, no line is corrupt', async () => {
    const dir = tmp();
    const results = join(dir, 'sub.jsonl');
    const args = ['substitution', '--quick', '--grid', 'lenet', '--results', results];
    // Kill the runner (SIGKILL: no chance to clean up) once the first run is recorded.
    const child = spawn('npx', [...tsx, ...args], { cwd: root, detached: true, stdio: 'ignore' });
    const t0 = Date.now();
    while (!existsSync(results) || readFileSync(results, 'utf8').split('\n').length < 2) {
      if (Date.now() - t0 > 120_000) throw new Error('the first run never finished');
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const before = await readResults<RunRecord>(results);
    expect(before.length).toBeGreaterThanOrEqual(1);
    const r = runCli(args);
    expect(r.status).toBe(0);
    for (const rec of before) expect(r.stdout).not.toContain(`${rec.id}: lenet5`);
    const after = await readResults<RunRecord>(results);
    expect(after.map((x) => x.id).sort()).toEqual(
      plan('quick', ['lenet'], [])
        .map((s) => s.id)
        .sort(),
    );
    expect(after.slice(0, before.length)).toEqual(before);
    const rec = after[0];
    expect(rec.history).toHaveLength(1);
    expect(rec.machine.cores).toBeGreaterThan(0);
    expect(rec.finalTestAcc).toBe(rec.history[0].testAcc);
    // A third run has nothing to do.
    expect(runCli(args).stdout).toContain(`all 3 runs recorded in ${results}`);
  }, 240_000);
});

describe('report', () => {
  it('is generated from a small results file: tables, Welch p-values, charts', () => {
    const rec = (pool: 'max' | 'soft' | 'avg', seed: number, acc: number): RunRecord =>
      ({
        ...plan('full', ['lenet'], []).find((s) => s.pool === pool && s.seed === seed)!,
        history: [1, 2, 3].map((epoch) => ({ epoch, testAcc: acc - (3 - epoch) / 100 }) as never),
        finalTestAcc: acc,
        trainSeconds: 600,
        wallSeconds: 610,
        resumed: false,
        machine: { cpu: 'test cpu', cores: 2, memoryGiB: 24, node: 'v20', platform: 'linux-x64' },
        commit: null,
        finishedAt: '2026-11-29T00:00:00Z',
      }) as RunRecord;
    const records = [
      rec('max', 1, 0.9012),
      rec('max', 2, 0.9034),
      rec('max', 3, 0.8998),
      rec('soft', 1, 0.8987),
      rec('soft', 2, 0.8991),
      rec('soft', 3, 0.9003),
      rec('avg', 1, 0.895),
    ];
    const r = buildReport({ substitution: records, retention: null, cost: null, imageDir: 'images' });
    expect(r.markdown).toContain('| 1 | max | 3 | 90.15 ± 0.18 | 90.12, 90.34, 89.98 |  |  |');
    // scipy.stats.ttest_ind([.9012,.9034,.8998], [.8987,.8991,.9003], equal_var=False): p = 0.1723
    expect(r.markdown).toContain('| 2 | **soft** | 3 | 89.94 ± 0.08 | 89.87, 89.91, 90.03 | -0.21 | 0.172 |');
    expect(r.markdown).toContain('**Grid incomplete**: fewer than 3 seeds for avg (1)');
    expect(r.markdown).toContain("This does not reproduce the paper's gain.");
    expect(r.markdown).toContain('_No retention results yet');
    expect(Object.keys(r.charts).sort()).toEqual(['substitution-lenet-curves.svg', 'substitution-lenet.svg']);
  });

  it('Welch t-test matches scipy', () => {
    const w = welch([1.0, 2.0, 3.5], [2.0, 4.0, 6.5, 7.0]);
    expect(w.t).toBeCloseTo(-1.9769719601855391, 12);
    expect(w.p).toBeCloseTo(0.10834388010864043, 10);
    expect(Number.isNaN(welch([1], [2, 3]).p)).toBe(true);
  });

  it('the CLI writes the report and SVG charts', () => {
    const dir = tmp();
    const sub = join(dir, 's.jsonl');
    writeFileSync(sub, '');
    const r = runCli([
      'report',
      '--substitution',
      sub,
      '--retention',
      join(dir, 'none.json'),
      '--cost',
      join(dir, 'none.json'),
      '--out',
      join(dir, 'r.md'),
    ]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('# Experiments');
  });
});

describe('retention', () => {
  it('average pooling + resizing + SSIM/PSNR on the photos agree with scikit-image within 1e-6', async () => {
    const fx = JSON.parse(readFileSync(new URL('./fixtures/retention.json', import.meta.url), 'utf8'));
    for (const p of fx.photos) {
      const photo = luminance(await loadImage(join(root, 'apps/experiments/assets/photos', `${p.name}.png`)));
      const x = photoTensor(photo);
      expect([photo.height, photo.width]).toEqual(p.shape);
      for (const c of p.cases) {
        const y = avgPool2d(
          x
            .narrow(2, 0, photo.height - (photo.height % c.kernel))
            .narrow(3, 0, photo.width - (photo.width % c.kernel)),
          { kernelSize: c.kernel },
        );
        const back = restored(x, y, c.upsample);
        expect(Math.abs(ssim(x, back).dataSync()[0] - c.ssim)).toBeLessThan(1e-6);
        expect(Math.abs(psnr(x, back).dataSync()[0] - c.psnr)).toBeLessThan(1e-6);
      }
    }
  });

  it('decodes JPEG as well as PNG, and names an unreadable image', async () => {
    const { default: jpeg } = await import('jpeg-js');
    const raw = { width: 4, height: 2, data: Buffer.alloc(32, 200) };
    const img = decodeImage(jpeg.encode(raw, 100).data, 'x');
    expect([img.channels, img.height, img.width]).toEqual([1, 2, 4]);
    await expect(loadImage('/nonexistent/a.png')).rejects.toThrow(
      'cannot read image /nonexistent/a.png (ENOENT)',
    );
    expect(() => decodeImage(new Uint8Array([1, 2, 3]), 'junk.bin')).toThrow(
      'cannot decode image junk.bin: not a PNG or JPEG file',
    );
    const bad = join(tmp(), 'bad.png');
    writeFileSync(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
    const r = runCli(['retention', '--quick', '--images', bad, '--out', join(tmp(), 'r.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`cannot decode image bad`);
  });

  it('a missing dataset directory is a one-line error naming it; bad flags exit 2', () => {
    const r = runCli([
      'substitution',
      '--grid',
      'lenet',
      '--data',
      '/nonexistent-dir',
      '--results',
      join(tmp(), 'r.jsonl'),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('not found in /nonexistent-dir');
    const b = runCli(['substitution', '--grid', 'nosuch']);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain("--grid takes a comma-separated list of clips, lenet, deep; got 'nosuch'");
    const u = runCli(['nosuch']);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain(
      "unknown experiment 'nosuch'; choose one of retention, substitution, cost, report",
    );
    const h = runCli(['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('substitution');
  });
});
