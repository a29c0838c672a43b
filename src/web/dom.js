// DOM helpers for the page: strings become text nodes, never markup.

export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** An element with attributes (set as attributes, never as HTML) and children. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setText(id, text) {
  $(id).textContent = text ?? "";
}

export function fill(id, ...children) {
  $(id).replaceChildren(...children.flat().filter(Boolean));
}

export const count = (n) => (n ?? 0).toLocaleString("en-US");

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

export function statusBadge(status, id) {
  return h("span", { class: `status ${status}`, id }, status);
}
