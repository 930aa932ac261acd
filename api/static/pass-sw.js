// The service worker of the pass page (/pass/sw.js, scope /pass/): the page, its scripts
// and its style are kept so the pass shows with no network. Scripts and style are
// served cache-first (their names change with the CACHE version when they change); the
// page itself network-first, so a language switch or a new page reaches the phone when
// it is online, and the kept copy serves when it is not. The pass itself is never here:
// it lives in the page's localStorage, and the enrollment answer is not cached.
"use strict";
const CACHE = "gate-pass-v2";
const PAGE = "/pass/";
const ASSETS = [
  "/static/vendor/sha256.js",
  "/static/vendor/qrcode.js",
  "/static/passcode.js",
  "/static/phone.js",
  "/static/pass_actions.js",
  "/static/phone.css",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([PAGE, ...ASSETS]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith("gate-pass-") && n !== CACHE).map((n) => caches.delete(n))),
      )
      .then(() => self.clients.claim()),
  );
});

async function cacheFirst(request) {
  const kept = await caches.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const answer = await fetch(request);
  if (answer.ok) (await caches.open(CACHE)).put(request, answer.clone());
  return answer;
}

async function networkFirst(request) {
  try {
    const answer = await fetch(request);
    if (answer.ok) (await caches.open(CACHE)).put(PAGE, answer.clone());
    return answer;
  } catch (offline) {
    const kept = await caches.match(PAGE);
    if (kept) return kept;
    throw offline;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === PAGE) {
    event.respondWith(networkFirst(request));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});
