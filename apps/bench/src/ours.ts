// softpool's side of every case, on a given backend. Each runner returns a function that does one
// call and waits for its result (a read-back), releasing everything it made.
import { noGrad } from '@softpool/autograd';
import * as L from '@softpool/layers';
import { createModel, createPool, type PoolName } from '@softpool/models';
import * as sp from '@softpool/tensor';
import type { Case } from './cases.js';
import { type MeasureOptions, measure, measureAlternating, type Timing } from './harness.js';

export type Runner = { run: () => Promise<void>; dispose: () => void };

/**
 * Waits for `t` by reading one element (GPU work is then counted), and disposes it. The
 * one-element view is disposed too: left to the garbage collector it would keep `t`'s storage
 * alive, so the next call could not reuse that buffer and would pay for a fresh one.
 */
async function settle(t: sp.Tensor): Promise<void> {
  const one = sp.scope(() => t.reshape([-1]).slice([[0, Math.min(1, t.size)]]));
  await one.data();
  one.dispose();
  t.dispose();
}

function poolModule(
  method: PoolName,
  spatial: number,
  channels: number,
  kernel: number,
  stride: number,
): L.Module {
  const m = createPool(method, { spatial: spatial as 1 | 2 | 3, channels, kernelSize: kernel, stride });
  return m;
}

export async function oursRunner(c: Case, backend: string): Promise<Runner> {
  const on = { backend };
  sp.manualSeed(0);
  switch (c.kind) {
    case 'pool': {
      const x = sp.randn(c.shape, on);
      const m = poolModule(c.method, c.shape.length - 2, c.shape[1], c.kernel, c.stride);
      await m.to(backend);
      return {
        run: async () => {
          const sync = sp.scope(() => {
            if (c.mode === 'fwd') return noGrad(() => m.forward(x));
            const xi = sp.detach(x).requiresGrad_();
            const y = m.forward(xi);
            y.backward(sp.onesLike(y));
            const g = xi.grad!;
            xi.grad = null;
            return g;
          });
          await settle(sync);
        },
        dispose: () => x.dispose(),
      };
    }
    case 'matmul': {
      const a = sp.randn([c.n, c.n], on);
      const b = sp.randn([c.n, c.n], on);
      return {
        run: async () => {
          const y = sp.matmul(a, b);
          await settle(y);
        },
        dispose: () => {
          a.dispose();
          b.dispose();
        },
      };
    }
    case 'conv': {
      const x = sp.randn(c.input, on);
      const groups = c.depthwise ? c.input[1] : 1;
      const w = sp.mul(sp.randn([c.filters, c.input[1] / groups, c.k, c.k], on), 0.1);
      const opts = { padding: 1, groups };
      return {
        run: async () => {
          const out = sp.scope(() => {
            if (c.mode === 'fwd') return sp.conv2d(x, w, opts);
            const wi = sp.detach(w).requiresGrad_();
            const xi = sp.detach(x).requiresGrad_();
            sp.sum(sp.conv2d(xi, wi, opts)).backward();
            const g = sp.add(sp.sum(wi.grad!), sp.sum(xi.grad!));
            // Leaves' gradients outlive scopes: dispose them, as an optimizer's zeroGrad does.
            wi.grad!.dispose();
            xi.grad!.dispose();
            wi.grad = null;
            xi.grad = null;
            return g;
          });
          await settle(out);
        },
        dispose: () => {
          x.dispose();
          w.dispose();
        },
      };
    }
    case 'op': {
      const x = sp.randn(c.shape, on);
      const bias = sp.randn([c.shape[1], 1, 1], on);
      const f = {
        exp: () => sp.exp(x),
        tanh: () => sp.tanh(x),
        gelu: () => sp.gelu(x),
        softmax: () => sp.softmax(x, -1),
        logSoftmax: () => sp.logSoftmax(x, -1),
        maxChannels: () => sp.max(x, 1),
        argmax: () => sp.argmax(x, -1),
        where: () => sp.where(sp.gt(x, 0), x, 0),
        addBias: () => sp.add(x, bias),
      }[c.op];
      return {
        run: () => settle(sp.scope(f)),
        dispose: () => {
          x.dispose();
          bias.dispose();
        },
      };
    }
    case 'train': {
      const model = createModel(c.model, { pool: c.pool });
      await model.to(backend);
      const opt = new L.Adam(model.parameters(), { lr: 1e-3 });
      const x = sp.randn([c.batch, 1, 28, 28], on);
      const y = sp.randint(0, 10, [c.batch], on);
      return {
        run: async () => {
          const loss = sp.scope(() => {
            opt.zeroGrad();
            const l = L.crossEntropy(model.forward(x), y);
            l.backward();
            opt.step();
            return l.detach();
          });
          await settle(loss);
        },
        dispose: () => {
          opt.zeroGrad();
          x.dispose();
          y.dispose();
        },
      };
    }
  }
}

/**
 * The bytes a call allocates beyond what was live before it (a call is run once untimed first,
 * so caches and pipelines are warm).
 */
async function peakOf(r: Runner): Promise<number> {
  await r.run();
  const live = sp.memory().bytes;
  sp.resetPeakMemory();
  await r.run();
  return sp.peakMemory().bytes - live;
}

/** Times one case on one backend; with `peak`, first measures its peak bytes (peakOf). */
export async function measureOurs(
  c: Case,
  backend: string,
  options: MeasureOptions & { peak: boolean },
): Promise<{ timing: Timing; peakBytes?: number }> {
  const r = await oursRunner(c, backend);
  try {
    const peakBytes = options.peak ? await peakOf(r) : undefined;
    return { timing: await measure(r.run, options), peakBytes };
  } finally {
    r.dispose();
  }
}

/**
 * Times one case on the CPU with each thread count, alternating the counts in blocks of calls (see
 * measureAlternating); the peak is measured with the last (largest) count.
 */
export async function measureOursThreads(
  c: Case,
  counts: number[],
  options: MeasureOptions & { peak: boolean },
): Promise<{ timing: Timing; peakBytes?: number }[]> {
  const r = await oursRunner(c, 'cpu');
  const use = (t: number) => async () => {
    sp.setNumThreads(t);
    await sp.threadsReady();
  };
  try {
    let peakBytes: number | undefined;
    if (options.peak) {
      await use(counts[counts.length - 1])();
      peakBytes = await peakOf(r);
    }
    const timings = await measureAlternating(r.run, counts.map(use), options);
    return timings.map((timing, i) => ({
      timing,
      peakBytes: i === counts.length - 1 ? peakBytes : undefined,
    }));
  } finally {
    r.dispose();
  }
}
