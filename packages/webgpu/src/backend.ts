// The WebGPU backend: buffers from a size-class pool, many dispatches per command submission,
// pipelines cached by shader text, shape metadata passed as data (a new shape is not a new
// pipeline), asynchronous read-back only when the caller awaits data.
import {
  allocArray,
  BackendError,
  BYTES_PER_ELEMENT,
  type ComputeProgram,
  type DType,
  debugEnabled,
  debugLog,
  makeTensor,
  type ShaderBackend,
  type Tensor,
  type TypedArray,
} from '@softpool/tensor';
import { BufferPool } from './pool.js';

/** Storage handle: a pooled buffer (bool and int32 elements take 4 bytes on the GPU). */
export interface GpuHandle {
  buffer: GPUBuffer;
}

const GPU_BYTES: Record<DType, number> = { float32: 4, int32: 4, bool: 4, float64: 8 };

/** WGSL element type of a dtype. */
export function wgslType(dtype: DType): string {
  if (dtype === 'float32') return 'f32';
  if (dtype === 'int32') return 'i32';
  if (dtype === 'bool') return 'u32';
  throw new BackendError(
    'webgpu: float64 is not supported by WebGPU; cast to float32 or use the cpu backend',
  );
}

/**
 * A program for this backend: a ComputeProgram that may also read float textures (`tex0..`,
 * texture_2d<f32>, read with textureLoad) and write rgba32float storage textures (`img0..`).
 */
export interface GpuProgram extends ComputeProgram {
  textures?: readonly GPUTexture[];
  storageTextures?: readonly GPUTexture[];
}

const MAX_BATCH = 64;
const CHECK_SLOTS = 64;
const PARAMS_BYTES = 1 << 18;

export class WebGPUBackend implements ShaderBackend {
  readonly name = 'webgpu';
  readonly pool: BufferPool;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  #encoder: GPUCommandEncoder | null = null;
  #pending = 0;
  #params: Uint32Array;
  #paramsUsed = 0;
  readonly #paramsBuffer: GPUBuffer;
  readonly #align: number;
  #lost: string | null = null;
  // Device-side checks (index out of range): one 256-byte slot per distinct message, flagged by
  // the kernel and inspected after the next read-back, as CUDA reports device-side asserts.
  readonly #errors: GPUBuffer;
  readonly #checkSlots = new Map<string, number>();
  #checksPending = false;
  #error: string | null = null;
  /** Dispatches since creation (profiling). */
  dispatches = 0;

  constructor(
    readonly device: GPUDevice,
    readonly adapterDescription: string,
  ) {
    this.pool = new BufferPool(device);
    this.#align = device.limits.minStorageBufferOffsetAlignment;
    this.#params = new Uint32Array(PARAMS_BYTES / 4);
    this.#paramsBuffer = device.createBuffer({
      size: PARAMS_BYTES,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    this.#errors = device.createBuffer({
      size: CHECK_SLOTS * 256,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.lost.then((info) => {
      this.#lost = `${info.reason}: ${info.message}`;
    });
    device.addEventListener('uncapturederror', (e) => {
      // Keep the first error: later ones are usually its consequences ("invalid due to a previous error").
      this.#error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
  }

  #check(op: string): void {
    if (this.#lost)
      throw new BackendError(
        `webgpu: ${op}: the GPU device was lost (${this.#lost}); call setBackend('webgpu') again to get a new device`,
      );
    if (this.#error) {
      const e = this.#error;
      this.#error = null;
      throw new BackendError(`webgpu: ${op}: a GPU error occurred earlier: ${e}`);
    }
  }

  #bytes(dtype: DType, size: number): number {
    const bytes = Math.max(4, size * GPU_BYTES[dtype]);
    wgslType(dtype);
    const max = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    if (bytes > max) {
      throw new BackendError(
        `webgpu: a tensor of ${size} ${dtype} elements (${bytes} bytes) exceeds this device's largest buffer (${max} bytes)`,
      );
    }
    return bytes;
  }

  allocate(dtype: DType, size: number): GpuHandle {
    this.#check('allocate');
    const buffer = this.pool.acquire(this.#bytes(dtype, size));
    // Pooled buffers hold old data: clear, in order with the other commands.
    this.#enc().clearBuffer(buffer);
    return { buffer };
  }

  upload(data: TypedArray, dtype: DType): GpuHandle {
    this.#check('upload');
    const buffer = this.pool.acquire(this.#bytes(dtype, data.length));
    const src = dtype === 'bool' ? Uint32Array.from(data) : data;
    // Earlier commands may still read a recycled buffer: submit them before writing.
    this.flush();
    if (src.byteLength > 0)
      this.device.queue.writeBuffer(buffer, 0, src.buffer, src.byteOffset, src.byteLength);
    return { buffer };
  }

  free(handle: unknown): void {
    this.pool.release((handle as GpuHandle).buffer);
  }

  async read(handle: unknown, dtype: DType, offset: number, size: number): Promise<TypedArray> {
    this.#check('read');
    const out = allocArray(dtype, size);
    if (size === 0) return out;
    const bytes = size * GPU_BYTES[dtype];
    const staging = this.device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#enc().copyBufferToBuffer(
      (handle as GpuHandle).buffer,
      offset * GPU_BYTES[dtype],
      staging,
      0,
      Math.ceil(bytes / 4) * 4,
    );
    const checks = this.#checksPending ? this.#readChecks() : null;
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.#check('read');
      throw new BackendError(`webgpu: read-back failed (${(e as Error).message})`);
    }
    if (checks) await this.#raiseChecks(checks);
    const mapped = staging.getMappedRange();
    if (dtype === 'bool') (out as Uint8Array).set(new Uint32Array(mapped, 0, size));
    else out.set(new (out.constructor as typeof Float32Array)(mapped, 0, size) as never);
    staging.unmap();
    staging.destroy();
    this.#check('read');
    return out;
  }

  async sync(): Promise<void> {
    const checks = this.#checksPending ? this.#readChecks() : null;
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.#check('sync');
    if (checks) await this.#raiseChecks(checks);
  }

  /** Queues a copy of the check slots (and their reset) with the current batch. */
  #readChecks(): GPUBuffer {
    const staging = this.device.createBuffer({
      size: CHECK_SLOTS * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.#enc();
    for (const slot of this.#checkSlots.values())
      enc.copyBufferToBuffer(this.#errors, slot * 256, staging, slot * 4, 4);
    enc.clearBuffer(this.#errors);
    this.#checksPending = false;
    return staging;
  }

  async #raiseChecks(staging: GPUBuffer): Promise<void> {
    await staging.mapAsync(GPUMapMode.READ);
    const flags = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const failed = [...this.#checkSlots].filter(([, slot]) => flags[slot] !== 0).map(([msg]) => msg);
    if (failed.length)
      throw new BackendError(
        `webgpu: ${failed.join('; ')} (detected on the GPU; the results computed since are invalid)`,
      );
  }

  #checkSlot(message: string): number {
    let slot = this.#checkSlots.get(message);
    if (slot === undefined) {
      if (this.#checkSlots.size >= CHECK_SLOTS) {
        // Recycle the oldest message's slot (flags are cleared at every read-back).
        const [oldest, s] = this.#checkSlots.entries().next().value as [string, number];
        this.#checkSlots.delete(oldest);
        slot = s;
      } else slot = this.#checkSlots.size;
      this.#checkSlots.set(message, slot);
    }
    return slot;
  }

  /**
   * Copies `rows` rows of `texelsPerRow` rgba32float texels from a contiguous float32 tensor (offset
   * a multiple of 4, rows of a multiple of 256 bytes) into a texture, in order with the recorded
   * dispatches: a plain copy where a packing kernel is not needed.
   */
  copyToTexture(t: Tensor, texture: GPUTexture, texelsPerRow: number, rows: number): void {
    this.#check('copyToTexture');
    this.#enc().copyBufferToTexture(
      {
        buffer: (t.storage.handle as GpuHandle).buffer,
        offset: t.offset * 4,
        bytesPerRow: texelsPerRow * 16,
        rowsPerImage: rows,
      },
      { texture },
      [texelsPerRow, rows],
    );
  }

  /** One view per texture, made on first use (pooled textures are bound by many dispatches). */
  readonly #views = new WeakMap<GPUTexture, GPUTextureView>();
  #view(t: GPUTexture): GPUTextureView {
    let v = this.#views.get(t);
    if (!v) this.#views.set(t, (v = t.createView()));
    return v;
  }

  #enc(): GPUCommandEncoder {
    this.#encoder ??= this.device.createCommandEncoder();
    return this.#encoder;
  }

  /** Submits the recorded commands (with the parameter data they read). */
  flush(): void {
    if (!this.#encoder) return;
    if (this.#paramsUsed > 0)
      this.device.queue.writeBuffer(this.#paramsBuffer, 0, this.#params.buffer, 0, this.#paramsUsed * 4);
    this.device.queue.submit([this.#encoder.finish()]);
    this.#encoder = null;
    this.#pending = 0;
    this.#paramsUsed = 0;
  }

  #pipeline(code: string): GPUComputePipeline {
    let p = this.#pipelines.get(code);
    if (!p) {
      if (debugEnabled('wgsl')) debugLog('wgsl', `pipeline ${this.#pipelines.size + 1}:\n${code}`);
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.#pipelines.set(code, p);
    }
    return p;
  }

  /** Number of distinct pipelines compiled (tests check shapes do not add pipelines). */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /**
   * Runs a WGSL program. The backend declares the bindings: `params` (array<u32>: params[0] is the
   * thread or workgroup count, the program's own parameters follow), inputs `in0..` (read-only) and
   * outputs `out0..` (read-write), typed from the tensors' dtypes. A program defines either
   * `fn body(i: u32)` (called once per thread index below `threads`) or its own `main`.
   */
  runProgram(p: GpuProgram): Tensor[] {
    this.#check('runProgram');
    const outputs =
      p.into?.slice() ??
      p.outputs.map((o) => {
        const size = o.shape.reduce((a, b) => a * b, 1);
        return makeTensor(
          this,
          { buffer: this.pool.acquire(this.#bytes(o.dtype, size)) } as GpuHandle,
          o.dtype,
          o.shape,
        );
      });
    const count = p.workgroups ?? p.threads;
    if (count === 0) return outputs;
    const elem = (d: DType) => (p.vec4 ? `vec4<${wgslType(d)}>` : wgslType(d));
    const texBase = p.inputs.length + outputs.length + (p.check ? 1 : 0) + 1;
    const decl = [
      '@group(0) @binding(0) var<storage, read> params: array<u32>;',
      ...p.inputs.map(
        (t, i) => `@group(0) @binding(${i + 1}) var<storage, read> in${i}: array<${elem(t.dtype)}>;`,
      ),
      ...outputs.map(
        (t, i) =>
          `@group(0) @binding(${p.inputs.length + i + 1}) var<storage, read_write> out${i}: array<${elem(t.dtype)}>;`,
      ),
      ...(p.check
        ? [
            `@group(0) @binding(${p.inputs.length + outputs.length + 1}) var<storage, read_write> err: array<u32>;`,
            'fn fail_() { err[0] = 1u; }',
          ]
        : []),
      ...(p.textures ?? []).map((_, i) => `@group(0) @binding(${texBase + i}) var tex${i}: texture_2d<f32>;`),
      ...(p.storageTextures ?? []).map(
        (_, i) =>
          `@group(0) @binding(${texBase + (p.textures?.length ?? 0) + i}) var img${i}: texture_storage_2d<rgba32float, write>;`,
      ),
      'fn pf(i: u32) -> f32 { return bitcast<f32>(params[i]); }',
      'fn pi(i: u32) -> i32 { return bitcast<i32>(params[i]); }',
    ].join('\n');
    const entry = p.code.includes('fn main(')
      ? ''
      : `\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = g.x + g.y * nw.x * 64u;
  if (i >= params[0]) { return; }
  body(i);
}`;
    const pipeline = this.#pipeline(`${decl}\n${p.code}${entry}`);
    // Parameters go into this batch's slice of the shared parameter buffer.
    const words = [count, ...(p.params ?? [])];
    let start =
      this.#paramsUsed === 0 ? 0 : Math.ceil((this.#paramsUsed * 4) / this.#align) * (this.#align / 4);
    if ((start + words.length) * 4 > PARAMS_BYTES) {
      this.flush();
      start = 0;
    }
    for (let i = 0; i < words.length; i++) this.#params[start + i] = words[i] >>> 0;
    this.#paramsUsed = start + words.length;
    const bind = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        {
          binding: 0,
          resource: { buffer: this.#paramsBuffer, offset: start * 4, size: Math.max(16, words.length * 4) },
        },
        ...[...p.inputs, ...outputs].map((t, i) => ({
          binding: i + 1,
          resource: { buffer: (t.storage.handle as GpuHandle).buffer },
        })),
        ...(p.check
          ? [
              {
                binding: p.inputs.length + outputs.length + 1,
                resource: { buffer: this.#errors, offset: this.#checkSlot(p.check) * 256, size: 4 },
              },
            ]
          : []),
        ...[...(p.textures ?? []), ...(p.storageTextures ?? [])].map((t, i) => ({
          binding: texBase + i,
          resource: this.#view(t),
        })),
      ],
    });
    const pass = this.#enc().beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    const groups = p.workgroups ?? Math.ceil(p.threads / 64);
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= maxDim) pass.dispatchWorkgroups(groups);
    else {
      if (p.workgroups !== undefined)
        throw new BackendError(
          `webgpu: ${groups} workgroups exceed the limit ${maxDim} for a program with its own layout`,
        );
      pass.dispatchWorkgroups(maxDim, Math.ceil(groups / maxDim));
    }
    pass.end();
    this.dispatches++;
    if (p.check) this.#checksPending = true;
    if (++this.#pending >= MAX_BATCH) this.flush();
    return outputs;
  }

  /** Bytes per element on the GPU (bool is stored as u32). */
  static bytesPerElement(dtype: DType): number {
    return GPU_BYTES[dtype] ?? BYTES_PER_ELEMENT[dtype];
  }
}
