/* The package host's own page (issue 25, docs/packages-player.md "Offline"), at <package host>/package-host.
 * It runs on the package host's origin, never the academy's, and takes orders only from the academy page
 * that frames it (its window is our parent and its origin is the academy's, data-academy):
 *
 * - "scorm-launch" (the player page): keeps the launch data in this tab's sessionStorage of the package
 *   host (or the frame's name where there is no storage), where lms/static/js/package-launch.js gives it to
 *   the runtime of every page of the package, and
 *   opens the package's page (a URL under /package-version/ of this host, nothing else);
 * - "package-save" (the course page, "Save this course for offline reading"): registers the package host's
 *   worker (/package-sw.js) and stores the version's files in this host's cache; answers "package-saved".
 */
(function () {
  "use strict";
  var academy = document.body.getAttribute("data-academy");
  if (!academy || window.parent === window) {
    return;
  }
  var CACHE = "lms-package-files-v1";

  function reply(message) {
    window.parent.postMessage(message, academy);
  }

  function ours(url) {
    var target = new URL(url, location.href);
    return target.origin === location.origin ? target : null;
  }

  function launch(data) {
    var target = ours(data.href);
    if (!target || target.pathname.indexOf("/package-version/") !== 0) {
      return;
    }
    try {
      window.sessionStorage.setItem("lms.scorm.launch", JSON.stringify(data));
    } catch (error) {
      // No storage for this frame (a cross-site package host where third-party storage is blocked): the
      // frame's name outlives a same-origin navigation, and only this frame's own pages can read it.
      window.name = "lms-scorm-launch:" + JSON.stringify(data);
    }
    location.replace(target.href);
  }

  function save(files) {
    var urls = files.map(ours).filter(Boolean).map(function (url) { return url.href; });
    if (!("serviceWorker" in navigator) || !window.caches || urls.length !== files.length) {
      reply({ lms: "package-saved", ok: false, reason: "no service worker or cache here" });
      return;
    }
    navigator.serviceWorker.register("/package-sw.js", { scope: "/" }).then(function () {
      return caches.open(CACHE);
    }).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        return fetch(url, { credentials: "omit", cache: "no-cache" }).then(function (response) {
          if (!response.ok) { throw new Error("not saved: " + url); }
          return cache.put(url, response);
        });
      }));
    }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      reply({ lms: "package-saved", ok: true, count: urls.length });
    }, function (error) {
      reply({ lms: "package-saved", ok: false, reason: String(error) });
    });
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== window.parent || event.origin !== academy || !data || typeof data !== "object") {
      return;
    }
    if (data.lms === "scorm-launch" && data.launch && typeof data.launch.href === "string") {
      launch(data.launch);
    } else if (data.lms === "package-save" && Array.isArray(data.files)) {
      save(data.files.filter(function (url) { return typeof url === "string"; }));
    }
  });
  reply({ lms: "package-host-ready" });
})();
