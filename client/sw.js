// Fieldbook's service worker. scripts/build-sw.mjs fills in the list of files of the build
// (from the build output, so it cannot drift) and a version derived from their contents.
//
// - install: caches every file of this build in a cache named after the version (hashed
//   files from the HTTP cache when the page already fetched them); it does not take over by
//   itself, so a page never mixes files of two builds.
// - activate: deletes the caches of older builds.
// - fetch: files of the build from the cache first; navigations get the cached app shell;
//   the API and the sync socket always go to the network.
// - a page asks a waiting new version to take over ("new version available — reload").
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = `fieldbook-${VERSION}`;

// Trunk's content-hashed names (`name-<16 hex>.ext`, `name-<16 hex>_bg.wasm`; the server's
// `is_content_hashed`): such a file never changes, so the copy the page has just fetched
// (in the HTTP cache, `immutable`) is taken and a first visit downloads each file once.
// Everything else (the shell, the worker, icons, the manifest) is revalidated.
const HASHED = /-[0-9a-f]{16}(_bg)?\.[a-z0-9]+$/;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: HASHED.test(path) ? 'default' : 'no-cache' })))),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('fieldbook-') && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/sync' || url.pathname === '/healthz') return;
  if (request.mode === 'navigate') {
    // The app routes in the page: every navigation is the shell.
    event.respondWith(
      caches.open(CACHE).then((cache) => cache.match('/index.html')).then((cached) => cached || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then((cache) => cache.match(url.pathname)).then((cached) => cached || fetch(request)),
  );
});
