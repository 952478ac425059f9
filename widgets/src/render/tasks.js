// GitHub-style task lists: a list item that starts with "[ ] " or "[x] " shows a
// disabled checkbox instead. Each item decides for itself (the list element gets no
// class): a list streams item by item (render/streaming.js), and an item rendered alone
// must render as it does in the whole list.

const MARKER = /^\[([ xX])\](?=[ \t]|$)/;

function markTasks(state) {
  const { tokens } = state;
  for (let i = 2; i < tokens.length; i++) {
    const inline = tokens[i];
    if (inline.type !== "inline" || tokens[i - 1].type !== "paragraph_open") continue;
    if (tokens[i - 2].type !== "list_item_open") continue;
    const match = MARKER.exec(inline.content);
    const first = inline.children?.[0];
    if (!match || first?.type !== "text" || !MARKER.test(first.content)) continue;
    first.content = first.content.slice(match[0].length).replace(/^[ \t]/, "");
    const box = new state.Token("task_checkbox", "input", 0);
    box.meta = { checked: match[1] !== " " };
    inline.children.unshift(box);
    tokens[i - 2].attrJoin("class", "cm-task");
  }
}

function renderCheckbox(tokens, index) {
  const checked = tokens[index].meta.checked ? " checked" : "";
  return `<input type="checkbox" disabled${checked}> `;
}

/** The markdown-it plugin. */
export function taskListPlugin(md) {
  md.core.ruler.push("task_lists", markTasks);
  md.renderer.rules.task_checkbox = renderCheckbox;
}
