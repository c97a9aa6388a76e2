// Finding a GPU: navigator.gpu in browsers; in Node, the optional `webgpu` package (Dawn), loaded
// only when the WebGPU backend is asked for. No adapter is a clear error naming what to install.
import { BackendError } from '@softpool/tensor';

const NODE_HINT =
  "install the 'webgpu' package (npm i webgpu) and a Vulkan driver: on Debian bookworm, " +
  'mesa-vulkan-drivers from bookworm-backports (tools/setup.sh does this) or a GPU driver';

// Dawn's GPU object owns the native instance that processes every device's events. If it is
// garbage-collected while a device lives, pending work crashes the process (futex or mutex errors
// on lavapipe), so the first one is kept for the life of the process.
let nodeGpu: GPU | undefined;

export async function requestGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode)
    throw new BackendError('webgpu: this browser has no navigator.gpu (WebGPU is disabled or unsupported)');
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu' as string)) as typeof mod;
  } catch (e) {
    throw new BackendError(
      `webgpu: cannot load the 'webgpu' package (${(e as Error).message.split('\n')[0]}); ${NODE_HINT}`,
    );
  }
  // Dawn's classes (GPUBufferUsage, ...) as globals, as in browsers.
  for (const [k, v] of Object.entries(mod.globals))
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  nodeGpu ??= mod.create([]);
  return nodeGpu;
}

export async function requestDevice(): Promise<{
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  description: string;
}> {
  const gpu = await requestGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    const isNode = typeof process !== 'undefined' && !!process.versions?.node;
    throw new BackendError(
      `webgpu: no WebGPU adapter found; ${isNode ? NODE_HINT : 'enable WebGPU in this browser'}`,
    );
  }
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(lim.maxStorageBuffersPerShaderStage, 10),
      maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
      maxTextureDimension2D: lim.maxTextureDimension2D,
    },
  });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const description = info
    ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ')
    : 'unknown adapter';
  return { gpu, adapter, device, description };
}
