// d conv(x, w) + b = convBackwardInput(dy, w) for x, convBackwardWeight(x, dy) for w, sum(dy) for b
import { run, sum } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('conv', {
  save: { inputs: [0, 1] },
  vjp: ({ inputs: [x, w], attrs, inputShapes, needsGrad }, [g]) => [
    needsGrad[0] ? run('convBackwardInput', [g, w!], { ...attrs, inputShape: inputShapes[0] }) : null,
    needsGrad[1] ? run('convBackwardWeight', [x!, g], { ...attrs, weightShape: inputShapes[1] }) : null,
    needsGrad[2] ? sum(g, [0, ...g.shape.slice(2).map((_, i) => i + 2)]) : null,
  ],
});
