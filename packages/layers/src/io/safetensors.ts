// The safetensors format (8-byte little-endian header length, a JSON header of dtype/shape/
// offsets plus optional string metadata, then raw little-endian data), byte-compatible with the
// reference writer: tensors ordered by dtype (widest first) then name, the header space-padded to
// a multiple of 8. Reading validates everything and never trusts lengths from the file.
import { type DType, fmtShape, StateError, type Tensor, tensor } from '@softpool/tensor';

/** Thrown for files that are not valid safetensors (truncated, corrupted, inconsistent). */
export class SafetensorsError extends StateError {}

const WRITE_DTYPE: Record<DType, string> = { float64: 'F64', float32: 'F32', int32: 'I32', bool: 'BOOL' };
/** The reference implementation's dtype order (its enum order); writers sort widest first. */
const DTYPE_RANK: Record<string, number> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  F8_E5M2: 3,
  F8_E4M3: 4,
  I16: 5,
  U16: 6,
  F16: 7,
  BF16: 8,
  I32: 9,
  U32: 10,
  F32: 11,
  F64: 12,
  I64: 13,
  U64: 14,
};
const READ_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
};

export interface SafetensorsContent {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

export interface SerializeOptions {
  /**
   * Store float tensors in half precision: 'float16' (IEEE binary16) or 'bfloat16', rounded to
   * nearest even, as PyTorch and NumPy round (values past float16's range become infinities).
   * Integer and bool tensors are stored as they are. Default: each tensor's own dtype.
   */
  dtype?: 'float16' | 'bfloat16';
}

/** float32 bits -> binary16 bits, round to nearest even (NaN stays NaN, overflow -> infinity). */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or zero): shift the mantissa with its implicit 1 into place, rounding to even.
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: correct
  return sign | h;
}

/** float32 bits -> bfloat16 bits: the upper half, rounded to nearest even; NaN -> 0x7fc0. */
export function floatToBfloat16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  if (Number.isNaN(f[0])) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

const HALF = { float16: ['F16', floatToHalf], bfloat16: ['BF16', floatToBfloat16] } as const;

/**
 * Serialises named tensors (read from any backend, so it is async) with optional metadata.
 * @example const bytes = await serializeSafetensors(model.stateDict(), { epoch: '3' });
 * @example await serializeSafetensors(model.stateDict(), {}, { dtype: 'bfloat16' }) // half the size
 * @example new Blob([await serializeSafetensors(model.stateDict())]) // browsers: downloads, IndexedDB
 */
export async function serializeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
  options: SerializeOptions = {},
): Promise<Uint8Array> {
  const half = options.dtype === undefined ? undefined : HALF[options.dtype];
  if (options.dtype !== undefined && !half)
    throw new SafetensorsError(
      `serializeSafetensors: dtype must be 'float16' or 'bfloat16', got ${JSON.stringify(options.dtype)}`,
    );
  const stored = (t: Tensor) =>
    half && (t.dtype === 'float32' || t.dtype === 'float64') ? half[0] : WRITE_DTYPE[t.dtype];
  const entries = Object.entries(tensors).sort(([an, a], [bn, b]) => {
    const d = DTYPE_RANK[stored(b)] - DTYPE_RANK[stored(a)];
    return d !== 0 ? d : an < bn ? -1 : an > bn ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new SafetensorsError(`serializeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const values = await t.data();
    const dtype = stored(t);
    let bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    if (half && dtype === half[0]) {
      const h = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) h[i] = half[1](values[i]);
      bytes = new Uint8Array(h.buffer);
    }
    header[name] = {
      dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.length],
    };
    datas.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const d of datas) {
    out.set(d, at);
    at += d.length;
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Decodes one tensor's bytes into values of a dtype softpool has. */
function decode(
  name: string,
  dtype: string,
  bytes: Uint8Array,
  n: number,
): { values: ArrayLike<number>; dtype: DType } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (get: (i: number) => number, as: DType) => ({
    values: Array.from({ length: n }, (_, i) => get(i)),
    dtype: as,
  });
  switch (dtype) {
    case 'F32':
      return read((i) => view.getFloat32(4 * i, true), 'float32');
    case 'F64':
      return read((i) => view.getFloat64(8 * i, true), 'float64');
    case 'F16':
      return read((i) => halfToFloat(view.getUint16(2 * i, true)), 'float32');
    case 'BF16':
      return read(
        (i) => new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0],
        'float32',
      );
    case 'I32':
      return read((i) => view.getInt32(4 * i, true), 'int32');
    case 'I16':
      return read((i) => view.getInt16(2 * i, true), 'int32');
    case 'U16':
      return read((i) => view.getUint16(2 * i, true), 'int32');
    case 'I8':
      return read((i) => view.getInt8(i), 'int32');
    case 'U8':
      return read((i) => view.getUint8(i), 'int32');
    case 'BOOL':
      return read((i) => (view.getUint8(i) ? 1 : 0), 'bool');
    case 'I64':
      // PyTorch stores integer buffers (BatchNorm's num_batches_tracked) as int64.
      return read((i) => {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n)
          throw new SafetensorsError(
            `safetensors: '${name}' holds an int64 value ${v} outside the int32 range`,
          );
        return Number(v);
      }, 'int32');
    default:
      throw new SafetensorsError(`safetensors: '${name}' has dtype ${dtype}, which softpool cannot load`);
  }
}

/**
 * Parses safetensors bytes into CPU tensors and metadata. Truncated or corrupted input throws a
 * SafetensorsError that says what is wrong; it never reads outside the buffer.
 */
export function parseSafetensors(input: ArrayBuffer | Uint8Array): SafetensorsContent {
  if (!(input instanceof Uint8Array) && !(input instanceof ArrayBuffer))
    throw new SafetensorsError(
      `safetensors: expected the file's bytes (a Uint8Array or an ArrayBuffer), got ${input === null ? 'null' : typeof input}`,
    );
  const buf = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (buf.length < 8)
    throw new SafetensorsError(`safetensors: ${buf.length} bytes is too short for a header length`);
  const n = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(buf.length - 8))
    throw new SafetensorsError(
      `safetensors: header length ${n} exceeds the ${buf.length - 8} bytes after it (truncated or not safetensors)`,
    );
  const headerLen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`safetensors: the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new SafetensorsError('safetensors: the header must be a JSON object');
  const data = buf.subarray(8 + headerLen);
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  // The whole header is validated (types, sizes, offsets, overlaps) before any tensor is decoded.
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        throw new SafetensorsError('safetensors: __metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as {
      dtype?: unknown;
      shape?: unknown;
      data_offsets?: unknown;
    };
    const shape = e.shape as number[];
    const offs = e.data_offsets as number[];
    if (
      typeof e.dtype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isInteger(o) && o >= 0)
    ) {
      throw new SafetensorsError(
        `safetensors: entry '${name}' needs a dtype, a shape of non-negative integers and two data offsets`,
      );
    }
    const size = READ_SIZE[e.dtype];
    if (!size)
      throw new SafetensorsError(`safetensors: '${name}' has dtype ${e.dtype}, which softpool cannot load`);
    const [begin, end] = offs;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end < begin || end > data.length)
      throw new SafetensorsError(
        `safetensors: '${name}' spans bytes [${begin}, ${end}) but the data holds ${data.length} (truncated?)`,
      );
    if (end - begin !== count * size) {
      throw new SafetensorsError(
        `safetensors: '${name}' ${fmtShape(shape)} ${e.dtype} needs ${count * size} bytes, its offsets give ${end - begin}`,
      );
    }
    entries.push({ name, dtype: e.dtype, shape, begin, end });
  }
  const spans = [...entries].sort((a, b) => a.begin - b.begin);
  let covered = 0;
  for (const { begin, end, name } of spans) {
    if (begin !== covered)
      throw new SafetensorsError(
        `safetensors: '${name}' starts at byte ${begin}, expected ${covered} (overlapping or holes)`,
      );
    covered = end;
  }
  if (covered !== data.length)
    throw new SafetensorsError(`safetensors: ${data.length - covered} trailing bytes after the last tensor`);
  const tensors: Record<string, Tensor> = {};
  try {
    for (const { name, dtype: stored, shape, begin, end } of entries) {
      const count = shape.reduce((a, b) => a * b, 1);
      const { values, dtype } = decode(name, stored, data.subarray(begin, end), count);
      tensors[name] = tensor(values as number[], { shape, dtype, backend: 'cpu' });
    }
  } catch (e) {
    // Nothing half-loaded stays alive.
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

/**
 * Writes a safetensors file atomically (a temporary file in the same directory, then a rename),
 * so a crash never leaves a half-written checkpoint. Node only.
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
  options?: SerializeOptions,
): Promise<void> {
  const bytes = await serializeSafetensors(tensors, metadata, options);
  const fs = await import('node:fs/promises');
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Reads a safetensors file (Node only). */
export async function loadSafetensors(path: string): Promise<SafetensorsContent> {
  const fs = await import('node:fs/promises');
  return parseSafetensors(await fs.readFile(path));
}
