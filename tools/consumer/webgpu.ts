// The WebGPU backend from the published package. Importing it registers the backend; its types
// (GPUDevice, from @webgpu/types) resolve without the consumer configuring any lib. Kept apart
// from consumer.ts because it brings the DOM lib into the program, which would hide a core
// package that needed it. The consumer project does not install the optional `webgpu` package
// (Dawn), so asking for the backend must fail with the library's own error saying what to install.
import { BackendError, initBackend } from '@softpool/tensor';
import { requestDevice } from '@softpool/webgpu';

declare const console: { log(...args: unknown[]): void };

async function main(): Promise<void> {
  const found: { device: GPUDevice } | undefined = await requestDevice().catch(() => undefined);
  try {
    const backend = await initBackend('webgpu');
    console.log(`webgpu consumer ok: ${backend.name} (${found ? 'device' : 'no device'})`);
  } catch (e) {
    if (!(e instanceof BackendError) || !e.message.includes("'webgpu' package")) throw e;
    console.log(`webgpu consumer ok: ${e.message.slice(0, 60)}...`);
  }
}

main().catch((e: unknown) => {
  console.log(e);
  throw e;
});
