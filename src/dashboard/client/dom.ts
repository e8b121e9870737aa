/// <reference lib="dom" />

type Child = Node | string | null | undefined | false;

/** `h('div', { class: 'x' }, 'text', child)`: enough DOM building for a small page, no framework. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

export const $ = <T extends HTMLElement = HTMLElement>(selector: string, root: ParentNode = document): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return found;
};

/** Sets a progress bar (`.bar[role=progressbar] > .fill`) to a percentage. */
export function setBar(bar: HTMLElement, percentage: number) {
  const clamped = Math.max(0, Math.min(100, percentage));
  bar.setAttribute('aria-valuenow', String(clamped));
  ($('.fill', bar) as HTMLElement).style.width = `${clamped}%`;
}

export const bar = (label: string) =>
  h('div', { class: 'bar', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, h('div', { class: 'fill' }));
