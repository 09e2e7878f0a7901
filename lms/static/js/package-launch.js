/* First script of every page of a package on the package host (issue 25, docs/packages-player.md
 * "Offline"): the files are the same for everyone (so they can be saved for offline use) and carry no
 * launch data; lms/static/js/package-host.js kept the launch the player page sent in this tab's
 * sessionStorage. This puts it where lms/static/js/package-bridge.js reads it, before the package's own
 * scripts run. */
(function () {
  "use strict";
  if (document.getElementById("lms-scorm-launch")) {
    return;
  }
  var raw = null;
  try {
    raw = window.sessionStorage.getItem("lms.scorm.launch");
  } catch (error) {
    raw = null;
  }
  if (!raw && window.name.indexOf("lms-scorm-launch:") === 0) {
    raw = window.name.slice("lms-scorm-launch:".length); // no storage here: package-host.js used the name
    // read once: a frame's name outlives a navigation to another site, which must not find the launch
    window.name = "";
  }
  if (!raw) {
    return;
  }
  var block = document.createElement("script");
  block.type = "application/json";
  block.id = "lms-scorm-launch";
  block.textContent = raw;
  (document.head || document.documentElement).appendChild(block);
})();
