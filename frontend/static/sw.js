// Reformboard's service worker: keeps the app shell (this build's index.html, JS, wasm, CSS and
// the lazily loaded screens' wasm chunks) so the app, every screen of it, opens with no
// connection. Data is not cached here: the app keeps its own copy in IndexedDB and syncs it. API
// requests always go to the network.
const BUILD = "__BUILD_ID__";
const CACHE = "reformboard-shell-" + BUILD;
// The shell's files are fetched with this build's `?v=`, which the server refuses (404) when it
// serves another build, and the chunks from a directory of this build's own: an install during
// a deploy fails and is tried again, rather than keeping a mixture of two builds. index.html is
// stored by its plain name, the one navigations look up.
const INDEX = "/index.html";
const SHELL = [
  INDEX + "?v=" + BUILD,
  "/boot.js?v=" + BUILD,
  "/style.css?v=" + BUILD,
  "/icon.svg?v=" + BUILD,
  "/pkg/frontend.js?v=" + BUILD,
  "/pkg/frontend_bg.wasm?v=" + BUILD,
  // The chunks' loader and the chunks (cargo xtask build-site lists them here, from a directory
  // of this build's own), fetched by these plain URLs.
  /* __WASM_SPLIT_FILES__ */
];

// One file of the shell into the cache, tried a few times: `cache.addAll` is all or nothing, so
// on a weak connection one of the shell's ~150 fetches failing would throw the whole install away,
// and the phone would have no offline copy until its next visit.
async function precache(cache, url) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url);
      if (!res.ok) {
        throw new Error(url + ": HTTP " + res.status);
      }
      await cache.put(url.startsWith(INDEX + "?") ? INDEX : url, res);
      return;
    } catch (e) {
      if (attempt === 4) {
        throw e;
      }
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all(SHELL.map((url) => precache(cache, url))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => {
        // Caches are listed in the order they were made. The previous build's stays: a tab
        // opened before this update still runs it, and fetches its lazily loaded screens from
        // there (this server no longer has them). Older ones go.
        const old = keys.filter((k) => k.startsWith("reformboard-shell-") && k !== CACHE);
        return Promise.all(old.slice(0, -1).map((k) => caches.delete(k)));
      })
      .then(() => self.clients.claim()),
  );
});

// How long a page load waits for the network before the cached shell opens instead.
const NAVIGATION_WAIT_MS = 4000;

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return;
  }
  if (req.mode === "navigate") {
    // Pages: the network when it answers (a new build shows at once), else the cached shell;
    // every path is the same single-page app. A server error is no answer: a reverse proxy's
    // 502 while the backend restarts must not stand in for the app, which works offline.
    // A connection that hangs rather than fails (one bar of signal) is no answer either: past
    // a few seconds the cached shell opens, and the app syncs when it can.
    const shell = () => caches.match(INDEX, { cacheName: CACHE });
    const network = fetch(req)
      .then((res) => (res.status >= 500 ? shell().then((hit) => hit || res) : res))
      .catch(shell);
    const slow = new Promise((resolve) => setTimeout(resolve, NAVIGATION_WAIT_MS))
      .then(shell)
      .then((hit) => hit || network);
    event.respondWith(Promise.race([network, slow]));
    return;
  }
  // This build's files, else the previous build's (a tab still running it), else the network.
  event.respondWith(
    caches
      .match(req, { cacheName: CACHE })
      .then((hit) => hit || caches.match(req))
      .then((hit) => hit || fetch(req)),
  );
});
