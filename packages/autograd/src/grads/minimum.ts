// d min(a, b) = [a < b] da + [b < a] db; ties split the gradient evenly
import { lt } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { extremumRule } from './util.js';

registerGradient('minimum', extremumRule(lt));
