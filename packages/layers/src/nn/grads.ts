// d batchNorm (training mode): dx = gamma/sigma (dy - mean(dy) - xhat mean(dy xhat)),
// dgamma = sum(dy xhat), dbeta = sum(dy), per channel; one fused backward kernel computes all three.
import { markNonDifferentiable, registerGradient } from '@softpool/autograd';
import { dispatch, run } from '@softpool/tensor';

// With relu fused into the forward (attrs.relu), the gradient first goes through relu's: the
// output is 0 exactly where the normalised value was <= 0, so the backward kernels mask dy by the
// output (a sixth input), as reluBackward(dy, output) would.
registerGradient('batchNorm', {
  save: { inputs: [0, 1], outputs: true },
  vjp: ({ inputs: [x, gamma], outputs: [y, mean, variance], attrs }, [g]) =>
    dispatch('batchNormBackward', [g, x!, gamma!, mean!, variance!, ...(attrs.relu ? [y!] : [])], attrs),
});

markNonDifferentiable(
  'batchNormBackward',
  'second derivatives of batch norm are not implemented (its backward is one fused kernel)',
);

// nllLoss picks -w[t] logp[i, t] per row: its gradient puts -w[t] g (/ the summed weights for
// 'mean') at each picked entry, and that map is linear in g with nllLoss as its adjoint, so the
// backward's own gradient is nllLoss again (second derivatives through cross-entropy work).
registerGradient('nllLoss', {
  save: { inputs: [1, 2] },
  vjp: ({ inputs: [, target, weight], inputShapes: [shape], attrs }, [g]) => [
    run('nllLossBackward', weight ? [g, target!, weight] : [g, target!], { ...attrs, classes: shape[1] }),
    null,
    null,
  ],
});
registerGradient('nllLossBackward', {
  save: { inputs: [1, 2] },
  vjp: ({ inputs: [, target, weight], attrs: { ignoreIndex, reduction } }, [u]) => [
    run('nllLoss', weight ? [u, target!, weight] : [u, target!], { ignoreIndex, reduction }),
    null,
    null,
  ],
});
