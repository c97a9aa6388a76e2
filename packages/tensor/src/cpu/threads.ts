// The CPU backend's worker threads: Node worker_threads, or Web Workers in cross-origin isolated
// pages, all running the WebAssembly kernels on one shared memory (wasm.ts). A parallel call
// publishes a list of work items; the calling thread and the workers claim them one at a time
// (worker-source.ts has the protocol), the caller waits until all are done. Items write disjoint
// outputs and each computes the same arithmetic whoever runs it, so results are bit-identical
// for any thread count. Workers start asynchronously: until they are up, the calling thread
// simply claims every item itself.
import { ArgumentError, BackendError } from '../errors.js';
import { normalFromWords } from '../random.js';
import { helperSource, THREADED_MAPS } from './expressions.js';
import { softmaxBlock } from './softmax-block.js';
import { wasmState, winogradAllowed } from './wasm.js';
import {
  ARITY,
  CONTROL,
  FN,
  FN_NAMES,
  MAX_ITEMS,
  mapJsSource,
  randnSource,
  SLOT,
  softmaxBlockSource,
  workerSource,
} from './worker-source.js';

/** The part of Node's Worker and the Web Worker this file uses. */
interface AnyWorker {
  terminate(): unknown;
}

interface Pool {
  size: number;
  workers: AnyWorker[];
  ready: number;
  readyPromise: Promise<void>;
  control: Int32Array;
  table: Int32Array;
  generation: number;
  /** Why the pool cannot be used any more (a worker died); it is rebuilt on the next call. */
  broken?: string;
}

const { NEXT, DONE, ERROR, STOP, SPIN } = CONTROL;
/**
 * Microseconds a thread keeps polling for the next parallel call (a worker) or for the workers'
 * last items (the caller) before it blocks. A blocked thread took 20-40 us to wake on a 2-vCPU
 * VM, where a training step's parallel calls come tens of microseconds apart: with this, LeNet-5
 * and VGG-style steps on two threads took 4-5 % less time (medians; docs/benchmarks.md, tenth
 * sitting). Like OpenMP's spin before sleeping, but only while a core is free for it (idleCores),
 * and a thread polls only while its last wait was this short: polling where other processes
 * wanted the cores (the test suite's) only took CPU time from them.
 */
const SPIN_US = 300;
/** Milliseconds between two looks at the machine's load (idleCores). */
const LOAD_EVERY_MS = 50;
/** A parallel call that sees no item finish for this long reports the pool as stuck. */
let stallMs = 30_000;

let wanted: number | undefined;
let pool: Pool | undefined;
let warned = false;
/** Why worker threads cannot run in this process (one failed before it started), if so. */
let unusable: string | undefined;
let canWait: boolean | undefined;
/** Whether the calling thread polls for the workers' last items: their last wait was that short. */
let pollDone = true;
let loadSeen = Number.NEGATIVE_INFINITY;
let readLoad: (() => string) | null | undefined;
/** Parallel calls made so far (tests check that a path really ran on the threads). */
let batches = 0;

type NodeWorkerThreads = typeof import('node:worker_threads');
type NodeOs = typeof import('node:os');

/** A Node built-in, synchronously where Node offers it (20.16+), else undefined. */
function nodeBuiltin<T>(name: string): T | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  return p?.getBuiltinModule?.(name) as T | undefined;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function parseCount(value: unknown, source: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new ArgumentError(
      `${source}: the number of threads must be an integer from 1 to 256, got ${String(value)}`,
    );
  return n;
}

/** The machine's parallelism: os.availableParallelism in Node, hardwareConcurrency in browsers. */
function machineThreads(): number {
  const os = isNode() ? nodeBuiltin<NodeOs>('node:os') : undefined;
  const n =
    os?.availableParallelism?.() ??
    os?.cpus().length ??
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(n ?? 1, 64));
}

/**
 * How many threads CPU kernels use (the calling thread included): what `setNumThreads` set, else
 * the `SOFTPOOL_NUM_THREADS` environment variable, else the machine's available parallelism.
 */
export function getNumThreads(): number {
  if (wanted === undefined) {
    const env = isNode() ? process.env.SOFTPOOL_NUM_THREADS : undefined;
    wanted = env ? parseCount(env, 'SOFTPOOL_NUM_THREADS') : machineThreads();
  }
  return wanted;
}

/**
 * Sets how many threads CPU kernels use, the calling thread included (1: the workers, if any,
 * stay parked). Workers start in the background; `threadsReady()` resolves once they all run.
 * Results are bit-identical for every thread count.
 * @example
 * setNumThreads(4);
 * await threadsReady(); // 4
 */
export function setNumThreads(n: number): void {
  const count = parseCount(n, 'setNumThreads(n)');
  wanted = count;
  // One thread parks the workers (switching back is free); another count needs another pool.
  if (pool && count !== 1 && pool.size !== count - 1) shutdown();
}

/**
 * Resolves once the worker threads of the current setting run, with the number of threads CPU
 * kernels then use (1 where workers cannot run, e.g. a page that is not cross-origin isolated).
 */
export async function threadsReady(): Promise<number> {
  const p = currentPool();
  if (p) await p.readyPromise;
  return activeThreads();
}

/**
 * [from, to) ranges splitting `total` into at most `parts` nearly equal ones whose bounds are
 * multiples of `unit` (but the last): the work items of a parallel call. The split must not change
 * a result, only who computes it.
 */
export function splitRange(total: number, parts: number, unit = 1): [number, number][] {
  const units = Math.ceil(total / unit);
  const n = Math.max(1, Math.min(units, parts));
  return Array.from({ length: n }, (_, i) => [
    Math.min(total, Math.floor((i * units) / n) * unit),
    Math.min(total, Math.floor(((i + 1) * units) / n) * unit),
  ]);
}

/** Threads that take part in parallel calls right now (workers still starting do not count). */
export function activeThreads(): number {
  const p = currentPool();
  return p ? 1 + p.ready : 1;
}

/**
 * What the CPU backend runs on now: the threads taking part in parallel calls, whether its
 * WebAssembly memory is shared (needed for more than one thread), and whether its kernels use
 * relaxed SIMD's multiply-add (fused on CPUs with FMA; `SOFTPOOL_RELAXED_SIMD=0` turns it off).
 * @example
 * await threadsReady();
 * cpuInfo(); // { threads: 2, sharedMemory: true, relaxedSimd: true }
 */
export function cpuInfo(): {
  threads: number;
  sharedMemory: boolean;
  relaxedSimd: boolean;
  winograd: boolean;
} {
  const { shared, relaxed } = wasmState();
  return {
    threads: activeThreads(),
    sharedMemory: shared,
    relaxedSimd: relaxed,
    winograd: winogradAllowed(),
  };
}

/** Stops the worker threads (a later parallel call starts them again). */
function shutdown(): void {
  if (!pool) return;
  Atomics.store(pool.control, STOP, 1);
  Atomics.notify(pool.control, NEXT);
  for (const w of pool.workers) void w.terminate();
  pool = undefined;
}

/** The pool for the current setting, started on first need; undefined when one thread is used. */
function currentPool(): Pool | undefined {
  if (pool?.broken) shutdown();
  if (getNumThreads() === 1) return undefined;
  if (pool) return pool;
  const why = unusable
    ? `a worker thread could not start (${unusable})`
    : !wasmState().shared
      ? 'worker threads need SharedArrayBuffer, which browsers only give cross-origin isolated pages (COOP/COEP headers)'
      : isNode() && !nodeBuiltin('node:worker_threads')
        ? 'this Node has no process.getBuiltinModule (Node 20.16 or later has it)'
        : undefined;
  if (why) {
    if (!warned) {
      warned = true;
      console.warn(`softpool: CPU kernels use one thread here: ${why}.`);
    }
    return undefined;
  }
  pool = startPool(getNumThreads() - 1);
  return pool;
}

function startPool(size: number): Pool {
  const { module, memory } = wasmState();
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL.WORDS));
  const table = new Int32Array(new SharedArrayBuffer(4 * SLOT * MAX_ITEMS));
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((r) => {
    resolveReady = r;
  });
  const p: Pool = { size, workers: [], ready: 0, readyPromise, control, table, generation: 0 };
  loadSeen = Number.NEGATIVE_INFINITY; // look at the load on its first call
  const init = {
    module,
    memory,
    control: control.buffer,
    tasks: table.buffer,
    extra: extensions.map(({ module: m, names }) => ({ module: m, names })),
    arity,
    jsHelpers: helperSource(),
    jsMaps: THREADED_MAPS,
    softmaxBlock: softmaxBlock.toString(),
    normal: normalFromWords.toString(),
  };
  const onReady = () => {
    if (++p.ready === size) resolveReady();
  };
  const onDeath = (why: string, started: boolean) => {
    if (pool === p && !p.broken && !Atomics.load(control, STOP)) {
      p.broken = why;
      // A worker that never started would fail again on every restart: use one thread instead.
      if (!started) unusable = why;
    }
    resolveReady();
  };
  const nodeThreads = isNode() ? nodeBuiltin<NodeWorkerThreads>('node:worker_threads') : undefined;
  for (let i = 0; i < size; i++) {
    if (nodeThreads) {
      const w = new nodeThreads.Worker(threadInternals.source, { eval: true, workerData: init });
      let started = false;
      w.on('error', (e) => onDeath(`a worker failed: ${e.message}`, started));
      w.on('exit', (code) => onDeath(`a worker exited (code ${code})`, started));
      // A starting worker keeps the process alive (so `await threadsReady()` cannot end it);
      // a running one never does: process exit ends it.
      w.once('message', () => {
        started = true;
        w.unref();
        onReady();
      });
      p.workers.push(w);
    } else {
      const url = URL.createObjectURL(new Blob([threadInternals.source], { type: 'text/javascript' }));
      const w = new Worker(url);
      URL.revokeObjectURL(url);
      let started = false;
      w.onmessage = () => {
        started = true;
        onReady();
      };
      w.onerror = (e) => onDeath(`a worker failed: ${e.message}`, started);
      w.postMessage(init);
      p.workers.push(w);
    }
  }
  return p;
}

type Kernel = (...args: number[]) => void;
/** This thread's kernels, indexed by the numbers of `FN` (made on the first parallel call). */
let kernels: Kernel[] | undefined;

/** Other packages' modules whose exports the threads run too, numbered after FN's (in order). */
const extensions: { module: WebAssembly.Module; names: string[]; fns: Kernel[] }[] = [];
/** The argument count of every kernel number: FN's, then the registered ones. */
const arity: number[] = [...ARITY];

/**
 * Adds the exports named in `arities` of a WebAssembly module (a `WebAssembly.Module`; typed
 * `object` so these declarations need no DOM or Node types) to the kernels the CPU threads run,
 * and returns their numbers for `runCpuKernels`. The module must import the CPU backend's memory
 * (`cpuMemory()`) as `env.memory`; `instance` is this thread's instance of it, and every worker
 * makes its own. Workers already running are restarted on the next parallel call.
 * @example
 * const fn = registerCpuKernels(module, instance.exports, { poolFwd: 12 });
 * runCpuKernels([[fn.poolFwd, ...args], [fn.poolFwd, ...moreArgs]]);
 */
export function registerCpuKernels(
  module: object,
  exports: Record<string, unknown>,
  arities: Record<string, number>,
): Record<string, number> {
  if (!(module instanceof WebAssembly.Module))
    throw new ArgumentError(`registerCpuKernels: module must be a WebAssembly.Module, got ${typeof module}`);
  for (const [what, v] of [
    ['exports', exports],
    ['arities', arities],
  ] as const)
    if (typeof v !== 'object' || v === null)
      throw new ArgumentError(
        `registerCpuKernels: ${what} must be an object, got ${v === null ? 'null' : typeof v}`,
      );
  const names = Object.keys(arities);
  const fns = names.map((name) => {
    const f = exports[name];
    if (typeof f !== 'function')
      throw new ArgumentError(`registerCpuKernels: the module has no exported function '${name}'`);
    const n = arities[name];
    if (!Number.isInteger(n) || n < 0 || n > SLOT - 2)
      throw new ArgumentError(
        `registerCpuKernels: '${name}' must take 0 to ${SLOT - 2} integer arguments, got ${n}`,
      );
    return f as Kernel;
  });
  const first = arity.length;
  extensions.push({ module: module as WebAssembly.Module, names, fns });
  for (const name of names) arity.push(arities[name]);
  kernels = undefined;
  if (pool) shutdown();
  return Object.fromEntries(names.map((name, i) => [name, first + i]));
}

/** Runs one item's calls on this thread (`fns` indexed by the numbers of `FN`). */
function runItem(fns: Kernel[], calls: number[]): void {
  for (let at = 0; at < calls.length; ) {
    const fn = calls[at++];
    const args = calls.slice(at, at + arity[fn]);
    at += arity[fn];
    if (fn === FN.fail) throw new Error('injected failure');
    // Only a worker can be made to exit; the calling thread stays busy meanwhile, so the test
    // that injects this sees the other exit items taken by workers.
    if (fn === FN.exit) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    else fns[fn](...args);
  }
}

/** Blocks until `ctl[at]` is no longer `value` (or `ms` pass); spins where blocking is not allowed. */
function waitWhile(ctl: Int32Array, at: number, value: number, ms: number): void {
  if (canWait !== false) {
    try {
      Atomics.wait(ctl, at, value, ms);
      canWait = true;
      return;
    } catch {
      canWait = false; // a browser's main thread
    }
  }
  const until = performance.now() + ms;
  while (Atomics.load(ctl, at) === value && performance.now() < until) {}
}

/**
 * Runs work items across the threads (`runCpuKernels` checks them first). Each item is a flat
 * list of calls: an export number from `FN` (or `registerCpuKernels`) followed by its integer
 * arguments. Items must write disjoint memory. With one thread (or before the workers are up) the caller
 * runs them all, in order.
 */
export function runParallel(items: number[][]): void {
  if (!kernels) {
    const k = wasmState().kernels as unknown as Record<string, Kernel | undefined>;
    // fail and exit are not exports: runItem handles them itself.
    kernels = [...FN_NAMES.map((name) => k[name] ?? (() => {})), ...extensions.flatMap((e) => e.fns)];
    const { memory } = wasmState();
    kernels[FN.mapJs] = new Function(`return ${mapJsSource}`)()(memory, helperSource(), THREADED_MAPS);
    kernels[FN.softmaxBlock] = new Function(`return ${softmaxBlockSource}`)()(memory, softmaxBlock);
    kernels[FN.randnJs] = new Function(`return ${randnSource}`)()(memory, normalFromWords);
  }
  const fns = kernels;
  const p = items.length > 1 ? currentPool() : undefined;
  if (!p || p.ready === 0) {
    try {
      for (const calls of items) runItem(fns, calls);
    } catch (e) {
      throw new BackendError(`cpu threads: a CPU kernel failed: ${(e as Error).message}`);
    }
    return;
  }
  for (let start = 0; start < items.length; start += MAX_ITEMS)
    runBatch(p, fns, items.slice(start, start + MAX_ITEMS));
}

/**
 * Whether no thread but the pool's own wants a core: Linux's count of runnable threads
 * (/proc/loadavg, ours included: the caller, and workers polling) is at most the cores, and the
 * pool has no more threads than cores. Where that cannot be read (other systems, browsers): no.
 */
function idleCores(size: number): boolean {
  if (readLoad === undefined) {
    const fs = isNode() ? nodeBuiltin<typeof import('node:fs')>('node:fs') : undefined;
    readLoad = null;
    try {
      if (fs?.readFileSync('/proc/loadavg', 'utf8'))
        readLoad = () => fs.readFileSync('/proc/loadavg', 'utf8');
    } catch {}
  }
  if (!readLoad || size + 1 > machineThreads()) return false;
  try {
    return Number(readLoad().split(' ')[3]?.split('/')[0]) <= machineThreads();
  } catch {
    return false;
  }
}

function runBatch(p: Pool, fns: Kernel[], items: number[][]): void {
  const { control: ctl, table } = p;
  const now = performance.now();
  if (now - loadSeen > LOAD_EVERY_MS) {
    loadSeen = now;
    Atomics.store(ctl, SPIN, idleCores(p.size) ? SPIN_US : 0);
  }
  items.forEach((calls, i) => {
    if (1 + calls.length > SLOT)
      throw new BackendError(
        `cpu threads: a work item of ${calls.length} words exceeds the slot of ${SLOT - 1}`,
      );
    let count = 0;
    for (let c = 0; c < calls.length; c += 1 + arity[calls[c]]) count++;
    table[i * SLOT] = count;
    table.set(calls, i * SLOT + 1);
  });
  const total = items.length;
  batches++;
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, ERROR, 0);
  p.generation = (p.generation + 1) & 0xff;
  Atomics.store(ctl, NEXT, (p.generation << 24) | (total << 12));
  Atomics.notify(ctl, NEXT);
  let failure: unknown;
  for (;;) {
    const v = Atomics.load(ctl, NEXT);
    const idx = v & 0xfff;
    if (idx >= total) break;
    if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
    try {
      runItem(fns, items[idx]);
    } catch (e) {
      failure ??= e;
    }
    Atomics.add(ctl, DONE, 1);
  }
  // Wait for the items the workers took (polling first, as they do); a pool where nothing
  // finishes for `stallMs` is stuck.
  const budget = Atomics.load(ctl, SPIN) / 1000;
  const t0 = performance.now();
  if (pollDone) while (Atomics.load(ctl, DONE) < total && performance.now() - t0 < budget) {}
  let last = Atomics.load(ctl, DONE);
  let since = performance.now();
  while (last < total) {
    waitWhile(ctl, DONE, last, 1000);
    const now = Atomics.load(ctl, DONE);
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since > stallMs) {
      p.broken = 'a worker stopped responding';
      shutdown();
      throw new BackendError(
        `cpu threads: no work item finished in ${stallMs / 1000} s (a worker thread died?); ` +
          'the worker threads are restarted on the next call; setNumThreads(1) avoids them',
      );
    }
  }
  pollDone = performance.now() - t0 < budget;
  const failed = Atomics.load(ctl, ERROR);
  if (failure || failed) {
    const why =
      failure instanceof Error ? failure.message : `work item ${failed - 1} threw in a worker thread`;
    throw new BackendError(`cpu threads: a CPU kernel failed: ${why}`);
  }
}

/** Test hooks: the stall timeout, the pool's workers (to kill one), the workers' code. */
export const threadInternals = {
  source: workerSource,
  /** Stops the workers and forgets that they could not start (and the one-time note). */
  reset(): void {
    shutdown();
    unusable = undefined;
    warned = false;
  },
  setStallMs(ms: number): void {
    stallMs = ms;
  },
  workers(): AnyWorker[] {
    return pool?.workers ?? [];
  },
  /** Parallel calls made so far that the workers could take part in. */
  batches: (): number => batches,
  /** Replaces how /proc/loadavg is read (undefined: the file again); the next call looks. */
  setLoadReader(read: (() => string) | undefined): void {
    readLoad = read;
    loadSeen = Number.NEGATIVE_INFINITY;
  },
  /** How long the running pool's threads poll before blocking (SPIN_US, or 0), in microseconds. */
  spinUs: (): number | undefined => (pool ? Atomics.load(pool.control, SPIN) : undefined),
};

/**
 * Runs work items on the CPU threads: each a flat list of calls, a kernel number from
 * `registerCpuKernels` then its integer arguments (byte addresses and sizes in `cpuMemory()`).
 * Items must write disjoint memory; the calling thread takes part and returns when all are done.
 */
export function runCpuKernels(items: readonly (readonly number[])[]): void {
  if (!Array.isArray(items))
    throw new ArgumentError(`runCpuKernels: items must be an array, got ${typeof items}`);
  items.forEach((calls, i) => {
    if (!Array.isArray(calls) || !calls.every((v) => Number.isInteger(v)))
      throw new ArgumentError(`runCpuKernels: item ${i} must be an array of integers`);
    for (let at = 0; at < calls.length; at += 1 + arity[calls[at]]) {
      const fn = calls[at];
      // The built-in kernels are the backend's own: only registered ones run from outside.
      if (!(fn >= FN_NAMES.length && fn < arity.length))
        throw new ArgumentError(`runCpuKernels: item ${i} calls kernel ${fn}, which is not registered`);
      if (at + 1 + arity[fn] > calls.length)
        throw new ArgumentError(
          `runCpuKernels: item ${i} gives kernel ${fn} ${calls.length - at - 1} arguments, it takes ${arity[fn]}`,
        );
    }
  });
  runParallel(items.map((calls) => [...calls]));
}
