// CLI flag validation, a smoke training run that must beat chance, and resume determinism.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '@softpool/layers';
import { onnxMetadata } from '@softpool/onnx';
import { setBackend } from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import { evalOnnx } from '../scripts/eval-onnx.js';
import { parse } from '../src/args.js';
import { Progress } from '../src/progress.js';
import { loadData, run } from '../src/train.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const root = fileURLToPath(new URL('../', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'softpool-train-'));
const quiet = new Progress(process.stdout, true);

function runCli(args: string[]) {
  return spawnSync('npx', ['tsx', '--conditions=@softpool/source', cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

// Tests that start the CLI get minutes: each start takes seconds, and over a minute in all when
// CI runs the packages' tests side by side on two cores.
describe('flags', () => {
  it('rejects bad flags with a clear message and exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['--pool', 'median'], /--pool must be one of max, avg, soft/],
      [['--epochs=-1'], /--epochs must be an integer >= 1 and <= 100000, got '-1'/],
      [['--epochs', '-1'], /--epochs must be an integer >= 1 and <= 100000, got '-1'/],
      [['--lr', '-1'], /--lr must be a number > 0 and <= 1000000, got '-1'/],
      [['--seed', '1e20'], /--seed must be an integer >= 0 and <= 9007199254740991, got '1e20'/],
      [['--batch-size', '1e9'], /--batch-size must be an integer >= 1 and <= 65536, got '1e9'/],
      [['--epochs', '99999999999999999999'], /--epochs must be an integer/],
      [['--model', 'nosuch'], /--model must be one of lenet5, vgg, resnet20, got 'nosuch'/],
      [['--lr', 'abc'], /--lr must be a number > 0 and <= 1000000, got 'abc'/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
      [['--eval-only'], /--eval-only needs --resume FILE/],
      [['--model', 'cnn3d'], /--model cnn3d trains on clips/],
    ];
    for (const [argv, msg] of cases) expect(() => parse(argv)).toThrow(msg);
    expect(parse(['--', '--help']).help).toBe(true);
    const r = runCli(['--batch-size', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("softpool-train: --batch-size must be an integer >= 1 and <= 65536, got '0'");
    const noDir = runCli(['--export-onnx', '/nonexistent-dir/model.onnx']);
    expect(noDir.status).toBe(2);
    expect(noDir.stderr).toContain(
      'softpool-train: --export-onnx /nonexistent-dir/model.onnx: the directory /nonexistent-dir does not exist',
    );
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: softpool-train');
  }, 180_000);

  it('missing or corrupt data and unwritable output directories fail cleanly, exit code 1, no files', () => {
    const r = runCli(['--data', '/nonexistent-dir', '--out', join(tmp(), 'x')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /cannot load the data: fashion-mnist: .*\(\.gz\) not found in \/nonexistent-dir/,
    );
    const dir = tmp();
    const corrupt = join(dir, 'data');
    mkdirSync(corrupt);
    for (const f of [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ])
      writeFileSync(join(corrupt, f), 'not idx');
    const c = runCli(['--data', corrupt, '--out', join(dir, 'out')]);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/does not start with the IDX magic/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'readonly');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      const w = runCli(['--limit', '50', '--out', join(ro, 'run')]);
      expect(w.status).toBe(1);
      expect(w.stderr).toMatch(/cannot write to output directory/);
    }
    const file = join(dir, 'afile');
    writeFileSync(file, '');
    const f = runCli(['--limit', '50', '--out', join(file, 'run')]);
    expect(f.status).toBe(1);
    expect(f.stderr).toMatch(/cannot write to output directory .*afile\/run \(ENOTDIR\)/);
  }, 180_000);
});

describe('the command as typed', () => {
  it('pnpm train --help, -h and -- --help show the trainer`s help; its exit codes reach the shell', () => {
    // As a user's shell would run it: without the package-manager variables of this test run.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(npm_|PNPM_|INIT_CWD)/i.test(k)),
    );
    const pnpm = (args: string[]) =>
      spawnSync('pnpm', ['train', ...args], {
        cwd: join(root, '../..'),
        encoding: 'utf8',
        timeout: 60_000,
        env,
      });
    for (const h of [['--help'], ['-h'], ['--', '--help']]) {
      const r = pnpm(h);
      expect([h, r.status, r.status ? r.stderr : '']).toEqual([h, 0, '']);
      expect(r.stdout).toContain('Usage: softpool-train');
    }
    const bad = pnpm(['--epochs', '-1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--epochs must be an integer >= 1 and <= 100000, got '-1'");
  }, 180_000);

  it('--resume refuses a checkpoint trained differently, names each flag, allows more epochs', async () => {
    const dir = tmp();
    const base = ['--limit', '100', '--batch-size', '50', '--quiet'];
    expect(runCli([...base, '--epochs', '1', '--out', dir]).status).toBe(0);
    const ckpt = join(dir, 'last.safetensors');
    const bad = runCli([
      ...base,
      '--epochs',
      '1',
      '--out',
      dir,
      '--resume',
      ckpt,
      '--pool',
      'max',
      '--optimizer',
      'sgd',
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(
      `${ckpt} does not match this run: --pool "max" (the checkpoint was trained with "soft")`,
    );
    expect(bad.stderr).toContain('--optimizer "sgd" (the checkpoint was trained with "adam")');
    const nolimit = runCli(['--batch-size', '50', '--out', dir, '--resume', ckpt, '--quiet']);
    expect(nolimit.stderr).toContain('--limit (not set) (the checkpoint was trained with 100)');
    const more = runCli([
      '--limit',
      '100',
      '--batch-size',
      '50',
      '--epochs',
      '2',
      '--out',
      dir,
      '--resume',
      ckpt,
    ]);
    expect(more.status).toBe(0);
    expect(more.stdout).toContain('note: training for 2 epochs instead of the 1 it was started with');
    const evalOther = runCli(['--resume', ckpt, '--eval-only', '--pool', 'avg']);
    expect(evalOther.status).toBe(2);
    expect(evalOther.stderr).toContain('--pool "avg"');
    const missing = runCli(['--resume', join(dir, 'nope.safetensors')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`cannot read checkpoint ${join(dir, 'nope.safetensors')} (ENOENT)`);
  }, 180_000);

  it('--export-weights writes plain weights that --eval-only reads (and --resume refuses)', async () => {
    const dir = tmp();
    const w = join(dir, 'weights.safetensors');
    const base = ['--limit', '100', '--batch-size', '50', '--quiet'];
    expect(runCli([...base, '--epochs', '1', '--out', dir, '--export-weights', w]).status).toBe(0);
    const { tensors, metadata } = await loadSafetensors(w);
    expect(Object.keys(tensors)).toContain('conv1.weight'); // PyTorch's names, no 'model.' prefix
    expect(metadata.format).toBe('softpool-weights-1');
    expect(JSON.parse(metadata.args)).toEqual({ model: 'lenet5', pool: 'soft' });
    expect(JSON.parse(metadata.inputShape)).toEqual([1, 28, 28]);
    expect(metadata.library).toMatch(/^softpool \d+\.\d+\.\d+/);
    const ckpt = await loadSafetensors(join(dir, 'last.safetensors'));
    const about = JSON.parse(ckpt.metadata.extra).about;
    expect(about.inputShape).toEqual([1, 28, 28]);
    expect(about.normalization).toEqual({ mean: [0.286], std: [0.353], of: 'pixel / 255' });
    const fromCkpt = runCli(['--limit', '100', '--eval-only', '--resume', join(dir, 'last.safetensors')]);
    const fromWeights = runCli(['--limit', '100', '--eval-only', '--resume', w]);
    expect(fromWeights.status).toBe(0);
    const acc = (out: string) => /test accuracy ([\d.]+)%/.exec(out)?.[1];
    expect(acc(fromWeights.stdout)).toBeDefined();
    expect(acc(fromWeights.stdout)).toBe(acc(fromCkpt.stdout));
    const resume = runCli([...base, '--resume', w, '--out', dir]);
    expect(resume.status).toBe(2);
    expect(resume.stderr).toContain(
      'holds weights only (no optimizer or training state): evaluate it with --eval-only',
    );
    const other = runCli(['--limit', '100', '--eval-only', '--resume', w, '--pool', 'max']);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('--pool "max" (the checkpoint was trained with "soft")');
  }, 180_000);

  it('--export-onnx writes a model that ONNX Runtime scores as --eval-only does', async () => {
    const dir = tmp();
    const file = join(dir, 'model.onnx');
    const base = ['--limit', '200', '--batch-size', '50', '--quiet'];
    expect(runCli([...base, '--epochs', '1', '--out', dir, '--export-onnx', file]).status).toBe(0);
    const meta = onnxMetadata(readFileSync(file));
    expect(meta.format).toBe('softpool-onnx-1');
    expect(JSON.parse(meta.args)).toEqual({ model: 'lenet5', pool: 'soft' });
    expect(JSON.parse(meta.normalization)).toEqual({ mean: [0.286], std: [0.353], of: 'pixel / 255' });
    const evalOnly = runCli(['--limit', '200', '--eval-only', '--resume', join(dir, 'last.safetensors')]);
    const [, acc, images] = /test accuracy ([\d.]+)% \((\d+) images\)/.exec(evalOnly.stdout) ?? [];
    const { correct, total } = await evalOnnx(file, undefined, Number(images));
    expect(total).toBe(Number(images));
    expect(((100 * correct) / total).toFixed(2)).toBe(acc);
  }, 180_000);

  it('a diverging run stops at the first non-finite loss, keeps the last good checkpoint', () => {
    const dir = tmp();
    // A stale temporary file of a killed write (a pid that cannot exist) is removed.
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'last.safetensors.tmp-4194999-1'), 'partial');
    const argv = ['--limit', '100', '--batch-size', '50', '--lr', '1e6', '--optimizer', 'sgd', '--quiet'];
    const r = runCli([...argv, '--out', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /the loss became (NaN|Infinity) at epoch \d+, step \d+: training diverged; lower --lr \(now 1000000\)/,
    );
    // Only whole epochs with finite losses were saved; no temporary file is left.
    const left = readdirSync(dir).filter(
      (f) => !['last.safetensors', 'metrics.json', 'metrics.csv'].includes(f),
    );
    expect(left).toEqual([]);
  }, 120_000);
});

describe('training', () => {
  it('one epoch on a small subset beats chance (10%) by a wide margin', async () => {
    const args = parse(['--limit', '2000', '--epochs', '1', '--out', tmp(), '--quiet']);
    const result = await run(args, await loadData(args), { progress: quiet });
    expect(result.history).toHaveLength(1);
    expect(result.testAcc!).toBeGreaterThan(0.5);
  }, 120_000);

  it('--backend webgpu trains the same model as the cpu (same losses to float32 rounding)', async () => {
    const argv = ['--limit', '256', '--epochs', '1', '--batch-size', '64', '--quiet'];
    const cpu = parse([...argv, '--out', tmp()]);
    const data = await loadData(cpu);
    const a = await run(cpu, data, { progress: quiet });
    let b: Awaited<ReturnType<typeof run>>;
    try {
      b = await run(parse([...argv, '--backend', 'webgpu', '--out', tmp()]), data, { progress: quiet });
    } catch (e) {
      // No adapter: a failure in CI (which installs lavapipe), a skip elsewhere.
      if (process.env.CI || !/adapter|webgpu/.test(String(e))) throw e;
      console.warn(`skipped: ${(e as Error).message}`);
      return;
    } finally {
      await setBackend('cpu');
    }
    expect(b.history[0].trainLoss).toBeCloseTo(a.history[0].trainLoss, 4);
    expect(b.history[0].testLoss).toBeCloseTo(a.history[0].testLoss, 4);
  }, 120_000);

  it('resuming after an interruption mid-epoch gives exactly the uninterrupted result', async () => {
    const argv = ['--limit', '300', '--epochs', '2', '--batch-size', '32', '--pool', 'stochastic', '--quiet'];
    const a = parse([...argv, '--out', tmp()]);
    const data = await loadData(a);
    const straight = await run(a, data, { progress: quiet });
    const dir = tmp();
    const b = parse([...argv, '--out', dir]);
    let steps = 0;
    const stopped = await run(b, data, { progress: quiet, shouldStop: () => ++steps === 13 });
    expect(stopped.interrupted).toBe(join(dir, 'interrupted.safetensors'));
    const resumed = await run(parse([...argv, '--out', dir, '--resume', stopped.interrupted!]), data, {
      progress: quiet,
    });
    const strip = (h: typeof straight.history) =>
      h.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);
    expect(strip(resumed.history)).toEqual(strip(straight.history));
    const [wa, wb] = await Promise.all([
      loadSafetensors(join(a.out, 'last.safetensors')),
      loadSafetensors(join(dir, 'last.safetensors')),
    ]);
    for (const [k, t] of Object.entries(wa.tensors))
      expect([k, Array.from(wb.tensors[k].dataSync())]).toEqual([k, Array.from(t.dataSync())]);
    expect(readdirSync(dir).sort()).toEqual([
      'interrupted.safetensors',
      'last.safetensors',
      'metrics.csv',
      'metrics.json',
    ]);
    const evaluated = await run(
      parse([...argv, '--resume', join(dir, 'last.safetensors'), '--eval-only']),
      data,
      { progress: quiet },
    );
    expect(evaluated.testAcc).toBe(straight.testAcc);
  }, 180_000);

  it('Ctrl-C saves a checkpoint and exits with code 130', async () => {
    const dir = tmp();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@softpool/source',
        cli,
        '--limit',
        '3000',
        '--epochs',
        '5',
        '--out',
        dir,
      ],
      { cwd: root },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      // Interrupt once training is under way.
      if (/epoch 1\/5 \d+\/\d+/.test(stdout) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stdout).toMatch(/interrupted: saved .*interrupted\.safetensors/);
    expect(existsSync(join(dir, 'interrupted.safetensors'))).toBe(true);
    expect(code).toBe(130);
  }, 150_000);

  it('Ctrl-C in a terminal (SIGINT to the whole process group) under `pnpm train` saves too', async () => {
    // The root script as the README runs it. A terminal sends SIGINT to every process of the group;
    // a wrapper that relays it again, or kills a child that does not answer within milliseconds
    // (tsx's CLI: a VGG step runs ~100 ms without yielding), would lose the checkpoint.
    const repo = join(root, '../..');
    const script = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).scripts.train as string;
    const dir = tmp();
    const args = '--model vgg --limit 2000 --epochs 5 --out';
    const child = spawn('sh', ['-c', `exec ${script} ${args} "${dir}"`], { cwd: repo, detached: true });
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (sent || !/epoch 1\/5 \d+\/\d+/.test(stdout)) return;
      sent = true;
      process.kill(-child.pid!, 'SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stdout).toMatch(/interrupted: saved .*interrupted\.safetensors/);
    expect(existsSync(join(dir, 'interrupted.safetensors'))).toBe(true);
    expect(code).toBe(130);
  }, 180_000);
});
