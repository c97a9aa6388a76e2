// Test accuracy of an ONNX file written by `pnpm train --export-onnx`, in ONNX Runtime
// (onnxruntime-web's WebAssembly backend): the model as another runtime sees it. Normalisation and
// input shape come from the file's metadata.
// Usage: tsx --conditions=@softpool/source apps/train/scripts/eval-onnx.ts MODEL.onnx [--data DIR] [--limit N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadFashionMnist } from '@softpool/data';
import { onnxMetadata } from '@softpool/onnx';
import * as ort from 'onnxruntime-web';

export async function evalOnnx(
  file: string,
  dir?: string,
  limit?: number,
): Promise<{ correct: number; total: number }> {
  const bytes = readFileSync(file);
  const meta = onnxMetadata(bytes);
  const { mean, std } = JSON.parse(meta.normalization ?? '{"mean":[0],"std":[1]}') as {
    mean: number[];
    std: number[];
  };
  const shape = JSON.parse(meta.inputShape ?? '[1,28,28]') as number[];
  const test = await loadFashionMnist({ split: 'test', dir });
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes);
  const per = shape.reduce((a, b) => a * b, 1);
  const total = Math.min(limit ?? test.labels.length, test.labels.length);
  const channels = shape[0];
  let correct = 0;
  for (let start = 0; start < total; start += 500) {
    const n = Math.min(500, total - start);
    const x = new Float32Array(n * per);
    for (let i = 0; i < n * per; i++) {
      const c = Math.floor((i % per) / (per / channels));
      x[i] = (test.images[start * per + i] / 255 - mean[c]) / std[c];
    }
    const { output } = await session.run({ input: new ort.Tensor('float32', x, [n, ...shape]) });
    const logits = output.data as Float32Array;
    const k = logits.length / n;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
      if (best === test.labels[start + i]) correct++;
    }
  }
  return { correct, total };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { data: { type: 'string' }, limit: { type: 'string' } },
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: eval-onnx.ts MODEL.onnx [--data DIR] [--limit N]\n');
    process.exit(2);
  }
  try {
    const limit = values.limit ? Number(values.limit) : undefined;
    const { correct, total } = await evalOnnx(positionals[0], values.data, limit);
    process.stdout.write(
      `ONNX Runtime test accuracy ${((100 * correct) / total).toFixed(2)}% (${correct}/${total})\n`,
    );
  } catch (e) {
    process.stderr.write(`eval-onnx: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
