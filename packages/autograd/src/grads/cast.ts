// d cast(x) = cast back(dx) for float inputs; integer inputs have no gradient
import { cast, isFloat } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('cast', {
  vjp: ({ inputDtypes: [dtype] }, [g]) => [isFloat(dtype) ? cast(g, dtype) : null],
});
