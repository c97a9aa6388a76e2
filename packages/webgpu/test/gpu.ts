// Test set-up shared by the WebGPU suites: creates the backend once. Without an adapter the
// suites skip with a message locally, and fail under CI=true (CI must prove the GPU path).
import { initBackend } from '@softpool/tensor';
import '../src/index.js';
import type { WebGPUBackend } from '../src/index.js';

async function init(): Promise<WebGPUBackend | null> {
  try {
    return (await initBackend('webgpu')) as WebGPUBackend;
  } catch (e) {
    if (process.env.CI) throw e;
    console.warn(`WebGPU tests skipped: ${(e as Error).message}`);
    return null;
  }
}

export const backend = await init();
export const hasGpu = backend !== null;
