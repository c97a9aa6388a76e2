// Registers the CPU backend and all its kernels. Importing @softpool/tensor does this.
import { registerBackend } from '../backend.js';
import { cpu } from './backend.js';
import './elementwise.js';
import './reduce.js';
import './shape.js';
import './matmul.js';
import './conv.js';
import './random.js';

registerBackend(cpu);

export { cpu };
