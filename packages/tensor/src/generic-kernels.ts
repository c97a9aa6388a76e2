// Kernels that serve every backend (registered under ANY_BACKEND): views, which only compute
// shape/strides/offset (reshape falls back to the backend's contiguous copy), and transfers.
import { getBackend } from './backend.js';
import { BackendError } from './errors.js';
import { ANY_BACKEND, getKernel, registerKernel } from './kernels.js';
import { viewStrides } from './ops/view.js';
import { makeTensor, makeView, type Tensor } from './tensor.js';

registerKernel('reshape', ANY_BACKEND, ([x], { shape }, backend) => {
  const strides = viewStrides(x.shape, x.strides, shape);
  if (strides) return makeView(x, shape, strides, x.offset);
  const copy = getKernel('contiguous', backend.name)([x], {}, backend) as Tensor;
  const out = makeView(copy, shape, viewStrides(copy.shape, copy.strides, shape)!, copy.offset);
  copy.dispose();
  return out;
});

registerKernel('permute', ANY_BACKEND, ([x], { axes }) =>
  makeView(
    x,
    axes.map((a) => x.shape[a]),
    axes.map((a) => x.strides[a]),
    x.offset,
  ),
);

registerKernel('expand', ANY_BACKEND, ([x], { shape }) => {
  const lead = shape.length - x.rank;
  const strides = shape.map((d, i) =>
    i < lead || (x.shape[i - lead] === 1 && d !== 1) ? 0 : x.strides[i - lead],
  );
  return makeView(x, shape, strides, x.offset);
});

registerKernel('slice', ANY_BACKEND, ([x], a) => {
  let offset = x.offset;
  for (let i = 0; i < x.rank; i++) if (a.shape[i] > 0) offset += a.starts[i] * x.strides[i];
  return makeView(
    x,
    a.shape,
    x.strides.map((s, i) => s * a.steps[i]),
    offset,
  );
});

/** Copies to another backend; needs a synchronous read on the source (async: `toAsync`). */
registerKernel('to', ANY_BACKEND, ([x], { backend }) => {
  const src = x.backend;
  if (!src.readSync) {
    throw new BackendError(
      `to: backend '${src.name}' reads asynchronously; use await t.toAsync('${backend}')`,
    );
  }
  const c = x.isContiguous ? x : (getKernel('contiguous', src.name)([x], {}, src) as Tensor);
  const values = src.readSync(c.storage.handle, c.dtype, c.offset, c.size);
  if (c !== x) c.dispose();
  const target = getBackend(backend);
  return makeTensor(target, target.upload(values, x.dtype, true), x.dtype, x.shape);
});
