import { SoftpoolError } from '@softpool/tensor';

/** A model, op or option that ONNX export cannot express; the message names it and says why. */
export class OnnxExportError extends SoftpoolError {
  constructor(message: string) {
    super('ONNX_EXPORT', message);
  }
}
