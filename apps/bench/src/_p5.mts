import * as T from '@softpool/tensor';

const n = 1024;
const a = T.randn([n, n]);
const b = T.randn([n, n]);
await T.threadsReady();
for (let r = 0; r < 3; r++) {
  const ts: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    T.matmul(a, b).dispose();
    ts.push(performance.now() - t0);
  }
  ts.sort((x, y) => x - y);
  process.stdout.write(`${T.getNumThreads()}t ${ts[4].toFixed(0)}  `);
}
console.log();
