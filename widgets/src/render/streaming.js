// A streaming reply drawn block by block: what can no longer change is rendered,
// sanitised and inserted once; only the open tail is drawn again.
//
// The reply's element holds, in order: the frozen blocks (never touched again), then the
// open part. When the open block is a list (a long reply is often one long list), its
// items are frozen one by one inside the list's element, and only the last item is drawn
// again; a long list goes on in pieces of PIECE_ITEMS items (elements like the list's
// that show as one list), joined into one element when the list closes or the reply
// ends. If a later item makes the list loose (a blank line between items), its frozen
// items are drawn once more with paragraphs. A text with link reference definitions is
// drawn whole each time (a definition changes the links above it).
//
// What is shown always equals a fresh render of the text at every line end, a list's
// pieces joined (the tests check it at every split of a corpus); `verify` joins them and
// compares with a fresh render at the end.

import { endsWithBlankLine, scanBlocks, setListLooseness } from "./blocks.js";

const isList = (type) => type === "bullet_list_open" || type === "ordered_list_open";
const isListElement = (node) => node?.nodeName === "UL" || node?.nodeName === "OL";

export class StreamingMarkdown {
  /**
   * @param {HTMLElement} el the reply's element; this object owns its children
   * @param {import("./markdown.js").Markdown} markdown
   */
  constructor(el, markdown) {
    this.el = el;
    this.markdown = markdown;
    this.reset();
  }

  reset() {
    this.el.replaceChildren();
    /** The text shown. */
    this.source = "";
    /** Offset of the open part: the text before it is in frozen nodes. */
    this.frozen = 0;
    /**
     * The open list, when the open block is one whose first items are frozen: the
     * element its items go into (its last piece), the offset of its first open item,
     * whether it is loose, its pieces (`startPiece`) and its frozen items.
     * @type {{el: HTMLElement, start: number, open: number, loose: boolean|null,
     *         pieces: HTMLElement[], items: number}|null}
     */
    this.list = null;
    /** Nodes of the open part (top level, and inside the open list). */
    this.tail = [];
    /** Drawn whole each time (link reference definitions). */
    this.whole = false;
    /**
     * The text node that ends what is shown, when plain text may be appended to it
     * (`appendPlain`), and how many spaces at the end of the text it does not show.
     * @type {{node: Text, spaces: number}|null}
     */
    this.end = null;
  }

  /** Show `text`, a longer version of the text shown (or another text: start over). */
  update(text) {
    if (this.appendPlain(text)) return;
    if (!continues(text, this.source, this.list ? this.list.open : this.frozen)) this.reset();
    this.source = text;
    if (this.whole) return this.replaceAll(text);
    // The open part stays in place until drawTail: what freezes goes in before it.
    if (!this.freeze(text)) return this.replaceAll(text);
    this.drawTail(text);
    this.findEnd(text);
  }

  /**
   * The cheap way: when the new text only adds plain words to the open paragraph (list
   * item, heading) whose text ends what is shown, append them to that text node instead
   * of drawing the open part again. Plain means nothing Markdown could read otherwise:
   * no line break, no markup character, no dot inside a word (a link's host name), and
   * not a number alone at the start of a line (an ordered list's "1."). Anything else
   * draws the open part as usual.
   */
  appendPlain(text) {
    const end = this.end;
    this.end = null;
    const shown = this.source;
    if (!end || text.length <= shown.length || !continues(text, shown, shown.length)) return false;
    const added = text.slice(shown.length);
    const line = text.lastIndexOf("\n") + 1;
    const word = Math.max(line, text.lastIndexOf(" ", shown.length - 1) + 1);
    const words = text.slice(word);
    if (!PLAIN.test(added) || !PLAIN.test(words) || /\.[^ ]/.test(words)) return false;
    if (/^ *\d*$/.test(shown.slice(line))) return false;
    // Markdown drops the spaces that end a paragraph: they show once words follow.
    const visible = " ".repeat(end.spaces) + added;
    const kept = visible.replace(/ +$/, "");
    if (kept) end.node.appendData(kept);
    this.end = { node: end.node, spaces: visible.length - kept.length };
    this.source = text;
    return true;
  }

  /**
   * After the open part was drawn: if it ends in a paragraph (list item, heading) whose
   * last node is text showing the end of the text's last line, remember that node.
   */
  findEnd(text) {
    const line = text.slice(text.lastIndexOf("\n") + 1);
    const content = line.replace(/ +$/, "");
    let node = this.tail.findLast((n) => n.nodeType === 1);
    if (!node || !content.trim()) return;
    while (node?.nodeType === 1) {
      let child = node.lastChild;
      while (child?.nodeType === 3 && /^\n*$/.test(child.data)) child = child.previousSibling;
      node = child;
    }
    if (node?.nodeType !== 3 || node !== node.parentNode.lastChild) return;
    if (!TEXT_PARENTS.has(node.parentNode.nodeName)) return;
    const last = node.data.slice(node.data.lastIndexOf("\n") + 1);
    if (last && content.endsWith(last)) this.end = { node, spaces: line.length - content.length };
  }

  /** Show `text` whole, as a fresh render (a finished reply seen for the first time). */
  replaceAll(text) {
    const whole = this.whole;
    this.reset();
    this.whole = whole;
    this.source = text;
    if (text) this.el.append(this.markdown.fragment(this.markdown.md.render(text)));
    this.frozen = text.length;
  }

  /**
   * Draw the text afresh and replace what is shown if it differs; return whether it
   * did. What is shown stays as it is otherwise (no flash, no lost selection).
   */
  verify() {
    const steps = this.verifySteps();
    let step = steps.next();
    while (!step.done) step = steps.next();
    return step.value;
  }

  /**
   * `verify` in steps, for a caller that runs each in a task of its own (a long reply's
   * whole render takes long): the text is parsed in one step, then rendered, sanitised
   * and compared with what is shown a few blocks at a time (a list item at a time inside
   * a list), each step within about STEP_MS. If anything differs, the last step draws
   * the whole text afresh.
   * @returns {Generator<void, boolean>}
   */
  *verifySteps() {
    const source = this.source;
    const { md, fragment } = this.markdown;
    this.joinPieces(); // the reply has ended: its list is one element again
    const env = {};
    const tokens = source ? md.parse(source, env) : [];
    yield;
    if (this.source !== source) return false;
    const render = (slice) => md.renderer.render(slice, md.options, env);
    /** The next node shown to compare (in the reply, or in one of its lists). */
    let next = this.el.firstChild;
    let same = true;
    /** Rendered, not yet sanitised and compared. */
    let html = "";
    const compareNodes = (nodes) => {
      for (const node of nodes) {
        if (!next?.isEqualNode(node)) return void (same = false);
        next = next.nextSibling;
      }
    };
    const compare = () => {
      if (same && html) compareNodes([...fragment(html).childNodes]);
      html = "";
    };
    let started = performance.now();
    const tired = () => performance.now() - started > STEP_MS;
    for (const [start, end] of topLevelBlocks(tokens)) {
      if (!isList(tokens[start].type)) {
        html += render(tokens.slice(start, end));
      } else {
        // A list is compared item by item (a long reply is often one long list): its
        // element with its first item first, then its other items.
        compare();
        const list = next;
        const items = [...listItems(tokens, start, end)];
        const [first = start + 1, second = end - 1] = items[0] ?? [];
        const head = [tokens[start], ...tokens.slice(first, second), tokens[end - 1]];
        const [shell, ...after] = fragment(render(head)).childNodes;
        if (!same || !list?.cloneNode(false).isEqualNode(shell?.cloneNode(false))) {
          same = false;
          break;
        }
        next = list.firstChild;
        compareNodes([...shell.childNodes]);
        for (const [from, to] of items.slice(1)) {
          html += render(tokens.slice(from, to));
          if (html.length > CHUNK_CHARS || tired()) compare();
          if (!same) break;
          if (tired()) {
            yield;
            if (this.source !== source) return false;
            started = performance.now();
          }
        }
        compare();
        if (next) same = false; // more items shown than rendered
        next = list.nextSibling;
        compareNodes(after);
      }
      if (html.length > CHUNK_CHARS || tired()) compare();
      if (!same) break;
      if (tired()) {
        yield;
        if (this.source !== source) return false;
        started = performance.now();
      }
    }
    compare();
    if (same && !next) return false;
    yield;
    if (this.source !== source) return false;
    const whole = this.whole;
    this.reset();
    this.whole = whole;
    this.source = source;
    this.el.innerHTML = source ? this.markdown.sanitize(render(tokens)) : "";
    this.frozen = source.length;
    return true;
  }

  /** Freeze the blocks (or list items) that are closed; false: draw the text whole. */
  freeze(text) {
    const { md } = this.markdown;
    let from = this.list ? this.list.open : this.frozen;
    const scan = scanBlocks(md, text.slice(from));
    if (scan.references) {
      this.whole = true;
      return false;
    }
    let blocks = scan.blocks.map((block) => ({
      ...block,
      start: from + block.start,
      end: from + block.end,
      items: block.items.map((offset) => from + offset),
    }));
    if (this.list && blocks.length) {
      const [first] = blocks;
      if (!isList(first.type) || first.start !== from) return false; // cannot happen
      if (first.loose) this.makeLoose(text);
      if (blocks.length > 1) {
        // Another block follows: the list is closed.
        this.freezeItems(text, from, first.end, { closing: true });
        this.joinPieces();
        this.list = null;
        this.frozen = first.end;
        blocks = blocks.slice(1);
      } else if (first.items.length > 1) {
        this.freezeItems(text, from, first.items[first.items.length - 1]);
      }
    }
    if (this.list || !blocks.length) return true;
    const last = blocks[blocks.length - 1];
    if (last.start > this.frozen) {
      this.insert(this.el, this.render(text.slice(this.frozen, last.start)));
      this.frozen = last.start;
    }
    if (isList(last.type) && last.items.length > 1) this.openList(text, last);
    return true;
  }

  /** The open block is a list of several items: freeze all of them but the last. */
  openList(text, block) {
    const open = block.items[block.items.length - 1];
    const source = text.slice(block.start, open);
    const loose = block.loose === true || endsWithBlankLine(source) ? true : block.loose;
    const nodes = this.renderList(source, loose);
    const el = nodes.firstChild;
    if (!isListElement(el)) return;
    // The "\n" markdown-it writes after a list is part of the list's frozen nodes.
    this.insert(this.el, el, "\n");
    this.list = { el, start: block.start, open, loose, pieces: [el], items: countItems(el) };
  }

  /**
   * Freeze the list's items from `start` to `end` (where its next item starts, or where
   * the list ends when `closing`).
   */
  freezeItems(text, start, end, { closing = false } = {}) {
    const list = this.list;
    const source = text.slice(start, end);
    // A blank line before the next item makes the whole list loose.
    if (!closing && endsWithBlankLine(source)) this.makeLoose(text);
    const el = this.renderList(source, list.loose).firstChild;
    if (!isListElement(el)) return void (list.open = end);
    if (!closing && countItems(list.el) >= PIECE_ITEMS) this.startPiece();
    list.items += countItems(el);
    this.insert(list.el, ...itemsOf(el));
    list.open = end;
  }

  /** The list turned loose: draw its frozen items again, with their paragraphs. */
  makeLoose(text) {
    const list = this.list;
    if (list.loose === true) return;
    list.loose = true;
    this.joinPieces();
    const el = this.renderList(text.slice(list.start, list.open), true).firstChild;
    if (isListElement(el)) list.el.replaceChildren(...el.childNodes);
  }

  /**
   * The open list's items go on in a new piece: an element like the list's, after it,
   * that shows as the same list (markdown.css: no margin between pieces; an ordered
   * list's numbers go on). A long list streams into its last piece only, so the browser
   * lays out and paints a piece of the list in each draw, not all of its items.
   * `joinPieces` makes it one element again, as a fresh render has it.
   */
  startPiece() {
    const list = this.list;
    const piece = list.el.cloneNode(false);
    if (piece.nodeName === "OL") {
      const first = Number(list.pieces[0].getAttribute("start") ?? 1);
      piece.setAttribute("start", String(first + list.items));
    }
    piece.setAttribute("data-cm-continued", "");
    list.el.setAttribute("data-cm-continues", "");
    list.el.after(piece);
    list.pieces.push(piece);
    list.el = piece;
  }

  /** Move the open list's items back into its first piece and drop the others. */
  joinPieces() {
    const list = this.list;
    if (!list || list.pieces.length < 2) return;
    const [first, ...rest] = list.pieces;
    for (const piece of rest) {
      first.append(...piece.childNodes);
      piece.remove();
    }
    first.removeAttribute("data-cm-continues");
    list.pieces = [first];
    list.el = first;
  }

  /**
   * Add frozen nodes to `parent` (the reply, or the open list): before the open part
   * still shown there, which drawTail replaces next.
   */
  insert(parent, ...nodes) {
    const before = this.tail.find((node) => node.parentNode === parent) ?? null;
    for (const node of nodes)
      parent.insertBefore(
        typeof node === "string" ? parent.ownerDocument.createTextNode(node) : node,
        before,
      );
  }

  /**
   * Draw the open part: the list's last item (in the list) and what follows it. While the
   * open part is the same item of the open list as before (its text grew), its element
   * stays and only its content is replaced: the list's own children stay as they are,
   * and the browser need not rebuild the list's boxes for the change.
   */
  drawTail(text) {
    const old = this.tail;
    this.tail = [];
    if (this.frozen >= text.length && !this.list) return removeAll(old);
    let nodes;
    if (this.list) {
      nodes = this.renderList(text.slice(this.list.open), this.list.loose ? true : null);
      const el = nodes.firstChild;
      if (isListElement(el)) {
        const items = itemsOf(el);
        nodes.removeChild(el);
        if (nodes.firstChild?.nodeType === 3) nodes.removeChild(nodes.firstChild); // its "\n"
        if (!nodes.firstChild && sameShape(old, items, this.list.el)) {
          old.forEach((node, i) => morph(node, items[i]));
          this.tail.push(...old);
          return;
        }
        removeAll(old);
        this.list.el.append(...items);
        this.tail.push(...items);
      } else removeAll(old);
    } else {
      removeAll(old);
      nodes = this.render(text.slice(this.frozen));
    }
    this.tail.push(...nodes.childNodes);
    this.el.append(nodes);
  }

  /** @returns {DocumentFragment} */
  render(source) {
    return this.markdown.fragment(this.markdown.md.render(source));
  }

  /** Render a source that opens with a list, forcing the list loose or tight. */
  renderList(source, loose) {
    const { md } = this.markdown;
    const env = {};
    const tokens = md.parse(source, env);
    const index = tokens.findIndex((token) => token.level === 0 && isList(token.type));
    if (index !== -1 && loose !== null) setListLooseness(tokens, index, loose);
    return this.markdown.fragment(md.renderer.render(tokens, md.options, env));
  }
}

/** An open list streams into pieces of this many items (`startPiece`). */
const PIECE_ITEMS = 64;

const countItems = (list) => list.querySelectorAll(":scope > li").length;

function removeAll(nodes) {
  for (const node of nodes) node.remove();
}

/** Whether `nodes`, children of `parent`, are elements and texts as `like` are. */
function sameShape(nodes, like, parent) {
  return (
    nodes.length === like.length &&
    nodes.every(
      (node, i) =>
        node.parentNode === parent &&
        node.nodeType === like[i].nodeType &&
        node.nodeName === like[i].nodeName,
    )
  );
}

/** Make `node` show what `like` shows: a text its text; an element its attributes and children. */
function morph(node, like) {
  if (node.nodeType !== 1) {
    if (node.data !== like.data) node.data = like.data;
    return;
  }
  const el = node;
  for (const { name } of [...el.attributes]) if (!like.hasAttribute(name)) el.removeAttribute(name);
  for (const { name, value } of like.attributes)
    if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  el.replaceChildren(...like.childNodes);
}

/** Characters that, added to a paragraph's last words, Markdown reads as plain text. */
const PLAIN = /^[\p{L}\p{N} ,.'"?!]*$/u;
/** Elements whose text `appendPlain` may add to. */
const TEXT_PARENTS = new Set(["P", "LI", "H1", "H2", "H3", "H4", "H5", "H6"]);

/** How much of each end of the text already drawn `continues` compares. */
const ENDS = 256;

/**
 * Whether `text` goes on from the first `kept` characters of `shown`. A reply only ever
 * grows, or starts again from nothing (a replayed stream): comparing both ends of the
 * part kept tells the two apart without going through a long reply in every frame (the
 * final check compares everything once).
 */
function continues(text, shown, kept) {
  if (text.length < kept) return false;
  if (kept <= 2 * ENDS) return text.startsWith(shown.slice(0, kept));
  return (
    text.startsWith(shown.slice(0, ENDS)) &&
    text.slice(kept - ENDS, kept) === shown.slice(kept - ENDS, kept)
  );
}

/** How long one step of the final check may take, about. */
const STEP_MS = 8;
/** The check sanitises and compares this much HTML at once, at most (about). */
const CHUNK_CHARS = 16_000;

/** The [start, end) token ranges of the top-level blocks of a parse. */
function* topLevelBlocks(tokens) {
  for (let i = 0; i < tokens.length;) {
    let end = i + 1;
    if (tokens[i].nesting === 1) {
      while (end < tokens.length && !(tokens[end].level === 0 && tokens[end].nesting === -1))
        end += 1;
      end += 1;
    }
    yield [i, Math.min(end, tokens.length)];
    i = end;
  }
}

/** The [start, end) token ranges of the items of the list at tokens[start, end). */
function* listItems(tokens, start, end) {
  const level = tokens[start].level + 1;
  for (let i = start + 1; i < end - 1;) {
    let close = i + 1;
    while (close < end - 1 && !(tokens[close].level === level && tokens[close].nesting === -1))
      close += 1;
    yield [i, close + 1];
    i = close + 1;
  }
}

/** A rendered list's children without the "\n" it opens with (the list shown has one). */
function itemsOf(list) {
  const nodes = [...list.childNodes];
  if (nodes[0]?.nodeType === 3) nodes.shift();
  return nodes;
}
