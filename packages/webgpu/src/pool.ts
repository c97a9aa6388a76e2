// A pool of GPU buffers in size classes, so steady-state training allocates no new buffers:
// freed buffers wait in a free list of their class until a tensor of that class needs one.
export class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  /** Bytes held by live and pooled buffers. */
  allocatedBytes = 0;
  /** createBuffer calls (tests check that it stays flat in steady state). */
  creations = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Size class of a request: powers of two from 256 bytes, then steps of 1/4 of the power. */
  static sizeClass(bytes: number): number {
    const b = Math.max(256, bytes);
    const p = 2 ** Math.floor(Math.log2(b));
    if (p === b) return b;
    const step = p / 4;
    return Math.ceil(b / step) * step;
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

  /** Destroys pooled (not live) buffers, e.g. after a size change in the workload. */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const b of list) {
        this.allocatedBytes -= b.size;
        b.destroy();
      }
    }
    this.#free.clear();
  }
}
