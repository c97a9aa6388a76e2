// sliceBackward is linear; its adjoint is the slice it undoes: d sliceBackward(g) = slice(dy)
import { run } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('sliceBackward', {
  vjp: ({ attrs, inputShapes: [shape] }, [g]) => [
    run('slice', [g], { starts: attrs.starts, steps: attrs.steps, shape }),
  ],
});
