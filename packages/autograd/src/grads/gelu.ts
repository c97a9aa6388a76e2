// d (x Phi(x)) = (Phi(x) + x phi(x)) dx; the tanh form differentiates its own formula.
import { add, erf, exp, mul, square, sub, type Tensor, tanh } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function exact(x: Tensor): Tensor {
  const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
  const pdf = mul(exp(mul(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return add(cdf, mul(x, pdf));
}

function tanhForm(x: Tensor): Tensor {
  // y = x/2 (1 + t), t = tanh(u), u = c (x + 0.044715 x^3)
  const x2 = square(x);
  const t = tanh(mul(add(x, mul(mul(x2, x), 0.044715)), SQRT_2_OVER_PI));
  const du = mul(add(mul(x2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
  return add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), sub(1, square(t))), du));
}

registerGradient('gelu', {
  save: { inputs: true },
  vjp: ({ inputs: [x], attrs }, [g]) => [mul(g, attrs.approximate === 'tanh' ? tanhForm(x!) : exact(x!))],
});
