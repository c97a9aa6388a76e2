// dx = C(w)^T dy is bilinear in (dy, w): its VJP with u is conv(u, w) for dy, convBackwardWeight(u, dy) for w
import { run } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('convBackwardInput', {
  save: { inputs: true },
  vjp: ({ inputs: [dy, w], attrs, inputShapes, needsGrad }, [u]) => {
    const { inputShape: _, ...geometry } = attrs;
    return [
      needsGrad[0] ? run('conv', [u, w!], geometry) : null,
      needsGrad[1] ? run('convBackwardWeight', [u, dy!], { ...geometry, weightShape: inputShapes[1] }) : null,
    ];
  },
});
