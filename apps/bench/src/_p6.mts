import * as T from '@softpool/tensor';

const x = T.randn([16, 32, 32, 32]);
const w = T.randn([64, 32, 3, 3]);
await T.threadsReady();
for (let r = 0; r < 3; r++) {
  const ts: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    T.conv2d(x, w, undefined, { padding: 1 }).dispose();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  process.stdout.write(`${T.getNumThreads()}t ${ts[4].toFixed(1)}  `);
}
console.log();
