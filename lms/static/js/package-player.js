/* The package player page (issue 25, docs/packages.md): loads the package's sandboxed frame, receives the
 * commits its runtime sends by postMessage, and stores them on the server.
 *
 * - only messages whose source is this page's frame, with the expected shape, are taken;
 * - commits are full snapshots of the data model, so only the latest one waits to be sent: it is kept in
 *   localStorage too (a closed tab or a dropped connection loses nothing) and sent with the CSRF token,
 *   retried with a growing delay while the connection is down; the next opening sends what was left
 *   before the frame loads, so the launch data includes it;
 * - when the page is hidden or left, the waiting commit goes out with fetch keepalive;
 * - with a package host (docs/packages-player.md "Offline"; data-package-origin): the frame opens the
 *   package host's own page, which says "package-host-ready"; the launch data (the player's data-launch attribute)
 *   goes to it by postMessage to that origin only, and messages are taken only from that origin. This page
 *   may be the copy saved for offline reading: the queue above then waits for the connection.
 */
(function () {
  "use strict";
  var player = document.getElementById("package-player");
  if (!player) {
    return;
  }
  var frame = player.querySelector("iframe");
  var status = document.getElementById("package-status");
  var commitUrl = player.getAttribute("data-commit-url");
  var storageKey = "lms.package." + commitUrl;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var packageOrigin = player.getAttribute("data-package-origin");
  var launchJson = player.getAttribute("data-launch");
  var tokenUrl = player.getAttribute("data-token-url");
  var freshToken = false;
  var session = (window.crypto && window.crypto.randomUUID)
    ? window.crypto.randomUUID().replace(/-/g, "")
    : String(Date.now()) + String(Math.random()).slice(2);
  var pending = null;
  var sending = false;
  var delay = 1000;
  var timer = null;

  function say(key) {
    status.textContent = status.getAttribute("data-" + key) || "";
    player.setAttribute("data-state", key);
  }

  function remember() {
    try {
      if (pending) {
        window.localStorage.setItem(storageKey, JSON.stringify(pending));
      } else {
        window.localStorage.removeItem(storageKey);
      }
    } catch (error) { /* private mode or full storage: the page still retries */ }
  }

  function request(body, keepalive) {
    return fetch(commitUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    });
  }

  function send() {
    if (!pending || sending) {
      return Promise.resolve();
    }
    sending = true;
    var body = pending;
    return request(body, false).then(function (response) {
      sending = false;
      if (response.status === 400 && tokenUrl && !freshToken) {
        // The CSRF token of a page saved for offline reading may have expired: take the current one.
        freshToken = true;
        return fetch(tokenUrl, { credentials: "same-origin", cache: "no-store" }).then(function (answer) {
          if (!answer.ok) { throw new Error("no token"); }
          return answer.json();
        }).then(function (data) {
          csrf = data.csrf_token;
          return send();
        });
      }
      freshToken = false;
      if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429)) {
        if (pending === body) {
          pending = null;
          remember();
        }
        delay = 1000;
        say(response.ok ? "saved" : "refused");
        if (pending) {
          return send();
        }
        return undefined;
      }
      throw new Error("status " + response.status);
    }).catch(function () {
      sending = false;
      say("offline");
      clearTimeout(timer);
      timer = setTimeout(send, delay);
      delay = Math.min(delay * 2, 60000);
    });
  }

  function valid(data) {
    return data && data.lms === "scorm-commit" && typeof data.attempt === "number" &&
      typeof data.sequence === "number" && data.cmi && typeof data.cmi === "object" && !Array.isArray(data.cmi);
  }

  function launchData() {
    var launch = JSON.parse(launchJson);
    // Played again offline (this page the saved copy): the place reached on this device is kept.
    if (pending && pending.attempt === launch.attempt && pending.cmi) {
      ["cmi.core.lesson_location", "cmi.location", "cmi.suspend_data"].forEach(function (key) {
        if (typeof pending.cmi[key] === "string") { launch.cmi[key] = pending.cmi[key]; }
      });
    }
    return launch;
  }

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || (packageOrigin && event.origin !== packageOrigin)) {
      return;
    }
    if (packageOrigin && launchJson && event.data && event.data.lms === "package-host-ready") {
      frame.contentWindow.postMessage({ lms: "scorm-launch", launch: launchData() }, packageOrigin);
      return;
    }
    if (!valid(event.data)) {
      return;
    }
    pending = {
      attempt: event.data.attempt,
      sequence: event.data.sequence,
      terminate: event.data.terminate === true,
      session: typeof event.data.session === "string" ? event.data.session : session,
      cmi: event.data.cmi
    };
    remember();
    say("saving");
    send();
  });

  function flushOnLeaving() {
    if (pending) {
      request(pending, true);
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flushOnLeaving();
    }
  });
  window.addEventListener("pagehide", flushOnLeaving);
  window.addEventListener("online", function () { delay = 1000; send(); });

  function open() {
    frame.setAttribute("src", player.getAttribute("data-src"));
    say("ready");
  }
  var left = null;
  try {
    left = JSON.parse(window.localStorage.getItem(storageKey) || "null");
  } catch (error) { left = null; }
  if (left && typeof left === "object") {
    pending = left;
    send().then(open, open);
  } else {
    open();
  }
})();
