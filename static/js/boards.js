/* Palabre: the moderator console of idea walls and Q&A. The page works without this script
   (every button is a form post); the script keeps it live: when an item changes anywhere, the
   boards are re-read from the server and swapped in, keeping what the moderator selected,
   opened or typed. No HTML is built from strings here. */
(function () {
  "use strict";
  var doc = document, body = doc.body;
  if (body.getAttribute("data-page") !== "moderator" || !window.io) return;
  var boards = doc.getElementById("boards");
  var conn = doc.getElementById("conn");
  var stamps = {}, timer = null, busy = false, again = false;

  function remembered(name) {
    try { return window.localStorage.getItem(name) || ""; } catch (e) { return ""; }
  }
  function remember(name, value) {
    try { window.localStorage.setItem(name, value); } catch (e) { /* private mode */ }
  }

  function fillNames() {
    var name = remembered("palabre.moderator");
    Array.prototype.forEach.call(boards.querySelectorAll("input[name=by]"), function (el) {
      if (!el.value) el.value = name;
    });
  }

  function keep() {
    var state = { checked: {}, open: {}, typed: {}, by: "" };
    Array.prototype.forEach.call(boards.querySelectorAll("input[name=item]:checked"), function (el) {
      state.checked[el.value.split(":")[0]] = true;
    });
    Array.prototype.forEach.call(boards.querySelectorAll("details[open]"), function (el) {
      var owner = el.closest("[id]");
      if (owner) state.open[owner.id + ":" + el.className] = true;
    });
    Array.prototype.forEach.call(boards.querySelectorAll("textarea"), function (el) {
      if (el.value !== el.defaultValue) state.typed[el.name] = el.value;
    });
    return state;
  }

  function restore(state) {
    Array.prototype.forEach.call(boards.querySelectorAll("input[name=item]"), function (el) {
      if (state.checked[el.value.split(":")[0]]) el.checked = true;
    });
    Array.prototype.forEach.call(boards.querySelectorAll("details"), function (el) {
      var owner = el.closest("[id]");
      if (owner && state.open[owner.id + ":" + el.className]) el.open = true;
    });
    Array.prototype.forEach.call(boards.querySelectorAll("textarea"), function (el) {
      if (state.typed.hasOwnProperty(el.name)) el.value = state.typed[el.name];
    });
    fillNames();
  }

  function typing() {
    var el = doc.activeElement;
    return el && el.tagName === "TEXTAREA" && boards.contains(el);
  }

  function refresh() {
    if (busy) { again = true; return; }
    if (typing()) { schedule(1500); return; }
    busy = true;
    fetch(window.location.pathname, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("boards");
      if (!fresh) return;
      var state = keep();
      while (boards.firstChild) boards.removeChild(boards.firstChild);
      Array.prototype.forEach.call(fresh.childNodes, function (node) {
        boards.appendChild(doc.importNode(node, true));
      });
      restore(state);
    }).catch(function () { /* the next change retries */ }).then(function () {
      busy = false;
      if (again) { again = false; schedule(200); }
    });
  }

  function schedule(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; refresh(); }, delay);
  }

  boards.addEventListener("change", function (e) {
    if (e.target.name === "by") remember("palabre.moderator", e.target.value);
  }, false);
  fillNames();

  var socket = window.io({ auth: { token: body.getAttribute("data-token"), lang: doc.documentElement.lang },
                           transports: ["websocket", "polling"] });

  // --- actions over the socket (the forms post without it) ---------------------------------
  var BT = {};
  try { BT = JSON.parse(doc.getElementById("i18n-boards").textContent); } catch (e) { BT = {}; }
  var statusBox = doc.getElementById("mod-status"), sending = false;

  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }
  function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function ref(raw) {
    var parts = String(raw || "").split(":");
    var id = parseInt(parts[0], 10), version = parseInt(parts[1], 10);
    return isNaN(id) || isNaN(version) ? null : { id: id, version: version };
  }
  function say(lines, isError) {
    if (!statusBox) return;
    while (statusBox.firstChild) statusBox.removeChild(statusBox.firstChild);
    statusBox.className = "form-status " + (isError ? "is-error" : "is-ok");
    lines.forEach(function (text, i) {
      var p = doc.createElement(i ? "span" : "strong");
      p.textContent = (i ? " " : "") + text;
      statusBox.appendChild(p);
    });
    if (isError) statusBox.setAttribute("role", "alert"); else statusBox.setAttribute("role", "status");
  }
  function conflict(ack) {
    var lines = [ack && ack.error ? ack.error.message : (BT.offline || "")];
    ((ack && ack.state && ack.state.items) || []).forEach(function (item) {
      lines.push(fill(BT.item_now, { id: item.id, status: (BT.status || {})[item.status] || item.status,
                                      text: String(item.text).slice(0, 80) }));
    });
    return lines;
  }

  /* The same request the form would post: one item's button, an edit, a suggested merge, or the
     bulk buttons with the checked items. */
  function request(form, button) {
    var f = form.elements, name = button.name, value = button.value;
    var base = { cid: newId(), activity: parseInt(form.closest("[data-activity]").getAttribute("data-activity"), 10),
                 by: f.by ? f.by.value : "" };
    if (name === "current") return { event: "board_display", payload: Object.assign(base, { current: parseInt(value, 10) }) };
    var p = Object.assign(base, {});
    if (name === "act") {
      var cut = value.indexOf(":");
      p.action = value.slice(0, cut);
      p.items = [ref(value.slice(cut + 1))];
    } else if (name === "edit") {
      var r = ref(value);
      p.action = "edit";
      p.items = [r];
      p.text = r && f["text_" + r.id] ? f["text_" + r.id].value : "";
    } else if (name === "merge_pair") {
      var pair = value.split("|");
      p.action = "merge";
      p.items = [ref(pair[0])];
      p.into = ref(pair[1]);
    } else if (name === "action") {
      p.action = value;
      p.items = Array.prototype.map.call(form.querySelectorAll("input[name=item]:checked"), function (el) { return ref(el.value); });
      if (value === "move" && f.column) p.column = parseInt(f.column.value, 10);
      if (value === "merge" && f.into) p.into = ref(f.into.value);
      if (!p.items.length) return { problem: BT.pick || "" };
    } else {
      return null;
    }
    p.items = p.items.filter(function (x) { return x; });
    return { event: "board_moderate", payload: p };
  }

  boards.addEventListener("submit", function (e) {
    var form = e.target, button = e.submitter;
    if (!socket.connected || e.defaultPrevented || !button || !form.closest("[data-activity]")) return;
    var req = request(form, button);
    if (!req) return;  // the form posts
    e.preventDefault();
    if (req.problem !== undefined) { say([req.problem], true); return; }
    if (sending) return;
    sending = true;
    button.setAttribute("aria-busy", "true");
    (function go(tries) {
      socket.timeout(8000).emit(req.event, req.payload, function (err, ack) {
        if (err && tries < 2 && socket.connected) { go(tries + 1); return; }  // same cid: safe
        sending = false;
        button.removeAttribute("aria-busy");
        if (err) { say([BT.no_reply || ""], true); return; }
        if (ack && ack.ok) {
          say([BT.done || ""], false);
          Array.prototype.forEach.call(form.querySelectorAll("input[name=item]:checked"), function (el) { el.checked = false; });
        } else {
          say(conflict(ack), true);
        }
        schedule(50);  // show the current state either way
      });
    })(0);
  }, false);
  socket.on("connect", function () { if (conn) conn.hidden = true; });
  socket.on("disconnect", function () { if (conn) conn.hidden = false; });
  socket.on("snapshot", function () { schedule(300); });
  socket.on("state", function () { schedule(300); });
  socket.on("results", function (data) {
    var r = data && data.results;
    if (!r || r.stamp === undefined) return;
    if (stamps[data.activity] !== r.stamp) {
      stamps[data.activity] = r.stamp;
      schedule(300);
    }
  });
})();
