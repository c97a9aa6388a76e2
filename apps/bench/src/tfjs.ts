// TensorFlow.js 4.22 peers, written the way its users would: its native NHWC layout, SoftPool
// composed from its ops (avgPool(x e) / avgPool(e), e = exp(x)), LeNet-5 and the VGG-style net
// from tf ops with an Adam optimizer. Cases a backend cannot run report why.
import { createRequire } from 'node:module';
import type { Case } from './cases.js';
import type { Runner } from './ours.js';

// biome-ignore lint/suspicious/noExplicitAny: the tfjs namespace is loaded dynamically.
type TF = any;
let tf: TF;
// tfjs ships CommonJS; one require keeps core, gradients and backends in one module instance.
const require = createRequire(import.meta.url);
const ready = new Map<string, boolean>();

export const PEERS = ['tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu'] as const;
export type Peer = (typeof PEERS)[number];

/** Loads tfjs and switches to `peer`; returns an error message when the backend is unavailable. */
export async function usePeer(peer: Peer): Promise<string | undefined> {
  if (!tf) {
    tf = require('@tensorflow/tfjs-core');
    // tfjs-core alone has no gradients: this module registers them.
    require('@tensorflow/tfjs-core/dist/register_all_gradients');
  }
  const name = peer.slice(5);
  try {
    if (!ready.has(name)) {
      if (name === 'cpu') require('@tensorflow/tfjs-backend-cpu');
      if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
      if (name === 'webgpu') {
        const { create, globals } = await import('webgpu' as string);
        Object.assign(globalThis, globals);
        Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
        require('@tensorflow/tfjs-backend-webgpu');
      }
      ready.set(name, true);
    }
    if (!(await tf.setBackend(name))) return `backend ${name} failed to initialise`;
    await tf.ready();
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** Adapter description of tfjs-webgpu, when it runs. */
export function tfjsAdapter(): string | undefined {
  try {
    const b = tf?.backend?.();
    return b?.adapterInfo ? JSON.stringify(b.adapterInfo) : undefined;
  } catch {
    return undefined;
  }
}

async function sync(t: TF): Promise<void> {
  await t.data();
  t.dispose();
}

function nhwc(shape: number[]): number[] {
  return [shape[0], ...shape.slice(2), shape[1]];
}

function pool(method: string, x: TF, k: number, s: number, rank: number): TF {
  const f = rank === 4 ? { max: tf.maxPool, avg: tf.avgPool } : { max: tf.maxPool3d, avg: tf.avgPool3d };
  if (method === 'max') return f.max(x, k, s, 'valid');
  if (method === 'avg') return f.avg(x, k, s, 'valid');
  const e = tf.exp(x);
  return tf.div(f.avg(tf.mul(x, e), k, s, 'valid'), f.avg(e, k, s, 'valid'));
}

/** A tfjs runner for `c`, or a string saying why the peer cannot run it. */
export function peerRunner(c: Case, peer: Peer): Runner | string {
  const backend = peer.slice(5);
  if (c.kind === 'pool') {
    if (!['max', 'avg', 'soft'].includes(c.method)) return 'n/a (not in tfjs)';
    if (c.shape.length === 3) return 'n/a (no 1-D pooling)';
    const x = tf.randomNormal(nhwc(c.shape));
    const f = (t: TF) => pool(c.method, t, c.kernel, c.stride, c.shape.length);
    const g = tf.grad((t: TF) => tf.sum(f(t)));
    return {
      run: async () => sync(tf.tidy(() => (c.mode === 'fwd' ? f(x) : g(x)))),
      dispose: () => x.dispose(),
    };
  }
  if (c.kind === 'matmul') {
    const a = tf.randomNormal([c.n, c.n]);
    const b = tf.randomNormal([c.n, c.n]);
    return { run: async () => sync(tf.matMul(a, b)), dispose: () => tf.dispose([a, b]) };
  }
  if (c.kind === 'op') {
    if (c.op === 'gelu') return 'n/a (not in tfjs)';
    const x = tf.randomNormal(c.shape);
    const bias = tf.randomNormal([c.shape[1], 1, 1]);
    const f = {
      exp: tf.exp,
      tanh: tf.tanh,
      softmax: tf.softmax,
      logSoftmax: tf.logSoftmax,
      maxChannels: (t: TF) => tf.max(t, 1),
      argmax: (t: TF) => tf.argMax(t, -1),
      where: (t: TF) => tf.where(tf.greater(t, 0), t, tf.zerosLike(t)),
      addBias: (t: TF) => tf.add(t, bias),
    }[c.op];
    return { run: async () => sync(tf.tidy(() => f(x))), dispose: () => tf.dispose([x, bias]) };
  }
  if (c.kind === 'conv') {
    if (backend === 'wasm' && c.mode === 'fwd+bwd')
      return `cannot (no ${c.depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter'} kernel)`;
    const x = tf.randomNormal(nhwc(c.input));
    const w = tf.mul(tf.randomNormal([c.k, c.k, c.input[1], c.depthwise ? 1 : c.filters]), 0.1);
    const conv = (xx: TF, ww: TF) =>
      c.depthwise ? tf.depthwiseConv2d(xx, ww, 1, 'same') : tf.conv2d(xx, ww, 1, 'same');
    const grads = tf.grads((xx: TF, ww: TF) => tf.sum(conv(xx, ww)));
    return {
      run: async () => {
        if (c.mode === 'fwd') return sync(conv(x, w));
        const [gx, gw] = grads([x, w]);
        await gw.data();
        tf.dispose([gx, gw]);
      },
      dispose: () => tf.dispose([x, w]),
    };
  }
  if (backend === 'wasm') return 'cannot (no Conv2DBackpropFilter kernel)';
  return trainRunner(c);
}

/** LeNet-5 or the VGG-style net (BatchNorm) in tf ops, one Adam step per call. */
function trainRunner(c: Extract<Case, { kind: 'train' }>): Runner {
  const vars: TF[] = [];
  const v = (shape: number[], scale: number) => {
    const t = tf.variable(tf.mul(tf.randomNormal(shape), scale));
    vars.push(t);
    return t;
  };
  const p = (x: TF) => pool(c.pool, x, 2, 2, 4);
  let forward: (x: TF) => TF;
  if (c.model === 'lenet5') {
    const [w1, b1, w2, b2] = [v([5, 5, 1, 6], 0.2), v([6], 0), v([5, 5, 6, 16], 0.08), v([16], 0)];
    const [f1, f2, f3] = [v([400, 120], 0.05), v([120, 84], 0.09), v([84, 10], 0.1)];
    forward = (x) => {
      let h = p(tf.relu(tf.add(tf.conv2d(x, w1, 1, 'same'), b1)));
      h = p(tf.relu(tf.add(tf.conv2d(h, w2, 1, 'valid'), b2)));
      h = tf.relu(tf.matMul(tf.reshape(h, [c.batch, 400]), f1));
      return tf.matMul(tf.relu(tf.matMul(h, f2)), f3);
    };
  } else {
    const widths = [16, 16, 32, 32, 64];
    let cin = 1;
    const layers = widths.map((w) => {
      const l = {
        w: v([3, 3, cin, w], Math.sqrt(2 / (9 * cin))),
        g: tf.variable(tf.ones([w])),
        b: v([w], 0),
      };
      vars.push(l.g);
      cin = w;
      return l;
    });
    const fc = v([64 * 49, 10], 0.01);
    const block = (x: TF, l: (typeof layers)[number]) => {
      const y = tf.conv2d(x, l.w, 1, 'same');
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      return tf.relu(tf.batchNorm(y, mean, variance, l.b, l.g, 1e-5));
    };
    forward = (x) => {
      let h = block(block(x, layers[0]), layers[1]);
      h = p(h);
      h = p(block(block(h, layers[2]), layers[3]));
      h = block(h, layers[4]);
      return tf.matMul(tf.reshape(h, [c.batch, 64 * 49]), fc);
    };
  }
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([c.batch, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([c.batch], 0, 10, 'int32'), 10);
  return {
    run: async () => {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)), true);
      await sync(loss);
    },
    dispose: () => {
      tf.dispose([...vars, x, y]);
      opt.dispose();
    },
  };
}

/** Peak bytes tfjs allocates during one call (tf.profile). */
export async function peerPeakBytes(run: () => Promise<void>): Promise<number | undefined> {
  try {
    const info = await tf.profile(run);
    return info.peakBytes;
  } catch {
    return undefined;
  }
}
