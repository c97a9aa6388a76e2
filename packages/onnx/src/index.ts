// @softpool/onnx: ONNX export of softpool models by tracing one forward pass.
export { OnnxExportError } from './errors.js';
export { type ExportOptions, exportOnnx, onnxMetadata } from './export.js';
export type { ConvertContext, Converter } from './graph.js';
export { type AttrValue, DATA_TYPE } from './proto.js';
export { exportableOps, refuseOp, registerConverter } from './registry.js';
