// The resumable grid runner. Each finished run appends one line (config, seed, per-epoch metrics,
// wall time, machine) to the results file; a rerun skips the runs already there. The run in
// progress checkpoints every epoch (and on Ctrl-C) under <results>.runs/<id>/, so even it resumes
// where it stopped, bit-identically (the trainer restores every random stream).
import { execFileSync } from 'node:child_process';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  balancedSubset,
  DEBIAN_FASHION_MNIST_DIR,
  type ImageDataset,
  loadFashionMnist,
  movingShapes,
  sliceDataset,
} from '@softpool/data';
import {
  type EpochMetrics,
  Progress,
  processAlive,
  type RunData,
  run,
  type TrainArgs,
} from '@softpool/train';
import { appendResult, ResultsError, readResults } from '../results.js';
import { type DataSpec, type GridName, plan, type RunSpec } from './grid.js';

/** A finished run: its spec, then what it measured and where. */
export interface RunRecord extends RunSpec {
  history: EpochMetrics[];
  /** Test accuracy after the last epoch: the figure the report uses. */
  finalTestAcc: number;
  /** Training seconds summed over epochs (across sittings when the run was resumed). */
  trainSeconds: number;
  /** Wall seconds of the sitting that finished the run (including evaluation). */
  wallSeconds: number;
  resumed: boolean;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  commit: string | null;
  finishedAt: string;
}

export function machine(): RunRecord['machine'] {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/** Loads (and caches) the datasets a spec needs. A missing dataset directory names the directory. */
export class DataCache {
  #cache = new Map<string, Promise<RunData>>();
  constructor(readonly fashionDir: string = DEBIAN_FASHION_MNIST_DIR) {}

  get(spec: DataSpec): Promise<RunData> {
    const key = JSON.stringify(spec);
    let p = this.#cache.get(key);
    if (!p) {
      p = this.#load(spec);
      this.#cache.set(key, p);
    }
    return p;
  }

  async #load(spec: DataSpec): Promise<RunData> {
    if (spec.kind === 'clips') {
      const o = { frames: spec.frames, size: spec.size, noise: spec.noise };
      // Fixed data seeds: the clips are the same for every run; the run's seed varies the model.
      return {
        train: movingShapes({ count: spec.train, seed: 101, ...o }),
        test: movingShapes({ count: spec.test, seed: 202, ...o }),
        mean: [0.5],
        std: [0.5],
      };
    }
    const dir = spec.source === 'full' ? this.fashionDir : undefined;
    let train: ImageDataset;
    let test: ImageDataset;
    try {
      [train, test] = await Promise.all([
        loadFashionMnist({ split: 'train', dir }),
        loadFashionMnist({ split: 'test', dir }),
      ]);
    } catch (e) {
      throw new ResultsError(
        `${(e as Error).message}${dir ? ` (install Debian's dataset-fashion-mnist or pass --data DIR)` : ''}`,
      );
    }
    if (spec.trainPerClass !== null) train = balancedSubset(train, spec.trainPerClass);
    if (spec.testLimit !== null) test = sliceDataset(test, 0, Math.min(spec.testLimit, test.labels.length));
    return { train, test };
  }
}

/** The newest checkpoint of an unfinished run, if any. */
async function checkpointOf(dir: string): Promise<string | undefined> {
  let best: { path: string; t: number } | undefined;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith('.safetensors')) continue;
    const p = join(dir, f);
    const t = (await stat(p)).mtimeMs;
    if (!best || t > best.t) best = { path: p, t };
  }
  return best?.path;
}

/** Claims a run for this process (a second runner on the same file skips it); null if taken. */
async function claim(dir: string): Promise<(() => Promise<void>) | null> {
  const lock = join(dir, 'claim.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await open(lock, 'wx');
      await h.writeFile(String(process.pid));
      await h.close();
      return () => rm(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(await readFile(lock, 'utf8').catch(() => '0'));
      if (owner > 0 && processAlive(owner)) return null;
      await rm(lock, { force: true }); // its owner died: take it over
    }
  }
  return null;
}

function argsOf(spec: RunSpec, out: string, resume: string | undefined): TrainArgs {
  const s = spec.schedule;
  return {
    model: spec.model,
    pool: spec.pool,
    epochs: s.epochs,
    batchSize: s.batchSize,
    lr: s.lr,
    optimizer: s.optimizer,
    weightDecay: 0,
    scheduler: s.scheduler,
    backend: 'cpu',
    seed: spec.seed,
    out,
    resume,
    evalOnly: false,
    augment: false,
    quiet: true,
    help: false,
  };
}

export interface GridOptions {
  protocol: 'full' | 'quick';
  grids: readonly GridName[];
  results: string;
  data: DataCache;
  /** Stop after this many runs (0: no limit). */
  maxRuns?: number;
  log: (line: string) => void;
  shouldStop: () => boolean;
}

const clock = (s: number) => `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;

/** Runs every planned run not yet in the results file. Returns 'interrupted' when stopped. */
export async function runGrid(o: GridOptions): Promise<'done' | 'interrupted'> {
  const work = `${o.results.replace(/\.jsonl$/, '')}.runs`;
  let done = 0;
  for (;;) {
    const records = await readResults<RunRecord>(o.results);
    const have = new Map(records.map((r) => [r.id, r]));
    const lenet = records.filter((r) => r.grid === 'lenet' && r.protocol === `${o.protocol}-v1`);
    const todo = plan(o.protocol, o.grids, lenet).filter((s) => {
      const old = have.get(s.id);
      if (old && old.protocol !== s.protocol)
        throw new ResultsError(
          `${o.results}: run ${s.id} was recorded under protocol ${old.protocol}, not ${s.protocol}; use another results file`,
        );
      return !old;
    });
    if (todo.length === 0) {
      o.log(`all ${have.size} runs recorded in ${o.results}`);
      return 'done';
    }
    let ran = false;
    for (const spec of todo) {
      if (o.maxRuns && done >= o.maxRuns) return 'done';
      const dir = join(work, spec.id);
      await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
      const release = await claim(dir);
      if (!release) {
        o.log(`${spec.id}: running in another process, skipped`);
        continue;
      }
      try {
        // Recheck under the claim: another runner may have finished it meanwhile.
        if ((await readResults<RunRecord>(o.results)).some((r) => r.id === spec.id)) continue;
        const resume = await checkpointOf(dir);
        const data = await o.data.get(spec.data);
        o.log(
          `${spec.id}: ${spec.model} + ${spec.pool}, seed ${spec.seed}, ${data.train.labels.length} train / ${data.test.labels.length} test, ${spec.schedule.epochs} epochs${resume ? ` (resuming ${resume})` : ''}`,
        );
        const t0 = performance.now();
        const result = await run(argsOf(spec, dir, resume), data, {
          progress: new Progress(process.stdout, true),
          shouldStop: o.shouldStop,
        });
        if (result.interrupted) {
          o.log(`${spec.id}: interrupted; a rerun continues from ${result.interrupted}`);
          return 'interrupted';
        }
        const history = result.history;
        const last = history.at(-1);
        if (!last || history.length !== spec.schedule.epochs)
          throw new ResultsError(
            `${spec.id}: the run ended with ${history.length} of ${spec.schedule.epochs} epochs`,
          );
        const record: RunRecord = {
          ...spec,
          history,
          finalTestAcc: last.testAcc,
          trainSeconds: history.reduce((a, h) => a + h.seconds, 0),
          wallSeconds: (performance.now() - t0) / 1000,
          resumed: resume !== undefined,
          machine: machine(),
          commit: gitCommit(),
          finishedAt: new Date().toISOString(),
        };
        await appendResult(o.results, record);
        await rm(dir, { recursive: true, force: true });
        done++;
        ran = true;
        o.log(
          `${spec.id}: test accuracy ${(last.testAcc * 100).toFixed(2)}% after ${history.length} epochs (${clock(record.wallSeconds)})`,
        );
      } finally {
        await release();
      }
      if (o.shouldStop()) return 'interrupted';
      // The deeper grid's methods depend on LeNet-5's results: replan after each run.
      break;
    }
    if (!ran) {
      o.log('every remaining run is held by another process');
      return 'done';
    }
  }
}
