/* Academy LMS service worker: offline reading of course and lesson pages (package players included,
   docs/packages-player.md "Offline") and of "My courses" (docs/design.md,
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
// paths below ROOT: a course, one of its lessons (and a package lesson's player page: its package's files
// are kept by the package host's own worker, lms/static/js/package-sw.js), and the dashboard ("My courses")
var READABLE = /^(courses\/[^/]+(\/lessons\/\d+(\/play)?)?|dashboard)\/?$/;

function readable(pathname) {
  return pathname.indexOf(ROOT) === 0 && READABLE.test(pathname.slice(ROOT.length));
}

// The academy's offline page, as the signed-in person sees it (their language and menu). It lives in PAGES,
// which app.js empties on sign-out and when another person signs in (shared computers), so it is stored by
// the install and stored again whenever a page is read online and it is missing. A copy made signed out
// (no X-LMS-Signed-In) is never kept: shown offline to a signed-in person, app.js would take it for a
// sign-out and forget their saved pages.
function storeOfflinePage() {
  return fetch(OFFLINE_URL, { credentials: 'same-origin' }).then(function (response) {
    if (!response.ok || response.redirected || response.headers.get('X-LMS-Signed-In') !== '1') {
      throw new Error('offline page not stored');
    }
    return caches.open(PAGES).then(function (cache) { return cache.put(OFFLINE_URL, response); });
  });
}

function keepOfflinePage() {
  return caches.match(OFFLINE_URL).then(function (saved) { return saved || storeOfflinePage(); })
    .catch(function () {});
}

// No worker without its offline page: if the page cannot be stored (tried twice) the install fails, this
// worker is discarded, and app.js registers it again on the next page.
self.addEventListener('install', function (event) {
  event.waitUntil(
    storeOfflinePage().catch(storeOfflinePage).then(function () { return self.skipWaiting(); })
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

// Only if the offline page is missing all the same (it went with PAGES and nothing was read online since):
// a page with the same heading, in English (the worker has no translations), and the way to "My courses".
var OFFLINE_FALLBACK = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"><title>You are offline</title></head>' +
  '<body><main><h1>You are offline</h1><p>This page has not been saved on this device, and there is no ' +
  'connection right now.</p><p><a href="' + ROOT + 'dashboard">My courses</a></p></main></body></html>\n';

function offlinePage() {
  return caches.match(OFFLINE_URL).then(function (page) {
    return page || new Response(OFFLINE_FALLBACK, {
      status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' }
    });
  });
}

function pageKey(url) {
  var clean = new URL(url);
  clean.search = '';
  clean.hash = '';
  return clean.href;
}

function networkFirst(request, network) {
  return network.then(function (response) {
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
    if (!readable(url.pathname)) {
      event.respondWith(fetch(request).catch(offlinePage));
      return;
    }
    var network = fetch(request);
    event.respondWith(networkFirst(request, network));
    // a page read online: the moment to store the offline page again if PAGES was emptied
    event.waitUntil(network.then(function (response) {
      return response.ok && !response.redirected ? keepOfflinePage() : null;
    }, function () {}));
  }
});
