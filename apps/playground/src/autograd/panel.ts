// Autograd at work: micrograd's expression with your own a and b, run forward and backward, the
// recorded graph laid out by Graphviz (toSvg, with each node's value and gradient), and the
// backward pass stepped through node by node in the order the engine visits them.
import { toSvg } from '@softpool/autograd';
import { scalar, type Tensor, tensor } from '@softpool/tensor';
import { button, el, field } from '../dom.js';

export function autogradPanel(root: HTMLElement): void {
  const a = field('a', 'ag-a', 'number', '-4', { step: '0.5' });
  const b = field('b', 'ag-b', 'number', '2', { step: '0.5' });
  const run = button('ag-run', 'Forward and backward');
  const prev = button('ag-prev', 'Previous step', { secondary: true, disabled: true });
  const next = button('ag-next', 'Next step', { secondary: true, disabled: true });
  const summary = el('p', { class: 'stats', id: 'ag-summary', role: 'status' });
  const graph = el('div', { class: 'graph card', id: 'ag-graph' });
  const steps = el('ol', { class: 'steps', id: 'ag-steps' });
  root.append(
    el(
      'p',
      {},
      "micrograd's expression: c = a + b; d = a b + b³; c += c + 1; c += 1 + c − a; d += 2d + relu(b + a); d += 3d + relu(b − a); e = c − d; f = e²; g = f/2 + 10/f.",
    ),
    el('div', { class: 'controls' }, a.label, b.label, run, prev, next),
    summary,
    el(
      'div',
      { class: 'grid' },
      graph,
      el('div', { class: 'card' }, el('h2', {}, 'Backward, node by node'), steps),
    ),
  );

  let current = -1;
  const highlight = () => {
    for (const [i, li] of [...steps.children].entries()) li.classList.toggle('current', i === current);
    prev.toggleAttribute('disabled', current <= 0);
    next.toggleAttribute('disabled', current >= steps.children.length - 1);
  };
  prev.addEventListener('click', () => {
    current--;
    highlight();
  });
  next.addEventListener('click', () => {
    current++;
    highlight();
  });

  run.addEventListener('click', async () => {
    const names = micrograd(Number(a.input.value), Number(b.input.value));
    const { g } = names;
    summary.textContent = `g = ${g.itemSync().toFixed(4)}; dg/da = ${names.a.grad!.itemSync().toFixed(4)}; dg/db = ${names.b.grad!.itemSync().toFixed(4)}`;
    graph.innerHTML = await toSvg(g, { names, values: true, grads: true });
    // Created in order a, b, c1, ...: the reverse is an order in which backward can visit them.
    steps.replaceChildren(
      ...Object.entries(names)
        .reverse()
        .map(([name, t]) =>
          el(
            'li',
            {},
            `${name}${t.gradFn ? ` = ${t.gradFn.name}` : ' (leaf)'}: value ${t.itemSync().toPrecision(6)}, dg/d${name} = ${t.grad ? t.grad.itemSync().toPrecision(6) : '—'}`,
          ),
        ),
    );
    current = 0;
    highlight();
    root.dataset.done = 'true';
    for (const t of Object.values(names)) {
      t.grad?.dispose();
      t.dispose();
    }
  });
}

/** micrograd's expression in float64; every intermediate keeps its gradient (retainGrad). */
function micrograd(av: number, bv: number): Record<string, Tensor> {
  const f64 = (v: number) => tensor(v, { dtype: 'float64', requiresGrad: true });
  const a = f64(av);
  const b = f64(bv);
  const c1 = a.add(b).retainGrad();
  const d1 = a.mul(b).add(b.pow(3)).retainGrad();
  const c2 = c1.add(c1.add(1)).retainGrad();
  const c3 = c2.add(c2.add(1).add(a.neg())).retainGrad();
  const d2 = d1.add(d1.mul(2).add(b.add(a).relu())).retainGrad();
  const d3 = d2.add(d2.mul(3).add(b.sub(a).relu())).retainGrad();
  const e = c3.sub(d3).retainGrad();
  const f = e.pow(2).retainGrad();
  const g = f
    .div(2)
    .add(scalar(10, { dtype: 'float64' }).div(f))
    .retainGrad();
  g.backward();
  return { a, b, c1, d1, c2, c3, d2, d3, e, f, g };
}
