// Tiny DOM helpers. Text is only ever set through textContent: device-supplied strings
// (node ids, groups, metric names) must never be parsed as HTML.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`edgemon: #${id} missing from index.html`);
  return e as T;
}

/** Sets textContent only when it changed (avoids needless layout and screen-reader chatter). */
export function setText(e: Element, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}
