// d softPool: w_i (1 + (a_i - y)/T) per window ('exact'), or w_i ('paper'), gathered per input
import { registerGradient } from '@softpool/autograd';
import { run, type Tensor } from '@softpool/tensor';

registerGradient('softPool', {
  save: { inputs: true, outputs: true },
  // outputs: y, then the per-window statistics (max and sum of exponentials) where the
  // backend's backward kernel reads them; each backend's two kernels agree on which.
  vjp: ({ inputs: [x], outputs, attrs }, [g]) => [
    run('softPoolBackward', [g, x!, ...(outputs as Tensor[])], attrs),
  ],
});
