// Where the Jupyter server is, as the page says: JupyterLab, Notebook 7 and Voilà all put
// their config (with `baseUrl`) in <script id="jupyter-config-data">.

/** The page's Jupyter base URL, always ending in "/"; "/" when the page does not say. */
export function jupyterBaseUrl(doc = globalThis.document) {
  try {
    const node = doc?.getElementById("jupyter-config-data");
    const base = node ? JSON.parse(node.textContent || "{}").baseUrl : null;
    if (typeof base === "string" && base) return base.endsWith("/") ? base : `${base}/`;
  } catch {
    // a malformed config block: use the default
  }
  return "/";
}

/** The EventSource URL of a turn's stream, with its ticket and the id to resume after. */
export function streamUrl(baseUrl, path, ticket, lastEventId = null) {
  let url = `${baseUrl}${String(path).replace(/^\/+/, "")}?st=${encodeURIComponent(ticket)}`;
  if (lastEventId !== null && lastEventId !== undefined) url += `&last_event_id=${lastEventId}`;
  return url;
}
