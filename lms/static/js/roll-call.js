/* The trainer's roll call on a phone (templates/sessions/roll_call.html, issue 20).
 *
 * Without this script the page is a plain form. With it, every mark is kept in localStorage as soon as it
 * is chosen ("saved on the device, not sent yet") and sent as JSON with the page's CSRF token and the time
 * it was taken; the server keeps the register idempotent, so a mark sent twice changes nothing. Offline,
 * the page says so and the queue waits for the `online` event or the next load of the page.
 */
(function () {
  'use strict';
  var form = document.getElementById('roll-call');
  if (!form || !window.fetch || !window.localStorage) { return; }
  var offlineNote = document.getElementById('roll-call-offline');
  var csrf = form.querySelector('input[name="csrf_token"]');
  var user = document.body.getAttribute('data-user') || '';
  var KEY = 'lms.roll-call.' + user + '.' + form.getAttribute('data-session');
  var PARTIAL = { late: true, left_early: true };

  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (error) { return {}; }
  }
  function saveQueue(queue) {
    if (Object.keys(queue).length) { localStorage.setItem(KEY, JSON.stringify(queue)); } else { localStorage.removeItem(KEY); }
  }
  function line(enrolmentId) { return form.querySelector('.roll-call-line[data-enrolment="' + enrolmentId + '"]'); }
  function say(enrolmentId, key, extra) {
    var item = line(enrolmentId);
    if (!item) { return; }
    var state = item.querySelector('.roll-call-state');
    state.textContent = form.getAttribute('data-' + key) + (extra ? ' · ' + extra : '');
    item.setAttribute('data-state', key);
  }
  function showOffline() { if (offlineNote) { offlineNote.hidden = navigator.onLine; } }

  function markOf(item) {
    var chosen = item.querySelector('input[type="radio"]:checked');
    if (!chosen) { return null; }
    var minutes = item.querySelector('input[type="number"]').value;
    return {
      enrolment_id: Number(item.getAttribute('data-enrolment')),
      status: chosen.value,
      minutes: PARTIAL[chosen.value] && minutes !== '' ? Number(minutes) : null,
      taken_at: new Date().toISOString()
    };
  }

  function keep(item) {
    var mark = markOf(item);
    if (!mark) { return; }
    if (PARTIAL[mark.status] && mark.minutes === null) { say(mark.enrolment_id, 'need-minutes'); return; }
    var queue = loadQueue();
    queue[mark.enrolment_id] = mark;
    saveQueue(queue);
    say(mark.enrolment_id, 'pending');
    flush();
  }

  var sending = false;
  function flush() {
    showOffline();
    if (sending || !navigator.onLine) { return; }
    var ids = Object.keys(loadQueue());
    if (!ids.length) { return; }
    sending = true;
    ids.reduce(function (previous, id) {
      return previous.then(function () { return send(id); });
    }, Promise.resolve()).catch(function () { /* offline again: the queue waits */ }).then(function () {
      sending = false;
      showOffline();
      // a mark chosen while these were on their way
      if (navigator.onLine && Object.keys(loadQueue()).some(function (id) { return ids.indexOf(id) < 0; })) { flush(); }
    });
  }

  function send(id) {
    var mark = loadQueue()[id];
    if (!mark) { return Promise.resolve(); }
    return fetch(form.getAttribute('data-marks-url'), {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRFToken': csrf ? csrf.value : '' },
      body: JSON.stringify({ marks: [mark] })
    }).then(function (response) {
      var json = (response.headers.get('Content-Type') || '').indexOf('json') >= 0;
      function forget() {
        var queue = loadQueue();
        if (queue[id] && queue[id].taken_at === mark.taken_at) { delete queue[id]; saveQueue(queue); }
      }
      if (!json) {
        // 403/404 will not change: drop the mark. Anything else (a refused token, the sign-in page after
        // the session ended) keeps it queued for the next load of the page.
        if (response.status === 403 || response.status === 404) { forget(); say(id, 'failed'); return; }
        throw new Error('not answered');
      }
      return response.json().then(function (answer) {
        forget();
        if (!response.ok) { say(id, 'failed', answer.error || ''); return; }
        say(id, answer.newer_kept && answer.newer_kept.length ? 'kept' : 'sent', answer.warning || '');
      });
    });
  }

  // The marks still on this device from before (sent on this load), shown on their lines.
  var waiting = loadQueue();
  Object.keys(waiting).forEach(function (id) {
    var item = line(id);
    if (!item) { return; }
    var radio = item.querySelector('input[type="radio"][value="' + waiting[id].status + '"]');
    if (radio) { radio.checked = true; }
    if (waiting[id].minutes !== null) { item.querySelector('input[type="number"]').value = waiting[id].minutes; }
    say(id, 'pending');
  });

  form.addEventListener('change', function (event) {
    var item = event.target.closest('.roll-call-line');
    if (item) { keep(item); }
  });
  window.addEventListener('online', flush);
  window.addEventListener('offline', showOffline);
  flush();
}());
