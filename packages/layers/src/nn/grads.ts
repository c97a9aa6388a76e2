// d batchNorm (training mode): dx = gamma/sigma (dy - mean(dy) - xhat mean(dy xhat)),
// dgamma = sum(dy xhat), dbeta = sum(dy), per channel; one fused backward kernel computes all three.
import { markNonDifferentiable, registerGradient } from '@softpool/autograd';
import { dispatch } from '@softpool/tensor';

registerGradient('batchNorm', {
  save: { inputs: [0, 1], outputs: true },
  vjp: ({ inputs: [x, gamma], outputs: [, mean, variance], attrs }, [g]) =>
    dispatch('batchNormBackward', [g, x!, gamma!, mean!, variance!], attrs),
});

markNonDifferentiable(
  'batchNormBackward',
  'second derivatives of batch norm are not implemented (its backward is one fused kernel)',
);
