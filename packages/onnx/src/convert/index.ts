// Registers every converter (imported for its side effects).
import './elementwise.js';
import './nn.js';
import './pooling.js';
import './reduce.js';
import './shape.js';
