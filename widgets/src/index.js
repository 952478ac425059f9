// The ChatMore board, an anywidget front end.
//
// anywidget calls the default export once per widget model, so the controller made in
// `initialize` (message routing, streams, state) is shared by that model's views, each
// made by `render` (DOM only). A second view of the same board shows the same streams.

import { BoardController } from "./controller.js";
import { mountLocalised, shareLocale } from "./i18n.js";
import { mountBoard } from "./view/board.js";

export default () => {
  /** @type {BoardController|null} */
  let controller = null;
  let unshare = null;

  return {
    initialize({ model }) {
      controller = new BoardController(model);
      unshare = shareLocale(model); // the kernel speaks the page's language
      return () => {
        unshare?.();
        controller?.dispose();
        controller = null;
      };
    },
    render({ model, el }) {
      // Hosts that render without initializing first still get a working board.
      controller ??= new BoardController(model);
      return mountLocalised(() => mountBoard({ el, model, controller }));
    },
  };
};
