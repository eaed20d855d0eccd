// Small DOM helpers: every piece of text goes in as a text node, never parsed as HTML.

/** Create an element: `el("button", {class: "primary", type: "button"}, "Submit")`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The first element matching `selector`; throws when the page lacks it. */
export function $(selector, root = document) {
  const node = root.querySelector(selector);
  if (node === null) throw new Error(`page element ${selector} is missing`);
  return node;
}

/** Replace a node's children with `children` (text or nodes). */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Show or hide a node (the `hidden` attribute). */
export function show(node, visible = true) {
  node.hidden = !visible;
  return node;
}

/** True when a key event comes from a text field (keys then belong to the field). */
export function isTyping(event) {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement
    && !["checkbox", "radio", "button", "range", "submit"].includes(target.type);
}

/** A transient, non-blocking message in `node` (cleared after `ms`). */
export function notify(node, text, { kind = "info", ms = 6000 } = {}) {
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(node._notifyTimer);
  if (ms > 0) node._notifyTimer = setTimeout(() => { node.hidden = true; }, ms);
}
