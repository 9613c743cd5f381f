/* The shared core and the phone's own code: docs/architecture.md, "Front end". */
import { io } from "../vendor/socket.io.esm.min.js";

export const doc = document;
export const body = doc.body;
const LANG = doc.documentElement.lang || "fr";
export const T = readJSON("i18n") || {};
export const BT = readJSON("i18n-boards") || {};  // idea walls and Q&A
export const WC = T.wc || {};                       // word clouds
doc.documentElement.className += " js";

// --- small helpers

export function $(id) { return doc.getElementById(id); }

export function readJSON(id) {
  var node = doc.getElementById(id);
  if (!node) return null;
  try { return JSON.parse(node.textContent); } catch (e) { return null; }
}

/* h("p", "class", "text"); children: add(). */
export function h(tag, cls, text) {
  var el = doc.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

export function add(parent) {
  for (var i = 1; i < arguments.length; i++) {
    var child = arguments[i];
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? doc.createTextNode(child) : child);
  }
  return parent;
}

export function attr(el, values) {
  for (var k in values) if (values.hasOwnProperty(k)) el.setAttribute(k, values[k]);
  return el;
}

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

/* `nodes` become `parent`'s children, but a child already there that is the same (isEqualNode)
   stays: a push that changes nothing of an item leaves its buttons in place, so a tap under way
   (pressed on a button, released on its replacement: no click at all) is not lost. A child is
   matched by its `data-key` (an item others came before, or that moved), else by its place
   among the children without one. A keyed element that changed, but kept its tag and
   attributes, stays too, its children matched the same way: a count that changed does not
   redraw the buttons beside it. What a user typed or checked is in properties, not attributes:
   a field kept keeps it. Nodes already in place are not moved. `kept(old, new)`, if given, is
   told of each node kept in place of a new one it visits (to carry over what is not markup). */
export function keepSame(parent, nodes, kept) {
  var had = Array.prototype.slice.call(parent.childNodes), oldKeys = keysOf(had), newKeys = keysOf(nodes), byKey = {};
  had.forEach(function (c, i) { if (!byKey[oldKeys[i]]) byKey[oldKeys[i]] = c; });
  var want = nodes.map(function (node, i) {
    var was = byKey[newKeys[i]];
    if (!was) return node;
    delete byKey[newKeys[i]];
    if (!was.isEqualNode(node)) {
      if (newKeys[i].charAt(0) !== "k" || !was.cloneNode(false).isEqualNode(node.cloneNode(false))) return node;
      keepSame(was, Array.prototype.slice.call(node.childNodes), kept);
    }
    if (kept) kept(was, node);
    return was;
  });
  var keep = new Set(want);
  had.forEach(function (c) { if (!keep.has(c)) parent.removeChild(c); });
  want.forEach(function (node, i) {
    var at = parent.childNodes[i];
    if (at !== node) parent.insertBefore(node, at || null);
  });
}

/* `el` becomes `fresh` (its attributes, then its children by keepSame), staying the same node. */
export function morph(el, fresh, kept) {
  Array.prototype.slice.call(el.attributes).forEach(function (a) { if (!fresh.hasAttribute(a.name)) el.removeAttribute(a.name); });
  Array.prototype.forEach.call(fresh.attributes, function (a) { el.setAttribute(a.name, a.value); });
  keepSame(el, Array.prototype.slice.call(fresh.childNodes), kept);
}

function keysOf(nodes) {
  var unkeyed = 0;
  return nodes.map(function (n) {
    var key = n.nodeType === 1 && n.getAttribute("data-key");
    return key ? "k" + key : "u" + (unkeyed++) + n.nodeName;
  });
}

export function closest(el, test) {
  while (el && el !== doc) {
    if (el.nodeType === 1 && test(el)) return el;
    el = el.parentNode;
  }
  return null;
}

export function hasClass(el, cls) { return (" " + el.className + " ").indexOf(" " + cls + " ") >= 0; }

export function fill(text, values) {
  return String(text).replace(/\{(\w+)\}/g, function (m, key) {
    return values[key] !== undefined && values[key] !== null ? values[key] : m;
  });
}

export function plural(n) { return LANG === "fr" ? (n > 1 ? 1 : 0) : (n === 1 ? 0 : 1); }

export function counted(key, n) {
  var forms = T[key] || ["{n}", "{n}"];
  return fill(forms[plural(n)], { n: n });
}

// Same rounding as the server (Python and Babel round half to even).
function round(x) {
  var r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) r -= 1;
  return r;
}

function share(part, whole) { return whole ? Math.max(0, Math.min(100, round(part * 100 / whole))) : 0; }

function percent(part, whole) { return fill(T.percent || "{n}%", { n: share(part, whole) }); }

function decimal(x) { return x.toFixed(1).replace(".", T.decimal || "."); }

export function newId() {
  var bytes = [], i, out = "";
  if (window.crypto && window.crypto.getRandomValues) {
    var buf = new Uint8Array(12);
    window.crypto.getRandomValues(buf);
    for (i = 0; i < buf.length; i++) bytes.push(buf[i]);
  } else {
    for (i = 0; i < 12; i++) bytes.push(Math.floor(Math.random() * 256));
  }
  for (i = 0; i < bytes.length; i++) out += (bytes[i] + 256).toString(16).slice(1);
  return out;
}

/* A message in #flash (an error: role=alert). */
export function notify(text, isError) {
  var box = $("flash");
  if (!box) return;
  clear(box);
  if (!text) return;
  var p = h("p", "notice " + (isError ? "notice-error" : "notice-ok"), text);
  if (isError) p.setAttribute("role", "alert");
  box.appendChild(p);
}

export function say(text) {  // for screen readers only
  var sr = $("sr");
  if (sr) sr.textContent = text;
}

export function errorText(ack) {
  return ack && ack.error && ack.error.message ? ack.error.message : T.no_reply;
}

// --- the socket

/* The page's one socket (handlers: snapshot, state, results, connect, refused). */
export function connect(auth, handlers) {
  auth.lang = LANG;
  // Back-off: 0.5 s doubling to 2 s, each delay +/- 50 % (socket.io's default: 1 s to 5 s). A
  // phone is back within 2 s of the server; the herd this lets in at once waits in the
  // server's connect gate (docs/performance.md, "The reconnect storm").
  var socket = io({ auth: auth, transports: ["websocket", "polling"], tryAllTransports: true,
                    reconnectionDelay: 500, reconnectionDelayMax: 2000 });
  var conn = $("conn");
  var timer = null;

  function lost() {
    if (!timer) timer = setTimeout(function () { if (conn) conn.hidden = false; }, 1500);
  }
  function back() {
    clearTimeout(timer);
    timer = null;
    if (conn) conn.hidden = true;
  }

  socket.on("connect", function () {
    back();
    if (handlers.connect) handlers.connect();
  });
  var askedWhy = false;
  socket.on("disconnect", function (reason) {
    lost();
    // Cut by the server (this page's link was replaced): connect once more to be told why.
    if (reason === "io server disconnect" && !askedWhy) { askedWhy = true; socket.connect(); }
  });
  socket.on("connect_error", function (err) {
    if (socket.active) { lost(); return; }  // a network problem: the client retries by itself
    back();  // refused by the server (ended session, bad link...): retrying will not help
    var text = err && err.message && err.message.charAt(0) !== "{" ? err.message : T.refused;
    if (err && err.data && err.data.message) text = err.data.message;
    notify(text, true);
    if (handlers.refused) handlers.refused(err.data);
    // A page without a message area (the projected screen) says it where it shows the connection.
    if (!$("flash") && conn) { conn.textContent = text; conn.hidden = false; }
  });
  if (handlers.snapshot) socket.on("snapshot", handlers.snapshot);
  if (handlers.state) socket.on("state", handlers.state);
  if (handlers.results) socket.on("results", handlers.results);
  return socket;
}

/* What the server refused for good (the session ended, the activity closed...) stays on the
   phone with its text, until the participant clears the list: docs/architecture.md. */
var unsentKept = {};  // where localStorage refuses (a private mode): for this page's life
function unsent(key, more) {
  var name = key + ":unsent", list;
  try { list = unsentKept[name] || JSON.parse(localStorage.getItem(name)) || []; } catch (e) { list = []; }
  if (more && more.length) {
    list = list.concat(more).slice(-20);
    try { localStorage.setItem(name, JSON.stringify(list)); } catch (e) { unsentKept[name] = list; }
  }
  return list;
}

function showUnsent(key, box) {  // in its own part of `box`, drawn again only when it changes
  var list = unsent(key), part = box.querySelector(".unsent"), sig = JSON.stringify(list);
  if (!part) part = box.insertBefore(h("div", "unsent"), box.firstChild);
  if (part.getAttribute("data-sig") === sig) return;
  part.setAttribute("data-sig", sig);
  clear(part);
  list.forEach(function (it) { part.appendChild(attr(h("p", "notice notice-error", fill(T.ob_refused, { what: it.l, why: it.why })), { role: "alert" })); });
  if (!list.length) return;
  var button = attr(h("button", "btn", T.ob_clear), { type: "button" });
  button.addEventListener("click", function () {
    delete unsentKept[key + ":unsent"];
    try { localStorage.removeItem(key + ":unsent"); } catch (e) { /* private mode */ }
    showUnsent(key, box);
  }, false);
  part.appendChild(button);
}

/* The send queue, the participant's outbox: docs/architecture.md. */
var AGAIN = /busy|full|stopping|server_error|rate_limited|too_fast/;

export function sendQueue(socket) { return outbox(socket, null); }

export function outbox(socket, key) {
  var memory = key ? null : [], busy = null, seq = 0, tries = 0, sent = 0, timer, calls = {}, hooks = [], told = [], shown;
  function load() {
    try { return memory || JSON.parse(localStorage.getItem(key)) || []; } catch (e) { return memory = []; }
  }
  function save(items) {
    try {
      if (memory) throw 0;
      if (items.length) localStorage.setItem(key, JSON.stringify(items)); else localStorage.removeItem(key);
    } catch (e) { memory = items; }
  }
  function drop(cid) { save(load().filter(function (it) { return it.p.cid !== cid; })); }
  function draw() {
    var box = key && $("outbox"), lines = told.concat(load().map(function (it) {
      return [fill(T.ob_queued, { what: it.l }), "warn"];
    }));
    if (!box) return;
    showUnsent(key, box);
    if (shown === (shown = JSON.stringify(lines))) return;
    while (box.lastChild && box.lastChild !== box.firstChild) box.removeChild(box.lastChild);
    lines.forEach(function (line) { box.appendChild(h("p", line[1], line[0])); });
  }
  function answered(it, ack) {
    var op = calls[it.p.cid] || {};
    delete calls[it.p.cid];
    drop(it.p.cid);
    if (ack.ok && op.done) op.done(ack);
    else if (!ack.ok && op.failed) op.failed(ack);
    else if (!ack.ok && !key) notify(errorText(ack), true);
    hooks.forEach(function (fn) { fn(it, ack); });
    if (ack.ok) told = told.slice(-2).concat([[fill(T.ob_sent, { what: it.l }), "notice notice-ok"]]);
    else if (key) unsent(key, [{ l: it.l, why: errorText(ack) }]);
  }
  function pump() {
    var it = load()[0], op = it && calls[it.p.cid] || {};
    if (busy || !it || !socket.connected) { draw(); return; }
    clearTimeout(timer);
    var mine = ++seq;
    busy = it.p.cid;
    draw();
    socket.timeout(key ? 10000 : 8000).emit(it.e, it.p, function (err, ack) {
      if (mine !== seq) return;  // cut meanwhile
      busy = null;
      if (err && !key && ++sent >= (op.tries || 3)) ack = true;  // no answer: given up
      else if (err || (!ack.ok && AGAIN.test(ack.error && ack.error.code) && ++tries < 20)) {
        timer = setTimeout(pump, Math.min(15000, 500 + 1000 * tries));
        draw();
        return;
      }
      tries = sent = 0;
      answered(it, ack);
      pump();
    });
  }
  socket.on("connect", pump);
  socket.on("disconnect", function () { seq++; busy = null; draw(); });
  window.addEventListener("storage", function (e) { if (key && e.key === key) pump(); });  // another tab
  draw();
  return {
    push: function (op) {
      var items = load().filter(function (it) { return !op.replace || it.r !== op.replace || it.p.cid === busy; });
      if (items.length >= 30) return false;
      items.push({ e: op.event, p: op.payload, l: op.label, r: op.replace });
      save(items);
      calls[op.payload.cid] = op;
      told = [];
      pump();
      return true;
    },
    items: load,
    on: function (fn) { hooks.push(fn); },
    clear: function () { save([]); },
    get busy() { return busy !== null || load().length > 0; },
    refuseAll: function (ack) { load().forEach(function (it) { answered(it, ack); }); draw(); }
  };
}

/* JSON with sorted keys: the same data, the same text. */
export function canonical(value) {
  return JSON.stringify(value, function (key, v) {
    if (!v || typeof v !== "object" || Array.isArray(v)) return v;
    var out = {};
    Object.keys(v).sort().forEach(function (k) { out[k] = v[k]; });
    return out;
  });
}

/* A push may not replace a newer view of the same session. */
export function newer(current, incoming) {
  return !current || !incoming.session || current.session.id !== incoming.session.id ||
    incoming.version >= current.version;
}

// --- results
/* Result markup: the server's <template>s, cloned and filled (docs/architecture.md). */

// "(9 phone + 12 paper)" after a bar's total when paper counts were entered (docs/protocol.md)
function paperDetail(x) { return x.paper ? " (" + fill(T.paper_detail, { phone: x.phone, paper: x.paper }) + ")" : ""; }

function resultRows(a, mine) {
  var r = a.results, rows = [];
  mine = mine || [];
  if (a.type === "ranking") {
    var order = r.options.map(function (o, i) { return { o: o, i: i }; });
    order.sort(function (x, y) { return (y.o.score - x.o.score) || (x.i - y.i); });
    order.forEach(function (x) {
      rows.push({ label: x.o.label, value: counted("points", x.o.score), width: share(x.o.score, r.max_score) });
    });
  } else if (a.type === "scale") {
    var s = a.settings || {}, last = r.buckets.length - 1;
    r.buckets.forEach(function (b, i) {
      var end = i === 0 ? s.label_low : (i === last ? s.label_high : "");
      rows.push({ label: b.value + (end ? " · " + end : ""), value: b.count + " · " + percent(b.count, r.total) + paperDetail(b),
                  width: share(b.count, r.total), mine: mine[0] === b.value });
    });
  } else {
    r.options.forEach(function (o) {
      rows.push({ label: o.label, value: o.count + " · " + percent(o.count, r.total) + paperDetail(o),
                  width: share(o.count, r.total), mine: mine.indexOf(o.id) >= 0 });
    });
  }
  return rows;
}

function cloneTemplate(id) {
  var tpl = $(id);
  return tpl ? tpl.content.firstElementChild.cloneNode(true) : null;
}

function setBar(bar, row) {
  bar.querySelector(".bar-value").textContent = row.value;
  bar.querySelector(".bar-fill").className = "bar-fill w" + row.width;
}

function barNode(row) {
  var bar = cloneTemplate("tpl-bar"), label = bar.querySelector(".bar-label");
  label.insertBefore(doc.createTextNode(row.label), label.firstChild);
  if (!row.mine) {
    bar.classList.remove("mine");
    label.removeChild(label.querySelector(".vh"));
  }
  setBar(bar, row);
  return bar;
}

function meanText(a) {
  var r = a.results;
  return a.type === "scale" && r.mean !== null && r.mean !== undefined ?
    fill(T.mean, { mean: decimal(r.mean), max: a.settings.scale_max }) : null;
}

function resultsNode(a, rows, cls) {
  var box = cloneTemplate(a.type === "ranking" ? "tpl-results-ranked" : "tpl-results");
  if (!box) return null;
  if (cls) box.className += " " + cls;
  var list = box.querySelector(".bars"), mean = box.querySelector(".mean"), text = meanText(a);
  rows.forEach(function (row) { list.appendChild(barNode(row)); });
  if (mean && text) mean.textContent = text;
  else if (mean) box.removeChild(mean);
  return box;
}

/* Poll `a`'s results into `old`, in place if the rows are the same; the node on the page. */
export function patchResults(old, a, mine, cls) {
  if (!a.results || a.kind !== "poll") {
    if (old) old.parentNode.removeChild(old);
    return null;
  }
  var rows = resultRows(a, mine), bars = old ? old.querySelectorAll(".bar") : [];
  var same = !!old && bars.length === rows.length && !old.querySelector(".mean") === !meanText(a);
  for (var i = 0; same && i < rows.length; i++) {
    var label = bars[i].querySelector(".bar-label").firstChild;
    same = !!label && label.nodeValue === rows[i].label && bars[i].classList.contains("mine") === !!rows[i].mine;
  }
  if (!same) {
    var fresh = resultsNode(a, rows, cls);
    if (old && fresh) old.parentNode.replaceChild(fresh, old);
    return fresh;
  }
  for (i = 0; i < rows.length; i++) setBar(bars[i], rows[i]);
  var mean = old.querySelector(".mean");
  if (mean) mean.textContent = meanText(a);
  return old;
}

// --- idea walls and Q&A

export function isBoard(a) { return !!a && (a.kind === "ideas" || a.kind === "questions"); }

// "Vote: <text>", "1: <label>": the colon as the page's language writes it
export function actionOn(action, text) { return fill(T.action_on, { action: action, text: text }); }

export function bCount(key, n) { return fill((BT[key] || ["{n}", "{n}"])[plural(n)], { n: n }); }

/* Counts and order of a `results` push into the view's items. */
export function boardResults(a, r) {
  if (!a || !a.items || !r || !r.votes) return false;
  var before = JSON.stringify(a.items), pos = {};
  (r.order || []).forEach(function (id, i) { pos[id] = i; });
  a.items.forEach(function (i) { i.votes = r.votes[String(i.id)] || 0; });
  a.items.sort(function (x, y) {
    var px = pos.hasOwnProperty(x.id) ? pos[x.id] : 1e6, py = pos.hasOwnProperty(y.id) ? pos[y.id] : 1e6;
    return (px - py) || (x.id - y.id);
  });
  return JSON.stringify(a.items) !== before;
}

// --- word clouds

export function wcEntries(n) { return fill((WC.entries || ["{n}", "{n}"])[plural(n)], { n: n }); }

export function wcFrozen(a) { return !!(a && a.settings && a.settings.frozen !== undefined && a.settings.frozen !== null); }

export function hidden(name, value) { return attr(h("input"), { type: "hidden", name: name, value: value }); }

// --- participant page

function participantPage() {
  var code = body.getAttribute("data-code");
  var view = readJSON("view");
  var stage = $("stage");
  var mine = {};          // activity id -> stored choice (from snapshots and acks)
  var shownKey = null, shownId = null, shownState = null;

  /* Idea walls, Q&A: board-phone.js comes when the wall changes or is touched. */
  var board = null, boardLoading = false, heldSubmit = null;
  var served = isBoard(view.current) && $("board") ? canonical(view.current) : null;
  var socket = connect({ code: code }, {
    snapshot: function (v) { accept(v, true); },
    state: function (v) { accept(v, false); },
    results: onResults,
    refused: function (why) { if (why && /ended|unknown/.test(why.code)) box.refuseAll({ error: why }); }
  });
  var box = outbox(socket, "palabre:" + code + ":" + body.getAttribute("data-me"));
  box.on(function (it, ack) {
    if (!ack.ok) return;
    if (it.e === "vote") { mine[it.p.activity] = ack.choice; saved(it.p.activity); }
    else if (ack.mine) mine[it.p.activity] = ack.mine;
    if (!board && isBoard(view.current)) loadBoard();  // it draws what was stored
  });
  socket.on("board_mine", function (data) {
    if (board) board.mine(data);
    else if (data) { mine[data.activity] = data.mine; served = null; render(); }
  });
  remember(view, true);
  render();
  showTimer();
  /* The room's pulse: pulse-phone.js comes when it is switched on here, touched, or its hand moves. */
  var pulse = null;
  function withPulse(fn, failed) {
    (pulse = pulse || import("./pulse-phone.js").then(function (m) { return m.pulsePhone(socket, box); }))
      .then(fn, function () { pulse = null; if (failed) failed(); });
  }
  function showPulse(p, own) {
    var el = $("pulse");
    if (!p) return;
    if (pulse || (p.on && !el) || (own && el && el.getAttribute("data-hand") !== (p.hand ? p.hand.ticket + ":" + p.hand.place : "")))
      withPulse(function (w) { w.show(p, own); });
    else if (el) el.hidden = !p.on;
  }
  socket.on("pulse", function (p) { showPulse(p, true); });
  var pressed = null;  // the button that sends a form where `submitter` is unknown (older browsers)
  ["focusin", "pointerdown", "submit"].forEach(function (type) {
    body.addEventListener(type, function (e) {
      var form = e.target, el = $("pulse");
      if (!el || !el.contains(form)) return;
      if (type !== "submit") { if (form.tagName === "BUTTON") pressed = form; return withPulse(function () {}); }
      e.preventDefault();
      var button = e.submitter || pressed;
      withPulse(function (w) { w.submit(form, button); }, function () {
        if (button && button.name) form.appendChild(hidden(button.name, button.value));
        form.submit();  // no module: the plain form
      });
    }, true);
  });
  var clouds = null, cloudsLoading = false;  // word clouds: wordcloud.js, loaded when one is on screen
  if ($("wordcloud")) loadClouds();
  stage.addEventListener("submit", onSubmit, false);
  stage.addEventListener("click", onClick, false);
  stage.addEventListener("change", onChange, false);
  ["focusin", "pointerdown"].forEach(function (type) {
    stage.addEventListener(type, function () {
      if (type === "pointerdown") pressing = true;
      if (!board && isBoard(view.current)) loadBoard();
    }, true);
  });
  /* The module redraws the wall: not while a finger is on one of its buttons (the tap would be
     lost with the button); once the tap's click (and the form's submit, in the same dispatch) is by. */
  var pressing = false, afterTap = [], lifted = null;
  function tapDone() {
    var fns = afterTap;
    pressing = false;
    afterTap = [];
    clearTimeout(lifted);
    doc.removeEventListener("click", tapDone, true);
    fns.forEach(function (fn) { setTimeout(fn, 0); });
  }
  doc.addEventListener("pointercancel", tapDone, true);  // a scroll: no click comes
  doc.addEventListener("pointerup", function () {  // a touch's click may come a task later
    if (!pressing) return;
    doc.addEventListener("click", tapDone, true);
    clearTimeout(lifted);
    lifted = setTimeout(tapDone, 400);  // lifted elsewhere: no click
  }, true);
  function whenLifted(fn) {
    if (!pressing) return fn();
    afterTap.push(fn);
    setTimeout(function () { if (afterTap.length) tapDone(); }, 1500);  // a lift never seen
  }

  function loadClouds() {
    if (cloudsLoading) return;
    cloudsLoading = true;
    import("./wordcloud.js").then(function (m) {
      clouds = m.wordcloudPhone(socket, view, mine, box);
      render();
    }, function () { cloudsLoading = false; });  // the next push tries again
  }

  var timer;  // timer.js, loaded once a timer runs
  function showTimer() {
    if (timer || (view.current || {}).timer) (timer = timer || import("./timer.js")).then(function (m) { m.showTimer(view); });
  }

  function loadBoard() {
    if (boardLoading) return;
    boardLoading = true;
    import("./board-phone.js").then(function (m) { whenLifted(function () {
      board = m.boardPhone(code, stage, function () { return socket; }, mine, box);
      if (heldSubmit) board.submit(heldSubmit, view.current);
      heldSubmit = null;
      render();
    }); }, function () {
      boardLoading = false;  // the next push tries again; a form waiting goes to the outbox
      if (heldSubmit) { var form = heldSubmit; heldSubmit = null; hold(form, view.current); }
    });
  }


  function remember(v, withMine) {
    var a = v && v.current;
    if (!a) return;
    if (withMine && a.hasOwnProperty("mine")) mine[a.id] = a.mine;
    else if (a.answers === 0) delete mine[a.id];  // reset: nobody has answered any more
  }

  function accept(v, withMine) {
    if (!newer(view, v)) return;
    view = v;
    remember(v, withMine);
    render();
    showTimer();
    showPulse(v.pulse, withMine);
  }

  function mineOf(a) { return mine[a.id] || null; }

  function render() {
    var a = view.current, ended = view.session.state === "ended";
    if (isBoard(a) && !ended) {
      if (!board) {  // the server's markup stays until then
        if (served === null || canonical(a) !== served) loadBoard();
        return;
      }
      if (shownKey !== null) announce(a, false);
      shownKey = "board:" + a.id;
      shownId = a.id;
      shownState = a.state + ":" + a.revealed;
      board.render(a);
      return;
    }
    if (board) board.leave();
    if (a && !ended && a.kind === "wordcloud") { cloud(a); return; }
    var key = ended ? "ended" : a ? [a.id, a.version, a.state, a.revealed].join(":") : "wait";
    if (key === shownKey) { refreshResults(); return; }
    var keep = a && a.id === shownId ? readChoice(a) : null;  // an answer being chosen survives
    if (shownKey !== null) announce(a, ended);
    var focused = focusKey();
    shownKey = key;
    shownId = a ? a.id : null;
    shownState = a ? a.state + ":" + a.revealed : null;
    clear(stage);
    if (ended) stage.appendChild(add(h("section", "waiting"), h("h2", null, T.ended)));
    else stage.appendChild(a ? activityNode(a, keep) : waitingNode());
    refocus(focused);
  }

  // #sr (docs/accessibility.md): a new activity, opened, closed, revealed; once each, no counts
  function announce(a, ended) {
    if (ended || !a || a.id !== shownId) return ended ? say(T.ended) : a && say(a.prompt);
    var was = String(shownState).split(":"), news = "";
    if (a.state !== was[0]) news = a.state === "open" ? T.open_now : a.state === "closed" ? (a.kind === "poll" ? T.closed_note : BT.closed) : "";
    if (a.revealed && was[1] !== "true") news += " " + T.to_results;
    if (news.trim()) say(news.trim());
  }

  // A redrawn stage keeps the focus: the same field or button, else the question
  function focusKey() {
    var el = doc.activeElement;
    return el && el !== body && stage.contains(el) ? (el.name ? "[name='" + el.name + "']" + (/radio|checkbox/.test(el.type) ? "[value='" + el.value + "']" : "") : ".submit-bar button") : null;
  }
  function refocus(sel) {
    var el = sel && (stage.querySelector(sel) || $("prompt"));
    if (el) { if (el.id === "prompt") el.tabIndex = -1; el.focus(); }
  }

  /* Word clouds: drawn by wordcloud.js once loaded; the server's markup until then. */
  function cloud(a) {
    var s = a.settings || {};
    var key = ["cloud", a.id, a.state, a.revealed, !!a.results, s.show_on_phones, s.entries_per_participant, s.max_length].join(":");
    if (shownKey === null && $("wordcloud")) { shownKey = key; shownId = a.id; }  // the server's, at load
    if (!clouds) { loadClouds(); return; }
    if (key === shownKey) return;
    if (shownKey !== null) announce(a, false);
    shownKey = key;
    shownId = a.id;
    shownState = a.state + ":" + a.revealed;
    clear(stage);
    stage.appendChild(clouds.node(a));
  }

  function waitingNode() {
    var sec = attr(h("section", "waiting"), { "aria-labelledby": "prompt" });
    return add(sec, attr(h("h2", null, T.look), { id: "prompt" }), h("p", null, T.look_text));
  }

  function activityNode(a, keep) {
    var sec = attr(h("section", "activity"), { "aria-labelledby": "prompt" });
    var stored = mineOf(a);
    if (a.kind !== "poll") {
      add(sec, attr(h("h2", "prompt", a.prompt), { id: "prompt" }), h("p", "state-note", T.elsewhere));
      return sec;
    }
    if (a.state === "open") {
      var choice = keep || waiting(a.id) || stored;
      sec.appendChild(formNode(a, choice, stored));
    } else {
      add(sec, attr(h("h2", "prompt", a.prompt), { id: "prompt" }),
          h("p", "state-note", a.state === "closed" ? T.closed_note : T.draft_note));
      if (stored && stored.length) add(sec, h("h3", "sub", T.your_answer_h), mineNode(a, stored));
      else if (a.state === "closed") add(sec, h("p", null, T.no_answer));
    }
    if (a.results) add(sec, add(h("p", "to-results"), attr(h("a", null, T.to_results), { href: "#results" })),
                       resultsHeading(), patchResults(null, a, stored));  // the link: docs/screen.md
    return sec;
  }

  function resultsHeading() { return attr(h("h3", "sub", T.results), { id: "results" }); }

  function mineNode(a, stored) {
    if (a.type === "scale") return h("p", "mine-list", stored[0] + " / " + a.settings.scale_max);
    var list = h(a.type === "ranking" ? "ol" : "ul", "mine-list");
    stored.forEach(function (id) {
      a.options.forEach(function (o) { if (o.id === id) list.appendChild(h("li", null, o.label)); });
    });
    return list;
  }

  function input(type, value, checked) {
    var el = attr(h("input"), { type: type, name: "choice", value: value });
    if (type === "radio") el.required = true;
    el.checked = !!checked;
    return el;
  }

  function formNode(a, choice, stored) {
    var form = attr(h("form", "vote"), { method: "post", action: "/j/" + code + "/vote", id: "vote" });
    add(form, attr(h("input"), { type: "hidden", name: "activity", value: a.id }),
        attr(h("input"), { type: "hidden", name: "cid", value: newId() }));
    var set = h("fieldset"), s = a.settings || {};
    add(set, add(h("legend"), attr(h("h2", "prompt", a.prompt), { id: "prompt" })));
    var picked = choice === null || choice === undefined ? [] : [].concat(choice);
    if (a.type === "single" || a.type === "multiple") {
      var hint = a.type === "single" ? T.hint_single :
        (s.max_choices && s.max_choices < a.options.length ? counted("hint_multi_max", s.max_choices) : T.hint_multi);
      var box = h("div", "choices");
      a.options.forEach(function (o) {
        var on = picked.indexOf(o.id) >= 0;
        box.appendChild(add(h("label", "choice" + (on ? " is-checked" : "")),
          input(a.type === "single" ? "radio" : "checkbox", o.id, on), " ", h("span", null, o.label)));
      });
      add(set, h("p", "hint", hint), box);
    } else if (a.type === "scale") {
      add(set, h("p", "hint", fill(T.hint_scale, { n: s.scale_max })));
      if (s.label_low || s.label_high) {
        add(set, add(attr(h("p", "scale-ends"), { "aria-hidden": "true" }),
          h("span", null, actionOn(1, s.label_low || "")), " ", h("span", null, actionOn(s.scale_max, s.label_high || ""))));
      }
      var scale = h("div", "scale");
      for (var v = 1; v <= s.scale_max; v++) {
        var face = h("span", null, String(v));
        if (v === 1 && s.label_low) add(face, h("span", "vh", " (" + s.label_low + ")"));
        if (v === s.scale_max && s.label_high) add(face, h("span", "vh", " (" + s.label_high + ")"));
        scale.appendChild(add(h("label", "step"), input("radio", v, picked[0] === v), face));
      }
      set.appendChild(scale);
    } else if (a.type === "ranking") {
      add(set, h("p", "hint", T.hint_rank), rankingNode(a, picked));
    }
    form.appendChild(set);
    if (stored && stored.length) form.appendChild(h("p", "saved", T.answered));
    var bar = add(h("div", "submit-bar"), attr(h("p", "form-status"), { role: "status" }),
                  h("button", "btn btn-primary btn-block", stored ? T.change : T.send));
    form.appendChild(bar);
    return form;
  }

  function rankingNode(a, order) {
    var byId = {}, list = h("ol", "ranking js-ranking"), ids = [];
    a.options.forEach(function (o) { byId[o.id] = o; });
    if (order.length === a.options.length) ids = order.slice();
    else a.options.forEach(function (o) { ids.push(o.id); });
    ids.forEach(function (id) {
      var o = byId[id];
      if (!o) return;
      var li = attr(h("li", "rank-item"), { "data-option": o.id });
      add(li, attr(h("span", "rank-pos"), { "aria-hidden": "true" }), h("span", "rank-label", o.label),
          attr(h("input"), { type: "hidden", name: "rank_" + o.id, value: "1" }),
          attr(h("button", "btn-icon", "▲"), { type: "button", "data-move": "-1", "aria-label": fill(T.move_up, { label: o.label }) }),
          attr(h("button", "btn-icon", "▼"), { type: "button", "data-move": "1", "aria-label": fill(T.move_down, { label: o.label }) }));
      list.appendChild(li);
    });
    number(list);
    return list;
  }

  function number(list) {
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      items[i].querySelector(".rank-pos").textContent = String(i + 1);
      items[i].querySelector("input").value = String(i + 1);
      items[i].querySelector("[data-move='-1']").setAttribute("aria-disabled", i === 0 ? "true" : "false");
      items[i].querySelector("[data-move='1']").setAttribute("aria-disabled", i === items.length - 1 ? "true" : "false");
    }
  }

  function onClick(e) {
    var button = closest(e.target, function (el) { return el.hasAttribute("data-move"); });
    if (!button) return;
    e.preventDefault();
    var li = button.parentNode, list = li.parentNode, up = button.getAttribute("data-move") === "-1";
    var other = up ? li.previousElementSibling : li.nextElementSibling;
    if (!other) return;
    list.insertBefore(li, up ? other : other.nextElementSibling);
    number(list);
    button.focus();
    var position = Array.prototype.indexOf.call(list.children, li) + 1;
    say(fill(T.moved, { label: li.querySelector(".rank-label").textContent, n: position }));
  }

  function onChange(e) {
    var form = e.target.form;
    if (!form) return;
    var labels = form.querySelectorAll(".choice");
    for (var i = 0; i < labels.length; i++) {
      labels[i].className = "choice" + (labels[i].querySelector("input").checked ? " is-checked" : "");
    }
  }

  function readChoice(a) {
    var form = $("vote");
    if (!form || a.state !== "open") return null;
    if (a.type === "ranking") {
      var ids = [], items = form.querySelectorAll(".rank-item");
      for (var j = 0; j < items.length; j++) ids.push(parseInt(items[j].getAttribute("data-option"), 10));
      return ids;
    }
    var picked = [], boxes = form.querySelectorAll("input[name=choice]");
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) picked.push(parseInt(boxes[i].value, 10));
    if (a.type === "multiple") return picked;
    return picked.length ? picked[0] : null;
  }

  function problem(a, choice) {
    if (choice === null || (choice.length === 0 && a.type !== "scale")) {
      return a.type === "scale" ? fill(T.hint_scale, { n: a.settings.scale_max }) : T.empty_choice;
    }
    if (a.type === "multiple" && a.settings.max_choices && choice.length > a.settings.max_choices) {
      return counted("too_many", a.settings.max_choices);
    }
    return null;
  }

  /* The server's wall form, board-phone.js unable to come: into the outbox. */
  function hold(form, a) {
    var p = { cid: newId() }, li = closest(form, function (el) { return el.tagName === "LI"; }), t = li && li.querySelector(".idea-text");
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.name !== "csrf_token") p[el.name] = /^(activity|item|column)$/.test(el.name) ? parseInt(el.value, 10) : el.value;
    });
    if (p.take) p.take = true;
    if (!box.push({ event: "board_" + form.action.split("/").pop(), payload: p,  // .../boards/post|vote|withdraw
                    label: p.text || actionOn(form.querySelector("button").textContent, t ? t.textContent : "") })) notify(T.ob_full, true);
    else if (p.text) { form.elements.text.value = ""; form.elements.cid.value = newId(); }
  }


  function waiting(id) {
    var found = null;
    box.items().forEach(function (it) { if (it.e === "vote" && it.p.activity === id) found = it.p.choice; });
    return found;
  }

  function onSubmit(e) {
    var a = view.current;
    if (!board && isBoard(a) && $("board") && $("board").contains(e.target)) {
      e.preventDefault();  // sent by board-phone.js, as soon as it is there
      if (socket.connected) { heldSubmit = e.target; loadBoard(); } else hold(e.target, a);
      return;
    }
    if (e.target.id !== "vote" || !a) return;
    e.preventDefault();
    var choice = readChoice(a), refused = problem(a, choice);
    if (refused) { tell(refused, "is-error"); return; }
    var queued = box.push({ event: "vote", payload: { cid: newId(), activity: a.id, choice: choice },
      label: actionOn(T.your_answer_h, [].concat(choice).map(function (c) {  // named by its options (or value)
        return (a.options || []).filter(function (o) { return o.id === c; }).map(function (o) { return o.label; })[0] || c;
      }).join(", ")), replace: "vote:" + a.id, failed: function (ack) {
        setButton(mine[a.id] ? T.change : T.send);
        tell(errorText(ack), "is-error");
      } });
    if (!queued) tell(T.ob_full, "is-error");
    else if (socket.connected) setButton(T.sending);
    else tell(T.pending, "is-wait");
  }

  /* Messages about the answer go next to the button (the top of the page may be scrolled away). */
  function tell(text, kind) {
    var box = stage.querySelector(".form-status");
    if (!box) { notify(text, kind === "is-error"); return; }
    notify("");
    box.textContent = text;
    box.className = "form-status " + kind;
  }

  function setButton(text) {
    var button = stage.querySelector(".submit-bar button");
    if (button) button.textContent = text;
  }

  function saved(activityId) {
    tell(T.saved, "is-ok");
    var a = view.current;
    if (!a || a.id !== activityId) return;
    setButton(T.change);
    var form = $("vote");
    if (form && !form.querySelector(".saved")) {
      form.insertBefore(h("p", "saved", T.answered), form.querySelector(".submit-bar"));
    }
    refreshResults();
  }

  function onResults(data) {
    var a = view.current;
    if (!a || data.activity !== a.id) return;
    a.answers = data.answers;
    view.participants = data.participants;
    if (isBoard(a)) {
      if (data.results && a.revealed) {
        if (board) board.results(a, data.results);
        else if (boardResults(a, data.results)) loadBoard();
      }
      return;
    }
    if (data.results && a.revealed) a.results = data.results;
    refreshResults();
  }

  function refreshResults() {
    var a = view.current;
    if (!a || !a.results || a.kind !== "poll") return;
    var old = stage.querySelector(".results");
    var node = patchResults(old, a, mineOf(a));
    if (!old && node) {
      add(stage.querySelector(".activity"), resultsHeading(), node);
    }
  }
}

// --- every page

/* Forms built here carry the page's CSRF token (meta tag). */
doc.addEventListener("submit", function (e) {
  var form = e.target, meta = doc.querySelector('meta[name="csrf-token"]');
  if (!meta || !form.getAttribute || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
  if (form.querySelector('input[name="csrf_token"]')) return;
  form.appendChild(attr(h("input"), { type: "hidden", name: "csrf_token", value: meta.getAttribute("content") }));
}, true);

if (body.getAttribute("data-page") === "participant") participantPage();
/* The session ended while this phone held items (offline, then reloaded): they are named, with
   their text, rather than lost in silence. */
var ended = body.getAttribute("data-outbox");
if (ended && $("outbox")) {
  var waiting = [];
  try { waiting = JSON.parse(localStorage.getItem(ended)) || []; } catch (e) { /* none */ }
  unsent(ended, waiting.map(function (it) { return { l: it.l, why: T.session_ended }; }));
  try { localStorage.removeItem(ended); } catch (e) { /* private mode */ }
  showUnsent(ended, $("outbox"));
}
