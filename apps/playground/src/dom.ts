// Tiny DOM helpers: the panels build their markup with these instead of a UI framework.

export function el(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

/** A labelled input. */
export function field(
  text: string,
  id: string,
  type: string,
  value: string,
  attrs: Record<string, string> = {},
): { label: HTMLElement; input: HTMLInputElement } {
  const input = el('input', { id, name: id, type, value, ...attrs }) as HTMLInputElement;
  return { label: el('label', { for: id }, text, input), input };
}

/** A labelled select with [value, text] options. */
export function select(
  text: string,
  id: string,
  options: readonly (readonly [string, string])[],
): { label: HTMLElement; input: HTMLSelectElement } {
  const input = el(
    'select',
    { id, name: id },
    ...options.map(([v, t]) => el('option', { value: v }, t)),
  ) as HTMLSelectElement;
  return { label: el('label', { for: id }, text, input), input };
}

/** An action button (`secondary`: the quieter style; `disabled`: starts disabled). */
export function button(
  id: string,
  text: string,
  o: { secondary?: boolean; disabled?: boolean } = {},
): HTMLButtonElement {
  const attrs: Record<string, string> = {
    class: o.secondary ? 'action secondary' : 'action',
    type: 'button',
    id,
  };
  if (o.disabled) attrs.disabled = '';
  return el('button', attrs, text) as HTMLButtonElement;
}
