// d to(x, backend) = dy moved back to x's backend
import { registerGradient } from '../registry.js';

registerGradient('to', { vjp: ({ inputDevices: [device] }, [g]) => [g.to(device)] });
