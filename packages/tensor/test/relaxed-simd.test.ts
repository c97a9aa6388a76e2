// The relaxed-SIMD (fused multiply-add) kernels. Node 20 only has relaxed SIMD with
// --experimental-wasm-relaxed-simd, which cannot be turned on inside a running process, so each
// case runs a fresh process with or without the flag.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** Products in a fresh process: its cpuInfo, the bits of each result per thread count, errors. */
const script = `
const sp = await import(${JSON.stringify(index)});
sp.manualSeed(7);
const a = sp.randn([130, 300]);
const b = sp.randn([300, 270]);
const x = sp.randn([3, 8, 20, 20]);
const w = sp.randn([16, 8, 3, 3]);
const hex = (t) => Buffer.from(t.dataSync().buffer).toString('hex');
const out = { threads: {} };
for (const n of [1, 3]) {
  sp.setNumThreads(n);
  await sp.threadsReady();
  out.threads[n] = { mm: hex(sp.matmul(a, b)), conv: hex(sp.conv2d(x, w, undefined, { padding: 1 })) };
}
const ref = sp.matmul(a.cast('float64'), b.cast('float64')).dataSync();
const got = sp.matmul(a, b).dataSync();
let err = 0;
for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i] - ref[i]));
out.err = err;
out.info = sp.cpuInfo();
console.log(JSON.stringify(out));
`;

function run(flags: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { ...r, out: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') : undefined };
}

const FLAG = ['--experimental-wasm-relaxed-simd'];

describe('relaxed SIMD kernels', () => {
  it('are used where the engine has relaxed SIMD, and give the same bits for any thread count', () => {
    const r = run(FLAG);
    expect(r.stderr).toBe('');
    expect(r.out.info).toMatchObject({ relaxedSimd: true, sharedMemory: true, threads: 3 });
    expect(r.out.threads[3]).toEqual(r.out.threads[1]);
    // 300-term float32 sums of unit normals: rounding stays far below 1e-3.
    expect(r.out.err).toBeLessThan(1e-3);
  }, 240_000);

  it('are not used without relaxed SIMD or with SOFTPOOL_RELAXED_SIMD=0, which give the portable bits', () => {
    const plain = run([]);
    const off = run(FLAG, { SOFTPOOL_RELAXED_SIMD: '0' });
    expect(plain.out.info.relaxedSimd).toBe(false);
    expect(off.out.info.relaxedSimd).toBe(false);
    expect(off.out.threads).toEqual(plain.out.threads);
    expect(plain.out.threads[3]).toEqual(plain.out.threads[1]);
    expect(plain.out.err).toBeLessThan(1e-3);
  }, 240_000);

  it('rejects a bad SOFTPOOL_RELAXED_SIMD', () => {
    const r = run([], { SOFTPOOL_RELAXED_SIMD: 'yes' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/SOFTPOOL_RELAXED_SIMD: must be 0 \(portable kernels\) or 1, got yes/);
  }, 120_000);
});
