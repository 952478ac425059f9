// The board's language: every visible string comes from a message catalog
// (widgets/locales/<language>.json, shared with the kernel's Python), English or Chinese.
//
// Which one: in JupyterLab, JupyterLab's language setting (it writes it to <html lang>);
// elsewhere (the Voilà dashboard) the visitor's own choice, kept in localStorage, then
// the browser's language. `zh-*` reads Chinese, everything else English.

import en from "../locales/en.json" with { type: "json" };
import zh from "../locales/zh.json" with { type: "json" };

export const CATALOGS = { en, zh };
export const LANGUAGES = Object.keys(CATALOGS);
/** Where the dashboard's language switch keeps the visitor's choice. */
export const STORAGE_KEY = "chatmore.locale";
/** The BCP 47 tags Intl formats with. */
const INTL_TAGS = { en: "en-US", zh: "zh-CN" };

/** "zh", "zh-CN", "zh_Hans" → "zh"; anything else → "en". */
export function languageOf(tag) {
  return /^zh(?:[-_]|$)/i.test(String(tag || "")) ? "zh" : "en";
}

function storedChoice(storage) {
  try {
    const value = storage?.getItem(STORAGE_KEY);
    return value && value in CATALOGS ? value : null;
  } catch {
    return null; // storage refused (a sandboxed frame)
  }
}

/**
 * The page's language.
 * @param {{document?: Document, navigator?: Navigator, storage?: Storage}} [where]
 */
export function detectLanguage({
  document = globalThis.document,
  navigator = globalThis.navigator,
  storage = globalThis.localStorage,
} = {}) {
  const inLab = Boolean(document?.querySelector?.(".jp-LabShell, #main.jp-NotebookShell"));
  if (inLab && document.documentElement?.lang) return languageOf(document.documentElement.lang);
  return storedChoice(storage) ?? languageOf(navigator?.language);
}

let current = null;
const listeners = new Set();

/** The language strings are given in ("en" or "zh"). */
export function locale() {
  current ??= detectLanguage();
  return current;
}

/** Switch the language (the dashboard's switch); views listening draw themselves again. */
export function setLocale(language) {
  const next = language in CATALOGS ? language : "en";
  if (next === current) return;
  current = next;
  for (const listener of [...listeners]) listener(next);
}

// The dashboard's language switch tells the page with this window event (its template,
// server_ext/dashboard/share): every board on the page then draws itself in that language.
export const LOCALE_EVENT = "chatmore:locale";
globalThis.addEventListener?.(LOCALE_EVENT, (event) => setLocale(languageOf(event.detail)));

/** @returns {() => void} unsubscribe */
export function onLocaleChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The string `key` in the current language, its `{name}` placeholders filled from `params`.
 * @param {string} key
 * @param {Record<string, unknown>} [params]
 */
export function t(key, params) {
  const text = CATALOGS[locale()][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? String(params[name]) : whole,
  );
}

// Intl formatters are costly to build and the matrix formats every cell on each draw:
// one per language and options, kept.
const formatters = new Map();

function formatter(Kind, options) {
  const key = `${Kind.name}|${locale()}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) formatters.set(key, (found = new Kind(INTL_TAGS[locale()], options)));
  return found;
}

/** A number the locale's way ("1,234.5"); `options` as Intl.NumberFormat takes them. */
export function formatNumber(value, options = {}) {
  return formatter(Intl.NumberFormat, options).format(value);
}

/** A date and time the locale's way ("Jan 5, 2025, 3:04 PM", "2025年1月5日 15:04"). */
export function formatDate(value, options = { dateStyle: "medium", timeStyle: "short" }) {
  const date = value instanceof Date ? value : new Date(value);
  return formatter(Intl.DateTimeFormat, options).format(date);
}

/**
 * A value's name from a family of keys (`status.cancelled` → "stopped"); an unknown value
 * (a status a newer server sends) reads as it is.
 */
export function label(family, value) {
  const key = `${family}.${value}`;
  return key in en ? t(key) : String(value);
}

/**
 * Tell the kernel the page's language (the widget's `locale` trait), now and whenever it
 * changes: its messages (errors, notices) then come in the same language.
 * @returns {() => void} stop telling
 */
export function shareLocale(model) {
  const tell = (language) => {
    // A host without a writable model (a bench's stand-in) has no kernel to tell.
    if (typeof model.set !== "function" || model.get("locale") === language) return;
    model.set("locale", language);
    model.save_changes?.();
  };
  tell(locale());
  return onLocaleChange(tell);
}

/**
 * Mount a view with `mount` (which returns its cleanup), and mount it afresh when the
 * language changes.
 * @param {() => (() => void)} mount
 * @returns {() => void} cleanup
 */
export function mountLocalised(mount) {
  let cleanup = mount();
  const stop = onLocaleChange(() => {
    cleanup?.();
    cleanup = mount();
  });
  return () => {
    stop();
    cleanup?.();
  };
}
