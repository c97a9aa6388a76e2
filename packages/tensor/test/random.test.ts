import { describe, expect, it } from 'vitest';
import { setResidentLimit } from '../src/cpu/heap.js';
import * as sp from '../src/index.js';
import {
  bernoulli,
  Generator,
  manualSeed,
  rand,
  randint,
  randn,
  tensor,
  threefry2x32,
} from '../src/index.js';
import { normalFromWords } from '../src/random.js';
import { values } from './helpers.js';

describe('Threefry-2x32-20', () => {
  it('matches the Random123 known-answer vectors', () => {
    const out = [0, 0];
    threefry2x32(0, 0, 0, 0, out);
    expect(out.map((v) => v.toString(16))).toEqual(['6b200159', '99ba4efe']);
    threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
    expect(out.map((v) => v.toString(16))).toEqual(['1cb996fc', 'bb002be7']);
    threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3, out);
    expect(out.map((v) => v.toString(16))).toEqual(['c4923a9c', '483df7a0']);
  });
});

describe('the CPU kernels make the words of threefry2x32 (WebAssembly SIMD, on the threads)', () => {
  it('across the 2^32 counter boundary, past it, in several chunks, on 1 and 3 threads', async () => {
    for (const threads of [1, 3]) {
      sp.setNumThreads(threads);
      await sp.threadsReady();
      for (const [seed, offset, n] of [
        [11, 2 ** 32 - 70_001, 140_003], // 3 chunks, crossing 2^32 inside one, odd length
        [2 ** 40 + 3, 2 ** 45 + 5, 1_001],
        [0, 0, 7],
      ]) {
        const g = new Generator(seed);
        g.setState({ seed, offset });
        const got = values(rand([n], { generator: g }));
        const [k0, k1] = g.key;
        const w = [0, 0];
        for (const i of [0, 1, 2, 3, 4, 69_999, 70_000, 70_001, 70_002, 131_071, n - 1].filter(
          (j) => j < n,
        )) {
          const c = offset + i;
          threefry2x32(k0, k1, c >>> 0, Math.floor(c / 2 ** 32) >>> 0, w);
          expect(got[i]).toBe((w[0] >>> 8) * 5.9604644775390625e-8);
        }
      }
    }
  });
});

describe('rand, bernoulli, randint and randn map their words on the threads', () => {
  it("give the JavaScript maps' values for every element, resident or not, on 1 and 3 threads", async () => {
    const n = 140_003; // three chunks, the last not whole vectors
    const [seed, offset] = [77, 123];
    const fresh = () => {
      const g = new Generator(seed);
      g.setState({ seed, offset });
      return g;
    };
    const [k0, k1] = fresh().key;
    const w = [0, 0];
    const words = Array.from({ length: n }, (_, i) => {
      threefry2x32(k0, k1, (offset + i) >>> 0, Math.floor((offset + i) / 2 ** 32) >>> 0, w);
      return [w[0], w[1]];
    });
    const k = (i: number) => words[i][0] >>> 8;
    type Case = [string, () => sp.Tensor, (i: number) => number];
    const cases: Case[] = [
      ['rand', () => rand([n], { generator: fresh() }), (i) => k(i) * 5.9604644775390625e-8],
      [
        'randn',
        () => randn([n], { generator: fresh() }),
        (i) => Math.fround(normalFromWords(words[i][0], words[i][1])),
      ],
      [
        'randn float64',
        () => randn([n], { generator: fresh(), dtype: 'float64' }),
        (i) => normalFromWords(words[i][0], words[i][1]),
      ],
      // p at and just above a drawn value (u < p must hold exactly there), and edges.
      ...[0, 1, 0.3, 0.5, 1 - 2 ** -25, 2 ** -24, 2 ** -26, (k(5) + 0.5) / 2 ** 24, k(5) / 2 ** 24].map(
        (p): Case => [
          `bernoulli ${p}`,
          () => bernoulli(p, { shape: [n], generator: fresh() }),
          (i) => +(k(i) * 5.9604644775390625e-8 < p),
        ],
      ),
      ...[
        [-5, 7],
        [-(2 ** 31), 2 ** 31 - 1],
        [3, 4],
      ].map(
        ([low, high]): Case => [
          `randint ${low} ${high}`,
          () => randint(low, high, [n], { generator: fresh() }),
          (i) => low + (words[i][0] % (high - low)),
        ],
      ),
    ];
    try {
      for (const threads of [1, 3])
        for (const limit of [256 * 2 ** 20, 0]) {
          sp.setNumThreads(threads);
          await sp.threadsReady();
          setResidentLimit(limit);
          for (const [name, make, map] of cases) {
            const got = values(make());
            let bad = 0;
            for (let i = 0; i < n; i++) if (!Object.is(got[i], map(i))) bad++;
            expect(bad, `${name}, ${threads} threads, resident limit ${limit}`).toBe(0);
          }
        }
    } finally {
      setResidentLimit(256 * 2 ** 20);
      sp.setNumThreads(1);
    }
  });
});

describe('random tensors', () => {
  it('the same seed gives the same numbers; draws advance the stream', () => {
    manualSeed(123);
    const a = values(rand([5]));
    const b = values(rand([5]));
    manualSeed(123);
    expect(values(rand([5]))).toEqual(a);
    expect(values(rand([5]))).toEqual(b);
    expect(a).not.toEqual(b);
  });

  it('element i depends only on (seed, position): one draw of 10 equals two of 5', () => {
    manualSeed(7);
    const all = values(randn([10]));
    manualSeed(7);
    expect([...values(randn([5])), ...values(randn([5]))]).toEqual(all);
  });

  it('generators are independent and their state round-trips', () => {
    const g = new Generator(5);
    const first = values(rand([3], { generator: g }));
    const state = g.getState();
    const next = values(rand([3], { generator: g }));
    g.setState(state);
    expect(values(rand([3], { generator: g }))).toEqual(next);
    expect(values(rand([3], { generator: new Generator(5) }))).toEqual(first);
  });

  it('distributions have the right moments and ranges', () => {
    manualSeed(1);
    const u = rand([20000]);
    expect(Math.abs(sp.mean(u).itemSync() - 0.5)).toBeLessThan(0.01);
    expect(sp.min(u).itemSync()).toBeGreaterThanOrEqual(0);
    expect(sp.max(u).itemSync()).toBeLessThan(1);
    const n = randn([20000], { dtype: 'float64' });
    expect(Math.abs(sp.mean(n).itemSync())).toBeLessThan(0.03);
    expect(Math.abs(sp.std(n).itemSync() - 1)).toBeLessThan(0.03);
    const r = randint(-2, 3, [5000]);
    expect(r.dtype).toBe('int32');
    expect(sp.min(r).itemSync()).toBe(-2);
    expect(sp.max(r).itemSync()).toBe(2);
    const b = bernoulli(0.25, { shape: [20000] });
    expect(Math.abs(sp.mean(b).itemSync() - 0.25)).toBeLessThan(0.015);
    const p = bernoulli(tensor([0, 1, 0, 1]));
    expect(values(p)).toEqual([0, 1, 0, 1]);
    expect(rand([2], { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('validates arguments', () => {
    expect(() => randint(3, 3, [2])).toThrow('randint: need integers low < high, got low 3, high 3');
    expect(() => bernoulli(1.5, { shape: [2] })).toThrow('bernoulli: p must be in [0, 1], got 1.5');
    expect(() => rand([2], { dtype: 'int32' })).toThrow(
      "rand: dtype must be float32 or float64, got 'int32'",
    );
    expect(() => manualSeed(1.5)).toThrow(/seed must be a safe integer/);
  });
});
