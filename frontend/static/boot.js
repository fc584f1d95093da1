// Loads the wasm app. Kept outside index.html so the CSP can forbid inline scripts.
import init from "/pkg/frontend.js?v=__BUILD_ID__";
init({ module_or_path: "/pkg/frontend_bg.wasm?v=__BUILD_ID__" });
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}
// Ask the browser not to evict the offline copy and outbox under storage pressure.
if (navigator.storage && navigator.storage.persist) {
  navigator.storage.persist().catch(() => {});
}
