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
