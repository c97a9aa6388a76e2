// d (sum a^p)^(1/p) / d a_i = a_i^(p-1) y^(1-p)
import { registerGradient } from '@softpool/autograd';
import { run } from '@softpool/tensor';

registerGradient('lpPool', {
  save: { inputs: true, outputs: true },
  vjp: ({ inputs: [x], outputs: [y], attrs }, [g]) => [run('lpPoolBackward', [g, x!, y!], attrs)],
});
