// Where a growing Markdown text can be cut: between blocks that can no longer change.
//
// Markdown's block structure is decided line by line, and a block that a later line has
// closed is never reopened. So, reading only the complete lines of a text (a partial last
// line may still turn out to continue the block before it), every top-level block but
// the last one is final: rendering it alone gives the same HTML as rendering it within
// the whole text. Two exceptions are handled by the caller: link reference definitions
// (a definition further down changes links above it), and a list's tight/loose flag,
// which a later item can change for all of the list.
//
// Only markdown-it's block parser runs here (no inline parsing, no rendering), and only
// over the part of the text that is still open.

/** What markdown-it's "normalize" rule does to a source before parsing it. */
export const normalize = (text) => text.replace(/\r\n?/g, "\n").replace(/\0/g, "\uFFFD");

/**
 * The length of the text's complete lines. A trailing "\r" is not a complete line yet:
 * the "\n" of a "\r\n" may follow.
 */
export function completeLength(text) {
  let end = text.length;
  if (text.endsWith("\r")) end -= 1;
  const newline = Math.max(text.lastIndexOf("\n", end - 1), text.lastIndexOf("\r", end - 1));
  return newline + 1;
}

/** The offset of the start of each line of `text` (line breaks as markdown-it counts them). */
function lineStarts(text) {
  const starts = [0];
  const breaks = /\r\n|\r|\n/g;
  let match;
  while ((match = breaks.exec(text))) starts.push(match.index + match[0].length);
  return starts;
}

/** Whether a line (without its break) is blank as markdown-it sees it: spaces and tabs. */
const isBlank = (line) => /^[ \t]*$/.test(line);

/** Whether the last complete line of `text` is blank. */
export function endsWithBlankLine(text) {
  const body = text.replace(/(?:\r\n|\r|\n)$/, "");
  if (body.length === text.length) return false; // not a whole line
  const start = Math.max(body.lastIndexOf("\n"), body.lastIndexOf("\r")) + 1;
  return isBlank(body.slice(start));
}

/**
 * Whether the list opened by `tokens[index]` shows its paragraphs (loose), hides them
 * (tight), or has none at its items' level (null: either way renders the same).
 */
export function listLooseness(tokens, index) {
  const level = tokens[index].level + 2;
  for (let i = index + 1; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.level === tokens[index].level && token.nesting === -1) break;
    if (token.level === level && token.type === "paragraph_open") return !token.hidden;
  }
  return null;
}

/** Show or hide the paragraphs of the list opened by `tokens[index]`, as markdown-it does. */
export function setListLooseness(tokens, index, loose) {
  const level = tokens[index].level + 2;
  for (let i = index + 1; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.level === tokens[index].level && token.nesting === -1) break;
    if (
      token.level === level &&
      (token.type === "paragraph_open" || token.type === "paragraph_close")
    )
      token.hidden = !loose;
  }
}

/**
 * @typedef {object} Block a top-level block of the complete lines
 * @property {string} type markdown-it's token type ("paragraph_open", "fence", …)
 * @property {number} start offset of its first line in the text
 * @property {number} end offset after its last line (blank lines after it included)
 * @property {number[]} items for a list: the offset of each item's first line
 * @property {boolean|null} loose for a list: see listLooseness
 */

/**
 * The top-level blocks of the complete lines of `text`, and whether they define link
 * references.
 * @param {import("markdown-it").default} md
 * @param {string} text
 * @returns {{blocks: Block[], references: boolean, complete: number}}
 */
export function scanBlocks(md, text) {
  const complete = completeLength(text);
  const source = text.slice(0, complete);
  const env = {};
  const tokens = [];
  md.block.parse(normalize(source), md, env, tokens);
  const starts = lineStarts(source);
  const at = (line) => (line < starts.length ? starts[line] : complete);
  /** @type {Block[]} */
  const blocks = [];
  let list = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.level === 0 && token.nesting !== -1 && token.map) {
      list = token.type.endsWith("_list_open") ? { items: [] } : null;
      blocks.push({
        type: token.type,
        start: at(token.map[0]),
        end: at(token.map[1]),
        items: list ? list.items : [],
        loose: list ? listLooseness(tokens, i) : null,
      });
    } else if (list && token.level === 1 && token.type === "list_item_open") {
      list.items.push(at(token.map[0]));
    }
  }
  // Blank lines between two blocks belong to the first: its source ends where the next
  // one starts.
  for (let i = 0; i + 1 < blocks.length; i++) blocks[i].end = blocks[i + 1].start;
  if (blocks.length) blocks[blocks.length - 1].end = complete;
  return { blocks, references: env.references !== undefined, complete };
}
