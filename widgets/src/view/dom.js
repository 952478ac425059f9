// A tiny element builder: h("div", {class: "x", dataset: {testid: "y"}}, child, "text").

/**
 * @param {string} tag
 * @param {Record<string, any>} [attrs] `class`, `dataset`, `on*` listeners, other attributes
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

/**
 * Show or hide an element, writing only a change. Writing an attribute its own value
 * still counts as a change for the browser (mutation records, style checks): the board
 * sets these in every frame it draws.
 */
export function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

/** Set an element's text, writing only a change (see setHidden). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
