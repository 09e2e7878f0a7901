/* The room's check-in screen (templates/sessions/attendance_screen.html, issue 20): the code rotates every
 * 30 seconds, so the page reloads when the one it shows is replaced. Without script, <noscript>'s
 * meta refresh does the same. */
(function () {
  'use strict';
  var screen = document.getElementById('check-in-screen');
  if (!screen) { return; }
  var left = Number(screen.getAttribute('data-seconds')) || 30;
  var countdown = document.getElementById('check-in-countdown');
  // "12 s" in the page's language (the template gives the pattern: Arabic reads it right to left).
  var format = (countdown && countdown.getAttribute('data-format')) || '__N__ s';
  function tick() {
    if (countdown) { countdown.textContent = format.replace('__N__', String(left)); }
    if (left <= 0) { window.location.reload(); return; }
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
}());
