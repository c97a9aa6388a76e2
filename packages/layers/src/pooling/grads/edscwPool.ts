// d eDSCW / d a_j = w_j + w_j (a_j - y) dDSC(a_j, m)/da_j + (1/n) sum_k w_k (a_k - y) dDSC(a_k, m)/dm
import { registerGradient } from '@softpool/autograd';
import { run } from '@softpool/tensor';

registerGradient('edscwPool', {
  save: { inputs: true, outputs: true },
  vjp: ({ inputs: [x], outputs, attrs }, [g]) => [
    run('edscwPoolBackward', [g, x!, ...(outputs as never[])], attrs),
  ],
});
