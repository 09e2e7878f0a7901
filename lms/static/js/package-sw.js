/* The package host's service worker (issue 25, docs/packages-player.md "Offline"), served at the package
   host's root (/package-sw.js) and registered by its page (/package-host) when a learner saves a course for
   offline reading. It serves the package host only, never the academy (another origin, another worker:
   lms/static/js/sw.js). A version's files live under a fixed path (/package-version/<id>/<key>/...) and
   never change: from the cache first. The host's page and the runtime scripts may change: network first,
   the saved copy when there is no connection. Nothing is saved here but what package-host.js stores. */
'use strict';

self.addEventListener('install', function () { self.skipWaiting(); });

self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf('/package-version/') === 0) {
    // a package's own query string (its launch parameters) does not change the file
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (saved) {
      return saved || fetch(request);
    }));
  } else if (url.pathname === '/package-host' || url.pathname.indexOf('/static/') === 0) {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(request).then(function (saved) { return saved || Response.error(); });
    }));
  }
});
