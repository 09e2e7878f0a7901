/* The SCORM runtime inside a package's page (issue 25, docs/packages.md "Isolation").
 *
 * The page runs in a sandboxed frame with an opaque origin: it cannot reach the player page, and the
 * player page's session never reaches it. So the runtime (scorm-again, loaded just before this file)
 * lives here, in the page's own window, where the ADL API discovery finds it first: window.API (SCORM 1.2)
 * or window.API_1484_11 (SCORM 2004). scorm-again answers every call and its error codes; each commit it
 * makes is handed to the player page by postMessage, which stores it on the server.
 */
(function () {
  "use strict";
  var block = document.getElementById("lms-scorm-launch");
  if (!block || window.API || window.API_1484_11) {
    return;
  }
  var launch = JSON.parse(block.textContent);
  var sequence = 0;
  // This opening's key: the server applies a commit of one session once, whichever way it came.
  var session = String(Date.now()) + String(Math.random()).slice(2, 12);

  function post(cmi, terminate) {
    sequence += 1;
    var commit = {
      lms: "scorm-commit", attempt: launch.attempt, session: session, sequence: sequence,
      terminate: !!terminate, cmi: cmi
    };
    // "*": an opaque origin cannot name the player's origin; nothing secret is sent (the package's own
    // data), and the player page accepts a message only from its own frame's window.
    window.parent.postMessage(commit, "*");
    // The final commit also goes straight to the server (the signed link is its permission): a package
    // terminates while its page unloads, when the player page may be unloading too.
    if (terminate && launch.beacon && navigator.sendBeacon) {
      navigator.sendBeacon(launch.beacon, new Blob([JSON.stringify(commit)], { type: "text/plain" }));
    }
  }

  var bridge = {
    processHttpRequest: function (url, params, immediate) {
      post(params, immediate);
      return { result: "true", errorCode: 0 };
    },
    updateSettings: function () {}
  };
  var settings = {
    lmsCommitUrl: "lms:player",
    dataCommitFormat: "flattened",
    autocommit: true,
    autocommitSeconds: 30,
    httpService: bridge,
    logLevel: 5
  };
  var api;
  if (launch.version === "1.2") {
    api = new window.Scorm12API(settings);
    window.API = api;
  } else {
    api = new window.Scorm2004API(settings);
    window.API_1484_11 = api;
  }
  api.loadFromFlattenedJSON(launch.cmi, "");
  // An asset (a plain page, no API calls) is complete once opened, as SCORM's content packaging says.
  if (launch.asset) {
    post(launch.version === "1.2" ? { "cmi.core.lesson_status": "completed" } : { "cmi.completion_status": "completed" }, false);
  }
})();
