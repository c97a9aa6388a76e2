// Every WGSL kernel of the core ops, registered under the 'webgpu' backend.
import './conv.js';
import './elementwise.js';
import './matmul.js';
import './random.js';
import './reduce.js';
import './shape.js';
