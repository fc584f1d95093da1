// Loads the wasm app. Kept outside index.html so the CSP can forbid inline scripts.

// performance.mark()s name the steps of a start, for `loadgen board-profile` and DevTools.
performance.mark("boot");

// The wasm is fetched and validated (off the main thread) from the moment this script runs,
// beside the JS glue's loading, instead of after it: this module imports nothing statically, so it runs as soon as it
// has arrived. A browser that can't compile a stream gets the URL and the glue's own fetch.
const wasmUrl = "/pkg/frontend_bg.wasm?v=__BUILD_ID__";
const wasm = WebAssembly.compileStreaming
  ? WebAssembly.compileStreaming(fetch(wasmUrl)).catch(() => wasmUrl)
  : wasmUrl;

// Asks who is signed in while the wasm downloads, instead of after it has started: on a first
// visit the sync's first pull waits for this answer. The app takes the promise once
// (`window.reformboardMe`, frontend/src/api.rs `get_prefetched`); a failed fetch rejects it,
// as the app's own request would fail.
window.reformboardMe = fetch("/api/auth/me", { credentials: "same-origin" });
// Offline, it fails before the app has taken it: not an error worth the console's red.
window.reformboardMe.catch(() => {});

// Reads this browser's saved copy (see frontend/src/local_db.rs: database "reformboard", stores
// "entities", "meta", "outbox", values as JSON strings) while the wasm downloads and compiles,
// instead of after: on a slow phone the two overlap for a few hundred milliseconds. The app takes
// the promise once (`window.reformboardSaved`); null means "read it yourself". This only reads:
// a browser without the database gets none created here (the version change is aborted), and
// the app's own open keeps owning the schema.
window.reformboardSaved = new Promise((resolve) => {
  let open;
  try {
    open = indexedDB.open("reformboard");
  } catch (e) {
    resolve(null);
    return;
  }
  open.onupgradeneeded = () => open.transaction.abort();
  open.onerror = () => resolve(null);
  open.onblocked = () => resolve(null);
  open.onsuccess = () => {
    const db = open.result;
    try {
      const tx = db.transaction(["entities", "meta", "outbox"], "readonly");
      const entities = tx.objectStore("entities").getAll();
      const cookie = tx.objectStore("meta").get("cookie");
      const user = tx.objectStore("meta").get("user");
      const retire = tx.objectStore("meta").get("retire");
      const outbox = tx.objectStore("outbox").getAll();
      tx.oncomplete = () => {
        db.close();
        resolve({
          entities: entities.result,
          cookie: cookie.result,
          user: user.result,
          retire: retire.result,
          outbox: outbox.result,
        });
      };
      tx.onerror = tx.onabort = () => {
        db.close();
        resolve(null);
      };
    } catch (e) {
      db.close();
      resolve(null);
    }
  };
});

window.reformboardSaved.then(() => performance.mark("saved copy read"));

// A panic in the wasm (a bug; a chunk that can't be fetched says so in its place) leaves the app
// unable to answer: say so, with a button to reload, rather than leave a page that silently
// ignores every tap. Changes made before it are safe in the outbox.
function stopped(error) {
  if (!(error instanceof WebAssembly.RuntimeError) || document.getElementById("stopped")) {
    return;
  }
  const note = document.createElement("p");
  note.id = "stopped";
  note.className = "stopped";
  note.setAttribute("role", "alert");
  note.textContent = "改革看板出错停止了，已保存的更改不会丢失。 Reformboard stopped on an error; saved changes are kept. ";
  const again = document.createElement("button");
  again.className = "primary";
  again.textContent = "重新加载 Reload";
  again.addEventListener("click", () => location.reload());
  note.append(again);
  document.body.prepend(note);
}
window.addEventListener("error", (event) => stopped(event.error));
window.addEventListener("unhandledrejection", (event) => stopped(event.reason));

// Sends the app's first pull while the wasm downloads instead of after it has started: on a
// first visit the board waits for this answer, and on a slow connection it now comes during the
// download. The app takes it once (`window.reformboardPull`, frontend/src/api.rs
// `post_prefetched`), and only if its own first pull is this very request (same client group,
// same cookie); otherwise it asks afresh. The body is shared::sync::PullRequest on the wire.
// It goes as whom the app will start syncing: the user this browser remembers at once (the app
// starts as them beside asking the server, frontend/src/session.rs `check`), anyone else once
// the server has said who is signed in. Not sent when the app would push first (changes wait in
// the outbox), nor when no one is signed in or a new password must be set first.
window.reformboardPull = window.reformboardSaved
  .then(async (saved) => {
    if (saved && saved.outbox.length > 0) {
      return null;
    }
    let who = remembered();
    if (!who) {
      const me = await window.reformboardMe;
      if (!me.ok) {
        return null;
      }
      who = await me.clone().json();
    }
    if (who.must_change_password) {
      return null;
    }
    const user = who.id;
    const group = clientGroup(user);
    if (!group) {
      return null;
    }
    const body = JSON.stringify({
      protocol: __PROTOCOL_VERSION__,
      client_group: group,
      cookie: saved && saved.cookie ? JSON.parse(saved.cookie) : null,
    });
    const response = fetch("/api/sync/pull", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Reformboard": "1" },
      body,
    });
    response.catch(() => {});
    return { body, response };
  })
  .catch(() => null);

// The user this browser remembers as signed in (frontend/src/session.rs `remember`), or null.
function remembered() {
  try {
    return JSON.parse(localStorage.getItem("reformboard.me"));
  } catch (e) {
    return null;
  }
}

// `user`'s sync client group in this browser (frontend/src/sync.rs `client_group`, which makes
// one where this could not), made here on a first visit: a UUID v7 like the app's own ids, 48
// bits of milliseconds, then version, variant and random bits. None while this browser still
// has the one group of the days before groups were kept per user: the app decides whose it is
// (frontend/src/sync.rs `take_legacy_group`).
function clientGroup(user) {
  const legacy = "reformboard.client_group";
  const key = `${legacy}.${user}`;
  try {
    let group = localStorage.getItem(key);
    if (!group && localStorage.getItem(legacy) === null) {
      const b = crypto.getRandomValues(new Uint8Array(16));
      let ms = Date.now();
      for (let i = 5; i >= 0; i--) {
        b[i] = ms % 256;
        ms = Math.floor(ms / 256);
      }
      b[6] = (b[6] & 0x0f) | 0x70;
      b[8] = (b[8] & 0x3f) | 0x80;
      const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      group = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
      localStorage.setItem(key, group);
    }
    return group;
  } catch (e) {
    return null;
  }
}

const started = import("/pkg/frontend.js?v=__BUILD_ID__")
  .then(({ default: init }) => init({ module_or_path: wasm }))
  .then(() => {
    document.getElementById("boot")?.remove();
    performance.mark("app started");
  })
  .catch(() => {
    const boot = document.getElementById("boot");
    if (boot) {
      boot.textContent = "改革看板未能加载，请检查网络后重新加载。 Reformboard could not load: check the connection and reload. ";
      const again = document.createElement("button");
      again.className = "primary";
      again.textContent = "重新加载 Reload";
      again.addEventListener("click", () => location.reload());
      boot.append(document.createElement("br"), again);
    }
  });

// The service worker is registered once the app's start is over, not beside it: its install
// fetches and stores the whole shell (~150 files), which would queue with the wasm and the
// first API calls for the same connections and take the CPU the first screen needs (Lighthouse
// on the 1,000-card board, alternating builds: total blocking time 486 and 561 ms when it
// registered as the wasm started, 158–268 ms when it waited). The app says when its first pull
// is in, on screen and saved (frontend/src/util.rs `announce_started`); then the worker waits
// for an idle moment. A start that never gets that far (offline, signed out, the server down)
// registers it 10 s after the app has started or failed to, so the shell is still kept.
let announced = false;
let fallback;
window.addEventListener(
  "reformboard-started",
  () => {
    announced = true;
    clearTimeout(fallback);
    if ("requestIdleCallback" in window) {
      requestIdleCallback(registerServiceWorker, { timeout: 3000 });
    } else {
      setTimeout(registerServiceWorker, 1000);
    }
  },
  { once: true },
);
started.finally(() => {
  if (!announced) {
    fallback = setTimeout(registerServiceWorker, 10000);
  }
});

function registerServiceWorker() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
}
// An install that failed (the connection dropped mid-way) leaves no registration; back online is
// the moment to try again. Registering what is already registered changes nothing.
window.addEventListener("online", registerServiceWorker);
// Ask the browser not to evict the offline copy and outbox under storage pressure.
if (navigator.storage && navigator.storage.persist) {
  navigator.storage.persist().catch(() => {});
}
