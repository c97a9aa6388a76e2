// d avgPool: each tap gets the window's gradient divided by the window's divisor
import { registerGradient } from '@softpool/autograd';
import { run } from '@softpool/tensor';

registerGradient('avgPool', {
  vjp: ({ attrs, inputShapes: [shape] }, [g]) => [
    run('avgPoolBackward', [g], { ...attrs, inputShape: shape }),
  ],
});
