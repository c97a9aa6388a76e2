// d max(x) = dx at the maximum; tied maxima share the gradient evenly (PyTorch's amax rule)
import { registerGradient } from '../registry.js';
import { extremeReductionRule } from './util.js';

registerGradient('max', extremeReductionRule);
