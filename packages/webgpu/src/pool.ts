// A pool of GPU buffers in size classes, so steady-state training allocates no new buffers:
// freed buffers wait in a free list of their class until a tensor of that class needs one. Kernels'
// scratch textures (matmul operands) are pooled the same way, their sides rounded to classes.

/** n rounded up to a multiple of a quarter of its power of two (512, 640, 768, 896, 1024, 1280 ...). */
function quarterClass(n: number): number {
  const step = 2 ** Math.floor(Math.log2(n)) / 4;
  return Math.ceil(n / step) * step;
}

export class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  readonly #freeTextures = new Map<string, GPUTexture[]>();
  /** Bytes held by live and pooled buffers and textures. */
  allocatedBytes = 0;
  /** createBuffer and createTexture calls (tests check that it stays flat in steady state). */
  creations = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Size class of a request: powers of two from 256 bytes, then steps of 1/4 of the power. */
  static sizeClass(bytes: number): number {
    return quarterClass(Math.max(256, bytes));
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const list = this.#free.get(size);
    const reused = list?.pop();
    if (reused) return reused;
    this.creations++;
    this.allocatedBytes += size;
    return this.device.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  release(buffer: GPUBuffer): void {
    let list = this.#free.get(buffer.size);
    if (!list) this.#free.set(buffer.size, (list = []));
    list.push(buffer);
  }

  /** Texture side classes: up to 8 exact, then powers of two in steps of 1/4 (at most `max`). */
  static sideClass(n: number, max: number): number {
    return n <= 8 ? n : Math.min(max, quarterClass(n));
  }

  /**
   * An rgba32float texture of at least `width` x `height` texels (sampled and written by kernels,
   * which use only the region they need): sides are rounded up to classes, so that operands of
   * many shapes share a few textures.
   */
  acquireTexture(width: number, height: number): GPUTexture {
    const max = this.device.limits.maxTextureDimension2D;
    [width, height] = [BufferPool.sideClass(width, max), BufferPool.sideClass(height, max)];
    const reused = this.#freeTextures.get(`${width}x${height}`)?.pop();
    if (reused) return reused;
    this.creations++;
    this.allocatedBytes += width * height * 16;
    return this.device.createTexture({
      size: [width, height],
      format: 'rgba32float',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
    });
  }

  /** Returns a texture to the pool: later commands may reuse it (queue order keeps this safe). */
  releaseTexture(texture: GPUTexture): void {
    const key = `${texture.width}x${texture.height}`;
    let list = this.#freeTextures.get(key);
    if (!list) this.#freeTextures.set(key, (list = []));
    list.push(texture);
  }

  /** Destroys pooled (not live) buffers and textures, e.g. after a size change in the workload. */
  trim(): void {
    for (const list of this.#freeTextures.values())
      for (const t of list) {
        this.allocatedBytes -= t.width * t.height * 16;
        t.destroy();
      }
    this.#freeTextures.clear();
    for (const list of this.#free.values()) {
      for (const b of list) {
        this.allocatedBytes -= b.size;
        b.destroy();
      }
    }
    this.#free.clear();
  }
}
