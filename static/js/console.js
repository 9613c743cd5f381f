/* The facilitator console: the agenda drawn from pushes, commands sent over the socket in the
   order they were clicked, the display controls of the board on screen. */
import { doc, body, T, BT, WC, $, readJSON, h, add, attr, clear, closest, hasClass, fill, counted, newId, notify, errorText, connect, sendQueue, hidden, newer, patchResults, isBoard, wcEntries, wcFrozen, keepSame, morph } from "./core.js";
import { showPulse, onHands, onSwitch } from "./pulse-staff.js";
import { readMissing, followMissing, missingNote } from "./wordcloud.js";

/* The button that submitted a form (SubmitEvent.submitter, or the last button clicked where the
   browser does not have it yet). */
var clicked = null;
doc.addEventListener("click", function (e) {
  clicked = closest(e.target, function (el) { return el.tagName === "BUTTON"; });
}, true);
function submitter(e) {
  var button = e.submitter || clicked;
  return button && button.form === e.target ? button : null;
}

/* Forms and buttons with data-confirm ask first (reset, delete, end, a new link). Registered
   before the page's handlers. */
doc.addEventListener("submit", function (e) {
  var button = submitter(e);
  var text = (button && button.getAttribute("data-confirm")) || (e.target.getAttribute && e.target.getAttribute("data-confirm"));
  if (!text) return;
  if (!window.confirm(text)) { e.preventDefault(); return; }
  // Confirmed here: a form posted without the socket is not asked again (ending the session).
  if (e.target.elements && !e.target.elements.confirmed) e.target.appendChild(hidden("confirmed", "yes"));
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

/* The forms to add an activity: in a <noscript> (there without JavaScript), built from it when
   their <details> is first opened. */
doc.addEventListener("toggle", function (e) {
  var details = e.target, script = details.open && details.querySelector && details.querySelector(":scope > noscript");
  if (!script) return;
  var parsed = new DOMParser().parseFromString(script.textContent, "text/html").body;
  details.removeChild(script);
  Array.prototype.forEach.call(parsed.childNodes, function (n) { details.appendChild(doc.importNode(n, true)); });
  pollTypeFields();
}, true);

function consolePage() {
  var view = readJSON("view");
  var base = body.getAttribute("data-base");
  var commandUrl = body.getAttribute("data-command");
  var agenda = $("agenda");
  var PAIRS = { open: "close", close: "open", reveal: "hide", hide: "reveal", show_open: "close" };

  readMissing();
  render();
  var socket = connect({ token: body.getAttribute("data-token") }, {
    snapshot: accept, state: accept, results: onResults
  });
  followMissing(socket);
  socket.on("pulse", showPulse);
  socket.on("admission", showLine);
  var commands = sendQueue(socket);
  doc.addEventListener("submit", onCommand, false);
  doc.addEventListener("submit", onTimer, false);
  doc.addEventListener("submit", function (e) { onHands(e, socket, commands); }, false);
  doc.addEventListener("submit", function (e) { onSwitch(e, socket, commands); }, false);

  /* The join line (live/sessions/admission.py): waiting now, let in over the last minute. */
  function showLine(d) {
    var line = $("admission");
    if (!line || !d || d.waiting === undefined) return;
    line.hidden = !(d.waiting || d.admitted);
    line.textContent = fill(line.getAttribute("data-text"), d);
  }

  function accept(v) {
    if (!newer(view, v)) return;
    view = v;
    showLine(v.admission);
    showPulse(v.pulse);
    render();
  }

  function ended() { return view.session.state === "ended"; }

  /* A command button (as the cmd_button macro): in the agenda, the buttons of an item share one
     form of class "cmd" with its activity; move and delete post elsewhere (formaction). */
  function cmdButton(action, label, activity, cls, confirmText, describedBy) {
    var button = attr(h("button", "btn" + (cls ? " " + cls : ""), label),
                      { type: "submit", name: "action", value: action, "data-key": action + "-" + (activity || "") });
    if (confirmText) button.setAttribute("data-confirm", confirmText);
    if (describedBy) button.setAttribute("aria-describedby", describedBy);
    return button;
  }

  function cmd(action, label) {  // a command in a form of its own (as the cmd macro)
    return add(attr(h("form", "cmd"), { method: "post", action: commandUrl }), cmdButton(action, label));
  }

  function toolButton(url, label, cls, pid, direction, confirmText) {
    var button = attr(h("button", "btn " + cls, label), { type: "submit", formaction: url, "aria-describedby": pid });
    if (direction) attr(button, { name: "direction", value: direction });
    if (confirmText) button.setAttribute("data-confirm", confirmText);
    return button;
  }

  function item(a, currentId, first, last) {
    var pid = "p" + a.id, onScreen = a.id === currentId, over = ended();
    var li = attr(h("li", "item" + (onScreen ? " on-screen" : "")), { id: "a" + a.id, "data-key": "a" + a.id });
    var title = attr(h("h3", "item-prompt"), { id: pid, tabindex: "-1" });
    add(title, h("span", "item-num", a.position + "."), " " + a.prompt);
    var meta = add(h("p", "item-meta"), h("span", "badge", (a.kind === "poll" ? T.types[a.type] : T.kinds[a.kind]) || a.kind), " ",
                   h("span", "badge badge-" + a.state, T.states[a.state] || a.state));
    if (a.revealed) add(meta, " ", h("span", "badge badge-revealed", T.results_shown));
    if (a.settings && a.settings.private && !a.revealed) add(meta, " ", h("span", "badge badge-private", T.private));
    if (onScreen) add(meta, " ", h("span", "badge badge-screen", T.on_screen));
    add(meta, " ", h("span", "item-answers", counted("answers", a.answers)));
    var actions = h("div", "actions");
    if (!over) {
      if (!onScreen) actions.appendChild(cmdButton("show", T.show, a.id, "btn-primary", null, pid));
      if (a.state === "open") actions.appendChild(cmdButton("close", T.close, a.id, "", null, pid));
      else if (onScreen) actions.appendChild(cmdButton("open", a.state === "draft" ? T.open : T.reopen, a.id, "btn-primary", null, pid));
      // Not on screen: opening it alone would leave the room looking at something else.
      else actions.appendChild(cmdButton("show_open", a.state === "draft" ? T.show_open : T.show_reopen, a.id, "", null, pid));
    }
    actions.appendChild(a.revealed ? cmdButton("hide", T.hide, a.id, "", null, pid) : cmdButton("reveal", T.reveal, a.id, "", null, pid));
    var tools = h("div", "tools");
    if (a.answers === 0 && a.kind === "poll") {
      tools.appendChild(attr(h("a", "btn btn-small", T.edit), { href: base + "/polls/" + a.id, "aria-describedby": pid }));
    }
    if (!first) tools.appendChild(toolButton(base + "/activities/" + a.id + "/move", T.up, "btn-small", pid, "up"));
    if (!last) tools.appendChild(toolButton(base + "/activities/" + a.id + "/move", T.down, "btn-small", pid, "down"));
    if (!over && (a.answers || a.state !== "draft" || a.revealed)) {
      tools.appendChild(cmdButton("reset", T.reset, a.id, "btn-small btn-danger", T.confirm_reset, pid));
    }
    if (a.answers === 0 && a.state !== "open") {
      tools.appendChild(toolButton(base + "/activities/" + a.id + "/delete", T.delete, "btn-small btn-danger", pid, null, T.confirm_delete));
    }
    var form = add(attr(h("form", "cmd"), { method: "post", action: commandUrl }), hidden("activity", a.id), actions,
                   a.kind === "wordcloud" ? wordcloudTools(a, pid, over) : null,
                   isBoard(a) ? h("p", "board-counts", boardCounts(a.moderation)) : null,
                   isBoard(a) ? add(h("div", "actions board-actions"), attr(h("a", "btn btn-small", BT.settings),
                                    { href: base + "/boards/" + a.id + "/settings", "aria-describedby": pid })) : null,
                   tools);
    return add(li, title, meta, patchResults(null, a, null, "mini"), form);
  }

  /* Word clouds: live counts, freeze/unfreeze, edit (as the wordcloud_tools macro). */
  PAIRS.freeze = "unfreeze";
  PAIRS.unfreeze = "freeze";
  function wordcloudCounts(a) { return counted("participants", a.answers) + " · " + wcEntries(a.entries || 0); }
  function wordcloudTools(a, pid, over) {
    var frozen = wcFrozen(a);
    var p = add(h("p", "wc-tools"), h("span", "wc-counts", wordcloudCounts(a)));
    if (frozen) add(p, " ", h("span", "badge badge-frozen", WC.frozen));
    var acts = h("div", "actions wc-actions"), missing = missingNote(a.id);
    if (!over) {
      acts.appendChild(frozen ? cmdButton("unfreeze", WC.unfreeze, a.id, "", null, pid) : cmdButton("freeze", WC.freeze, a.id, "", null, pid));
      acts.appendChild(attr(h("a", "btn btn-small", WC.edit), { href: base + "/wordclouds/" + a.id, "aria-describedby": pid }));
    }
    return add(doc.createDocumentFragment(), p, missing, acts);
  }

  function render() {
    var focused = doc.activeElement, key = focused && focused.getAttribute && focused.getAttribute("data-key");
    var focusItem = closest(focused, function (el) { return hasClass(el, "item"); });
    var current = view.current, currentId = current ? current.id : null;

    var state = $("session-state");
    state.textContent = T.session_states[view.session.state] || view.session.state;
    state.className = "badge badge-" + view.session.state;
    $("participants").textContent = presenceText();
    $("now").textContent = current ? current.prompt : T.banner_now;
    var nowActions = $("now-actions");
    keepSame(nowActions, current && !ended() ? [cmd("banner", T.banner)] : []);
    timerForm(current);
    boardDisplay(nowActions.parentNode, isBoard(current) ? current : null, base, function () { return socket; });
    var liveOnly = doc.querySelectorAll("[data-live-only]");
    for (var i = 0; i < liveOnly.length; i++) liveOnly[i].hidden = ended();

    var items = view.agenda || [];
    var drawn = items.map(function (a, index) { return item(a, currentId, index === 0, index === items.length - 1); });
    keepSame(agenda, items.length ? drawn : [h("li", "empty", T.empty)]);
    restoreFocus(key, focusItem);
  }

  /* The timer of the activity on screen (sessions/_timer.html): its buttons for its state. */
  function timerForm(current) {
    var form = $("timer-form");
    if (!form) return loadTimer(current);
    var state = current && current.timer ? current.timer.state : "off", actions = $("timer-actions");
    form.hidden = !current || ended();
    form.elements.activity.value = current ? current.id : "";
    if (actions.getAttribute("data-state") !== state) {
      actions.setAttribute("data-state", state);
      clear(actions);
      ["start", state === "paused" ? "resume" : "pause", "add", "stop"].slice(0, state === "off" ? 1 : 4).forEach(function (action, i) {
        add(actions, " ", attr(h("button", i ? "btn" : "btn btn-primary", T.timer_buttons[action]), { name: "action", value: action }));
      });
    }
    loadTimer(current);
  }
  var timer;  // timer.js, loaded once a timer runs
  function loadTimer(current) {
    if (timer || (current && current.timer)) (timer = timer || import("./timer.js")).then(function (m) { m.showTimer(view, $("now")); });
  }

  function onTimer(e) {
    var form = e.target, button = submitter(e);
    if (form.id !== "timer-form" || !button || !socket.connected || e.defaultPrevented) return;
    e.preventDefault();
    commands.push({
      event: "timer",
      payload: { cid: newId(), action: button.value, activity: parseInt(form.elements.activity.value, 10),
                 seconds: Math.round(parseFloat(form.elements.minutes.value) * 60) || null, autoclose: form.elements.autoclose.checked },
      done: function () { notify(""); },
      failed: function (why) { notify(why === true ? T.no_reply : errorText(why), true); }
    });
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

  /* Connected now · joined: the snapshot's, then the `presence` pushes. */
  function presenceText() {
    return counted("connected", view.connected || 0) + " · " + counted("joined", view.participants || 0);
  }
  /* What the server served for this session so far (live/footprint.py), every 10 s while shown. */
  var served = $("footprint");
  if (served && window.fetch) setInterval(function () {
    if (doc.hidden) return;
    fetch(served.getAttribute("data-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && d.text) served.textContent = d.text; })
      .catch(function () {});
  }, 10000);
  socket.on("presence", function (data) {
    if (data.session !== view.session.id) return;
    view.participants = data.participants;
    view.connected = data.connected;
    $("participants").textContent = presenceText();
  });

  function onResults(data) {
    view.participants = data.participants;
    $("participants").textContent = presenceText();
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
    var form = e.target, button = submitter(e);
    if (!hasClass(form, "cmd") || !button || button.name !== "action" || !socket.connected || e.defaultPrevented) return;
    e.preventDefault();  // (move and delete post)
    var activity = form.elements.activity ? parseInt(form.elements.activity.value, 10) : null;
    // Commands run in the order they were clicked ("show" then "open"): none is dropped.
    commands.push({
      event: "command",
      payload: { cid: newId(), action: button.value, activity: activity },
      done: function () { notify(""); },
      failed: function (why) {
        commands.clear();  // the next clicks assumed this one worked: stop, and say why
        notify(why === true ? T.no_reply : errorText(why), true);
      }
    });
  }
}

/* The console's display controls of the board on screen (as the board_display macro): sort,
   spotlight (idea wall) or the question being answered (Q&A). Sent over the socket; the form
   posts without it. Left alone while the facilitator is using it; drawn again for the same
   board, the form stays (morph): its button under a finger and a choice not applied yet are
   kept, and a push that changes the board's settings changes the options' `selected`. */
function boardDisplay(section, a, base, getSocket) {
  var old = section.querySelector(".board-display"), same = old && a && old.getAttribute("data-activity") === String(a.id);
  if (same && old.contains(doc.activeElement)) return;
  if (old && !same) old.parentNode.removeChild(old);
  if (!a) return;
  var s = a.settings || {}, isQ = a.kind === "questions";
  var form = attr(h("form", "board-display"), { method: "post", action: base + "/boards/" + a.id + "/display", "data-activity": a.id });
  var sort = attr(h("select"), { name: "sort" });
  [["votes", BT.by_votes], ["time", BT.by_time]].forEach(function (o) {
    var opt = attr(h("option", null, o[1]), { value: o[0] });
    if (s.sort === o[0]) opt.setAttribute("selected", "");
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
      if (chosen === i.id) opt.setAttribute("selected", "");
      pick.appendChild(opt);
    });
    add(form, " ", add(h("label"), isQ ? BT.being_answered : BT.spotlight, " ", pick));
  }
  add(form, " ", attr(h("button", "btn btn-small", BT.apply), { type: "submit" }));
  if (same) return morph(old, form);  // its listener stays: the same board
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

consolePage();
