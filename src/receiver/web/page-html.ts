// The page's markup: a fixed shell. Event data never goes through HTML: page-script.ts fills it in
// with textContent, and the Content-Security-Policy (serve.ts) allows no inline script at all.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Astralog dev receiver</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1>Astralog <span>dev</span></h1>
  <span id="conn" class="conn">connecting…</span>
  <dl class="counters">
    <div><dt>received</dt><dd id="c-received">0</dd></div>
    <div><dt>kept</dt><dd><span id="c-kept">0</span> / <span id="c-max">?</span></dd></div>
    <div><dt>dropped (oldest)</dt><dd id="c-dropped">0</dd></div>
    <div class="refused"><dt>refused</dt><dd><button type="button" id="c-refused" aria-expanded="false" title="requests refused, with the reason">0</button></dd></div>
    <div><dt>receiver memory</dt><dd id="c-memory">?</dd></div>
  </dl>
</header>
<ul id="refusals" class="refusals" hidden></ul>
<section id="tail-view">
  <form class="filters" id="filters" autocomplete="off">
    <label>service <select id="f-service"><option value="">all</option></select></label>
    <label>level <select id="f-level">
      <option value="">all</option><option value="5">debug +</option><option value="9">info +</option>
      <option value="13">warn +</option><option value="17">error +</option><option value="21">fatal</option>
    </select></label>
    <label class="grow">text <input id="f-text" type="search" placeholder="in message or metadata"></label>
    <label>trace_id <input id="f-trace" type="search" placeholder="exact id" spellcheck="false"></label>
    <button type="button" id="pause">Pause</button>
    <button type="button" id="clear" title="clear this page (the receiver keeps its events)">Clear</button>
    <span id="shown" class="shown"></span>
  </form>
  <div class="row head"><span>time (UTC)</span><span>level</span><span>service</span><span>trace</span><span>message</span></div>
  <div id="rows" class="rows"></div>
  <p id="empty" class="empty">No events yet. Point an app at this receiver: <code id="endpoint"></code></p>
</section>
<section id="trace-view" class="trace-view" hidden>
  <div class="trace-head">
    <a href="#" id="trace-back">← live tail</a>
    <h2>trace <code id="trace-id"></code></h2>
    <span id="trace-summary"></span>
  </div>
  <div id="timeline" class="timeline"></div>
  <div id="trace-rows" class="rows trace-rows"></div>
</section>
</body>
</html>
`;
