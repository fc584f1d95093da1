// Loads the wasm app. Kept outside index.html so the CSP can forbid inline scripts.
import init from "/pkg/frontend.js?v=__BUILD_ID__";
init({ module_or_path: "/pkg/frontend_bg.wasm?v=__BUILD_ID__" });
