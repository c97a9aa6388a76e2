// The IDX format (LeCun's MNIST files): magic 0x0000, a type byte, a dimension count, big-endian
// uint32 dimensions, then big-endian data. Gzipped files are detected and inflated. Every length
// is checked against the bytes actually present.
import { ArgumentError } from '@softpool/tensor';

/** Thrown for bytes that are not a valid IDX file (wrong magic, truncated, trailing data). */
export class IdxError extends ArgumentError {}

export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface Idx {
  shape: number[];
  data: IdxArray;
}

const TYPES: Record<number, { name: string; size: number; make: (n: number) => IdxArray }> = {
  8: { name: 'ubyte', size: 1, make: (n) => new Uint8Array(n) },
  9: { name: 'byte', size: 1, make: (n) => new Int8Array(n) },
  11: { name: 'short', size: 2, make: (n) => new Int16Array(n) },
  12: { name: 'int', size: 4, make: (n) => new Int32Array(n) },
  13: { name: 'float', size: 4, make: (n) => new Float32Array(n) },
  14: { name: 'double', size: 8, make: (n) => new Float64Array(n) },
};

/** True for gzip data (magic 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

class TooLarge extends Error {}

/**
 * Inflates gzip data (Node's zlib, or the browser's DecompressionStream), stopping as soon as the
 * output passes `maxBytes`: a small file that inflates to gigabytes is refused, not unpacked.
 */
export async function gunzip(bytes: Uint8Array, what = 'data', maxBytes = 2 ** 32 - 1): Promise<Uint8Array> {
  try {
    if (typeof process !== 'undefined' && process.versions?.node) {
      const zlib = await import('node:zlib');
      try {
        return new Uint8Array(zlib.gunzipSync(bytes, { maxOutputLength: Math.max(1, maxBytes) }));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLarge();
        throw e;
      }
    }
    const reader = new Blob([bytes as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'))
      .getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new TooLarge();
      }
      parts.push(value);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  } catch (e) {
    if (e instanceof TooLarge)
      throw new IdxError(`idx: ${what} inflates to more than the ${maxBytes} bytes its IDX header declares`);
    throw new IdxError(`idx: ${what} is not valid gzip (${(e as Error).message}); the file may be truncated`);
  }
}

/** The byte length an IDX header declares (header included), or undefined if it is not one. */
function declaredLength(head: Uint8Array): number | undefined {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || !TYPES[head[2]]) return undefined;
  const rank = head[3];
  if (head.length < 4 + 4 * rank) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let n = TYPES[head[2]].size;
  for (let i = 0; i < rank; i++) n *= view.getUint32(4 + 4 * i, false);
  return 4 + 4 * rank + n;
}

/** Parses uncompressed IDX bytes. `what` names the source in errors. */
export function parseIdx(bytes: Uint8Array, what = 'data'): Idx {
  if (bytes.length < 4)
    throw new IdxError(`idx: ${what} has ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(
      `idx: ${what} does not start with the IDX magic 00 00 (got ${bytes[0].toString(16)} ${bytes[1].toString(16)})`,
    );
  }
  const type = TYPES[bytes[2]];
  if (!type) throw new IdxError(`idx: ${what} has unknown data type code 0x${bytes[2].toString(16)}`);
  const rank = bytes[3];
  if (rank === 0) throw new IdxError(`idx: ${what} declares 0 dimensions`);
  const headerLen = 4 + 4 * rank;
  if (bytes.length < headerLen)
    throw new IdxError(`idx: ${what} is truncated inside its header (${bytes.length} of ${headerLen} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerLen + count * type.size;
  if (bytes.length < expected) {
    throw new IdxError(
      `idx: ${what} is truncated: shape [${shape.join(',')}] of ${type.name} needs ${expected} bytes, got ${bytes.length}`,
    );
  }
  if (bytes.length > expected)
    throw new IdxError(`idx: ${what} has ${bytes.length - expected} unexpected trailing bytes`);
  const data = type.make(count);
  if (type.size === 1) data.set(bytes.subarray(headerLen, expected) as never);
  else {
    const get = {
      2: (o: number) => view.getInt16(o, false),
      4:
        bytes[2] === 0x0c ? (o: number) => view.getInt32(o, false) : (o: number) => view.getFloat32(o, false),
      8: (o: number) => view.getFloat64(o, false),
    }[type.size as 2 | 4 | 8];
    for (let i = 0; i < count; i++) data[i] = get(headerLen + i * type.size);
  }
  return { shape, data };
}

/**
 * Parses IDX bytes that may be gzipped. A gzipped file is inflated just far enough to read its
 * header first, then never past the length that header declares.
 */
export async function readIdx(bytes: Uint8Array, what = 'data'): Promise<Idx> {
  if (!isGzip(bytes)) return parseIdx(bytes, what);
  const head = await gunzipPrefix(bytes, what);
  const declared = declaredLength(head);
  // Not an IDX header: parseIdx names what is wrong with the first bytes.
  if (declared === undefined) return parseIdx(head, what);
  return parseIdx(await gunzip(bytes, what, declared), what);
}

/** The first bytes (at most 1024) of a gzip stream. */
async function gunzipPrefix(bytes: Uint8Array, what: string): Promise<Uint8Array> {
  if (typeof process !== 'undefined' && process.versions?.node) {
    const zlib = await import('node:zlib');
    try {
      // A truncated-stream flush returns what the first input bytes inflate to, without the rest.
      const part = zlib.gunzipSync(bytes.subarray(0, Math.min(bytes.length, 1024)), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
      return new Uint8Array(part.subarray(0, 1024));
    } catch (e) {
      throw new IdxError(
        `idx: ${what} is not valid gzip (${(e as Error).message}); the file may be truncated`,
      );
    }
  }
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'))
    .getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return (value ?? new Uint8Array(0)).subarray(0, 1024);
}

/** Encodes an IDX file (uncompressed); used to build the embedded subset and in tests. */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  for (const [i, d] of shape.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(data, 4 + 4 * shape.length);
  return out;
}
