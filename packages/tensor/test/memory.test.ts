import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import { add, keep, memory, StateError, scope, tensor } from '../src/index.js';

describe('deterministic release', () => {
  it('dispose frees the storage once the last view is gone', () => {
    const before = memory();
    const x = sp.zeros([100]);
    const v = x.reshape([10, 10]);
    expect(memory().tensors).toBe(before.tensors + 2);
    expect(memory().bytes).toBe(before.bytes + 400);
    x.dispose();
    expect(memory().bytes).toBe(before.bytes + 400); // the view still holds it
    v.dispose();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
    x.dispose(); // idempotent
    expect(memory().tensors).toBe(before.tensors);
  });

  it('using a disposed tensor is a clear error', () => {
    const x = sp.ones([2]);
    x.dispose();
    expect(() => add(x, 1)).toThrow(StateError);
    expect(() => add(x, 1)).toThrow(/add: tensor \d+ \[2\] float32 was disposed/);
    expect(() => x.dataSync()).toThrow(/dataSync: tensor \d+ .* was disposed/);
    expect(String(x)).toContain('disposed');
  });

  it('Symbol.dispose works with `using`', () => {
    const before = memory().tensors;
    {
      using t = sp.ones([3]);
      expect(t.size).toBe(3);
      expect(memory().tensors).toBe(before + 1);
    }
    expect(memory().tensors).toBe(before);
  });

  it('scope disposes intermediates and keeps what it returns', () => {
    const x = sp.ones([4]);
    const before = memory();
    const { y, parts } = scope(() => {
      const a = add(x, 1);
      const b = sp.mul(a, 2);
      return { y: sp.sum(b), parts: [sp.exp(a)] };
    });
    expect(y.itemSync()).toBe(16);
    expect(memory().tensors).toBe(before.tensors + 2);
    y.dispose();
    parts[0].dispose();
    expect(memory()).toEqual(before);
  });

  it('nested scopes hand results outward; keep() survives; errors still release', () => {
    const before = memory().tensors;
    let kept: sp.Tensor | undefined;
    const outer = scope(() => {
      const inner = scope(() => {
        kept = keep(sp.zeros([1]));
        return sp.ones([2]);
      });
      sp.ones([5]);
      return inner;
    });
    expect(memory().tensors).toBe(before + 2);
    outer.dispose();
    kept?.dispose();
    expect(() =>
      scope(() => {
        sp.ones([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory().tensors).toBe(before);
    expect(() => scope((async () => sp.ones([1])) as never)).toThrow(/scopes are synchronous/);
  });

  it('long loops in scopes stay flat', () => {
    const w = sp.randn([16, 16]);
    const before = memory();
    for (let i = 0; i < 500; i++) {
      scope(() => {
        const h = sp.relu(sp.matmul(w, w));
        w.sub_(sp.mul(sp.mean(h), 0));
      });
    }
    expect(memory()).toEqual(before);
  });
});

describe('in-place ops', () => {
  it('copy_, fill_, zero_ and arithmetic updates write into views and bump the version', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    const v0 = x.version;
    x.add_(1);
    expect(Array.from(x.dataSync())).toEqual([2, 3, 4, 5]);
    expect(x.version).toBeGreaterThan(v0);
    x.T.mul_(tensor([1, 10]));
    expect(Array.from(x.dataSync())).toEqual([2, 3, 40, 50]);
    x.slice([0]).zero_();
    expect(Array.from(x.dataSync())).toEqual([0, 0, 40, 50]);
    x.copy_(x.T);
    expect(Array.from(x.dataSync())).toEqual([0, 40, 0, 50]);
    const i = tensor([1, 2], { dtype: 'int32' });
    i.copy_(tensor([1.9, -2.9]));
    expect(Array.from(i.dataSync())).toEqual([1, -2]);
  });

  it('refuses broadcast views and shapes that do not fit', () => {
    const e = sp.expand(tensor([1]), [3]);
    expect(() => e.fill_(2)).toThrow('fill_: cannot write into a broadcast (expanded) view of shape [3]');
    expect(() => sp.zeros([2]).copy_(sp.ones([3]))).toThrow(
      /copy_: shapes \[3\] and \[2\] cannot be broadcast/,
    );
    expect(() => sp.zeros([2]).copy_(sp.ones([2, 2]))).toThrow(
      'copy_: source [2,2] does not broadcast to destination [2]',
    );
  });
});

describe('the CPU cache of freed buffers', () => {
  it('reuses a freed buffer zeroed, never one still held, and emptyCache drops them', () => {
    sp.emptyCache();
    const a = sp.full([1000], 7);
    const held = sp.full([1000], 5);
    a.dispose();
    expect(sp.cachedMemory()).toBe(4000);
    const b = sp.add(held, 0); // takes a's buffer
    expect(sp.cachedMemory()).toBe(0);
    expect(Array.from(b.dataSync()).every((v) => v === 5)).toBe(true);
    expect(Array.from(sp.zeros([1000]).dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(held.dataSync()).every((v) => v === 5)).toBe(true);
    const live = memory().bytes;
    b.dispose();
    expect(sp.cachedMemory()).toBe(4000);
    expect(memory().bytes).toBe(live - 4000); // cached bytes are not live
    const stale = sp.cpuEmptyUnfilled([1000], 'float32'); // for kernels that write every element
    expect(sp.cachedMemory()).toBe(0);
    expect(stale.shape).toEqual([1000]);
    stale.dispose();
    sp.emptyCache();
    expect(sp.cachedMemory()).toBe(0);
  });

  it('respects its byte limit by evicting the buffers freed longest ago; a limit of 0 turns it off', () => {
    sp.emptyCache({ limit: 0 });
    sp.ones([100]).dispose();
    expect(sp.cachedMemory()).toBe(0);
    sp.emptyCache({ limit: 1000 });
    sp.ones([100]).dispose(); // 400 bytes
    sp.ones([80]).dispose(); // 320
    sp.ones([70]).dispose(); // 280: 1000 in all, the limit
    expect(sp.cachedMemory()).toBe(1000);
    sp.ones([75]).dispose(); // 300 more: the oldest (400) makes room
    expect(sp.cachedMemory()).toBe(900);
    const kept = sp.zeros([80]); // served from the cache
    expect(sp.cachedMemory()).toBe(580);
    const evicted = sp.zeros([100]); // a fresh array
    expect(sp.cachedMemory()).toBe(580);
    sp.ones([300]).dispose(); // 1200 bytes: larger than the limit, never cached
    expect(sp.cachedMemory()).toBe(580);
    kept.dispose();
    evicted.dispose();
    expect(() => sp.emptyCache({ limit: -1 })).toThrow('emptyCache: limit must be >= 0 bytes, got -1');
    sp.emptyCache({ limit: 256 * 2 ** 20 });
  });
});
