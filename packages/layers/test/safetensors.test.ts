import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

describe('safetensors', () => {
  it('loads a file written by the numpy reference writer, and writes byte-identical output', async () => {
    const bytes = fixture('numpy.safetensors');
    const { tensors, metadata } = L.parseSafetensors(bytes);
    expect(metadata).toEqual({ epoch: '7', note: 'written by numpy' });
    expect(tensors['conv.weight'].shape).toEqual([2, 3, 3]);
    expect(tensors['conv.weight'].dtype).toBe('float32');
    expect(tensors.scale.dtype).toBe('float64');
    expect(Array.from(tensors.counts.dataSync())).toEqual([1, -2, 3]);
    expect(Array.from(tensors.mask.dataSync())).toEqual([1, 0, 1]);
    expect(tensors.empty.shape).toEqual([0, 3]);
    const ours = await L.serializeSafetensors(tensors, metadata);
    expect(Buffer.from(ours).equals(bytes)).toBe(true);
  });

  it('reads PyTorch-style int64 and float16 entries', () => {
    const { tensors } = L.parseSafetensors(fixture('torch-like.safetensors'));
    expect(tensors['bn.num_batches_tracked'].dtype).toBe('int32');
    expect(tensors['bn.num_batches_tracked'].itemSync()).toBe(12);
    const half = Array.from(tensors.half.dataSync());
    expect(half.slice(0, 3)).toEqual([1.5, -2.25, 65504]);
    expect(half[3]).toBeCloseTo(0.0001, 6);
  });

  it('rejects truncated and corrupted files with a clear error', () => {
    const good = fixture('numpy.safetensors');
    const bad: [Uint8Array, RegExp][] = [
      [good.subarray(0, 4), /too short/],
      [good.subarray(0, 40), /header length \d+ exceeds/],
      [good.subarray(0, good.length - 5), /spans bytes|trailing|needs/],
      [Buffer.concat([good, Buffer.from([1, 2, 3])]), /3 trailing bytes/],
    ];
    const corrupt = Buffer.from(good);
    corrupt[8] = 0x22; // break the JSON
    bad.push([corrupt, /not valid JSON/]);
    const n = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(good.subarray(8, 8 + n).toString());
    header.scale.data_offsets[1] += 8;
    const h = Buffer.from(JSON.stringify(header));
    const lenBuf = Buffer.alloc(8);
    lenBuf.writeBigUInt64LE(BigInt(h.length));
    bad.push([Buffer.concat([lenBuf, h, good.subarray(8 + n)]), /needs \d+ bytes, its offsets give/]);
    for (const [bytes, message] of bad) {
      expect(() => L.parseSafetensors(bytes)).toThrow(message);
      expect(() => L.parseSafetensors(bytes)).toThrow(L.SafetensorsError);
    }
  });

  it('saves atomically and round-trips; the reference reader can check our file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'softpool-st-'));
    const path = join(dir, 'x.safetensors');
    const tensors = {
      a: sp.randn([3, 4]),
      b: sp.tensor([1, 2], { dtype: 'int32' }),
      c: sp.tensor([true, false]),
      d: sp.randn([2], { dtype: 'float64' }),
    };
    await L.saveSafetensors(path, tensors, { k: 'v' });
    expect(readdirSync(dir)).toEqual(['x.safetensors']); // no temporary left behind
    const back = await L.loadSafetensors(path);
    for (const [k, t] of Object.entries(tensors))
      expect(Array.from(back.tensors[k].dataSync())).toEqual(Array.from(t.dataSync()));
    expect(back.metadata).toEqual({ k: 'v' });
    // Left for tools/fixtures/layers.py to read with its numpy reader when it is rerun.
    writeFileSync(new URL('../.softpool-written.safetensors', import.meta.url), readFileSync(path));
    await expect(L.saveSafetensors(join(dir, 'missing', 'y.safetensors'), tensors)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['x.safetensors']);
  });
});

describe('checkpoints', () => {
  it('model + optimizer + extra round trip through one file', async () => {
    sp.manualSeed(1);
    const model = new L.Sequential(
      new L.Linear(3, 4),
      new L.BatchNorm1d(4),
      new L.ReLU(),
      new L.Linear(4, 2),
    );
    const opt = new L.Adam(model.parameters(), { lr: 0.01 });
    const x = sp.randn([8, 3]);
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      sp.scope(() => sp.mean(sp.square(model.forward(x))).backward());
      opt.step();
    }
    const dir = mkdtempSync(join(tmpdir(), 'softpool-ck-'));
    const path = join(dir, 'ck.safetensors');
    await L.saveCheckpoint(path, {
      model,
      optimizer: opt,
      extra: { epoch: 3, rng: sp.defaultGenerator().getState() },
    });
    sp.manualSeed(2);
    const model2 = new L.Sequential(
      new L.Linear(3, 4),
      new L.BatchNorm1d(4),
      new L.ReLU(),
      new L.Linear(4, 2),
    );
    const opt2 = new L.Adam(model2.parameters(), { lr: 0.5 });
    const extra = await L.loadCheckpoint(path, { model: model2, optimizer: opt2 });
    expect(extra.epoch).toBe(3);
    expect(opt2.paramGroups[0].lr).toBe(0.01);
    model.eval();
    model2.eval();
    expect(Array.from(model2.forward(x).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));
    const p = model.parameters()[0];
    const p2 = model2.parameters()[0];
    expect(Array.from((opt2.state.get(p2)!.expAvgSq as sp.Tensor).dataSync())).toEqual(
      Array.from((opt.state.get(p)!.expAvgSq as sp.Tensor).dataSync()),
    );
    expect(opt2.state.get(p2)!.step).toBe(3);
  });
});

describe('half-precision files', () => {
  it('float16 and bfloat16 writes match numpy bit for bit, and load back', async () => {
    const bytes = fixture('half.safetensors');
    const { tensors } = L.parseSafetensors(bytes);
    const raw = (file: Uint8Array, name: string) => {
      const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
      const header = JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString());
      const [a, b] = header[name].data_offsets;
      return { dtype: header[name].dtype, bytes: Buffer.from(file.subarray(8 + n + a, 8 + n + b)) };
    };
    for (const [dtype, entry, code] of [
      ['float16', 'f16', 'F16'],
      ['bfloat16', 'bf16', 'BF16'],
    ] as const) {
      const ours = await L.serializeSafetensors({ x: tensors.f32 }, {}, { dtype });
      const mine = raw(ours, 'x');
      expect(mine.dtype).toBe(code);
      expect(mine.bytes.equals(raw(bytes, entry).bytes)).toBe(true);
      // Loading gives float32 values equal to numpy's own decoding of the same bits.
      const back = Array.from(L.parseSafetensors(ours).tensors.x.dataSync());
      expect(back).toEqual(Array.from(tensors[entry].dataSync()));
    }
    // Integer tensors keep their dtype; the whole file is byte-identical to numpy's layout.
    const mixed = await L.serializeSafetensors(
      { f16: tensors.f32, n: sp.tensor([1, 2], { dtype: 'int32' }) },
      {},
      { dtype: 'float16' },
    );
    expect(raw(mixed, 'n').dtype).toBe('I32');
    await expect(
      L.serializeSafetensors({ x: tensors.f32 }, {}, { dtype: 'float8' as never }),
    ).rejects.toThrow("serializeSafetensors: dtype must be 'float16' or 'bfloat16', got \"float8\"");
  });
});
