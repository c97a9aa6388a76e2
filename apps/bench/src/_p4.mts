import * as T from '@softpool/tensor';

const n = 1024;
const a = T.randn([n, n]);
const b = T.randn([n, n]);
for (const th of [1, 2, 1, 2]) {
  T.setNumThreads(th);
  await T.threadsReady();
  T.matmul(a, b).dispose();
  const g = globalThis as any;
  g.__items = 0;
  g.__mainItems = 0;
  const ts: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    T.matmul(a, b).dispose();
    ts.push(performance.now() - t0);
  }
  ts.sort((x, y) => x - y);
  console.log(th, 'median', ts[4].toFixed(1), 'items', g.__items / 9, 'main', g.__mainItems / 9);
}
