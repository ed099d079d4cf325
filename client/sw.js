// Fieldbook's service worker. scripts/build-sw.mjs fills in the list of files of the build
// (from the build output, so it cannot drift) and a version derived from their contents.
//
// - install: caches every file of this build in a cache named after the version; it does
//   not take over by itself, so a page never mixes files of two builds.
// - activate: deletes the caches of older builds.
// - fetch: files of the build from the cache first; navigations get the cached app shell;
//   the API and the sync socket always go to the network.
// - a page asks a waiting new version to take over ("new version available — reload").
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = `fieldbook-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: 'reload' })))),
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
