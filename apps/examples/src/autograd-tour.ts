// A runnable tour of softpool's autograd, in eight sections. Each prints what it shows and asserts
// it, so the tour is also a test (`--quiet` only asserts: CI runs it that way). Read it next to
// docs/autograd.md, which walks through the engine itself.
//   pnpm example:autograd [--quiet] [--out DIR]   (DIR gets the graph as DOT and SVG)
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defineFunction, gradcheck, gradients, printGraph, toDot, toSvg } from '@softpool/autograd';
import { softPool2d } from '@softpool/layers';
import {
  add,
  memory,
  mul,
  onDispatch,
  relu,
  StateError,
  scalar,
  scope,
  sum,
  tanh,
  tensor,
} from '@softpool/tensor';

const { values: flags } = parseArgs({
  options: { quiet: { type: 'boolean', default: false }, out: { type: 'string' } },
});
const out = flags.out ?? join(tmpdir(), 'softpool-autograd-tour');
const say = (s = ''): void => {
  if (!flags.quiet) process.stdout.write(`${s}\n`);
};
const section = (n: number, title: string): void => say(`\n## ${n}. ${title}\n`);
const close = (got: number, want: number, what: string, tol = 1e-12): void =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);
const f64 = (v: Parameters<typeof tensor>[0]) => tensor(v, { dtype: 'float64', requiresGrad: true });
const before = memory().tensors;

// ---- 1 -------------------------------------------------------------------------------------------
section(1, "micrograd's expression, with every gradient derived by hand");
// micrograd's README, line by line (`c += ...` becomes a new tensor: our tensors are values).
// The scope releases every intermediate except the named values it returns.
const names = scope(() => {
  const a = f64(-4);
  const b = f64(2);
  const c1 = a.add(b);
  const d1 = a.mul(b).add(b.pow(3));
  const c2 = c1.add(c1.add(1));
  const c3 = c2.add(add(1, c2).add(a.neg()));
  const d2 = d1.add(d1.mul(2).add(b.add(a).relu()));
  const d3 = d2.add(mul(3, d2).add(b.sub(a).relu()));
  const e = c3.sub(d3);
  const f = e.pow(2);
  const g = f.div(2).add(scalar(10, { dtype: 'float64' }).div(f));
  g.backward();
  return { a, b, c1, c2, c3, d1, d2, d3, e, f, g };
});
const { a, b, e, g } = names;
say(
  `g = ${g.itemSync().toFixed(4)}, dg/da = ${a.grad!.itemSync().toFixed(4)}, dg/db = ${b.grad!.itemSync().toFixed(4)}`,
);

// The same by hand. Forward: c3 = 2 c2 + 1 - a, c2 = 2 c1 + 1, d3 = 4 d2 + relu(b - a),
// d2 = 3 d1 + relu(b + a), d1 = a b + b^3. Backward, from the top: dg/df = 1/2 - 10/f^2,
// dg/de = dg/df * 2e =: G; then each input's gradient is the sum over the paths that reach it.
const [av, bv] = [-4, 2];
const step = (x: number) => (x > 0 ? 1 : 0);
const ev = e.itemSync();
const fv = ev * ev;
const G = (0.5 - 10 / fv ** 2) * 2 * ev; // dg/dc3 = G, dg/dd3 = -G
const gc1 = 2 * 2 * G; // through c3 = 2 c2 + ..., c2 = 2 c1 + ...
const gd2 = 4 * -G + 0; // d3 = 4 d2 + ...
const gd1 = 3 * gd2; // d2 = 3 d1 + ...
const handA = -G + gc1 + gd1 * bv + -G * -step(bv - av) + gd2 * step(bv + av);
const handB = gc1 + gd1 * (av + 3 * bv ** 2) + -G * step(bv - av) + gd2 * step(bv + av);
say(`by hand:                 dg/da = ${handA.toFixed(4)}, dg/db = ${handB.toFixed(4)}`);
close(g.itemSync(), 24.704081632653061, 'g');
close(a.grad!.itemSync(), handA, 'dg/da');
close(b.grad!.itemSync(), handB, 'dg/db');
close(handA, 138.83381924198252, "dg/da (micrograd's README: 138.8338)", 1e-9);
close(handB, 645.5772594752186, "dg/db (micrograd's README: 645.5773)", 1e-9);

// ---- 2 -------------------------------------------------------------------------------------------
section(2, 'The recorded graph');
// Every op on a tensor that requires grad left a node behind; g.gradFn is the last one.
say(printGraph(g));
mkdirSync(out, { recursive: true });
const dot = toDot(g, { names, values: true, grads: true });
writeFileSync(join(out, 'micrograd.dot'), dot);
writeFileSync(join(out, 'micrograd.svg'), await toSvg(g, { names, values: true, grads: true }));
say(`graph written to ${join(out, 'micrograd.dot')} and micrograd.svg`);
assert.match(dot, /label="a\\n\[\] float64\\nvalue \[-4\]\\ngrad \[138\.8\]"/);
assert.equal(g.gradFn?.name, 'add');
for (const t of Object.values(names)) {
  t.grad?.dispose();
  t.dispose();
}

// ---- 3 -------------------------------------------------------------------------------------------
section(3, 'Backward is just more ops');
scope(() => {
  // Every op goes through one dispatch point; listening to it shows the forward pass, then the ops
  // the gradient rules run during backward, visiting nodes in reverse topological order.
  const log: string[] = [];
  const stop = onDispatch((op) => log.push(op));
  const x = f64([0.5, -1, 2]);
  const w = f64([1, 2, 3]);
  const y = tanh(x.mul(w)).sum();
  const forward = log.splice(0);
  y.backward();
  stop();
  say(`forward:  ${forward.join(' -> ')}`);
  say(`backward: ${log.join(' -> ')}`);
  assert.deepEqual(forward, ['mul', 'tanh', 'sum']);
  // The seed (a 1, `full`), sum's rule broadcasting it back (reshape, expand), tanh's rule
  // multiplying by 1 - y^2 (square, sub, mul), then mul's rule multiplying by the other factor.
  assert.deepEqual(log.slice(0, 3), ['full', 'reshape', 'expand']);
  assert.ok(log.indexOf('sub') < log.lastIndexOf('mul'), 'the tanh rule runs before the mul rule');
  const tx = x.dataSync().map((xi, i) => 1 - Math.tanh(xi * w.dataSync()[i]) ** 2);
  for (const [i, gx] of x.grad!.dataSync().entries()) close(gx, tx[i] * w.dataSync()[i], `dy/dx${i}`);
  for (const leaf of [x, w]) leaf.grad?.dispose(); // .grad outlives scopes, like a parameter's
});

// ---- 4 -------------------------------------------------------------------------------------------
section(4, 'Broadcasting, and why gradients are summed back');
scope(() => {
  // bias [4] is added to every row of h [3, 4]: each bias element is used 3 times, so its gradient
  // is the sum of 3 row gradients. Rules call sumTo(grad, inputShape) for exactly this.
  const h = f64([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
  ]);
  const bias = f64([0, 0, 0, 0]);
  const col = tensor([[1], [2], [3]], { dtype: 'float64', requiresGrad: true });
  sum(h.add(bias).mul(col)).backward();
  say(`bias [4] grad = [${bias.grad!.dataSync().join(', ')}] (column sums of col broadcast to [3,4])`);
  say(`col [3,1] grad = [${col.grad!.dataSync().join(', ')}] (row sums of h)`);
  assert.deepEqual(Array.from(bias.grad!.dataSync()), [6, 6, 6, 6]);
  assert.deepEqual(Array.from(col.grad!.dataSync()), [10, 26, 42]);
  assert.deepEqual(col.grad!.shape, [3, 1]);
  for (const leaf of [h, bias, col]) leaf.grad?.dispose();
});

// ---- 5 -------------------------------------------------------------------------------------------
section(5, 'A custom op with its own backward, and gradcheck');
scope(() => {
  const cube = defineFunction({
    name: 'cube',
    forward: (ctx, t) => {
      ctx.saveForBackward(t);
      return t.mul(t).mul(t);
    },
    backward: ({ saved: [t] }, grad) => [grad.mul(t.mul(t).mul(3))],
  });
  const wrongCube = defineFunction({
    name: 'wrongCube',
    forward: (ctx, t) => {
      ctx.saveForBackward(t);
      return t.mul(t).mul(t);
    },
    backward: ({ saved: [t] }, grad) => [grad.mul(t.mul(t))], // forgot the factor 3
  });
  const probe = f64([0.3, -1.2, 2]);
  const good = gradcheck(cube, [probe], { raise: false });
  const bad = gradcheck(wrongCube, [probe], { raise: false });
  say(
    `gradcheck(cube): ${good.ok ? 'passes' : 'fails'}; gradcheck(wrongCube): ${bad.ok ? 'passes' : 'fails'}`,
  );
  assert.ok(good.ok);
  assert.ok(!bad.ok, 'gradcheck must catch the missing factor');
});

// ---- 6 -------------------------------------------------------------------------------------------
section(6, 'SoftPool on one window: [1, 2, 4, 5]');
scope(() => {
  // y = sum w_i a_i with w = softmax(a); dy/da_i = w_i (1 + a_i - y) (docs/autograd.md derives it).
  const win = tensor(
    [
      [
        [
          [1, 2],
          [4, 5],
        ],
      ],
    ],
    { dtype: 'float64', requiresGrad: true },
  );
  const pooled = softPool2d(win, { kernelSize: 2 });
  pooled.sum().backward();
  const av2 = [1, 2, 4, 5];
  const ex = av2.map(Math.exp);
  const wts = ex.map((v) => v / ex.reduce((s, u) => s + u, 0));
  const yv = wts.reduce((s, wi, i) => s + wi * av2[i], 0);
  const exact = wts.map((wi, i) => wi * (1 + av2[i] - yv));
  say(`y = ${pooled.itemSync().toFixed(5)}; weights = [${wts.map((v) => v.toFixed(6)).join(', ')}]`);
  say(`engine gradient = [${Array.from(win.grad!.dataSync(), (v) => v.toFixed(5)).join(', ')}]`);
  say(`by hand         = [${exact.map((v) => v.toFixed(5)).join(', ')}]`);
  close(pooled.itemSync(), 4.58878, 'y', 1e-6);
  for (const [i, gv] of win.grad!.dataSync().entries()) close(gv, exact[i], `dy/da${i}`);
  const paperCheck = gradcheck((t) => softPool2d(t, { kernelSize: 2, gradient: 'paper' }), [win], {
    raise: false,
  });
  const exactCheck = gradcheck((t) => softPool2d(t, { kernelSize: 2 }), [win], { raise: false });
  say(
    `gradcheck: exact gradient ${exactCheck.ok ? 'passes' : 'fails'}, the reference's "paper" gradient ${paperCheck.ok ? 'passes' : 'fails'} (it treats the weights as constants)`,
  );
  assert.ok(exactCheck.ok && !paperCheck.ok);
  win.grad?.dispose();
});

// ---- 7 -------------------------------------------------------------------------------------------
section(7, 'A second derivative through createGraph');
scope(() => {
  // With createGraph the backward pass records its own ops, so its result can be differentiated.
  const t = f64([0.7]);
  const [dt] = gradients(tanh(t), [t], undefined, { createGraph: true });
  const [d2t] = gradients(dt, [t]);
  const th = Math.tanh(0.7);
  say(`d/dx tanh = ${dt.itemSync().toFixed(6)} (1 - tanh^2 = ${(1 - th * th).toFixed(6)})`);
  say(
    `d2/dx2 tanh = ${d2t.itemSync().toFixed(6)} (-2 tanh (1 - tanh^2) = ${(-2 * th * (1 - th * th)).toFixed(6)})`,
  );
  close(dt.itemSync(), 1 - th * th, "tanh'");
  close(d2t.itemSync(), -2 * th * (1 - th * th), "tanh''");
  // gradients() hands its results to the caller: they outlive scopes until disposed.
  dt.dispose();
  d2t.dispose();
});

// ---- 8 -------------------------------------------------------------------------------------------
section(8, 'Memory: scopes, and a graph used after it was freed');
// A scope releases every tensor made inside it except what it returns; the graph's nodes hold
// what their rules saved until backward frees them.
const inside = memory().tensors;
const loss = scope(() => relu(f64([1, -2, 3]).mul(2)).sum());
say(
  `live tensors: ${inside} before the scope, ${memory().tensors} after: the loss, and the handles its graph saved for backward`,
);
loss.backward();
say(`after backward freed the graph: ${memory().tensors}`);
assert.equal(memory().tensors, inside + 1);
let message = '';
try {
  loss.backward();
} catch (err) {
  assert.ok(err instanceof StateError);
  message = (err as Error).message;
}
say(`a second backward: ${message}`);
assert.match(message, /freed by an earlier backward; pass \{ retainGraph: true \}/);

loss.dispose();
const leftover = memory().tensors - before;
say(`\nlive tensors left by the tour: ${leftover}`);
assert.equal(leftover, 0, 'every tensor of the tour is released');
say('tour ok');
