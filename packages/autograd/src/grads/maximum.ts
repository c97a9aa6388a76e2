// d max(a, b) = [a > b] da + [b > a] db; ties split the gradient evenly
import { gt } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { extremumRule } from './util.js';

registerGradient('maximum', extremumRule(gt));
