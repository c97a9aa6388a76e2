// Registers the CPU kernels of every window pooling.
import './softPool.js';
import './maxPool.js';
import './avgPool.js';
import './lpPool.js';
import './edscwPool.js';
import './stochasticPool.js';
