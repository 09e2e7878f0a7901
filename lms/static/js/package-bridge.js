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

  // The order of a session's calls: Initialize once, then data calls, then Terminate once. A call out of
  // that order is answered here with the standard's error code and "false" (or "" for GetValue) and never
  // reaches scorm-again, so nothing of it is stored or committed. scorm-again 3.4.3 gets most of these
  // right but accepts LMSSetValue (and a commit) after LMSFinish; one table for both versions keeps every
  // case exact. SCORM 1.2 RTE: 301 "Not initialized" before LMSInitialize, 101 "General exception" (the
  // code where no other fits) for a second LMSInitialize and any call after LMSFinish. SCORM 2004 RTE
  // (API implementation error codes): 103, 104, 112/113, 122/123, 132/133, 142/143.
  var SCORM12 = {
    names: { initialize: "LMSInitialize", terminate: "LMSFinish", get: "LMSGetValue", set: "LMSSetValue",
      commit: "LMSCommit", lastError: "LMSGetLastError", errorString: "LMSGetErrorString",
      diagnostic: "LMSGetDiagnostic" },
    before: { terminate: 301, get: 301, set: 301, commit: 301 },
    after: { initialize: 101, terminate: 101, get: 101, set: 101, commit: 101 },
    twice: 101,
    strings: { 101: "General exception", 301: "Not initialized" }
  };
  var SCORM2004 = {
    names: { initialize: "Initialize", terminate: "Terminate", get: "GetValue", set: "SetValue",
      commit: "Commit", lastError: "GetLastError", errorString: "GetErrorString", diagnostic: "GetDiagnostic" },
    before: { terminate: 112, get: 122, set: 132, commit: 142 },
    after: { initialize: 104, terminate: 113, get: 123, set: 133, commit: 143 },
    twice: 103,
    strings: {
      103: "Already Initialized", 104: "Content Instance Terminated", 112: "Termination Before Initialization",
      113: "Termination After Termination", 122: "Retrieve Data Before Initialization",
      123: "Retrieve Data After Termination", 132: "Store Data Before Initialization",
      133: "Store Data After Termination", 142: "Commit Before Initialization",
      143: "Commit After Termination"
    }
  };

  function guardOrder(target, table) {
    var names = table.names;
    var state = "new"; // "new" -> "running" -> "terminated"
    var refused = null; // the code of the last call if this guard answered it, else null
    var original = {};
    Object.keys(names).forEach(function (key) { original[key] = target[names[key]]; });

    function call(key, args) {
      refused = null;
      return original[key].apply(target, args);
    }
    function refuse(code, answer) {
      refused = code;
      return answer;
    }
    target[names.initialize] = function () {
      if (state === "running") { return refuse(table.twice, "false"); }
      if (state === "terminated") { return refuse(table.after.initialize, "false"); }
      var result = call("initialize", arguments);
      if (String(result) === "true") { state = "running"; }
      return result;
    };
    target[names.terminate] = function () {
      if (state !== "running") { return refuse((state === "new" ? table.before : table.after).terminate, "false"); }
      var result = call("terminate", arguments);
      if (String(result) === "true") { state = "terminated"; }
      return result;
    };
    [["get", ""], ["set", "false"], ["commit", "false"]].forEach(function (pair) {
      var key = pair[0];
      target[names[key]] = function () {
        if (state !== "running") { return refuse((state === "new" ? table.before : table.after)[key], pair[1]); }
        return call(key, arguments);
      };
    });
    target[names.lastError] = function () {
      return refused === null ? original.lastError.apply(target, arguments) : String(refused);
    };
    target[names.errorString] = function (code) {
      return table.strings[code] || original.errorString.apply(target, arguments);
    };
    target[names.diagnostic] = function (code) {
      var key = code === undefined || code === "" ? refused : code;
      return (key !== null && table.strings[key]) || original.diagnostic.apply(target, arguments);
    };
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
    guardOrder(api, SCORM12);
    window.API = api;
  } else {
    api = new window.Scorm2004API(settings);
    guardOrder(api, SCORM2004);
    window.API_1484_11 = api;
  }
  api.loadFromFlattenedJSON(launch.cmi, "");
  // An asset (a plain page, no API calls) is complete once opened, as SCORM's content packaging says.
  if (launch.asset) {
    post(launch.version === "1.2" ? { "cmi.core.lesson_status": "completed" } : { "cmi.completion_status": "completed" }, false);
  }
})();
