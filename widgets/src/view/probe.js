// A hook for measuring the board from outside (bench/board_firehose.py): when the page
// sets `globalThis.chatmoreMarks = true`, each frame that drew replies leaves a performance
// mark naming them with the length of text now in the DOM. Off, it costs one property read.

/**
 * @param {import("../state/store.js").Store} store
 * @param {string[]} keys the exchanges drawn in this frame (`windowId:turnId`)
 */
export function markDrawn(store, keys) {
  if (globalThis.chatmoreMarks !== true) return;
  const detail = keys.map((key) => {
    const split = key.lastIndexOf(":");
    const exchange = store.exchange(key.slice(0, split), Number(key.slice(split + 1)));
    return { key, length: exchange ? exchange.reply.length : 0 };
  });
  performance.mark("chatmore:drawn", { detail });
}
