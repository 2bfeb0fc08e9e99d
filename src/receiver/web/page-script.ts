// The page's script, plain DOM (no library, no build step). Rules it keeps:
// - event data only ever reaches the DOM as textContent, title or a URL-encoded href: never as HTML;
// - memory is bounded (the page keeps at most what the receiver keeps, the tail shows at most
//   MAX_ROWS rows) and rendering happens in batches, one per animation frame, so that a flood of
//   events cannot freeze the tab;
// - window.astralogRender records what each batch cost, DOM work and layout (for scripts/receiver-web-bench.ts).
// Written without template literals so that it can sit in a TypeScript template string as is.
export const PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var MAX_ROWS = 1000, ROWS_PER_FRAME = 250, RENDER_SAMPLES = 2000;
  var LEVELS = { trace: 1, debug: 5, info: 9, notice: 10, warn: 13, warning: 13, error: 17, fatal: 21, critical: 21, crit: 21, alert: 21, emergency: 21 };
  var CLASSES = { trace: 'trace', debug: 'debug', info: 'info', notice: 'info', warn: 'warn', warning: 'warn', error: 'error', fatal: 'fatal', critical: 'fatal', crit: 'fatal', alert: 'fatal', emergency: 'fatal' };
  var PALETTE = ['#6cb6ff', '#f0883e', '#a371f7', '#3fb950', '#db61a2', '#d29922', '#56d4dd', '#e6edf3'];
  var $ = function (id) { return document.getElementById(id); };

  var all = [];            // events in this page, oldest first (bounded by the receiver's maxEvents)
  var queue = [];          // matching events waiting to be rendered
  var lastSeq = 0, keep = 10000, paused = false, newWhilePaused = 0, frameAsked = false;
  var services = new Set();
  var filter = { service: '', level: 0, text: '', trace: '' };
  var render = window.astralogRender = { batches: 0, rows: 0, maxMs: 0, samples: [] };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function levelOf(ev) { var l = String(ev.level).toLowerCase(); return LEVELS[l] || 9; }
  function levelClass(ev) { return 'lvl lvl-' + (CLASSES[String(ev.level).toLowerCase()] || 'other'); }
  function shortTime(ts) { return ts.length >= 23 ? ts.slice(11, 23) : ts; }
  function hasMeta(ev) { return ev.metadata && typeof ev.metadata === 'object' && Object.keys(ev.metadata).length > 0; }
  // Milliseconds since the epoch, keeping the sub-millisecond digits RFC 3339 allows.
  function timeOf(ev) {
    if (ev._t !== undefined) return ev._t;
    var m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)$/i.exec(ev.timestamp);
    var t = m ? Date.parse(m[1] + m[3]) + (m[2] ? Number('0' + m[2]) * 1000 : 0) : Date.parse(ev.timestamp);
    return (ev._t = isNaN(t) ? 0 : t);
  }
  function haystack(ev) {
    if (ev._h === undefined) ev._h = (ev.message + ' ' + (hasMeta(ev) ? JSON.stringify(ev.metadata) : '')).toLowerCase();
    return ev._h;
  }
  function matches(ev) {
    return (!filter.service || ev.service === filter.service) &&
      (!filter.level || levelOf(ev) >= filter.level) &&
      (!filter.trace || ev.trace_id === filter.trace) &&
      (!filter.text || haystack(ev).indexOf(filter.text) !== -1);
  }
  function fmtMs(ms) {
    var a = Math.abs(ms);
    if (a === 0) return '0 ms';
    return a >= 1000 ? (ms / 1000).toFixed(a >= 10000 ? 1 : 2) + ' s' : a >= 10 ? ms.toFixed(0) + ' ms' : ms.toFixed(a >= 1 ? 1 : 3) + ' ms';
  }
  function traceCell(ev) {
    var cell = el('span', 'trace');
    if (ev.trace_id) {
      var a = el('a', null, ev.trace_id.slice(0, 8));
      a.href = '#trace=' + encodeURIComponent(ev.trace_id);
      a.title = 'trace ' + ev.trace_id + ': open the trace view';
      cell.appendChild(a);
    }
    return cell;
  }
  // One row; the metadata is built only when the row is opened.
  function row(ev, cells) {
    var r = el('div', 'row');
    for (var i = 0; i < cells.length; i++) r.appendChild(cells[i]);
    var msg = el('span', 'msg' + (hasMeta(ev) ? ' has-meta' : ''), ev.message);
    r.appendChild(msg);
    r._ev = ev;
    r.tabIndex = 0; // Enter opens it, as a click does
    return r;
  }
  function tailRow(ev) {
    var time = el('span', 'time', shortTime(ev.timestamp));
    time.title = ev.timestamp;
    return row(ev, [time, el('span', levelClass(ev), ev.level), el('span', 'svc', ev.service), traceCell(ev)]);
  }
  function toggleMeta(r) {
    var open = r.querySelector('.meta');
    if (open) { open.remove(); return; }
    var ev = r._ev, detail = { timestamp: ev.timestamp, level: ev.level, service: ev.service };
    if (ev.trace_id !== undefined) detail.trace_id = ev.trace_id;
    if (ev.project_id !== undefined) detail.project_id = ev.project_id;
    detail.received_at = ev.received_at;
    detail.metadata = ev.metadata || {};
    r.appendChild(el('pre', 'meta', JSON.stringify(detail, null, 2)));
  }
  function onRowsKey(e) {
    if (e.key === 'Enter' && e.target.classList.contains('row') && e.target._ev) toggleMeta(e.target);
  }
  function onRowsClick(e) {
    if (e.target.closest('a') || e.target.closest('.meta')) return;
    var r = e.target.closest('.row');
    if (r && r._ev) toggleMeta(r);
  }

  // ---- the live tail
  var rows = $('rows');
  function ask() { if (!frameAsked) { frameAsked = true; requestAnimationFrame(frame); } }
  function frame() {
    frameAsked = false;
    if (queue.length === 0) return;
    if (queue.length > MAX_ROWS) queue = queue.slice(-MAX_ROWS); // older ones would be pushed out at once
    var t0 = performance.now();
    var batch = queue.splice(0, ROWS_PER_FRAME);
    var frag = document.createDocumentFragment();
    for (var i = batch.length - 1; i >= 0; i--) frag.appendChild(tailRow(batch[i])); // newest on top
    rows.insertBefore(frag, rows.firstChild);
    while (rows.childElementCount > MAX_ROWS) rows.lastElementChild.remove();
    shown();
    void rows.offsetHeight; // the batch's style and layout, which the browser would do before painting anyway, count too
    var ms = performance.now() - t0;
    render.batches++; render.rows += batch.length; if (ms > render.maxMs) render.maxMs = ms;
    render.samples.push({ rows: batch.length, ms: ms, at: Date.now(), newest: batch[batch.length - 1].timestamp });
    if (render.samples.length > RENDER_SAMPLES) render.samples.splice(0, render.samples.length - RENDER_SAMPLES);
    if (queue.length > 0) ask();
  }
  function rebuild() {
    rows.textContent = '';
    queue = [];
    for (var i = all.length - 1; i >= 0 && queue.length < MAX_ROWS; i--) if (matches(all[i])) queue.push(all[i]);
    queue.reverse();
    shown();
    ask();
  }
  function shown() {
    $('empty').hidden = all.length > 0;
    $('shown').textContent = rows.childElementCount + ' shown of ' + all.length + ' in this page' + (paused ? ' · paused, ' + newWhilePaused + ' new' : '');
  }
  function addService(name) {
    if (services.has(name)) return;
    services.add(name);
    var select = $('f-service'), opt = el('option', null, name);
    opt.value = name;
    var after = null;
    for (var i = 1; i < select.options.length; i++) if (select.options[i].value > name) { after = select.options[i]; break; }
    select.insertBefore(opt, after);
  }
  function receive(batch) {
    var evs = batch.events;
    for (var i = 0; i < evs.length; i++) {
      var seq = batch.first + i, ev = evs[i];
      if (seq <= lastSeq) continue;
      lastSeq = seq;
      all.push(ev);
      addService(ev.service);
      if (traceOpen !== null && ev.trace_id === traceOpen) traceChanged();
      if (paused) newWhilePaused++;
      else if (matches(ev)) queue.push(ev);
    }
    // Amortised trims, not on every event; the queue too, as a hidden tab gets no animation frames.
    if (all.length > keep + 1000) all.splice(0, all.length - keep);
    if (queue.length > 2 * MAX_ROWS) queue.splice(0, queue.length - MAX_ROWS);
    if (!paused) ask();
    shown();
  }

  // ---- counters
  function stats(s) {
    $('c-received').textContent = s.received;
    $('c-kept').textContent = s.kept;
    $('c-max').textContent = s.maxEvents;
    $('c-dropped').textContent = s.dropped;
    var refused = $('c-refused');
    refused.textContent = s.refused.total;
    refused.classList.toggle('some', s.refused.total > 0);
    var list = $('refusals');
    list.textContent = '';
    s.refused.reasons.forEach(function (r) {
      list.appendChild(el('li', null, r.status + ' × ' + r.count + ' — ' + r.reason + ' (last ' + shortTime(r.last) + ')'));
    });
    if (s.memory) $('c-memory').textContent = (s.memory.rss / 1048576).toFixed(0) + ' MB rss, ' + (s.memory.heapUsed / 1048576).toFixed(0) + ' MB heap';
  }
  $('c-refused').addEventListener('click', function () {
    var list = $('refusals');
    list.hidden = !list.hidden;
    this.setAttribute('aria-expanded', String(!list.hidden));
  });

  // ---- filters, pause, clear
  function readFilters() {
    filter.service = $('f-service').value;
    filter.level = Number($('f-level').value) || 0;
    filter.text = $('f-text').value.trim().toLowerCase();
    filter.trace = $('f-trace').value.trim();
    rebuild();
  }
  ['f-service', 'f-level'].forEach(function (id) { $(id).addEventListener('change', readFilters); });
  ['f-text', 'f-trace'].forEach(function (id) { $(id).addEventListener('input', readFilters); });
  $('filters').addEventListener('submit', function (e) { e.preventDefault(); });
  $('pause').addEventListener('click', function () {
    paused = !paused;
    this.textContent = paused ? 'Resume' : 'Pause';
    this.classList.toggle('paused', paused);
    newWhilePaused = 0;
    if (!paused) rebuild(); else { queue = []; shown(); }
  });
  $('clear').addEventListener('click', function () { all = []; newWhilePaused = 0; rebuild(); });
  rows.addEventListener('click', onRowsClick);
  rows.addEventListener('keydown', onRowsKey);
  $('endpoint').textContent = 'ASTRALOG_ENDPOINT=' + location.origin;

  // ---- the trace view: every event of one trace, from the receiver, in time order, a lane per service
  var traceOpen = null, traceTimer = 0, traceAsked = 0;
  function openTrace(id) {
    traceOpen = id;
    $('tail-view').hidden = true;
    $('trace-view').hidden = false;
    $('trace-id').textContent = id;
    $('trace-summary').textContent = 'loading…';
    $('timeline').textContent = '';
    $('trace-rows').textContent = '';
    loadTrace();
  }
  function closeTrace() {
    traceOpen = null;
    $('trace-view').hidden = true;
    $('tail-view').hidden = false;
  }
  function traceChanged() { // new events of the open trace: reload once they settle
    clearTimeout(traceTimer);
    traceTimer = setTimeout(loadTrace, 300);
  }
  function loadTrace() {
    var id = traceOpen, n = ++traceAsked;
    fetch('/api/events?limit=100000&trace_id=' + encodeURIComponent(id)).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (body) {
      if (n === traceAsked && traceOpen === id) drawTrace(body.events);
    }, function (error) {
      if (n === traceAsked) $('trace-summary').textContent = 'could not load the trace: ' + error.message;
    });
  }
  function drawTrace(events) {
    var evs = events.map(function (ev, i) { ev._i = i; return ev; });
    evs.sort(function (a, b) { return timeOf(a) - timeOf(b) || a._i - b._i; });
    var timeline = $('timeline'), list = $('trace-rows');
    timeline.textContent = '';
    list.textContent = '';
    if (evs.length === 0) { $('trace-summary').textContent = 'no events of this trace in the receiver'; return; }
    var t0 = timeOf(evs[0]), t1 = timeOf(evs[evs.length - 1]), span = Math.max(t1 - t0, 0.001);
    var pct = function (t) { return ((t - t0) / span * 100) + '%'; };
    var lanes = new Map();
    evs.forEach(function (ev) {
      var lane = lanes.get(ev.service);
      if (!lane) {
        lane = { colour: PALETTE[lanes.size % PALETTE.length], first: timeOf(ev), last: timeOf(ev), events: [] };
        lanes.set(ev.service, lane);
      }
      lane.last = timeOf(ev);
      lane.events.push(ev);
    });
    // Gaps: silences of at least 1 ms that take half the trace, or four times the usual spacing;
    // shaded across every lane and marked in the list.
    var steps = [];
    for (var i = 1; i < evs.length; i++) steps.push(timeOf(evs[i]) - timeOf(evs[i - 1]));
    var usual = steps.slice().sort(function (a, b) { return a - b; })[Math.floor(steps.length / 2)] || 0;
    var gaps = [];
    steps.forEach(function (gap, j) {
      if (gap >= 1 && (gap >= span / 2 || (steps.length >= 3 && gap >= 4 * usual))) gaps.push({ from: timeOf(evs[j]), to: timeOf(evs[j + 1]), before: j + 1 });
    });
    lanes.forEach(function (lane, name) {
      var laneEl = el('div', 'lane'), label = el('span', 'name', name), track = el('div', 'track');
      laneEl.dataset.service = name;
      label.style.color = lane.colour;
      label.title = name + ': ' + lane.events.length + ' events';
      gaps.forEach(function (g) {
        var band = el('div', 'gap-band');
        band.style.left = pct(g.from);
        band.style.width = ((g.to - g.from) / span * 100) + '%';
        band.title = 'gap of ' + fmtMs(g.to - g.from);
        track.appendChild(band);
      });
      var bar = el('div', 'span-bar');
      bar.style.left = pct(lane.first);
      bar.style.width = 'max(2px, ' + ((lane.last - lane.first) / span * 100) + '%)';
      bar.style.background = lane.colour;
      track.appendChild(bar);
      lane.events.forEach(function (ev) {
        var mark = el('div', 'mark ' + levelClass(ev));
        mark.style.left = pct(timeOf(ev));
        mark.title = '+' + fmtMs(timeOf(ev) - t0) + ' ' + ev.level + ' ' + ev.message;
        track.appendChild(mark);
      });
      laneEl.appendChild(label);
      laneEl.appendChild(track);
      timeline.appendChild(laneEl);
    });
    var axis = el('div', 'axis');
    [0, 0.25, 0.5, 0.75, 1].forEach(function (f) {
      var tick = el('span', null, '+' + fmtMs(span * f));
      tick.style.left = (f * 100) + '%';
      axis.appendChild(tick);
    });
    timeline.appendChild(axis);
    var frag = document.createDocumentFragment(), g = 0;
    evs.forEach(function (ev, i) {
      if (g < gaps.length && gaps[g].before === i) {
        frag.appendChild(el('div', 'gap-row', '⋯ ' + fmtMs(gaps[g].to - gaps[g].from) + ' with no events ⋯'));
        g++;
      }
      var offset = el('span', 'time', '+' + fmtMs(timeOf(ev) - t0));
      offset.title = ev.timestamp;
      var svc = el('span', 'svc', ev.service);
      svc.style.color = lanes.get(ev.service).colour;
      var delta = el('span', 'delta', i === 0 ? '' : 'Δ ' + fmtMs(timeOf(ev) - timeOf(evs[i - 1])));
      var r = row(ev, [offset, el('span', levelClass(ev), ev.level), svc, delta]);
      r.dataset.service = ev.service;
      frag.appendChild(r);
    });
    list.appendChild(frag);
    $('trace-summary').textContent = evs.length + ' events from ' + lanes.size + (lanes.size === 1 ? ' service' : ' services') +
      ' (' + Array.from(lanes.keys()).join(', ') + ') over ' + fmtMs(t1 - t0);
  }
  $('trace-rows').addEventListener('click', onRowsClick);
  $('trace-rows').addEventListener('keydown', onRowsKey);
  function route() {
    var m = /^#trace=(.+)$/.exec(location.hash);
    if (m) openTrace(decodeURIComponent(m[1])); else closeTrace();
  }
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && traceOpen !== null) location.hash = ''; });
  route();

  // ---- the stream
  var conn = $('conn');
  var source = new EventSource('/api/stream');
  source.addEventListener('hello', function (m) {
    var hello = JSON.parse(m.data);
    keep = hello.maxEvents;
    if (hello.reset) { all = []; lastSeq = 0; rebuild(); }
  });
  source.addEventListener('events', function (m) { receive(JSON.parse(m.data)); });
  source.addEventListener('stats', function (m) { stats(JSON.parse(m.data)); });
  source.onopen = function () { conn.textContent = 'live'; conn.className = 'conn live'; };
  source.onerror = function () { conn.textContent = 'reconnecting…'; conn.className = 'conn down'; };
  shown();
})();
`;
