// dw(x, dy) is bilinear: its VJP with U is convBackwardInput(dy, U) for x and conv(x, U) for dy
import { run } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('convBackwardWeight', {
  save: { inputs: true },
  vjp: ({ inputs: [x, dy], attrs, inputShapes, needsGrad }, [u]) => {
    const { weightShape: _, ...geometry } = attrs;
    return [
      needsGrad[0] ? run('convBackwardInput', [dy!, u], { ...geometry, inputShape: inputShapes[0] }) : null,
      needsGrad[1] ? run('conv', [x!, u], geometry) : null,
    ];
  },
});
