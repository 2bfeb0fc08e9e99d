// The page's style sheet: system fonts only (nothing is fetched from anywhere).
export const PAGE_CSS = `
:root{--bg:#101318;--panel:#181c23;--line:#262c36;--fg:#d7dde6;--dim:#7d8796;--accent:#6cb6ff;
--trace:#6e7681;--debug:#8b949e;--info:#3fb950;--warn:#d29922;--error:#f85149;--fatal:#ff7b72;
font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color-scheme:dark}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg)}
button,input,select{font:inherit;color:inherit;background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:2px 6px}
button{cursor:pointer}
a{color:var(--accent)}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:8px 12px;background:var(--panel);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:2}
h1{font-size:15px;margin:0}h1 span{color:var(--accent)}
.conn{color:var(--dim)}.conn.live{color:var(--info)}.conn.down{color:var(--error)}
.counters{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 0 auto}
.counters div{display:flex;gap:6px}.counters dt{color:var(--dim)}.counters dd{margin:0;font-weight:600}
.refused button{padding:0 6px;font-weight:600}.refused button.some{color:var(--warn);border-color:var(--warn)}
.refusals{margin:0;padding:6px 12px 6px 32px;background:#21191a;border-bottom:1px solid var(--line)}
.filters{display:flex;flex-wrap:wrap;align-items:center;gap:6px 12px;padding:8px 12px;border-bottom:1px solid var(--line)}
.filters label{display:flex;align-items:center;gap:6px;color:var(--dim)}.filters .grow{flex:1}.filters .grow input{flex:1;min-width:10em}
#f-trace{width:20em}
.shown{color:var(--dim)}
#pause.paused{color:var(--warn);border-color:var(--warn)}
.row{display:grid;grid-template-columns:7.5em 4.5em 9em 6.5em minmax(0,1fr);gap:0 10px;padding:1px 12px;border-bottom:1px solid #161a20;cursor:pointer}
.rows .row{content-visibility:auto;contain-intrinsic-size:auto 20px}
.row:hover,.row:focus{background:#161b22;outline:none}
.row.head{cursor:default;color:var(--dim);background:var(--bg);border-bottom:1px solid var(--line)}
.row>span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row .msg{white-space:pre-wrap;word-break:break-word}
.row .has-meta::after{content:" {…}";color:var(--dim)}
.row .time,.row .svc{color:var(--dim)}
.row .trace a{color:var(--accent);text-decoration:none}.row .trace a:hover{text-decoration:underline}
.meta{grid-column:1/-1;margin:2px 0 6px;padding:6px 8px;background:var(--panel);border:1px solid var(--line);border-radius:4px;white-space:pre-wrap;word-break:break-word;cursor:text}
.lvl{font-weight:600;text-transform:uppercase}
.lvl-trace{color:var(--trace)}.lvl-debug{color:var(--debug)}.lvl-info{color:var(--info)}.lvl-warn{color:var(--warn)}
.lvl-error{color:var(--error)}.lvl-fatal{color:var(--bg);background:var(--fatal);padding:0 3px;border-radius:3px}.lvl-other{color:var(--accent)}
.empty{color:var(--dim);padding:12px}
.trace-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 20px;padding:10px 12px;border-bottom:1px solid var(--line)}
.trace-head h2{font-size:14px;margin:0}#trace-summary{color:var(--dim)}
.timeline{padding:10px 12px 4px;border-bottom:1px solid var(--line)}
.lane{display:grid;grid-template-columns:10em minmax(0,1fr);align-items:center;height:26px}
.lane .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:600}
.track{position:relative;height:18px;background:#151920;border-radius:3px}
.span-bar{position:absolute;top:6px;height:6px;border-radius:3px;opacity:.35}
.mark{position:absolute;top:2px;width:8px;height:14px;margin-left:-4px;border-radius:2px;border:1px solid var(--bg)}
.mark.lvl-info{background:var(--info)}.mark.lvl-debug,.mark.lvl-trace{background:var(--debug)}.mark.lvl-warn{background:var(--warn)}
.mark.lvl-error,.mark.lvl-fatal{background:var(--error)}.mark.lvl-other{background:var(--accent)}
.gap-band{position:absolute;top:0;bottom:0;background:repeating-linear-gradient(135deg,transparent 0 4px,#ffffff14 4px 8px);border-left:1px dashed var(--dim);border-right:1px dashed var(--dim)}
.axis{position:relative;height:18px;margin-left:10em;color:var(--dim)}
.axis span{font-size:11px;position:absolute;transform:translateX(-50%);white-space:nowrap}.axis span:first-child{transform:none}.axis span:last-child{transform:translateX(-100%)}
.trace-rows .row{grid-template-columns:8em 4.5em 9em 5.5em minmax(0,1fr)}
.row .delta{color:var(--dim)}
.gap-row{padding:3px 12px;color:var(--warn);background:#1d1a12;border-bottom:1px solid #161a20}
`;
