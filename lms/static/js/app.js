/* Academy LMS: progressive enhancement only. Every flow works without this file (docs/design.md).
   1 error summaries take focus · 2 offline reading and completions queued offline · 3 quiz autosave */
(function () {
  'use strict';
  var body = document.body;
  var user = body.getAttribute('data-user');
  // The page as the server sent it, before this script changes anything: saved for offline reading
  // without downloading it a second time.
  var pristine = '<!doctype html>\n' + document.documentElement.outerHTML;
  var texts = document.getElementById('js-text');
  function text(name, values) {
    var value = (texts && texts.getAttribute('data-' + name)) || '';
    Object.keys(values || {}).forEach(function (key) { value = value.replace('%(' + key + ')s', values[key]); });
    return value;
  }
  function status(element, message) {
    element.textContent = '';
    window.setTimeout(function () { element.textContent = message; }, 50); // a change screen readers notice
  }
  function liveRegion(className, after) {
    var region = document.createElement('p');
    region.className = className;
    region.setAttribute('role', 'status');
    after.insertAdjacentElement('afterend', region);
    return region;
  }

  /* 1. An error summary receives focus, so that it is read out and Tab continues from it. */
  var summary = document.getElementById('error-summary');
  if (summary) {
    summary.focus();
    // a #fragment in the address (the skip link's #main) moves focus again once the page has loaded
    window.addEventListener('load', function () {
      if (document.activeElement === body || document.activeElement === document.getElementById('main')) { summary.focus(); }
    });
  }

  /* A table wider than the screen (or taller than its box: the chart tables) scrolls inside its
     container: make that container reachable and named for keyboard users (arrow keys scroll it). */
  var labelTables = function () {
    var used = {};
    Array.prototype.forEach.call(document.querySelectorAll('.table-scroll'), function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute('tabindex')) {
        // named after the table's caption or its section's heading, "By country · Table": a name of its own
        var caption = box.querySelector('caption');
        var heading = (box.closest('section') || box.parentElement).querySelector('h2, h3');
        var title = caption || heading;
        var name = (title ? title.textContent.trim() + ' · ' : '') + (text('table') || 'Table');
        used[name] = (used[name] || 0) + 1;
        box.setAttribute('tabindex', '0');
        box.setAttribute('role', 'region');
        box.setAttribute('aria-label', used[name] > 1 ? name + ' ' + used[name] : name);
      } else if (!scrolls && box.getAttribute('tabindex') === '0') {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
      }
    });
  };
  labelTables();
  window.addEventListener('resize', function () { window.clearTimeout(labelTables.timer); labelTables.timer = window.setTimeout(labelTables, 200); });

  /* The admin menu group (a <details> in templates/base.html, usable without this): Escape closes it and
     returns to its summary, and a click elsewhere closes it. */
  var groups = document.querySelectorAll('.main-nav .nav-group > details');
  document.addEventListener('keydown', function (event) {
    var open = event.key === 'Escape' && event.target.closest && event.target.closest('.nav-group > details[open]');
    if (open) { open.open = false; open.querySelector('summary').focus(); }
  });
  document.addEventListener('click', function (event) {
    Array.prototype.forEach.call(groups, function (group) {
      if (group.open && !group.contains(event.target)) { group.open = false; }
    });
  });

  /* Lists of people to act on at once (certificates to issue, a run's queue, staff to nominate): a
     "Select all" box ticks or clears every box of its group that can be changed, and shows "some" while
     part of them is ticked. Without this file each box is ticked by hand, as before. */
  Array.prototype.forEach.call(document.querySelectorAll('[data-select-all]'), function (group) {
    var boxes = Array.prototype.filter.call(group.querySelectorAll('input[type=checkbox]'), function (box) {
      return !box.disabled;
    });
    if (boxes.length < 2) { return; }
    var line = document.createElement('p');
    var label = document.createElement('label');
    var all = document.createElement('input');
    line.className = 'select-all';
    label.className = 'checkbox';
    all.type = 'checkbox';  // no name: it is never sent
    label.appendChild(all);
    label.appendChild(document.createTextNode(text('select-all', { count: boxes.length })));
    line.appendChild(label);
    var first = group.firstElementChild;
    if (first && first.tagName === 'LEGEND') { first.insertAdjacentElement('afterend', line); } else { group.insertBefore(line, group.firstChild); }
    function show() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    all.addEventListener('change', function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    group.addEventListener('change', function (event) { if (event.target !== all) { show(); } });
    window.addEventListener('pageshow', show);  // the back button restores the boxes the person ticked
    show();
  });

  /* 2. Offline reading (signed-in people, browsers with service workers). */
  var PAGES = 'lms-pages-v1';
  var STATIC = 'lms-static-v1';
  var QUEUE = 'lms-offline-completions';
  var OWNER = 'lms-offline-owner';
  var swUrl = body.getAttribute('data-sw') || '/sw.js';
  var root = swUrl.replace(/sw\.js.*$/, '');
  var path = location.pathname;
  // the pages sw.js saves (a course, its lessons, "My courses"); the same paths as READABLE there
  var readable = path.indexOf(root) === 0 && /^(courses\/[^/]+(\/lessons\/\d+(\/play)?)?|dashboard)\/?$/.test(path.slice(root.length));
  // the academy's offline page, shown by sw.js in place of a page that was not saved
  var offlinePage = Boolean(document.querySelector('.offline-page'));
  var offlineCapable = Boolean(user && 'serviceWorker' in navigator && window.caches && window.localStorage);

  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || '{}'); } catch (error) { return {}; }
  }
  function saveQueue(queue) { localStorage.setItem(QUEUE, JSON.stringify(queue)); }

  function cacheAssets() {
    var urls = Array.prototype.map.call(
      document.querySelectorAll('link[rel="stylesheet"][href], script[src]'),
      function (element) { return element.href || element.src; });
    return caches.open(STATIC).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        return cache.match(url).then(function (hit) { return hit || cache.add(url); });
      }));
    });
  }

  function savePage(url) {
    // X-LMS-Prefetch: saving a lesson is not reading it (courses that complete lessons on reading)
    return fetch(url, { credentials: 'same-origin', headers: { 'X-LMS-Prefetch': '1' } }).then(function (response) {
      if (!response.ok || response.redirected) { throw new Error('not saved'); }
      return caches.open(PAGES).then(function (cache) { return cache.put(url.split('#')[0].split('?')[0], response); });
    });
  }

  // A package lesson (its player page, .../play): the server says which files to keep and where (the
  // package host, another origin), or why it cannot be saved (no package host, too large: the message is
  // shown). The files are stored by the package host's own page in a hidden frame (package-host.js), which
  // answers by postMessage; docs/packages-player.md "Offline".
  function savePackage(playUrl, packages) {
    return fetch(playUrl.replace(/\/play$/, '/package-offline'), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) { if (!response.ok) { throw new Error('no list'); } return response.json(); })
      .then(function (data) {
        if (!data.saved) { packages.refused.push(data.message); return null; }
        return caches.open(STATIC).then(function (cache) {
          return Promise.all(data.assets.map(function (url) {
            return cache.match(url).then(function (hit) { return hit || cache.add(url); });
          }));
        }).then(function () { return saveInPackageHost(data); });
      })
      .catch(function (error) {
        packages.failed += 1;
        if (window.console) { window.console.warn('package not saved for offline use:', error); }
      });
  }

  function saveInPackageHost(data) {
    var origin = new URL(data.host).origin;
    var frame = document.createElement('iframe');
    frame.hidden = true;
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    return new Promise(function (resolve, reject) {
      var timer = window.setTimeout(function () { finish(new Error('no answer')); }, 120000);
      function finish(error) {
        window.clearTimeout(timer);
        window.removeEventListener('message', listen);
        frame.remove();
        if (error) { reject(error); } else { resolve(); }
      }
      function listen(event) {
        if (event.source !== frame.contentWindow || event.origin !== origin || !event.data) { return; }
        if (event.data.lms === 'package-host-ready') {
          frame.contentWindow.postMessage({ lms: 'package-save', files: data.files }, origin);
        } else if (event.data.lms === 'package-saved') {
          finish(event.data.ok ? null : new Error(String(event.data.reason)));
        }
      }
      window.addEventListener('message', listen);
      frame.src = data.host;
      document.body.appendChild(frame);
    });
  }

  var flushing = false;
  function flushQueue() {
    if (!user || flushing || !navigator.onLine) { return; }
    var queue = loadQueue();
    var mine = Object.keys(queue).filter(function (url) { return queue[url].user === user; });
    if (!mine.length) { return; }
    flushing = true;
    var sent = 0;
    fetch(root + 'offline/token', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) { if (!response.ok) { throw new Error('no token'); } return response.json(); })
      .then(function (data) {
        return mine.reduce(function (previous, url) {
          return previous.then(function () {
            return fetch(url, {
              method: 'POST', credentials: 'same-origin', redirect: 'manual',
              headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
              body: 'csrf_token=' + encodeURIComponent(data.csrf_token)
            }).then(function (response) {
              // The server records a completion once, however often it is sent: a lost answer is
              // simply sent again next time. 400 (expired token) stays queued; 403/404 will not change.
              if (response.type === 'opaqueredirect' || response.ok || response.status === 403 || response.status === 404) {
                var current = loadQueue();
                delete current[url];
                saveQueue(current);
                sent += 1;
              }
            });
          });
        }, Promise.resolve());
      })
      .catch(function () { /* still offline or signed out: try again later */ })
      .then(function () {
        flushing = false;
        if (sent) {
          var note = document.querySelector('.pending-completion');
          if (note) { note.classList.remove('pending-completion'); status(note, text('sent')); }
          body.setAttribute('data-offline-sent', String(sent));
        }
      });
  }

  if (offlineCapable) {
    // Saved pages belong to the person who saved them: another sign-in on this computer starts afresh.
    if (localStorage.getItem(OWNER) !== user) {
      caches.delete(PAGES);
      localStorage.setItem(OWNER, user);
    }
    // The worker's scope was /courses/ before the dashboard was saved too: that registration would keep
    // the course pages (the narrower scope wins), so it goes.
    if (navigator.serviceWorker.getRegistrations) {
      navigator.serviceWorker.getRegistrations().then(function (registrations) {
        registrations.forEach(function (registration) {
          if (registration.scope === new URL(root + 'courses/', location.href).href) { registration.unregister(); }
        });
      }).catch(function () {});
    }
    navigator.serviceWorker.register(swUrl, { scope: root }).then(function () {
      // A page the worker did not serve (the first one read) is saved here; later ones the worker saves.
      if (readable && !offlinePage && navigator.onLine && !navigator.serviceWorker.controller) {
        var copy = new Response(pristine, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
        caches.open(PAGES).then(function (cache) { return cache.put(location.href.split('#')[0].split('?')[0], copy); });
        cacheAssets().catch(function () {});
      }
    }).catch(function () {});
    if (readable && !offlinePage) { // the offline page says itself that this page was not saved
      if (!navigator.onLine) {
        var flashes = document.querySelector('.flashes');
        if (flashes) { flashes.remove(); }
        var main = document.getElementById('main');
        var note = document.createElement('p');
        note.className = 'alert alert-info';
        note.textContent = text('saved-copy');
        main.insertBefore(note, main.firstChild);
      }
    }

    // "Save this course for offline reading" on the course page of an enrolled trainee.
    var lessonLinks = document.querySelectorAll('.course-page .outline a[href*="/lessons/"]');
    var progress = document.querySelector('.course-page .progress');
    if (lessonLinks.length && progress) {
      var panel = document.createElement('div');
      panel.className = 'offline-panel';
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'button button-secondary';
      button.textContent = text('save');
      panel.appendChild(button);
      var saveStatus = document.createElement('p');
      saveStatus.className = 'offline-status';
      saveStatus.setAttribute('role', 'status');
      panel.appendChild(saveStatus);
      progress.insertAdjacentElement('afterend', panel);
      button.addEventListener('click', function () {
        var urls = Array.prototype.map.call(lessonLinks, function (link) { return link.href; });
        urls.unshift(location.href);
        button.disabled = true;
        status(saveStatus, text('saving'));
        var saved = 0;
        var packages = { refused: [], failed: 0 };
        urls.reduce(function (previous, url) {
          return previous.then(function () {
            return savePage(url).then(function () { saved += 1; }, function () {}).then(function () {
              return /\/lessons\/\d+\/play$/.test(new URL(url).pathname) ? savePackage(url, packages) : null;
            });
          });
        }, cacheAssets().catch(function () {})).then(function () {
          button.disabled = false;
          var done = saved === urls.length && !packages.failed;
          status(saveStatus, (done ? text('saved', { count: lessonLinks.length - packages.refused.length }) : text('save-failed')) +
            (packages.refused.length ? ' ' + packages.refused.join(' ') : ''));
        });
      });
    }

    // Sign-out forgets the saved pages (shared computers at border posts); the next page, signed out,
    // makes sure of it (below).
    document.addEventListener('submit', function (event) {
      if (/\/logout$/.test(new URL(event.target.action, location.href).pathname)) { caches.delete(PAGES); }
    });
  } else if (!user && window.caches && window.localStorage && localStorage.getItem(OWNER)) {
    caches.delete(PAGES);
    localStorage.removeItem(OWNER);
  }

  // Mark-as-complete while offline: kept on this device (one entry per lesson), sent when back online.
  if (user && window.localStorage) {
    document.addEventListener('submit', function (event) {
      var form = event.target;
      if (navigator.onLine || !/\/lessons\/\d+\/complete$/.test(new URL(form.action, location.href).pathname)) { return; }
      event.preventDefault();
      var queue = loadQueue();
      queue[form.action] = { user: user, at: new Date().toISOString() };
      saveQueue(queue);
      var note = document.createElement('p');
      note.className = 'alert alert-info pending-completion';
      note.setAttribute('role', 'status');
      note.setAttribute('tabindex', '-1');
      form.replaceWith(note);
      status(note, text('queued'));
      note.focus();
    });
    window.addEventListener('online', flushQueue);
    flushQueue();
  }

  /* 3. Quiz answers save themselves a moment after each change (the Save button still works). */
  var quiz = document.querySelector('form.quiz-form');
  if (quiz && window.fetch && window.FormData) {
    var actions = quiz.querySelector('.quiz-actions');
    var saveNote = liveRegion('hint autosave-status', actions || quiz.lastElementChild);
    var timer = null;
    var autosave = function () {
      if (!navigator.onLine) { status(saveNote, text('quiz-offline')); return; }
      var data = new FormData(quiz);
      data.set('action', 'save');
      fetch(quiz.action, { method: 'POST', body: data, credentials: 'same-origin' }).then(function (response) {
        if (response.ok && !/\/review/.test(response.url)) {
          var now = new Date();
          var time = ('0' + now.getHours()).slice(-2) + ':' + ('0' + now.getMinutes()).slice(-2);
          status(saveNote, text('autosaved', { time: time }));
        }
      }).catch(function () { status(saveNote, text('quiz-offline')); });
    };
    var schedule = function () { window.clearTimeout(timer); timer = window.setTimeout(autosave, 1500); };
    quiz.addEventListener('change', schedule);
    quiz.addEventListener('input', schedule);
    quiz.addEventListener('submit', function () { window.clearTimeout(timer); });

    // One clock, the server's: the seconds left by the attempt's deadline when the page was made, counted
    // down here. The words on the page change in place (the server's words, minutes rounded up as there);
    // a hidden live region says them every 5 minutes, then at 2 and 1 minute (not every tick).
    var deadline = document.querySelector('.quiz-deadline[data-seconds-left]');
    if (deadline) {
      var ends = Date.now() + 1000 * Number(deadline.getAttribute('data-seconds-left'));
      var clockWords = deadline.getAttribute('data-text') || '';
      var clock = liveRegion('visually-hidden quiz-timer-announcement', deadline);
      var minutesLeft = function () { return Math.max(0, Math.ceil((ends - Date.now()) / 60000)); };
      var lastShown = minutesLeft();
      var lastSaid = lastShown; // the page says it already
      var tick = function () {
        var minutes = minutesLeft();
        var words = clockWords.replace('%(minutes)s', minutes);
        if (minutes !== lastShown && clockWords) { lastShown = minutes; deadline.textContent = words; }
        if (minutes !== lastSaid && (minutes % 5 === 0 || minutes <= 2)) { lastSaid = minutes; status(clock, words); }
        if (minutes > 0) { window.setTimeout(tick, 5000); }
      };
      tick();
    }

    // The question navigator marks each question answered or not as the answers change.
    var questionNav = document.querySelector('.quiz-navigator');
    if (questionNav) {
      var answeredCount = questionNav.querySelector('.quiz-answered-count');
      var isAnswered = function (section) {
        return Array.prototype.some.call(section.querySelectorAll('input, select, textarea'), function (field) {
          if (field.type === 'radio' || field.type === 'checkbox') { return field.checked; }
          return field.value.trim() !== '';
        });
      };
      var markAnswers = function () {
        var answered = 0;
        Array.prototype.forEach.call(questionNav.querySelectorAll('a[data-question]'), function (link) {
          var section = quiz.querySelector('section[aria-labelledby="' + link.getAttribute('data-question') + '-title"]');
          var done = Boolean(section && isAnswered(section));
          answered += done ? 1 : 0;
          link.classList.toggle('answered', done);
          link.classList.toggle('unanswered', !done);
          var label = link.querySelector('.visually-hidden');
          if (label) { label.textContent = link.getAttribute(done ? 'data-answered' : 'data-unanswered'); }
        });
        if (answeredCount) { answeredCount.textContent = answeredCount.getAttribute('data-text').replace('%(answered)s', answered); }
      };
      quiz.addEventListener('change', markAnswers);
      quiz.addEventListener('input', markAnswers);
    }
  }

  /* 4. Ordering questions: drag the items into order (mouse, touch or pen). The place drop-downs stay:
     they are the keyboard's way, and the only way without this script; a drop fills them in. */
  Array.prototype.forEach.call(document.querySelectorAll('ol.ordering'), function (list) {
    var items = Array.prototype.slice.call(list.children);
    var places = items.map(function (item) { return item.querySelector('select'); });
    if (!items.length || places.some(function (select) { return !select || select.disabled; })) { return; }
    list.classList.add('ordering-draggable');
    // the hint that mentions dragging replaces the one that does not
    var dragHint = list.previousElementSibling;
    if (dragHint && dragHint.classList.contains('drag-hint')) {
      dragHint.hidden = false;
      var plainHint = dragHint.previousElementSibling;
      if (plainHint && plainHint.classList.contains('hint')) { plainHint.hidden = true; }
    }
    // the order saved last time, as the drop-downs say it (items without a place keep theirs, at the end)
    items.map(function (item, index) { return { item: item, place: Number(item.querySelector('select').value) || 1000 + index }; })
      .sort(function (a, b) { return a.place - b.place; })
      .forEach(function (entry) { list.appendChild(entry.item); });

    var clearMarks = function () {
      Array.prototype.forEach.call(list.querySelectorAll('.drop-before'), function (item) { item.classList.remove('drop-before'); });
      list.classList.remove('drop-at-end');
    };
    items.forEach(function (item) {
      var handle = document.createElement('span');
      handle.className = 'drag-handle';
      handle.setAttribute('aria-hidden', 'true'); // the drop-down next to it is the accessible way
      item.insertBefore(handle, item.firstChild);
      handle.addEventListener('pointerdown', function (event) {
        if (event.button !== 0) { return; }
        event.preventDefault();
        handle.setPointerCapture(event.pointerId); // the item moves only on drop: capture is kept until then
        item.classList.add('dragging');
        var before = item.nextElementSibling;
        var move = function (moved) {
          before = null;
          var others = Array.prototype.filter.call(list.children, function (other) { return other !== item; });
          for (var i = 0; i < others.length; i += 1) {
            var box = others[i].getBoundingClientRect();
            if (moved.clientY < box.top + box.height / 2) { before = others[i]; break; }
          }
          clearMarks();
          if (before) { before.classList.add('drop-before'); } else { list.classList.add('drop-at-end'); }
        };
        var end = function (ended) {
          handle.removeEventListener('pointermove', move);
          handle.removeEventListener('pointerup', end);
          handle.removeEventListener('pointercancel', end);
          item.classList.remove('dragging');
          clearMarks();
          if (ended.type === 'pointercancel') { return; }
          list.insertBefore(item, before);
          Array.prototype.forEach.call(list.children, function (placed, index) {
            placed.querySelector('select').value = String(index + 1);
          });
          // as if the trainee had chosen the places: autosave and the navigator follow
          list.dispatchEvent(new Event('change', { bubbles: true }));
        };
        handle.addEventListener('pointermove', move);
        handle.addEventListener('pointerup', end);
        handle.addEventListener('pointercancel', end);
      });
    });
  });
}());
