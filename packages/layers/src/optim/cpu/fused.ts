// The fused optimizer updates on the CPU: one pass over a parameter that updates it and its state
// in place, where the composed forms dispatched up to 13 ops and allocated as many temporaries
// per parameter and step. Arithmetic follows PyTorch's arrangement, in float64 until each value
// is stored.
import { adamStepFloat32, cpuData, registerKernel, sgdStepFloat32, type Tensor } from '@softpool/tensor';

/** The elements of contiguous CPU tensors (undefined stays undefined). */
const data = (ts: Tensor[]) => ts.map((t) => cpuData(t).subarray(t.offset, t.offset + t.size));

/**
 * float32 parameters from this size take the WebAssembly twins in @softpool/tensor (the same
 * bits, on the threads); below it copying in and out costs more than these loops.
 */
const WASM_MIN = 2048;

const wasmOk = (inputs: Tensor[]) => inputs[0].size >= WASM_MIN && inputs.every((t) => t.dtype === 'float32');

registerKernel('adamStep', 'cpu', (inputs, a) => {
  const [p, grad, m, v, vmax] = data(inputs);
  if (wasmOk(inputs)) {
    const f32 = (t: unknown) => t as Float32Array;
    adamStepFloat32(f32(p), f32(grad), f32(m), f32(v), vmax && f32(vmax), a);
    return inputs[0];
  }
  const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled, step } = a;
  const decay = decoupled ? 1 - lr * wd : 1;
  const coupled = decoupled ? 0 : wd;
  const sqrtC2 = Math.sqrt(1 - b2 ** step);
  const stepSize = lr / (1 - b1 ** step);
  for (let i = 0; i < p.length; i++) {
    const w = p[i] * decay;
    const d = grad[i] + w * coupled;
    const mi = m[i] * b1 + d * (1 - b1);
    let vi = v[i] * b2 + d * d * (1 - b2);
    m[i] = mi;
    v[i] = vi;
    if (vmax) {
      vi = Math.max(vmax[i], v[i]);
      vmax[i] = vi;
    }
    p[i] = w - (mi / (Math.sqrt(vi) / sqrtC2 + eps)) * stepSize;
  }
  return inputs[0];
});

registerKernel('sgdStep', 'cpu', (inputs, a) => {
  const [p, grad, buf] = data(inputs);
  if (wasmOk(inputs)) {
    sgdStepFloat32(p as Float32Array, grad as Float32Array, buf as Float32Array | undefined, a);
    return inputs[0];
  }
  const { lr, momentum, dampening, weightDecay: wd, nesterov, first } = a;
  for (let i = 0; i < p.length; i++) {
    let d = grad[i] + p[i] * wd;
    if (buf) {
      const b = first ? d : buf[i] * momentum + d * (1 - dampening);
      buf[i] = b;
      d = nesterov ? d + b * momentum : b;
    }
    p[i] -= d * lr;
  }
  return inputs[0];
});
