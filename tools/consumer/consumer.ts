// A program a user of the published packages writes. tools/consumer/check.mjs copies it (and
// webgpu.ts) to ESM (.mts) and CommonJS (.cts) files in a project outside the workspace that installed the
// packed tarballs, type-checks it strictly (no skipLibCheck, no DOM or Node types) and runs it.
import { grad } from '@softpool/autograd';
import { DataLoader, loadFashionMnist } from '@softpool/data';
import {
  crossEntropy,
  Linear,
  parseSafetensors,
  SGD,
  SoftPool2d,
  serializeSafetensors,
  softPool2d,
} from '@softpool/layers';
import { LeNet5 } from '@softpool/models';
import { exportOnnx, onnxMetadata } from '@softpool/onnx';
import {
  matmul,
  memory,
  type OpAttrs,
  randn,
  registerKernel,
  relu,
  run,
  scope,
  setNumThreads,
  sum,
  type Tensor,
  tensor,
  threadsReady,
} from '@softpool/tensor';

// The consumer compiles with lib es2022 alone: no DOM, no @types/node.
declare const console: { log(...args: unknown[]): void };

// A user's own op, declared on the op map so that its kernel's attrs are typed.
declare module '@softpool/tensor' {
  interface OpAttrs {
    scaleBy: { factor: number };
  }
}
registerKernel('scaleBy', 'cpu', ([x], { factor }) => x.mul(factor));

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`consumer: ${what}`);
}

async function main(): Promise<void> {
  // Free functions and methods, one graph.
  const x = tensor([-1, 2, -3, 4], { dtype: 'float64', requiresGrad: true });
  const y: Tensor = relu(x).mul(x).sum();
  y.backward();
  check((await x.grad!.array()).toString() === '0,4,0,8', 'gradient of sum(relu(x) * x)');
  x.relu().sum().backward();
  check(x.grad!.dataSync()[1] === 5, 'x.relu().sum().backward() accumulates');
  const dx = grad((a: Tensor) => sum(a.mul(a)))(tensor([3])) as Tensor;
  check(dx.itemSync() === 6, 'grad(a => sum(a * a))');

  const img0 = randn([1, 1, 2, 2]);
  check(run('scaleBy', [tensor([1, 2])], { factor: 3 }).dataSync()[1] === 6, 'a user-defined op');
  // The layers' ops are declared on the op map too, where the packages are installed.
  const temperature: OpAttrs['softPool']['temperature'] = 1;
  check(softPool2d(img0, { kernelSize: 2, temperature }).size === 1, 'layers op attrs');

  // SoftPool: the free function and the layer agree.
  const img = randn([1, 2, 4, 4]);
  const pooled = softPool2d(img, { kernelSize: 2 });
  const layer = new SoftPool2d(2);
  check(pooled.shape.join() === '1,2,2,2', 'softPool2d shape');
  check(layer.forward(img).sub(pooled).abs().max().itemSync() === 0, 'SoftPool2d equals softPool2d');

  // One training step of LeNet-5 with SoftPool on the embedded Fashion-MNIST subset.
  const loader = new DataLoader(await loadFashionMnist({ split: 'test' }), {
    batchSize: 8,
    shuffle: true,
    seed: 1,
  });
  const model = new LeNet5({ pool: 'soft' });
  const opt = new SGD(model.parameters(), { lr: 0.01 });
  const { x: images, y: labels } = loader.assemble(loader.order(0).subarray(0, 8));
  const loss = scope(() => {
    const l = crossEntropy(model.forward(images), labels);
    l.backward();
    return l;
  });
  opt.step();
  check(Number.isFinite(loss.itemSync()), 'LeNet-5 loss is finite');

  // Worker threads from the published bundle (ESM and CJS): the same product on 2 threads and on 1.
  setNumThreads(2);
  const threads: number = await threadsReady();
  check(threads === 2, 'two CPU threads run');
  const [pa, pb] = [randn([256, 300]), randn([300, 200])];
  const two = matmul(pa, pb).dataSync();
  setNumThreads(1);
  const one = matmul(pa, pb).dataSync();
  check(
    two.every((v, i) => Object.is(v, one[i])),
    'threaded product is bit-identical',
  );

  // safetensors round trip.
  const lin = new Linear(3, 2);
  const bytes: Uint8Array = await serializeSafetensors(lin.stateDict(), { note: 'consumer' });
  const back = parseSafetensors(bytes);
  check(back.metadata.note === 'consumer', 'safetensors metadata');
  check(back.tensors.weight.sub(lin.weight).abs().max().itemSync() === 0, 'safetensors weights');

  // ONNX export of the trained model, with metadata.
  const onnx: Uint8Array = exportOnnx(model, images.narrow(0, 0, 1), { metadata: { pool: 'soft' } });
  check(onnxMetadata(onnx).pool === 'soft', 'ONNX export');

  console.log(`consumer ok: ${memory().tensors} live tensors`);
}

main().catch((e: unknown) => {
  console.log(e);
  throw e;
});
