// @softpool/webgpu: the WebGPU backend (browsers through navigator.gpu, Node through the optional
// `webgpu` package). Importing registers it; `await setBackend('webgpu')` creates the device.
import { registerBackendFactory } from '@softpool/tensor';
import { WebGPUBackend } from './backend.js';
import { requestDevice } from './gpu.js';
import './kernels/index.js';

registerBackendFactory('webgpu', async () => {
  const { device, description } = await requestDevice();
  return new WebGPUBackend(device, description);
});

export { type GpuHandle, WebGPUBackend, wgslType } from './backend.js';
export { requestDevice, requestGpu } from './gpu.js';
export { BufferPool } from './pool.js';
export { f32bits, i32bits } from './wgsl.js';
