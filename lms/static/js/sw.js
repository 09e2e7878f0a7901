/* Academy LMS service worker: offline reading of course and lesson pages and of "My courses" (docs/design.md,
   "Offline reading"). Scope: the whole site (registered by app.js for signed-in people only). Those pages:
   network first, the copy saved on this device when the network fails. Fingerprinted static files
   (?v=hash): cache first. Quizzes and every other page: network only, never saved, with the academy's own
   offline page instead of the browser's error when there is no connection. */
'use strict';

var PAGES = 'lms-pages-v1';
var STATIC = 'lms-static-v1';
var OFFLINE_URL = new URL('offline', self.location).href;
var STATIC_PREFIX = new URL('static/', self.location).pathname;
var ROOT = new URL('./', self.location).pathname;
// paths below ROOT: a course, one of its lessons, and the dashboard ("My courses")
var READABLE = /^(courses\/[^/]+(\/lessons\/\d+)?|dashboard)\/?$/;

function readable(pathname) {
  return pathname.indexOf(ROOT) === 0 && READABLE.test(pathname.slice(ROOT.length));
}

self.addEventListener('install', function (event) {
  event.waitUntil(
    caches.open(PAGES).then(function (cache) { return cache.add(OFFLINE_URL); }).catch(function () {})
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener('activate', function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf('lms-') === 0 && name !== PAGES && name !== STATIC;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function offlinePage() {
  return caches.match(OFFLINE_URL).then(function (page) {
    return page || new Response('Offline', { status: 503, headers: { 'Content-Type': 'text/plain' } });
  });
}

function pageKey(url) {
  var clean = new URL(url);
  clean.search = '';
  clean.hash = '';
  return clean.href;
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    // A redirect (to sign-in, or "enrol first") is never saved in the lesson's place.
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { return cache.put(pageKey(request.url), copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(pageKey(request.url)).then(function (saved) { return saved || offlinePage(); });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (saved) {
    if (saved) { return saved; }
    return fetch(request).then(function (response) {
      var url = new URL(request.url);
      if (response.ok && url.searchParams.get('v')) {
        var copy = response.clone();
        caches.open(STATIC).then(function (cache) {
          // keep one version of each file: drop the older fingerprints of the same path
          return cache.keys().then(function (keys) {
            return Promise.all(keys.filter(function (key) {
              return new URL(key.url).pathname === url.pathname;
            }).map(function (key) { return cache.delete(key); }));
          }).then(function () { return cache.put(request, copy); });
        });
      }
      return response;
    });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === 'navigate') {
    event.respondWith(readable(url.pathname) ? networkFirst(request) : fetch(request).catch(offlinePage));
  }
});
