// padBackward is linear; its adjoint is the pad it undoes: d padBackward(g) = pad(dy)
import { run } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('padBackward', {
  vjp: ({ attrs }, [g]) => [
    run('pad', [g], { before: attrs.before, after: attrs.after, mode: attrs.mode, value: 0 }),
  ],
});
