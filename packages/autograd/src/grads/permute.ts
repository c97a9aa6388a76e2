// d permute(x, axes) = permute(dy, inverse(axes))
import { permute } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('permute', {
  vjp: ({ attrs }, [g]) => {
    const axes = attrs.axes as number[];
    const inverse = new Array<number>(axes.length);
    axes.forEach((a, i) => {
      inverse[a] = i;
    });
    return [permute(g, inverse)];
  },
});
