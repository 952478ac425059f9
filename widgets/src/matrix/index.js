// The experiment matrix, an anywidget front end: the store is made once per model in
// `initialize` (it takes the cells the kernel sends), each view by `render` (DOM only).

import { mountLocalised, shareLocale } from "../i18n.js";
import { MatrixStore } from "./store.js";
import { mountMatrix } from "./view.js";

function connect(model) {
  const store = new MatrixStore();
  const shape = () =>
    store.setShape({
      cases: model.get("cases"),
      samples: model.get("samples"),
      windows: model.get("windows"),
    });
  const onMessage = (message) => {
    if (message && message.type === "cells") store.addCells(message.cells || [], message.reset);
  };
  shape();
  model.on("change:cases", shape);
  model.on("change:windows", shape);
  model.on("msg:custom", onMessage);
  model.send({ type: "hello" }); // the kernel answers with every cell it has
  const unshare = shareLocale(model);
  const dispose = () => {
    unshare();
    model.off("change:cases", shape);
    model.off("change:windows", shape);
    model.off("msg:custom", onMessage);
  };
  return { store, dispose };
}

export default () => {
  let connection = null;
  return {
    initialize({ model }) {
      connection = connect(model);
      return () => {
        connection?.dispose();
        connection = null;
      };
    },
    render({ model, el }) {
      connection ??= connect(model);
      return mountLocalised(() => mountMatrix({ el, model, store: connection.store }));
    },
  };
};
