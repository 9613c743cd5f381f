/* Palabre: the one script of every page; <body data-page="..."> picks the behaviour.
   Plain ES5 (old phones), no framework, no build. Pages work without it: it only adds live
   updates and sends forms over the socket. DOM is built with createElement/textContent only. */
(function () {
  "use strict";

  var doc = document;
  var body = doc.body;
  var LANG = doc.documentElement.lang || "fr";
  var T = readJSON("i18n") || {};
  doc.documentElement.className += " js";

  // --- small helpers ------------------------------------------------------------------------

  function $(id) { return doc.getElementById(id); }

  function readJSON(id) {
    var node = doc.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  /* h("p", "class", "text") -> element; children are appended with add(). */
  function h(tag, cls, text) {
    var el = doc.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      parent.appendChild(typeof child === "string" ? doc.createTextNode(child) : child);
    }
    return parent;
  }

  function attr(el, values) {
    for (var k in values) if (values.hasOwnProperty(k)) el.setAttribute(k, values[k]);
    return el;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function closest(el, test) {
    while (el && el !== doc) {
      if (el.nodeType === 1 && test(el)) return el;
      el = el.parentNode;
    }
    return null;
  }

  function hasClass(el, cls) { return (" " + el.className + " ").indexOf(" " + cls + " ") >= 0; }

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, key) {
      return values[key] !== undefined && values[key] !== null ? values[key] : m;
    });
  }

  function plural(n) { return LANG === "fr" ? (n > 1 ? 1 : 0) : (n === 1 ? 0 : 1); }

  function counted(key, n) {
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

  function newId() {
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

  /* A message in the page's status region (#flash): role=alert for errors. */
  function notify(text, isError) {
    var box = $("flash");
    if (!box) return;
    clear(box);
    if (!text) return;
    var p = h("p", "notice " + (isError ? "notice-error" : "notice-ok"), text);
    if (isError) p.setAttribute("role", "alert");
    box.appendChild(p);
  }

  function say(text) {  // for screen readers only
    var sr = $("sr");
    if (sr) sr.textContent = text;
  }

  function errorText(ack) {
    return ack && ack.error && ack.error.message ? ack.error.message : T.no_reply;
  }

  // --- the socket ---------------------------------------------------------------------------

  /* Connect with `auth`; call handlers.snapshot/state/results/connect; show #conn while cut off. */
  function connect(auth, handlers) {
    if (typeof window.io !== "function") return null;
    auth.lang = LANG;
    var socket = window.io({ auth: auth, transports: ["websocket", "polling"], tryAllTransports: true });
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
    socket.on("disconnect", lost);
    socket.on("connect_error", function (err) {
      if (socket.active) { lost(); return; }  // a network problem: the client retries by itself
      back();  // refused by the server (ended session, bad link...): retrying will not help
      var text = err && err.message && err.message.charAt(0) !== "{" ? err.message : T.refused;
      if (err && err.data && err.data.message) text = err.data.message;
      notify(text, true);
    });
    socket.on("snapshot", handlers.snapshot);
    socket.on("state", handlers.state);
    socket.on("results", handlers.results);
    return socket;
  }

  /* Keep the newest view: a push may not replace a newer one of the same session. */
  function newer(current, incoming) {
    return !current || !incoming.session || current.session.id !== incoming.session.id ||
      incoming.version >= current.version;
  }

  // --- results (the same markup as the `results` macro) ------------------------------------

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
        rows.push({ label: b.value + (end ? " · " + end : ""), value: b.count + " · " + percent(b.count, r.total),
                    width: share(b.count, r.total), mine: mine[0] === b.value });
      });
    } else {
      r.options.forEach(function (o) {
        rows.push({ label: o.label, value: o.count + " · " + percent(o.count, r.total),
                    width: share(o.count, r.total), mine: mine.indexOf(o.id) >= 0 });
      });
    }
    return rows;
  }

  function barNode(row) {
    var label = h("span", "bar-label", row.label);
    if (row.mine) add(label, h("span", "vh", " (" + T.your_answer + ")"));
    var track = attr(h("span", "bar-track"), { "aria-hidden": "true" });
    add(track, h("span", "bar-fill w" + row.width));
    return add(h("li", "bar" + (row.mine ? " mine" : "")), label, h("span", "bar-value", row.value), track);
  }

  function meanText(a) {
    var r = a.results;
    return a.type === "scale" && r.mean !== null && r.mean !== undefined ?
      fill(T.mean, { mean: decimal(r.mean), max: a.settings.scale_max }) : null;
  }

  function resultsNode(a, mine, cls) {
    if (!a.results || a.kind !== "poll") return null;
    var box = h("div", "results" + (cls ? " " + cls : ""));
    var list = h(a.type === "ranking" ? "ol" : "ul", "bars");
    resultRows(a, mine).forEach(function (row) { list.appendChild(barNode(row)); });
    box.appendChild(list);
    var mean = meanText(a);
    if (mean) box.appendChild(h("p", "mean", mean));
    return box;
  }

  /* Update bars in place when the rows are the same (so widths animate); else replace. */
  function patchResults(old, a, mine, cls) {
    var fresh = resultsNode(a, mine, cls);
    if (!old || !fresh) {
      if (old && !fresh) old.parentNode.removeChild(old);
      return fresh;
    }
    var rows = resultRows(a, mine), bars = old.querySelectorAll(".bar"), same = bars.length === rows.length;
    for (var i = 0; same && i < rows.length; i++) {
      same = bars[i].querySelector(".bar-label").firstChild.nodeValue === rows[i].label &&
        hasClass(bars[i], "mine") === !!rows[i].mine;
    }
    if (!same) {
      old.parentNode.replaceChild(fresh, old);
      return fresh;
    }
    for (i = 0; i < rows.length; i++) {
      bars[i].querySelector(".bar-value").textContent = rows[i].value;
      bars[i].querySelector(".bar-fill").className = "bar-fill w" + rows[i].width;
    }
    var mean = old.querySelector(".mean");
    if (mean) mean.textContent = meanText(a) || "";
    return old;
  }

  // --- participant page --------------------------------------------------------------------

  function participantPage() {
    var code = body.getAttribute("data-code");
    var view = readJSON("view");
    var stage = $("stage");
    var mine = {};          // activity id -> stored choice (from snapshots and acks)
    var pending = null;     // {cid, activity, choice}: sent, not acknowledged yet
    var shownKey = null, shownId = null;

    var board = boardPhone(code, stage, function () { return socket; }, mine);  // idea walls, Q&A
    remember(view, true);
    render();
    var socket = connect({ code: code }, {
      snapshot: function (v) { accept(v, true); },
      state: function (v) { accept(v, false); },
      results: onResults,
      connect: function () { if (pending) send(); board.retry(); }
    });
    if (socket) socket.on("board_mine", board.mine);
    wordcloudPhone(socket, view);
    stage.addEventListener("submit", onSubmit, false);
    stage.addEventListener("click", onClick, false);
    stage.addEventListener("change", onChange, false);

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
    }

    function mineOf(a) { return mine[a.id] || null; }

    function render() {
      var a = view.current, ended = view.session.state === "ended";
      if (isBoard(a) && !ended) { shownKey = "board:" + a.id; shownId = a.id; board.render(a); return; }
      board.leave();
      if (a && !ended && a.kind !== "poll") { foreign(a); return; }
      var key = ended ? "ended" : a ? [a.id, a.version, a.state, a.revealed].join(":") : "wait";
      if (key === shownKey) { refreshResults(); return; }
      var keep = a && a.id === shownId ? readChoice(a) : null;  // an answer being chosen survives
      if (a && a.id !== shownId && shownKey !== null) say(a.prompt);
      shownKey = key;
      shownId = a ? a.id : null;
      clear(stage);
      if (ended) stage.appendChild(add(h("section", "waiting"), h("h2", null, T.ended)));
      else stage.appendChild(a ? activityNode(a, keep) : waitingNode());
    }

    /* Kinds this script does not draw (word clouds, boards): the server page draws them, so keep
       it, and load it again when another activity or state comes (spread over 3 s: not every
       phone at once). */
    function foreign(a) {
      var key = "other:" + a.id + ":" + a.state + (a.kind === "wordcloud" ? ":" + a.revealed : "");
      if (shownKey === null) { shownKey = key; shownId = a.id; return; }
      if (key === shownKey) return;
      shownKey = key;
      setTimeout(function () { window.location.reload(); }, Math.random() * 3000);
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
        var choice = keep || (pending && pending.activity === a.id ? pending.choice : stored);
        sec.appendChild(formNode(a, choice, stored));
      } else {
        add(sec, attr(h("h2", "prompt", a.prompt), { id: "prompt" }),
            h("p", "state-note", a.state === "closed" ? T.closed_note : T.draft_note));
        if (stored && stored.length) add(sec, h("h3", "sub", T.your_answer_h), mineNode(a, stored));
        else if (a.state === "closed") add(sec, h("p", null, T.no_answer));
      }
      if (a.results) add(sec, h("h3", "sub", T.results), resultsNode(a, stored));
      return sec;
    }

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
          (s.max_choices && s.max_choices < a.options.length ? fill(T.hint_multi_max, { n: s.max_choices }) : T.hint_multi);
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
            h("span", null, "1 : " + (s.label_low || "")), " ", h("span", null, s.scale_max + " : " + (s.label_high || ""))));
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
        return fill(T.too_many, { n: a.settings.max_choices });
      }
      return null;
    }

    function onSubmit(e) {
      var a = view.current;
      if (e.target.id !== "vote" || !socket || !a) return;  // without a socket the form posts
      e.preventDefault();
      var choice = readChoice(a), refused = problem(a, choice);
      if (refused) { tell(refused, "is-error"); return; }
      pending = { cid: newId(), activity: a.id, choice: choice };
      send();
    }

    function send() {
      var p = pending;
      if (!p) return;
      if (!socket.connected) { tell(T.pending, "is-wait"); return; }  // sent again on reconnect
      setButton(T.sending);
      socket.timeout(10000).emit("vote", { cid: p.cid, activity: p.activity, choice: p.choice }, function (err, ack) {
        if (pending !== p) return;  // a newer answer replaced this one
        if (err) {  // no ack: maybe lost; the same cid is safe to send again
          if (socket.connected) setTimeout(send, 1000); else tell(T.pending, "is-wait");
          return;
        }
        pending = null;
        if (ack && ack.ok) {
          mine[p.activity] = ack.choice;
          saved(p.activity);
        } else {
          setButton(mine[p.activity] ? T.change : T.send);
          tell(errorText(ack), "is-error");
        }
      });
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
      if (isBoard(a)) { if (data.results && a.revealed) board.results(a, data.results); return; }
      if (data.results && a.revealed) a.results = data.results;
      refreshResults();
    }

    function refreshResults() {
      var a = view.current;
      if (!a || !a.results || a.kind !== "poll") return;
      var old = stage.querySelector(".results");
      var node = patchResults(old, a, mineOf(a));
      if (!old && node) {
        add(stage.querySelector(".activity"), h("h3", "sub", T.results), node);
      }
    }
  }

  // --- projected screen --------------------------------------------------------------------

  function screenPage() {
    var view = readJSON("view");
    var stage = $("stage");
    var joinUrl = body.getAttribute("data-join-url");
    /* The join URL may wrap only before "/j/": the code is never split across lines. */
    function urlNode(url) {
      var at = url.lastIndexOf("/j/"), p = h("p", "join-url");
      if (at < 0) return add(p, url);
      return add(p, url.slice(0, at), doc.createElement("wbr"), h("span", "nowrap", url.slice(at)));
    }
    var qr = body.getAttribute("data-qr");
    var shownKey = null;

    render();
    var socket = connect({ token: body.getAttribute("data-token") }, {
      snapshot: accept, state: accept, results: onResults
    });
    wordcloudScreen(socket, { get current() { return view.current; } });

    function accept(v) {
      if (!newer(view, v)) return;
      view = v;
      render();
    }

    function render() {
      var a = view.current, ended = view.session.state === "ended";
      if (isBoard(a)) { boardSlide(a, ended); return; }
      if (a && a.kind !== "poll") {  // drawn by the server page (see participantPage's foreign())
        var other = ["other", a.id, a.state, a.revealed, ended].join(":");
        if (shownKey !== null && shownKey !== other) window.location.reload();
        shownKey = other;
        return;
      }
      var key = a ? [a.id, a.version, a.state, a.revealed, ended].join(":") : "banner:" + ended;
      if (key === shownKey) { update(); return; }
      shownKey = key;
      clear(stage);
      stage.appendChild(a ? slide(a, ended) : banner(ended));
    }

    function codeNode() { return h("span", "code", view.session.code); }

    function banner(ended) {
      var s = view.session;
      var text = add(h("div", "banner-text"), h("p", "event", s.event), attr(h("h1", null, s.title), { id: "banner-title" }));
      var sec = add(attr(h("section", "banner"), { "aria-labelledby": "banner-title" }), text);
      if (ended) {
        text.appendChild(h("p", "join-cta", T.ended_screen));
        return sec;
      }
      add(text, h("p", "join-cta", T.join_cta), urlNode(joinUrl),
          add(h("p", "join-code"), h("span", "join-code-label", T.code), " ", codeNode()),
          view.participants ? h("p", "join-count", counted("participants", view.participants)) : null);
      sec.appendChild(attr(h("img", "banner-qr"), { src: qr, alt: fill(T.qr_alt, { url: joinUrl }) }));
      return sec;
    }

    function pill(a, ended) {
      var text = ended ? T.ended_screen : a.kind !== "poll" ? T.states[a.state] :
        a.state === "open" ? T.pill_open : a.state === "closed" ? T.pill_closed : T.pill_draft;
      return h("span", "pill pill-" + a.state, text);
    }

    function many(a) {
      var n = a.results ? (a.results.options || a.results.buckets || []).length : (a.options || []).length;
      return n > 6 ? " many" : "";
    }

    function slide(a, ended) {
      var sec = attr(h("section", "slide"), { "aria-labelledby": "prompt" });
      add(sec, add(h("p", "slide-top"), h("span", "slide-session", view.session.title), " ", pill(a, ended)),
          attr(h("h1", "prompt" + (a.prompt.length > 120 ? " long" : ""), a.prompt), { id: "prompt" }));
      var content = h("div", "slide-body");
      if (a.results) {
        content.appendChild(resultsNode(a, null, "big" + many(a)));
      } else {
        var s = a.settings || {};
        if (a.kind !== "poll") {
          // other kinds draw their own screen
        } else if (a.type === "scale") {
          content.appendChild(h("p", "scale-line", "1" + (s.label_low ? " : " + s.label_low : "") + " … " +
            s.scale_max + (s.label_high ? " : " + s.label_high : "")));
        } else {
          var list = h("ul", "option-list" + many(a));
          a.options.forEach(function (o) { list.appendChild(h("li", null, o.label)); });
          content.appendChild(list);
        }
        add(content, add(h("p", "hidden-note"), h("span", "big-count", counted("answers", a.answers)), " ",
                         h("span", "muted", T.hidden)));
      }
      var foot = add(h("footer", "slide-foot"), attr(h("img", "foot-qr"), { src: qr, alt: "" }),
                     add(h("p", "foot-join"), h("span", "foot-url", joinUrl), " ", codeNode()),
                     h("p", "foot-count", countsText(a)));
      return add(sec, content, foot);
    }

    function countsText(a) { return counted("participants", view.participants) + " · " + counted("answers", a.answers); }

    function update() {
      var a = view.current;
      if (!a || a.kind !== "poll") return;
      var counts = stage.querySelector(".foot-count");
      if (counts) counts.textContent = countsText(a);
      var big = stage.querySelector(".big-count");
      if (big) big.textContent = counted("answers", a.answers);
      if (a.results) patchResults(stage.querySelector(".results"), a, null, "big" + many(a));
    }

    /* Idea walls and Q&A: drawn here from pushes (no reload); the slide stays, its body is
       redrawn when what it shows changes. */
    function boardSlide(a, ended) {
      var key = ["board", a.id, a.state, ended].join(":");
      if (key !== shownKey || !stage.querySelector(".board-screen")) {
        shownKey = key;
        clear(stage);
        stage.appendChild(slide(a, ended));
        var body = stage.querySelector(".slide-body");
        clear(body);
        body.appendChild(boardScreenNode(a));
        fitBoard(body);
        return;
      }
      var old = stage.querySelector(".board-screen"), sig = JSON.stringify([a.items, a.spotlight, a.current, a.settings, a.published]);
      if (old.getAttribute("data-sig") === sig) return;
      var fresh = boardScreenNode(a);
      fresh.setAttribute("data-sig", sig);
      old.parentNode.replaceChild(fresh, old);
      fitBoard(stage.querySelector(".slide-body"));
      var counts = stage.querySelector(".foot-count");
      if (counts) counts.textContent = countsText(a);
    }
    window.addEventListener("resize", function () {  // another projector size: fit again
      var old = stage.querySelector(".board-screen");
      if (old && isBoard(view.current)) { old.removeAttribute("data-sig"); boardSlide(view.current, view.session.state === "ended"); }
    }, false);

    function onResults(data) {
      var a = view.current;
      view.participants = data.participants;
      if (!a || data.activity !== a.id) return;
      if (isBoard(a)) {
        a.answers = data.answers;
        if (data.results && a.revealed) boardResults(a, data.results);
        boardSlide(a, view.session.state === "ended");
        return;
      }
      a.answers = data.answers;
      if (data.results && a.revealed) a.results = data.results;
      update();
    }
  }

  // --- facilitator console -----------------------------------------------------------------

  function consolePage() {
    var view = readJSON("view");
    var base = body.getAttribute("data-base");
    var commandUrl = body.getAttribute("data-command");
    var agenda = $("agenda");
    var busy = false, commands = [];
    var PAIRS = { open: "close", close: "open", reveal: "hide", hide: "reveal" };

    render();
    var socket = connect({ token: body.getAttribute("data-token") }, {
      snapshot: accept, state: accept, results: onResults
    });
    doc.addEventListener("submit", onCommand, false);

    function accept(v) {
      if (!newer(view, v)) return;
      view = v;
      render();
    }

    function ended() { return view.session.state === "ended"; }

    function cmd(action, label, activity, cls, confirmText, describedBy) {
      var form = attr(h("form", "cmd"), { method: "post", action: commandUrl });
      if (confirmText) form.setAttribute("data-confirm", confirmText);
      add(form, attr(h("input"), { type: "hidden", name: "action", value: action }));
      if (activity) add(form, attr(h("input"), { type: "hidden", name: "activity", value: activity }));
      var button = attr(h("button", "btn" + (cls ? " " + cls : ""), label),
                        { type: "submit", "data-key": action + "-" + (activity || "") });
      if (describedBy) button.setAttribute("aria-describedby", describedBy);
      return add(form, button);
    }

    function plainForm(action, label, fields, cls, pid, confirmText) {
      var form = attr(h("form"), { method: "post", action: action });
      if (confirmText) form.setAttribute("data-confirm", confirmText);
      for (var k in fields) if (fields.hasOwnProperty(k)) add(form, attr(h("input"), { type: "hidden", name: k, value: fields[k] }));
      return add(form, attr(h("button", "btn " + cls, label), { type: "submit", "aria-describedby": pid }));
    }

    function item(a, currentId, first, last) {
      var pid = "p" + a.id, onScreen = a.id === currentId, over = ended();
      var li = attr(h("li", "item" + (onScreen ? " on-screen" : "")), { id: "a" + a.id });
      var title = attr(h("h3", "item-prompt"), { id: pid, tabindex: "-1" });
      add(title, h("span", "item-num", a.position + "."), " " + a.prompt);
      var meta = add(h("p", "item-meta"), h("span", "badge", (a.kind === "poll" ? T.types[a.type] : T.kinds[a.kind]) || a.kind), " ",
                     h("span", "badge badge-" + a.state, T.states[a.state] || a.state));
      if (a.revealed) add(meta, " ", h("span", "badge badge-revealed", T.results_shown));
      if (onScreen) add(meta, " ", h("span", "badge badge-screen", T.on_screen));
      add(meta, " ", h("span", "item-answers", counted("answers", a.answers)));
      var actions = h("div", "actions");
      if (!over) {
        if (!onScreen) actions.appendChild(cmd("show", T.show, a.id, "btn-primary", null, pid));
        if (a.state === "open") actions.appendChild(cmd("close", T.close, a.id, "", null, pid));
        else actions.appendChild(cmd("open", a.state === "draft" ? T.open : T.reopen, a.id, onScreen ? "btn-primary" : "", null, pid));
      }
      actions.appendChild(a.revealed ? cmd("hide", T.hide, a.id, "", null, pid) : cmd("reveal", T.reveal, a.id, "", null, pid));
      var tools = h("div", "tools");
      if (a.answers === 0 && a.kind === "poll") {
        tools.appendChild(attr(h("a", "btn btn-small", T.edit), { href: base + "/polls/" + a.id, "aria-describedby": pid }));
      }
      if (!first) tools.appendChild(plainForm(base + "/activities/" + a.id + "/move", T.up, { direction: "up" }, "btn-small", pid));
      if (!last) tools.appendChild(plainForm(base + "/activities/" + a.id + "/move", T.down, { direction: "down" }, "btn-small", pid));
      if (!over && (a.answers || a.state !== "draft" || a.revealed)) {
        tools.appendChild(cmd("reset", T.reset, a.id, "btn-small btn-danger", T.confirm_reset, pid));
      }
      if (a.answers === 0 && a.state !== "open") {
        tools.appendChild(plainForm(base + "/activities/" + a.id + "/delete", T.delete, {}, "btn-small btn-danger", pid, T.confirm_delete));
      }
      return add(li, title, meta, resultsNode(a, null, "mini"), actions,
                 a.kind === "wordcloud" ? wordcloudTools(a, pid, over) : null,
                 isBoard(a) ? h("p", "board-counts", boardCounts(a.moderation)) : null,
                 isBoard(a) ? add(h("div", "actions board-actions"), attr(h("a", "btn btn-small", BT.settings),
                                  { href: base + "/boards/" + a.id + "/settings", "aria-describedby": pid })) : null,
                 tools);
    }

    /* Word clouds: live counts, freeze/unfreeze, edit (as the wordcloud_tools macro). */
    PAIRS.freeze = "unfreeze";
    PAIRS.unfreeze = "freeze";
    function wordcloudCounts(a) { return counted("participants", a.answers) + " · " + wcEntries(a.entries || 0); }
    function wordcloudTools(a, pid, over) {
      var frozen = wcFrozen(a);
      var p = add(h("p", "wc-tools"), h("span", "wc-counts", wordcloudCounts(a)));
      if (frozen) add(p, " ", h("span", "badge badge-frozen", WC.frozen));
      var acts = h("div", "actions wc-actions");
      if (!over) {
        acts.appendChild(frozen ? cmd("unfreeze", WC.unfreeze, a.id, "", null, pid) : cmd("freeze", WC.freeze, a.id, "", null, pid));
        acts.appendChild(attr(h("a", "btn btn-small", WC.edit), { href: base + "/wordclouds/" + a.id, "aria-describedby": pid }));
      }
      return add(doc.createDocumentFragment(), p, acts);
    }

    function render() {
      var focused = doc.activeElement, key = focused && focused.getAttribute && focused.getAttribute("data-key");
      var focusItem = closest(focused, function (el) { return hasClass(el, "item"); });
      var current = view.current, currentId = current ? current.id : null;

      var state = $("session-state");
      state.textContent = T.session_states[view.session.state] || view.session.state;
      state.className = "badge badge-" + view.session.state;
      $("participants").textContent = counted("participants", view.participants);
      $("now").textContent = current ? current.prompt : T.banner_now;
      var nowActions = $("now-actions");
      clear(nowActions);
      if (current && !ended()) nowActions.appendChild(cmd("banner", T.banner));
      boardDisplay(nowActions.parentNode, isBoard(current) ? current : null, base, function () { return socket; });
      var liveOnly = doc.querySelectorAll("[data-live-only]");
      for (var i = 0; i < liveOnly.length; i++) liveOnly[i].hidden = ended();

      clear(agenda);
      var items = view.agenda || [];
      items.forEach(function (a, index) { agenda.appendChild(item(a, currentId, index === 0, index === items.length - 1)); });
      if (!items.length) agenda.appendChild(h("li", "empty", T.empty));
      restoreFocus(key, focusItem);
    }

    function restoreFocus(key, focusItem) {
      if (!key && !focusItem) return;
      var target = key && doc.querySelector("[data-key='" + key + "']");
      if (!target && key) {
        var parts = key.split("-"), pair = PAIRS[parts[0]];
        if (pair) target = doc.querySelector("[data-key='" + pair + "-" + parts[1] + "']");
        if (!target && parts[1]) target = $("p" + parts[1]);
      }
      if (!target && focusItem) target = $(focusItem.id.replace("a", "p"));
      if (target) target.focus();
    }

    function onResults(data) {
      view.participants = data.participants;
      $("participants").textContent = counted("participants", data.participants);
      var items = view.agenda || [];
      for (var i = 0; i < items.length; i++) {
        var a = items[i];
        if (a.id !== data.activity) continue;
        var crossed = (a.answers === 0) !== (data.answers === 0);  // edit/delete/reset buttons change
        a.answers = data.answers;
        if (data.entries !== undefined) a.entries = data.entries;
        if (data.results) a.results = data.results;
        if (crossed) { render(); return; }
        var li = $("a" + a.id);
        if (!li) return;
        li.querySelector(".item-answers").textContent = counted("answers", a.answers);
        var boardLine = li.querySelector(".board-counts");  // idea walls, Q&A: moderation counts
        if (boardLine && data.results && data.results.queue !== undefined) boardLine.textContent = boardCounts(data.results);
        var cloudCounts = li.querySelector(".wc-counts");
        if (cloudCounts) cloudCounts.textContent = wordcloudCounts(a);
        var old = li.querySelector(".results"), node = patchResults(old, a, null, "mini");
        if (!old && node) li.insertBefore(node, li.querySelector(".actions"));
        return;
      }
    }

    function onCommand(e) {
      var form = e.target;
      if (!hasClass(form, "cmd") || !socket || !socket.connected || e.defaultPrevented) return;
      e.preventDefault();
      var activity = form.elements.activity ? parseInt(form.elements.activity.value, 10) : null;
      // Commands run in the order they were clicked ("show" then "open"): none is dropped.
      commands.push({ cid: newId(), action: form.elements.action.value, activity: activity });
      if (!busy) nextCommand();
    }

    function nextCommand() {
      var payload = commands.shift();
      busy = !!payload;
      if (!payload) return;
      socket.timeout(10000).emit("command", payload, function (err, ack) {
        if (err || !ack || !ack.ok) {
          commands = [];  // the next clicks assumed this one worked: stop, and say why
          busy = false;
          notify(err ? T.no_reply : errorText(ack), true);
          return;
        }
        notify("");
        nextCommand();
      });
    }
  }

  // --- word clouds (phone, screen, console, moderator) --------------------------------------

  var WC = T.wc || {};

  function wcEntries(n) { return fill((WC.entries || ["{n}", "{n}"])[plural(n)], { n: n }); }

  function wcFrozen(a) { return !!(a && a.settings && a.settings.frozen !== undefined && a.settings.frozen !== null); }

  /* The text alternative of a cloud image: its most counted words, as text. */
  function cloudAlt(results) {
    var words = ((results && results.words) || []).slice(0, 12);
    if (!words.length) return WC.alt_none || "";
    return fill(WC.alt, { words: words.map(function (w) { return w.text + " (" + w.count + ")"; }).join(", ") });
  }

  /* Show another version of a cloud image: load it aside, then swap (no flicker, no blank). */
  function swapCloud(img, v) {
    var base = img.getAttribute("data-src");
    var src = base + (base.indexOf("?") >= 0 ? "&" : "?") + "v=" + encodeURIComponent(v);
    if (img.getAttribute("src") === src || img.getAttribute("data-loading") === src) return;
    img.setAttribute("data-loading", src);
    var next = new Image();
    next.onload = function () {
      if (img.getAttribute("data-loading") !== src) return;  // a newer version is on its way
      img.removeAttribute("data-loading");
      img.src = src;
    };
    next.onerror = function () {
      if (img.getAttribute("data-loading") === src) img.removeAttribute("data-loading");
    };
    next.src = src;
  }

  /* The cloud image of a page follows `cloud` pushes, and catches up after a freeze, an
     unfreeze or a reconnection (pushes may have been missed meanwhile). */
  function cloudImage(socket, initial) {
    if (!socket) return;
    var frozenSeen = null, snapshots = 0;
    seen(initial);
    function image(id) {
      var img = $("cloud-img");
      return img && img.getAttribute("data-cloud") === String(id) ? img : null;
    }
    function seen(v) {
      var a = v && v.current;
      if (!a || a.kind !== "wordcloud") return null;
      var img = image(a.id), key = a.id + ":" + wcFrozen(a);
      if (img && frozenSeen !== null && key !== frozenSeen) swapCloud(img, "f" + a.version);
      frozenSeen = key;
      return img;
    }
    socket.on("cloud", function (data) {
      var img = data && image(data.activity);
      if (img) swapCloud(img, data.v);
    });
    socket.on("state", seen);
    socket.on("snapshot", function (v) {
      var img = seen(v);
      if (img && snapshots++ > 0) swapCloud(img, "s" + new Date().getTime());  // a reconnection
    });
    socket.on("results", function (data) {
      var img = data && image(data.activity);
      if (img && data.results) img.alt = cloudAlt(data.results);
    });
  }

  /* The phone: send entries and withdraw them over the socket (the forms post without it). */
  function wordcloudPhone(socket, view) {
    var box = $("wordcloud");
    cloudImage(socket, view);
    if (!box || !socket) return;
    var id = parseInt(box.getAttribute("data-cloud"), 10), cap = parseInt(box.getAttribute("data-cap"), 10);
    var input = $("word-text"), form = $("word-form"), busy = false;

    socket.on("snapshot", function (v) {
      var a = v && v.current;
      if (a && a.id === id && a.mine) showMine(a.mine);
    });
    box.addEventListener("submit", function (e) {
      var target = e.target;
      if (!socket.connected || e.defaultPrevented) return;  // no connection: the form posts
      if (target === form) {
        e.preventDefault();
        if (!busy) send({ cid: newId(), activity: id, text: input.value }, "word:add");
      } else if (hasClass(target, "word-withdraw")) {
        e.preventDefault();
        if (!busy) send({ cid: newId(), activity: id, entry: parseInt(target.elements.entry.value, 10) }, "word:withdraw");
      }
    }, false);

    function status(text, kind) {
      var el = $("word-status");
      if (!el) { notify(text, kind === "is-error"); return; }
      el.textContent = text || "";
      el.className = "form-status" + (kind ? " " + kind : "");
    }

    function send(payload, event, tries) {
      busy = true;
      status(WC.sending, "is-wait");
      socket.timeout(8000).emit(event, payload, function (err, ack) {
        if (err) {  // no answer: the same id is safe to send again
          if (socket.connected && (tries || 0) < 2) { send(payload, event, (tries || 0) + 1); return; }
          busy = false;
          status(T.no_reply, "is-error");
          return;
        }
        busy = false;
        if (!ack || !ack.ok) { status(errorText(ack), "is-error"); return; }
        showMine(ack.mine);
        if (event === "word:add") {
          input.value = "";
          status(fill(WC.sent, { text: ack.entry.text }), "is-ok");
        } else {
          status(WC.done, "is-ok");
        }
        if (input && !input.disabled) input.focus();
      });
    }

    function showMine(mine) {
      var list = $("word-mine"), title = $("mine-title"), open = box.getAttribute("data-state") === "open";
      clear(list);
      mine.forEach(function (entry) {
        var li = add(h("li"), attr(h("span", "word-text", entry.text), { dir: "auto" }));
        if (open) {
          var f = attr(h("form", "word-withdraw"), { method: "post", action: "/j/" + body.getAttribute("data-code") + "/words/" + entry.id + "/withdraw" });
          add(f, attr(h("input"), { type: "hidden", name: "activity", value: id }),
              attr(h("input"), { type: "hidden", name: "entry", value: entry.id }),
              attr(h("button", "btn btn-small", WC.withdraw), { type: "submit", "aria-label": fill(WC.withdraw_label, { text: entry.text }) }));
          add(li, " ", f);
        }
        list.appendChild(li);
      });
      if (title) title.hidden = !mine.length;
      if (!form) return;
      var left = Math.max(0, cap - mine.length), max = input.getAttribute("maxlength");
      $("word-left").textContent = fill(WC.left, { left: left, cap: cap }) + " · " + fill(WC.chars, { n: max });
      input.disabled = left === 0;
      form.querySelector("button[type=submit]").disabled = left === 0;
      if (left === 0) status(WC.full, "is-ok");
    }
  }

  /* The screen: the image (see cloudImage) and the counts under it. */
  function wordcloudScreen(socket, view) {
    cloudImage(socket, view);
    if (!socket) return;
    socket.on("results", function (data) {
      var a = view.current, stage = $("stage");
      if (!data || !a || a.kind !== "wordcloud" || data.activity !== a.id || !stage) return;
      var foot = stage.querySelector(".foot-count"), big = $("cloud-entries");
      if (foot) foot.textContent = counted("participants", data.answers) + " · " + wcEntries(data.entries || 0);
      if (big) big.textContent = wcEntries(data.entries || 0);
    });
  }

  /* The moderator: each cloud's groups, redrawn from `word:groups` (after `cloud` pushes, at
     most once a second) or from the ack of an action. Same markup as wordclouds/_moderate.html. */
  function moderatorPage() {
    var clouds = $("clouds");
    if (!clouds) return;
    var timers = {}, last = {}, sending = false, reloading = false;
    var socket = connect({ token: body.getAttribute("data-token") }, {
      snapshot: onView, state: onView, results: onResults
    });
    if (!socket) return;
    socket.on("cloud", function (data) { if (data) later(data.activity); });
    clouds.addEventListener("submit", onSubmit, false);

    function section(id) { return $("wc-" + id); }

    function onView(v) {
      var missing = (v.agenda || []).some(function (a) {
        return a.kind === "wordcloud" && !section(a.id) &&
          (a.state !== "draft" || a.entries || (v.current && v.current.id === a.id));
      });
      if (missing) { reloadClouds(); return; }
      (v.agenda || []).forEach(function (a) {
        var sec = a.kind === "wordcloud" && section(a.id);
        if (!sec) return;
        sec.querySelector(".wc-prompt").textContent = a.prompt;
        var meta = sec.querySelector(".wc-meta");
        clear(meta);
        add(meta, h("span", "badge badge-" + a.state, T.states[a.state] || a.state));
        if (wcFrozen(a)) add(meta, " ", h("span", "badge badge-frozen", WC.frozen));
        add(meta, " ", h("span", "wc-counts", counted("participants", a.answers) + " · " + wcEntries(a.entries || 0)));
        later(a.id);
      });
    }

    function onResults(data) {
      var sec = data && section(data.activity), counts = sec && sec.querySelector(".wc-counts");
      if (counts) counts.textContent = counted("participants", data.answers) + " · " + wcEntries(data.entries || 0);
    }

    function reloadClouds() {  // a cloud to moderate appeared: take the server's markup
      if (reloading) return;
      reloading = true;
      fetch(window.location.pathname, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById("clouds");
        if (!fresh) return;
        clear(clouds);
        Array.prototype.forEach.call(fresh.childNodes, function (node) { clouds.appendChild(doc.importNode(node, true)); });
      }).catch(function () { /* the next push retries */ }).then(function () { reloading = false; });
    }

    function later(id) {  // at most one word:groups per cloud per second
      if (!section(id) || timers[id]) return;
      var wait = Math.max(150, 1000 - (new Date().getTime() - (last[id] || 0)));
      timers[id] = setTimeout(function () {
        timers[id] = null;
        last[id] = new Date().getTime();
        socket.timeout(8000).emit("word:groups", { cid: newId(), activity: id }, function (err, ack) {
          if (!err && ack && ack.ok) draw(id, ack.groups);
        });
      }, wait);
    }

    function onSubmit(e) {
      var form = e.target, sec = closest(form, function (el) { return hasClass(el, "cloud-mod"); });
      if (!sec || !hasClass(form, "wmod") || !socket.connected || e.defaultPrevented) return;
      e.preventDefault();
      if (sending) return;
      sending = true;
      var id = parseInt(sec.getAttribute("data-cloud"), 10), f = form.elements;
      var payload = { cid: newId(), activity: id, action: f.action.value, key: f.key.value };
      if (f.into) payload.into = f.into.value;
      socket.timeout(8000).emit("word:moderate", payload, function (err, ack) {
        sending = false;
        if (err || !ack || !ack.ok) { notify(err ? T.no_reply : errorText(ack), true); return; }
        notify(WC.done, false);
        draw(id, ack.groups, payload.action + ":" + payload.key);
      });
    }

    function button(sec, action, key, label, text, cls) {
      var form = attr(h("form", "wmod"), { method: "post", action: sec.getAttribute("data-action") });
      add(form, attr(h("input"), { type: "hidden", name: "action", value: action }),
          attr(h("input"), { type: "hidden", name: "key", value: key }),
          attr(h("button", "btn btn-small" + (cls ? " " + cls : ""), label),
               { type: "submit", "aria-label": label + " : " + text, "data-wkey": action + ":" + key }));
      return form;
    }

    function row(sec, g, inHeld) {
      var held = g.held && !g.released;
      var li = add(h("li", "group" + (g.hidden ? " is-hidden" : "") + (held ? " is-held" : "")),
                   attr(h("span", "g-text", g.text), { dir: "auto" }), " ", h("span", "g-count", g.count));
      if (g.hidden) add(li, " ", h("span", "badge badge-hidden", WC.hidden));
      if (held) add(li, " ", h("span", "badge badge-flag", fill((WC.held || ["{n}", "{n}"])[plural(g.held)], { n: g.held })));
      if (g.released) add(li, " ", h("span", "badge", WC.released));
      if (g.spellings.length > 1) {
        var sp = h("span", "g-spellings", WC.spellings + " ");
        g.spellings.forEach(function (s, i) {
          add(sp, h("span", "g-spelling", s.text), " (" + s.count + ")" + (i < g.spellings.length - 1 ? ", " : ""));
        });
        add(li, sp);
      }
      var acts = h("span", "g-actions");
      if (held) acts.appendChild(button(sec, "release", g.key, WC.release, g.text, "btn-primary"));
      if (g.released) acts.appendChild(button(sec, "hold", g.key, WC.hold, g.text));
      if (!inHeld) {
        acts.appendChild(g.hidden ? button(sec, "restore", g.key, WC.restore, g.text) :
                                    button(sec, "hide", g.key, WC.hide, g.text, "btn-danger"));
      }
      add(li, acts);
      if (g.members.length && !inHeld) {
        var members = h("ul", "g-members");
        g.members.forEach(function (m) {
          members.appendChild(add(h("li"), h("span", "g-member", m), " ", button(sec, "unmerge", m, WC.unmerge, m)));
        });
        add(li, members);
      }
      return li;
    }

    function options(select, groups, chosen) {
      clear(select);
      groups.forEach(function (g) {
        var o = attr(h("option", null, g.text + " (" + g.count + ")"), { value: g.key });
        if (g.key === chosen) o.selected = true;
        select.appendChild(o);
      });
    }

    var PAIRS = { hide: "restore", restore: "hide", release: "hold", hold: "release" };

    function draw(id, groups, acted) {
      var sec = section(id);
      if (!sec) return;
      var sig = JSON.stringify(groups);
      if (sig === sec.getAttribute("data-sig") && !acted) return;
      sec.setAttribute("data-sig", sig);
      var focused = doc.activeElement, wkey = acted || (focused && sec.contains(focused) && focused.getAttribute("data-wkey"));
      var heldGroups = groups.filter(function (g) { return g.held && !g.released; });
      var heldBox = sec.querySelector(".wc-held"), heldList = sec.querySelector(".held-list");
      clear(heldList);
      heldGroups.forEach(function (g) { heldList.appendChild(row(sec, g, true)); });
      heldBox.hidden = !heldGroups.length;
      var list = sec.querySelector(".all-groups");
      clear(list);
      groups.forEach(function (g) { list.appendChild(row(sec, g, false)); });
      if (!groups.length) list.appendChild(h("li", "empty", WC.no_entries));
      var merge = sec.querySelector(".wc-merge");
      if (!merge && groups.length > 1) {
        merge = attr(h("form", "wmod wc-merge"), { method: "post", action: sec.getAttribute("data-action") });
        add(merge, attr(h("input"), { type: "hidden", name: "action", value: "merge" }),
            add(h("label"), WC.merge + " ", attr(h("select"), { name: "key" })), " ",
            add(h("label"), WC.into + " ", attr(h("select"), { name: "into" })), " ",
            attr(h("button", "btn btn-small", WC.merge), { type: "submit" }));
        sec.insertBefore(merge, list);
      }
      if (merge) {
        merge.hidden = groups.length < 2;
        var keyNow = merge.elements.key.value, intoNow = merge.elements.into.value;
        options(merge.elements.key, groups, keyNow);
        options(merge.elements.into, groups, intoNow);
      }
      if (wkey) {
        var parts = wkey.split(":"), rest = wkey.slice(parts[0].length + 1);
        var target = sec.querySelector("[data-wkey='" + wkey.replace(/'/g, "\\'") + "']") ||
          sec.querySelector("[data-wkey='" + (PAIRS[parts[0]] + ":" + rest).replace(/'/g, "\\'") + "']");
        if (target) target.focus();
      }
    }
  }

  // --- idea walls and Q&A (phone, screen) ---------------------------------------------------
  /* Drawn from `state`/`snapshot` pushes (published items only), `results` pushes (counts and
     order, once revealed), the phone's own `mine` (snapshot, acks, `board_mine`). Same markup
     as boards/_participant.html and boards/_screen.html; the forms post without a socket. */

  var BT = readJSON("i18n-boards") || {};

  function isBoard(a) { return !!a && (a.kind === "ideas" || a.kind === "questions"); }

  function bCount(key, n) { return fill((BT[key] || ["{n}", "{n}"])[plural(n)], { n: n }); }

  /* Counts and order from a `results` push into the view's items (counts shown only if sent). */
  function boardResults(a, r) {
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

  function hidden(name, value) { return attr(h("input"), { type: "hidden", name: name, value: value }); }

  /* The phone: post, edit, withdraw and vote over the socket; draws the board from pushes. */
  function boardPhone(code, stage, getSocket, mineMap) {
    var queue = [], busy = false, shown = null, editing = null, notice = null;

    function current() { return stage.getAttribute("data-board-view") ? stage._boardView : null; }

    function render(a, force) {
      stage._boardView = a;
      stage.setAttribute("data-board-view", "1");
      var key = a.id + ":" + a.state;
      var box = $("board");
      if (!box || key !== shown || force === "all") {
        var typed = $("board-text") && shown && shown.split(":")[0] === String(a.id) ? $("board-text").value : "";
        clear(stage);
        stage.appendChild(shell(a));
        if (typed && $("board-text")) $("board-text").value = typed;
        shown = key;
      }
      lists(a);
    }

    function shell(a) {
      var s = a.settings || {}, isQ = a.kind === "questions";
      var sec = attr(h("section", "activity"), { "aria-labelledby": "prompt" });
      var box = attr(h("div", "board"), { id: "board", "data-board": a.id });
      add(box, attr(h("h2", "prompt", a.prompt), { id: "prompt" }));
      if (a.state === "open") {
        var form = attr(h("form", "board-post"), { method: "post", action: "/j/" + code + "/boards/post", id: "board-post" });
        add(form, hidden("activity", a.id), hidden("cid", newId()),
            add(attr(h("label", "field"), { "for": "board-text" }), isQ ? BT.your_question : BT.your_idea,
                attr(h("textarea"), { id: "board-text", name: "text", maxlength: "280", rows: "3", required: "required" })),
            h("p", "hint", BT.limit + (s.premoderation ? " " + BT.premoderated : "")));
        if (!isQ && s.columns && s.columns.length > 1) {
          var select = attr(h("select"), { id: "board-column", name: "column" });
          s.columns.forEach(function (c, i) { select.appendChild(attr(h("option", null, c), { value: i })); });
          add(form, add(attr(h("label", "field"), { "for": "board-column" }), BT.column, select));
        }
        if (s.signed) {
          add(form, add(attr(h("label", "field"), { "for": "board-name" }), BT.your_name,
                        attr(h("input"), { id: "board-name", name: "name", maxlength: "40", autocomplete: "name" })));
        }
        add(form, add(h("div", "submit-bar"), h("button", "btn btn-primary btn-block", isQ ? BT.send_question : BT.send_idea)));
        box.appendChild(form);
      } else {
        box.appendChild(h("p", "state-note", a.state === "closed" ? BT.closed : BT.not_open));
      }
      add(box, attr(h("p", "form-status"), { id: "board-status", role: "status", "aria-live": "polite" }),
          attr(h("div", "board-mine"), { id: "board-mine" }), attr(h("div", "board-items"), { id: "board-items" }));
      return add(sec, box);
    }

    function status(text, kind) {
      var el = $("board-status");
      if (!el) { notify(text, kind === "is-error"); return; }
      el.textContent = text || "";
      el.className = "form-status" + (kind ? " " + kind : "");
    }

    function button(label, cls, key, aria) {
      var b = attr(h("button", "btn btn-small" + (cls ? " " + cls : ""), label), { type: "submit", "data-bkey": key });
      if (aria) b.setAttribute("aria-label", aria);
      return b;
    }

    function lists(a) {
      var focused = doc.activeElement, fkey = focused && focused.getAttribute && focused.getAttribute("data-bkey");
      var mine = mineMap[a.id] || { items: [], votes: {}, budget: 0, left: null };
      var open = a.state === "open", isQ = a.kind === "questions", s = a.settings || {};
      var mineBox = $("board-mine"), itemsBox = $("board-items");
      if (!mineBox || !itemsBox) return;
      clear(mineBox);
      if (mine.items && mine.items.length) {
        var ul = h("ul", "ideas-list");
        mine.items.forEach(function (i) {
          var li = add(h("li", "idea is-mine"));
          if (editing === i.id && i.editable && open) {
            var ef = attr(h("form", "board-edit"), { "data-item": i.id });
            var ta = attr(h("textarea"), { id: "board-edit-" + i.id, maxlength: "280", rows: "3", name: "text" });
            ta.value = i.text;
            add(ef, add(attr(h("label", "vh"), { "for": "board-edit-" + i.id }), BT.edit_label), ta,
                add(h("div", "idea-meta"), button(BT.save, "btn-primary", "save-" + i.id),
                    attr(h("button", "btn btn-small", BT.cancel), { type: "button", "data-cancel": "1", "data-bkey": "cancel-" + i.id })));
            li.appendChild(ef);
          } else {
            var meta = add(h("div", "idea-meta"), h("span", "badge badge-" + i.status, (BT.status || {})[i.status] || i.status));
            if (i.editable && open) {
              add(meta, attr(h("button", "btn btn-small", BT.edit), { type: "button", "data-edit": i.id, "data-bkey": "edit-" + i.id,
                                                                     "aria-label": BT.edit + " : " + i.text.slice(0, 60) }));
              var wf = attr(h("form", "board-withdraw"), { method: "post", action: "/j/" + code + "/boards/withdraw" });
              add(wf, hidden("activity", a.id), hidden("item", i.id),
                  button(BT.withdraw, "", "withdraw-" + i.id, BT.withdraw + " : " + i.text.slice(0, 60)));
              add(meta, wf);
            }
            add(li, h("p", "idea-text", i.text), meta);
          }
          if (notice && notice.id === i.id) li.appendChild(attr(h("p", "form-status is-error", notice.text), { role: "alert" }));
          ul.appendChild(li);
        });
        add(mineBox, h("h3", null, BT.what_you_sent), ul);
      }
      clear(itemsBox);
      if (a.items === null || a.items === undefined) {
        if (a.published) itemsBox.appendChild(h("p", "hint", BT.wall_later));
      } else {
        if (mine.budget) itemsBox.appendChild(attr(h("p", "votes-left"), { id: "votes-left" }));
        if (mine.budget) $("votes-left").textContent = bCount("left", mine.left === null ? 0 : mine.left);
        var groups = !isQ && s.columns && s.columns.length > 1 ? s.columns : [null];
        groups.forEach(function (c, col) {
          var shownItems = a.items.filter(function (i) { return (c === null || i.column === col) && !i.answered; });
          if (c !== null) itemsBox.appendChild(h("h3", null, c));
          else if (shownItems.length) itemsBox.appendChild(h("h3", null, isQ ? BT.from_room_q : BT.from_room));
          var list = h("ul", "ideas-list");
          shownItems.forEach(function (i) { list.appendChild(itemNode(a, i, mine, open, isQ, s)); });
          itemsBox.appendChild(list);
        });
        var done = isQ ? a.items.filter(function (i) { return i.answered; }) : [];
        if (done.length) {
          var dl = h("ul", "ideas-list");
          done.forEach(function (i) { dl.appendChild(add(h("li", "idea"), h("p", "idea-text", i.text))); });
          add(itemsBox, h("h3", null, BT.answered), dl);
        }
      }
      if (fkey) {
        var back = stage.querySelector("[data-bkey='" + fkey + "']");
        if (!back && /^(vote|take)-/.test(fkey)) {
          var n = fkey.split("-")[1];
          back = stage.querySelector("[data-bkey='vote-" + n + "'], [data-bkey='take-" + n + "']");
        }
        if (back) back.focus();
        else if (/^save-|^cancel-/.test(fkey) && stage.querySelector("[data-bkey='edit-" + fkey.split("-")[1] + "']")) {
          stage.querySelector("[data-bkey='edit-" + fkey.split("-")[1] + "']").focus();
        }
      }
      if (editing !== null && $("board-edit-" + editing) && fkey && /^edit-/.test(fkey)) $("board-edit-" + editing).focus();
    }

    function itemNode(a, i, mine, open, isQ, s) {
      var mv = (mine.votes || {})[String(i.id)] || 0;
      var meta = h("div", "idea-meta");
      if (i.author) add(meta, h("span", null, "— " + i.author));
      if (i.votes !== undefined) add(meta, h("span", null, bCount("votes", i.votes)));
      if (mv) add(meta, h("span", "badge", bCount("yours", mv)));
      if (open) {
        var f = attr(h("form", "board-vote"), { method: "post", action: "/j/" + code + "/boards/vote" });
        add(f, hidden("activity", a.id), hidden("item", i.id));
        var label = i.text.slice(0, 60);
        if (mv && (isQ || !s.stack || mine.left === 0)) {
          add(f, hidden("take", "1"), button(BT.take_back, "", "take-" + i.id, BT.take_back + " : " + label));
        } else {
          var b = button(isQ ? BT.upvote : BT.vote, "btn-primary", "vote-" + i.id, (isQ ? BT.upvote : BT.vote) + " : " + label);
          if (mine.budget && mine.left === 0) b.disabled = true;
          add(f, b);
        }
        add(meta, f);
      }
      return add(h("li", "idea" + (i.highlighted ? " is-highlighted" : "") + (i.pinned ? " is-pinned" : "")),
                 h("p", "idea-text", i.text), meta);
    }

    /* One request at a time; no ack: the same cid is sent again (the server answers the same). */
    function send(op) {
      notice = null;
      queue.push(op);
      pump();
    }

    function pump() {
      var socket = getSocket();
      if (busy || !queue.length || !socket) return;
      if (!socket.connected) { status(BT.offline, "is-wait"); return; }
      var op = queue[0];
      busy = true;
      status(BT.sending, "is-wait");
      socket.timeout(8000).emit(op.event, op.payload, function (err, ack) {
        busy = false;
        if (err) {  // maybe lost: retry with the same cid, or on reconnection
          op.tries = (op.tries || 0) + 1;
          if (op.tries < 3 && socket.connected) { setTimeout(pump, 500); return; }
          queue.shift();
          status(T.no_reply, "is-error");
          return;
        }
        queue.shift();
        if (!ack || !ack.ok) { status(errorText(ack), "is-error"); pump(); return; }
        if (ack.mine) mineMap[op.payload.activity] = ack.mine;
        if (op.done) op.done(ack);
        var a = current();
        if (a && a.id === op.payload.activity) lists(a);
        pump();
      });
    }

    function onSubmit(e) {
      var form = e.target, a = current(), socket = getSocket();
      if (!a || !socket || !socket.connected || e.defaultPrevented) return;  // the form posts
      if (form.id === "board-post") {
        e.preventDefault();
        var text = $("board-text").value;
        if (!text.replace(/\s+/g, "")) { status(BT.empty, "is-error"); $("board-text").focus(); return; }
        var payload = { cid: form.elements.cid.value, activity: a.id, text: text,
                        column: form.elements.column ? parseInt(form.elements.column.value, 10) : 0 };
        if (form.elements.name) payload.name = form.elements.name.value;
        send({ event: "board_post", payload: payload, done: function (ack) {
          if ($("board-text")) $("board-text").value = "";
          if (form.elements.cid) form.elements.cid.value = newId();  // the next idea is a new one
          status(ack.status === "pending" ? BT.saved_pending : BT.saved, "is-ok");
        } });
      } else if (hasClass(form, "board-vote")) {
        e.preventDefault();
        var take = !!form.elements.take;
        send({ event: "board_vote", payload: { cid: newId(), activity: a.id, item: parseInt(form.querySelector("input[name=item]").value, 10), take: take },
               done: function () { status(take ? BT.vote_taken : BT.vote_saved, "is-ok"); } });
      } else if (hasClass(form, "board-withdraw")) {
        e.preventDefault();
        send({ event: "board_withdraw", payload: { cid: newId(), activity: a.id, item: parseInt(form.querySelector("input[name=item]").value, 10) },
               done: function () { status(BT.withdrawn, "is-ok"); } });
      } else if (hasClass(form, "board-edit")) {
        e.preventDefault();
        var id = parseInt(form.getAttribute("data-item"), 10);
        send({ event: "board_edit", payload: { cid: newId(), activity: a.id, item: id, text: form.elements.text.value },
               done: function () { editing = null; status(BT.edited, "is-ok"); } });
      }
    }

    function onClick(e) {
      var a = current(), t = e.target;
      if (!a || !t.getAttribute) return;
      if (t.getAttribute("data-edit")) {
        editing = parseInt(t.getAttribute("data-edit"), 10);
        lists(a);
        var ta = $("board-edit-" + editing);
        if (ta) ta.focus();
      } else if (t.getAttribute("data-cancel")) {
        var was = editing;
        editing = null;
        lists(a);
        var back = stage.querySelector("[data-bkey='edit-" + was + "']");
        if (back) back.focus();
      }
    }

    stage.addEventListener("submit", onSubmit, false);
    stage.addEventListener("click", onClick, false);

    return {
      render: render,
      leave: function () { shown = null; stage.removeAttribute("data-board-view"); },
      mine: function (data) {  // `board_mine`: this phone's items were moderated
        if (!data) return;
        var before = mineMap[data.activity], a = current();
        mineMap[data.activity] = data.mine;
        if (!a || a.id !== data.activity) return;
        var was = {}, wasText = {};
        ((before && before.items) || []).forEach(function (i) { was[i.id] = i.status; wasText[i.id] = i.text; });
        var edited = editing;
        data.mine.items.forEach(function (i) {
          if (was[i.id] && was[i.id] !== i.status) say(fill(BT.now_status, { text: i.text.slice(0, 60), status: (BT.status || {})[i.status] || i.status }));
          /* The author was rewriting this item when a moderator acted on it: say so, plainly,
             with its current state (nothing typed is sent over a moderator's decision). */
          if (i.id === edited && (!i.editable || i.text !== wasText[i.id])) {
            editing = null;  // the message goes where the author was looking: under the item
            notice = { id: i.id, text: fill(BT.changed_meanwhile, { text: i.text.slice(0, 80), status: (BT.status || {})[i.status] || i.status }) };
          }
        });
        if (edited !== null && editing === edited && !data.mine.items.some(function (i) { return i.id === edited; })) editing = null;
        lists(a);
      },
      results: function (a, r) { if (boardResults(a, r) && shown) lists(a); },
      retry: pump
    };
  }

  /* The console's display controls of the board on screen (as the board_display macro): sort,
     spotlight (idea wall) or the question being answered (Q&A). Sent over the socket; the form
     posts without it. Left alone while the facilitator is using it. */
  function boardDisplay(section, a, base, getSocket) {
    var old = section.querySelector(".board-display");
    if (old && old.contains(doc.activeElement) && a && old.getAttribute("data-activity") === String(a.id)) return;
    if (old) old.parentNode.removeChild(old);
    if (!a) return;
    var s = a.settings || {}, isQ = a.kind === "questions";
    var form = attr(h("form", "board-display"), { method: "post", action: base + "/boards/" + a.id + "/display", "data-activity": a.id });
    var sort = attr(h("select"), { name: "sort" });
    [["votes", BT.by_votes], ["time", BT.by_time]].forEach(function (o) {
      var opt = attr(h("option", null, o[1]), { value: o[0] });
      if (s.sort === o[0]) opt.selected = true;
      sort.appendChild(opt);
    });
    add(form, add(h("label"), BT.sort, " ", sort));
    if (a.items && a.items.length) {
      var key = isQ ? "current" : "spotlight", chosen = s[key];
      var pick = attr(h("select"), { name: key });
      pick.appendChild(attr(h("option", null, "—"), { value: "" }));
      a.items.forEach(function (i) {
        var text = i.text.length > 50 ? i.text.slice(0, 49) + "…" : i.text;
        var opt = attr(h("option", null, "#" + i.id + " " + text), { value: i.id });
        if (chosen === i.id) opt.selected = true;
        pick.appendChild(opt);
      });
      add(form, " ", add(h("label"), isQ ? BT.being_answered : BT.spotlight, " ", pick));
    }
    add(form, " ", attr(h("button", "btn btn-small", BT.apply), { type: "submit" }));
    form.addEventListener("submit", function (e) {
      var socket = getSocket();
      if (!socket || !socket.connected) return;  // the form posts
      e.preventDefault();
      var payload = { cid: newId(), activity: a.id, sort: form.elements.sort.value };
      var target = form.elements.spotlight || form.elements.current;
      if (target) payload[target.name] = target.value ? parseInt(target.value, 10) : null;
      socket.timeout(8000).emit("board_display", payload, function (err, ack) {
        if (err || !ack || !ack.ok) notify(err ? T.no_reply : errorText(ack), true);
        else notify("");
      });
    }, false);
    section.appendChild(form);
  }

  /* The console's agenda: what moderation did (pending, published, rejected, hidden). */
  function boardCounts(m) {
    m = m || {};
    return fill(BT.agenda_counts || "{queue} · {published} · {rejected} · {hidden}",
                { queue: m.queue || 0, published: m.published || 0, rejected: m.rejected || 0, hidden: m.hidden || 0 });
  }

  /* The screen: columns of cards (or the spotlight), or the Q&A (current question, top, answered). */
  function card(i, cls) {
    var li = h("li", "card" + (i.pinned ? " is-pinned" : "") + (i.highlighted ? " is-highlighted" : "") + (cls ? " " + cls : ""));
    li.appendChild(h("p", "card-text", i.text));
    if (i.author || i.votes !== undefined) {
      var meta = h("p", "card-meta");
      if (i.author) meta.appendChild(h("span", "card-author", i.author));
      if (i.votes !== undefined) meta.appendChild(h("span", "card-votes", bCount("votes", i.votes)));
      li.appendChild(meta);
    }
    return li;
  }

  /* Nothing on the screen may be cut: when the board overflows its slide, the cards get denser
     (down to a size still read from the back of the room), then the last cards give way to a
     "+ n more" line: the least-voted questions first, the oldest answered ones, the ends of the
     longest columns. The big card (spotlight, question being answered) shrinks last. */
  function fitBoard(body) {
    var box = body && body.querySelector(".board-screen");
    if (!box) return;
    function over() { return body.scrollHeight > body.clientHeight + 1; }
    function more(list, n) {
      var note = list.parentNode.querySelector(".more-note");
      if (!note) { note = h("p", "more-note"); list.parentNode.appendChild(note); }
      note.textContent = fill(BT.more || "+ {n}", { n: n });
    }
    function drop(list, keep) {  // remove the last card of `list`; false when only `keep` are left
      if (!list || list.children.length <= keep) return false;
      list.removeChild(list.lastChild);
      list.setAttribute("data-dropped", (parseInt(list.getAttribute("data-dropped") || "0", 10) + 1));
      more(list, parseInt(list.getAttribute("data-dropped"), 10));
      return true;
    }
    var grid = box.querySelector(".columns");
    if (grid) {
      ["dense", "denser"].forEach(function (c) { if (over()) grid.className += " " + c; });
      while (over()) {
        var longest = null;
        Array.prototype.forEach.call(grid.querySelectorAll(".cards"), function (ul) {
          if (!longest || ul.scrollHeight > longest.scrollHeight) longest = ul;
        });
        if (!drop(longest, 1)) break;
      }
    }
    var big = box.querySelector(".is-spotlight, .is-current");
    function shrink(c) { if (big && over()) big.className += " " + c; }
    if (box.querySelector(".qa-lists")) {
      var top = box.querySelector(".qa-top .cards"), done = box.querySelector(".qa-done .cards");
      while (over() && (drop(done, 1) || drop(top, 2))) { /* fewer cards */ }
      shrink("smaller");
      while (over() && drop(top, 1)) { /* the first question stays */ }
      shrink("smallest");
      if (over() && done) { done.parentNode.parentNode.removeChild(done.parentNode); box.querySelector(".qa-lists").className += " single"; }
    } else {
      shrink("smaller");
      shrink("smallest");
    }
  }

  function boardScreenNode(a) {
    var s = a.settings || {}, items = a.items || [];
    var box = attr(h("div", "board-screen board-" + a.kind), { "data-board": a.id });
    if (a.kind === "ideas") {
      var spot = a.spotlight && items.filter(function (i) { return i.id === a.spotlight.id; })[0];
      if (a.spotlight) {
        box.appendChild(add(h("ul", "spotlight"), card(spot || a.spotlight, "is-spotlight")));
      } else if (a.items === null || a.items === undefined) {
        box.appendChild(add(h("p", "hidden-note"), h("span", "big-count", bCount("ideas", a.published || 0))));
      } else {
        var cols = s.columns && s.columns.length ? s.columns : [""];
        var longest = 0;  // the fuller the longest column, the smaller the cards (all stay on screen)
        cols.forEach(function (c, col) {
          var n = items.filter(function (i) { return i.column === col || cols.length === 1; }).length;
          longest = Math.max(longest, cols.length === 1 ? Math.ceil(n / 2) : n);
        });
        var grid = h("div", "columns cols-" + cols.length + (longest > 4 ? " dense denser" : longest > 2 ? " dense" : ""));
        cols.forEach(function (c, col) {
          var sec = attr(h("section", "column"), { "aria-label": c });
          if (cols.length > 1) sec.appendChild(h("h2", "column-title", c));
          var ul = h("ul", "cards");
          items.forEach(function (i) { if (i.column === col || cols.length === 1) ul.appendChild(card(i)); });
          if (!ul.firstChild && cols.length === 1) sec.appendChild(h("p", "muted board-empty", BT.ask_ideas));
          sec.appendChild(ul);
          grid.appendChild(sec);
        });
        box.appendChild(grid);
      }
      return box;
    }
    var cur = a.current && (items.filter(function (i) { return i.id === a.current.id; })[0] || a.current);
    var open = items.filter(function (i) { return !i.answered && (!cur || i.id !== cur.id); });
    var done = items.filter(function (i) { return i.answered; });
    if (cur) {
      box.appendChild(add(attr(h("section", "qa-current"), { "aria-label": BT.being_answered }),
                          h("h2", "qa-label", BT.being_answered), add(h("ul", "spotlight"), card(cur, "is-current"))));
    }
    var lists = h("div", "qa-lists" + (done.length ? "" : " single"));
    var top = add(h("section", "qa-top"), h("h2", "qa-label", BT.top_questions));
    if (open.length) {
      var ol = h("ol", "cards");
      open.slice(0, 8).forEach(function (i) { ol.appendChild(card(i)); });  // fitBoard keeps what fits
      top.appendChild(ol);
    } else {
      top.appendChild(h("p", "muted", BT.ask_questions));
    }
    lists.appendChild(top);
    if (done.length) {
      var ul2 = h("ul", "cards small");
      done.slice(-6).reverse().forEach(function (i) { ul2.appendChild(card(i)); });
      lists.appendChild(add(h("section", "qa-done"), h("h2", "qa-label", BT.answered), ul2));
    }
    box.appendChild(lists);
    return box;
  }

  // --- every page --------------------------------------------------------------------------

  /* Forms built here carry the page's CSRF token (from its meta tag) like the server's forms. */
  doc.addEventListener("submit", function (e) {
    var form = e.target, meta = doc.querySelector('meta[name="csrf-token"]');
    if (!meta || !form.getAttribute || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
    if (form.querySelector('input[name="csrf_token"]')) return;
    form.appendChild(attr(h("input"), { type: "hidden", name: "csrf_token", value: meta.getAttribute("content") }));
  }, true);

  /* Forms with data-confirm ask first (reset, delete, end). Registered before the pages' handlers. */
  doc.addEventListener("submit", function (e) {
    var text = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (text && !window.confirm(text)) e.preventDefault();
  }, false);

  /* The poll form shows only the fields of the chosen type. */
  function pollTypeFields() {
    var select = doc.querySelector("[data-poll-type]");
    if (!select) return;
    function sync() {
      var fields = select.form.querySelectorAll("[data-for]");
      for (var i = 0; i < fields.length; i++) {
        var show = (" " + fields[i].getAttribute("data-for") + " ").indexOf(" " + select.value + " ") >= 0;
        fields[i].hidden = !show;
        var inputs = fields[i].querySelectorAll("input, textarea, select");
        for (var j = 0; j < inputs.length; j++) inputs[j].disabled = !show;
      }
    }
    select.addEventListener("change", sync, false);
    sync();
  }

  pollTypeFields();
  var pages = { participant: participantPage, screen: screenPage, console: consolePage,
                moderator: moderatorPage };
  var start = pages[body.getAttribute("data-page")];
  if (start) start();
})();
