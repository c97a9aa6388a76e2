// exportOnnx against ONNX Runtime (onnxruntime-web's WebAssembly backend, in Node): every model and
// pooling method the models offer, pooling geometries that need padding masks, dynamic batch, and
// the errors for what ONNX cannot express.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import '@softpool/autograd';
import {
  AvgPool2d,
  EDSCWPool2d,
  Flatten,
  Linear,
  LPPool1d,
  MaxPool2d,
  MaxPool3d,
  Module,
  maxPoolWithIndices,
  Sequential,
  SoftPool1d,
  SoftPool2d,
  SoftPool3d,
} from '@softpool/layers';
import { LeNet5, MODELS, POOLS } from '@softpool/models';
import { ArgumentError, manualSeed, memory, oneHot, randn, type Tensor, tensor } from '@softpool/tensor';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { exportableOps, exportOnnx, OnnxExportError } from '../src/index.js';

ort.env.wasm.numThreads = 1;

/** Max |softpool - ONNX Runtime| of the model's output on `x`. */
async function difference(model: Module, bytes: Uint8Array, x: Tensor): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  const feed = new ort.Tensor('float32', x.dataSync() as Float32Array, [...x.shape]);
  const { output } = await session.run({ input: feed });
  const want = model.forward(x).dataSync();
  expect(output.dims).toEqual(model.forward(x).shape);
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i] - (output.data as Float32Array)[i]));
  return d;
}

describe('exportOnnx runs in ONNX Runtime with softpool outputs', () => {
  it('LeNet-5 (max and SoftPool) and ResNet-20 within 1e-5, with another batch size than exported', async () => {
    manualSeed(3);
    for (const [name, pool] of [
      ['lenet5', 'max'],
      ['lenet5', 'soft'],
      ['resnet20', 'soft'],
      ['resnet20', 'max'],
    ] as const) {
      const model = MODELS[name].create({ pool }).eval();
      const bytes = exportOnnx(model, randn([2, 1, 28, 28]));
      expect(await difference(model, bytes, randn([5, 1, 28, 28]))).toBeLessThan(1e-5);
    }
  });

  it('every pooling method of the models exports (LeNet-5, eval mode)', async () => {
    manualSeed(4);
    for (const pool of POOLS) {
      const model = new LeNet5({ pool });
      const bytes = exportOnnx(model, randn([1, 1, 28, 28]));
      model.eval();
      expect(await difference(model, bytes, randn([3, 1, 28, 28])), pool).toBeLessThan(1e-5);
    }
  });

  it('VGG (batch norm) and the 3-D CNN', async () => {
    manualSeed(5);
    const vgg = MODELS.vgg.create({ pool: 'soft' }).eval();
    expect(await difference(vgg, exportOnnx(vgg, randn([2, 1, 28, 28])), randn([2, 1, 28, 28]))).toBeLessThan(
      1e-5,
    );
    const cnn3d = MODELS.cnn3d.create({ pool: 'soft' }).eval();
    const clip = [1, 8, 32, 32];
    expect(await difference(cnn3d, exportOnnx(cnn3d, randn([1, ...clip])), randn([2, ...clip]))).toBeLessThan(
      1e-5,
    );
  });

  it('pooling geometries: overlapping windows, padding, ceil mode, dilation, temperature, 1-D and 3-D', async () => {
    manualSeed(6);
    const cases: [Module, number[]][] = [
      [new SoftPool2d({ kernelSize: 3, stride: 2, padding: 1 }), [2, 3, 9, 9]],
      [new SoftPool2d({ kernelSize: 3, stride: 2, ceilMode: true }), [2, 3, 8, 8]],
      [new SoftPool2d({ kernelSize: [2, 3], stride: 1, dilation: 2, temperature: 0.1 }), [1, 2, 7, 8]],
      [new SoftPool1d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), [2, 4, 10]],
      [new SoftPool3d({ kernelSize: 2, stride: 2, padding: 1 }), [1, 2, 5, 5, 5]],
      [new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), [2, 3, 8, 8]],
      [new MaxPool3d({ kernelSize: 3, stride: 2, padding: 1 }), [1, 2, 6, 6, 6]],
      [new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }), [2, 3, 9, 9]],
      [new LPPool1d(2, 3, { stride: 2 }), [2, 3, 11]],
      [new EDSCWPool2d({ kernelSize: 3, stride: 2, padding: 1 }), [2, 3, 9, 9]],
    ];
    for (const [pool, shape] of cases) {
      const bytes = exportOnnx(pool, randn(shape));
      const x = shape[0] === 1 ? randn(shape) : randn([3, ...shape.slice(1)]);
      expect(
        await difference(pool, bytes, x),
        `${pool.constructor.name} ${JSON.stringify(shape)}`,
      ).toBeLessThan(1e-5);
    }
  });

  it('SoftPool stays finite on large activations (a per-window maximum before the exponent)', async () => {
    const pool = new SoftPool2d({ kernelSize: 3, stride: 1, padding: 1 });
    const x = randn([1, 2, 6, 6]).mul(300);
    const session = await ort.InferenceSession.create(exportOnnx(pool, x));
    const { output } = await session.run({
      input: new ort.Tensor('float32', x.dataSync() as Float32Array, [...x.shape]),
    });
    const want = pool.forward(x).dataSync();
    const got = output.data as Float32Array;
    for (let i = 0; i < want.length; i++) {
      expect(Number.isFinite(got[i])).toBe(true);
      expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-3);
    }
  });

  it('a fixed batch when asked, metadata, and the model mode restored', async () => {
    const model = new LeNet5({ pool: 'soft' });
    const bytes = exportOnnx(model, randn([4, 1, 28, 28]), {
      dynamicBatch: false,
      metadata: { mean: '0.286' },
    });
    expect(model.training).toBe(true);
    const session = await ort.InferenceSession.create(bytes);
    await expect(
      session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 784), [2, 1, 28, 28]) }),
    ).rejects.toThrow();
    expect(new TextDecoder().decode(bytes)).toContain('0.286');
  });

  it('releases what the traces made', () => {
    const model = new LeNet5({ pool: 'soft' });
    const x = randn([2, 1, 28, 28]);
    const before = memory().tensors;
    exportOnnx(model, x);
    expect(memory().tensors).toBe(before);
  });
});

describe('exportOnnx refuses what ONNX cannot express, with its own errors', () => {
  it('bad options and inputs', () => {
    const model = new Sequential(new Flatten(), new Linear(4, 2));
    expect(() => exportOnnx(model, randn([1, 2, 2]), { opset: 12 })).toThrow(ArgumentError);
    expect(() => exportOnnx(model, randn([1, 2, 2]), { opset: 12 })).toThrow(
      /opset must be an integer from 13 to 18/,
    );
    expect(() => exportOnnx(model, tensor(1))).toThrow(/needs a batch dim/);
    expect(() => exportOnnx(model, 'x' as unknown as Tensor)).toThrow(ArgumentError);
  });

  it('an op without a converter is named', () => {
    class Classes extends Module {
      override forward(x: Tensor): Tensor {
        return oneHot(x.argmax(1), 3);
      }
    }
    expect(() => exportOnnx(new Classes(), randn([2, 3]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(new Classes(), randn([2, 3]))).toThrow(/op 'oneHot' cannot be exported to ONNX/);
    expect(exportableOps()).toContain('softPool');
  });

  it('a value computed in JS from the input is refused, not frozen', () => {
    class FromData extends Module {
      override forward(x: Tensor): Tensor {
        const m = Math.max(...(x.dataSync() as Float32Array));
        return x.sub(tensor([m]));
      }
    }
    expect(() => exportOnnx(new FromData(), randn([2, 3]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(new FromData(), randn([2, 3]))).toThrow(/outside any op/);
  });

  it('max pooling indices are refused', () => {
    class WithIndices extends Module {
      override forward(x: Tensor): Tensor {
        const [y, indices] = maxPoolWithIndices(x, 2, { kernelSize: 2 });
        return y.add(indices.cast('float32'));
      }
    }
    expect(() => exportOnnx(new WithIndices(), randn([1, 2, 4, 4]))).toThrow(
      /an output that ONNX export does not produce/,
    );
  });
});

describe('files checked by the onnx checker (tools/fixtures/onnx_check.py)', () => {
  const checked = JSON.parse(readFileSync(new URL('./fixtures/checked.json', import.meta.url), 'utf8')) as {
    models: { name: string; sha256: string; checker: string; outputShape: (number | string)[] }[];
  };
  it('exportOnnx writes byte for byte the files the checker accepted', async () => {
    const { fixtureModels } = await import('./fixtures/models.js');
    for (const { name, model, input } of fixtureModels()) {
      const entry = checked.models.find((m) => m.name === name);
      expect(entry, name).toBeDefined();
      expect(entry?.checker).toBe('ok');
      const hash = createHash('sha256').update(exportOnnx(model, input)).digest('hex');
      expect(hash, `${name}: re-run pnpm gen:onnx-fixtures`).toBe(entry?.sha256);
    }
  });
});
