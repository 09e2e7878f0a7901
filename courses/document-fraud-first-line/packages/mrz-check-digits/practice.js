/* A SCORM 1.2 SCO: three MRZ check digits to compute; the score (percent right) and the status (passed
   at the mastery score the LMS gives, else failed) go to the LMS through the SCORM 1.2 API. */
(function () {
  "use strict";

  function findAPI(win) {
    var hops = 0;
    while (win && !win.API && win.parent && win.parent !== win && hops < 10) {
      hops += 1;
      win = win.parent;
    }
    return win && win.API ? win.API : null;
  }

  var api = null;
  try {
    api = findAPI(window) || (window.opener ? findAPI(window.opener) : null);
  } catch (e) {
    api = null;
  }
  var connection = document.getElementById("connection");
  if (api && api.LMSInitialize("") === "true") {
    if (api.LMSGetValue("cmi.core.lesson_status") === "not attempted") {
      api.LMSSetValue("cmi.core.lesson_status", "incomplete");
    }
  } else {
    api = null;
    connection.textContent = "Not connected to a learning platform: your result is not recorded.";
  }

  function value(character) {
    if (character >= "0" && character <= "9") return character.charCodeAt(0) - 48;
    if (character >= "A" && character <= "Z") return character.charCodeAt(0) - 55;
    return 0; /* the filler "<" */
  }

  function checkDigit(field) {
    var weights = [7, 3, 1];
    var total = 0;
    for (var i = 0; i < field.length; i += 1) total += value(field.charAt(i)) * weights[i % 3];
    return total % 10;
  }

  var mastery = api ? parseFloat(api.LMSGetValue("cmi.student_data.mastery_score")) : NaN;
  if (isNaN(mastery)) mastery = 60;

  document.getElementById("practice").addEventListener("submit", function (event) {
    event.preventDefault();
    var inputs = document.querySelectorAll("input[data-field]");
    var right = 0;
    for (var i = 0; i < inputs.length; i += 1) {
      var input = inputs[i];
      var expected = String(checkDigit(input.getAttribute("data-field")));
      var ok = input.value.trim() === expected;
      var feedback = document.getElementById(input.id + "-feedback");
      feedback.className = "feedback " + (ok ? "correct" : "wrong");
      feedback.textContent = ok ? "Correct." : "Not quite: the check digit is " + expected + ".";
      if (ok) right += 1;
      if (api) {
        var n = String(i);
        api.LMSSetValue("cmi.interactions." + n + ".id", input.id);
        api.LMSSetValue("cmi.interactions." + n + ".type", "fill-in");
        api.LMSSetValue("cmi.interactions." + n + ".student_response", input.value.trim().slice(0, 1));
        api.LMSSetValue("cmi.interactions." + n + ".result", ok ? "correct" : "wrong");
      }
    }
    var score = Math.round((right / inputs.length) * 100);
    var passed = score >= mastery;
    document.getElementById("result").textContent =
      right + " of " + inputs.length + " right (" + score + "%): " + (passed ? "passed." : "try again.");
    if (api) {
      api.LMSSetValue("cmi.core.score.min", "0");
      api.LMSSetValue("cmi.core.score.max", "100");
      api.LMSSetValue("cmi.core.score.raw", String(score));
      api.LMSSetValue("cmi.core.lesson_status", passed ? "passed" : "failed");
      api.LMSCommit("");
    }
  });

  window.addEventListener("pagehide", function () {
    if (api) {
      api.LMSSetValue("cmi.core.exit", "suspend");
      api.LMSFinish("");
      api = null;
    }
  });
})();
