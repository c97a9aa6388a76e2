// d min(x) = dx at the minimum; tied minima share the gradient evenly
import { registerGradient } from '../registry.js';
import { extremeReductionRule } from './util.js';

registerGradient('min', extremeReductionRule);
