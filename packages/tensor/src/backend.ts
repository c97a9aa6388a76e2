// The backend interface, the backend registry, and Storage: refcounted memory owned by one backend.

import { BYTES_PER_ELEMENT, type DType, type TypedArray } from './dtype.js';
import { BackendError } from './errors.js';

/**
 * What a backend provides besides its kernels: memory. Kernels are registered separately
 * (see `registerKernel`), keyed by op name and backend name.
 */
export interface Backend {
  readonly name: string;
  /** Allocates zero-filled memory for `size` elements of `dtype`; returns the backend's handle. */
  allocate(dtype: DType, size: number): unknown;
  /** Creates memory holding a copy of `data` (a backend may adopt the array when `owned` is true). */
  upload(data: TypedArray, dtype: DType, owned: boolean): unknown;
  /** Releases memory; called exactly once per handle, when its last tensor is disposed. */
  free(handle: unknown, dtype: DType, size: number): void;
  /** Copies `size` elements starting at `offset` out of the backend. */
  read(handle: unknown, dtype: DType, offset: number, size: number): Promise<TypedArray>;
  /** Synchronous read, for backends that can (the CPU). */
  readSync?(handle: unknown, dtype: DType, offset: number, size: number): TypedArray;
  /** Resolves when all work queued so far has finished (GPU backends). */
  sync?(): Promise<void>;
}

let storageIds = 0;

/**
 * Memory shared by a tensor and its views. `refs` counts tensor handles; the backend memory is
 * freed when it drops to zero. `version` counts in-place writes (autograd checks it).
 */
export class Storage {
  readonly id = ++storageIds;
  refs = 0;
  version = 0;
  constructor(
    readonly backend: Backend,
    readonly handle: unknown,
    readonly dtype: DType,
    readonly size: number,
  ) {
    const s = stats(backend.name);
    s.bytes += this.byteLength;
    s.storages++;
    if (s.bytes > (peaks.get(backend.name) ?? 0)) peaks.set(backend.name, s.bytes);
  }

  get byteLength(): number {
    return this.size * BYTES_PER_ELEMENT[this.dtype];
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    const s = stats(this.backend.name);
    s.bytes -= this.byteLength;
    s.storages--;
    this.backend.free(this.handle, this.dtype, this.size);
  }
}

/** Live counts of one backend, as `memory()` reports them. */
export interface BackendMemory {
  tensors: number;
  storages: number;
  bytes: number;
}

const memoryStats = new Map<string, BackendMemory>();
const peaks = new Map<string, number>();

/** The mutable counters of one backend (internal; read them through `memory()`). */
export function stats(backend: string): BackendMemory {
  let s = memoryStats.get(backend);
  if (!s) memoryStats.set(backend, (s = { tensors: 0, storages: 0, bytes: 0 }));
  return s;
}

export interface MemoryInfo extends BackendMemory {
  /** Per-backend breakdown. */
  backends: Record<string, BackendMemory>;
}

/**
 * Live tensors, storages and bytes, in total and per backend. Tests assert on it to prove that
 * training loops do not leak.
 * @example
 * const before = memory().tensors;
 * scope(() => add(ones([2]), 1));
 * memory().tensors === before; // true
 */
export function memory(): MemoryInfo {
  const out: MemoryInfo = { tensors: 0, storages: 0, bytes: 0, backends: {} };
  for (const [name, s] of memoryStats) {
    out.backends[name] = { ...s };
    out.tensors += s.tensors;
    out.storages += s.storages;
    out.bytes += s.bytes;
  }
  return out;
}

/**
 * The most bytes live at once, per backend and in total, since the start or the last
 * `resetPeakMemory()` (benchmarks report it per case).
 */
export function peakMemory(): { bytes: number; backends: Record<string, number> } {
  const backends = Object.fromEntries(peaks);
  return { bytes: [...peaks.values()].reduce((a, b) => a + b, 0), backends };
}

/** Restarts peak tracking from the bytes live now. */
export function resetPeakMemory(): void {
  for (const [name, s] of memoryStats) peaks.set(name, s.bytes);
}

// ---- backend registry -------------------------------------------------------------------------

const backends = new Map<string, Backend>();
const initializers = new Map<string, () => Promise<Backend>>();
let current: Backend | undefined;

/** Makes a ready backend available under its name. The first one registered becomes the default. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
  current ??= backend;
}

/** Registers a backend that needs asynchronous set-up (WebGPU); it is created on first `setBackend`. */
export function registerBackendFactory(name: string, init: () => Promise<Backend>): void {
  initializers.set(name, init);
}

/** The backend registered under `name`; throws naming the known ones. */
export function getBackend(name: string): Backend {
  const b = backends.get(name);
  if (b) return b;
  const hint = initializers.has(name)
    ? ` (call \`await setBackend('${name}')\` or \`await initBackend('${name}')\` first)`
    : '';
  throw new BackendError(
    `backend '${name}' is not ready${hint}; ready: ${[...backends.keys()].join(', ') || 'none'}`,
  );
}

/** Creates (once) and returns a backend registered with a factory, without making it the default. */
export async function initBackend(name: string): Promise<Backend> {
  const ready = backends.get(name);
  if (ready) return ready;
  const init = initializers.get(name);
  if (!init) {
    const known = [...new Set([...backends.keys(), ...initializers.keys()])];
    throw new BackendError(
      `unknown backend '${name}'; known: ${known.join(', ')}` +
        (name === 'webgpu' ? ". Import '@softpool/webgpu' to register it" : ''),
    );
  }
  const backend = await init();
  backends.set(name, backend);
  return backend;
}

/** Makes `name` the default backend for new tensors, initialising it if needed. */
export async function setBackend(name: string): Promise<Backend> {
  current = await initBackend(name);
  return current;
}

/** The default backend for tensors created without an input to follow. */
export function defaultBackend(): Backend {
  if (!current)
    throw new BackendError('no backend is registered; import @softpool/tensor to get the CPU backend');
  return current;
}

/** Names of the backends ready now. */
export function listBackends(): string[] {
  return [...backends.keys()];
}
