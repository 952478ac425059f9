// The bundle's version, injected by build.mjs from package.json.
/* global __CHATMORE_VERSION__ */
export const VERSION = typeof __CHATMORE_VERSION__ === "string" ? __CHATMORE_VERSION__ : "dev";
