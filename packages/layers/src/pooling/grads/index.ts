// Gradient rules of the window poolings, registered with @softpool/autograd.
import './softPool.js';
import './maxPool.js';
import './avgPool.js';
import './lpPool.js';
import './edscwPool.js';
import './stochasticPool.js';
