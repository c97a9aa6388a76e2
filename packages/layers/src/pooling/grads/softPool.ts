// d softPool: w_i (1 + (a_i - y)/T) per window ('exact'), or w_i ('paper'), gathered per input
import { registerGradient } from '@softpool/autograd';
import { run } from '@softpool/tensor';

registerGradient('softPool', {
  save: { inputs: true, outputs: true },
  vjp: ({ inputs: [x], outputs: [y, lse], attrs }, [g]) => [
    run('softPoolBackward', [g, x!, y!, lse!], attrs),
  ],
});
