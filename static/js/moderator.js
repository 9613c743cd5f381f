/* The moderator page: idea walls and Q&A to moderate, word-cloud groups, what is on screen.
   One socket; everything is drawn from its pushes and answers, with the markup the server
   renders at load (boards/_moderate.html, wordclouds/_moderate.html): the page is never fetched
   again. */
import { doc, body, T, BT, WC, $, h, add, attr, clear, closest, hasClass, fill, plural, counted, newId, notify, connect, sendQueue, readJSON, hidden, bCount, wcEntries, wcFrozen, actionOn, keepSame, morph } from "./core.js";
import { readMissing, followMissing, missingNote } from "./wordcloud.js";

const M = readJSON("i18n-mod") || {};  // the strings of this page (boards/_strings.html)

/* Word clouds: each cloud's groups, redrawn from `word:groups` (after `cloud` pushes, at most
   once a second) or from the ack of an action. Same markup as wordclouds/_moderate.html. */
function cloudModeration(socket, queue) {
  var clouds = $("clouds");
  if (!clouds) return null;
  var timers = {}, last = {};
  clouds.addEventListener("submit", onSubmit, false);
  socket.on("cloud", function (data) { if (data) later(data.activity); });

  function section(id) { return $("wc-" + id); }

  /* The clouds worth moderating (open or closed, with entries, or on screen), the one on screen
     first: a section appears for each, drawn as wordclouds/_moderate.html does. */
  function onView(v) {
    var current = v.current && v.current.id;
    var wanted = (v.agenda || []).filter(function (a) {
      return a.kind === "wordcloud" && (a.state !== "draft" || a.entries || a.id === current);
    });
    wanted.sort(function (x, y) { return ((x.id !== current) - (y.id !== current)) || (x.position - y.position); });
    wanted.forEach(function (a) { if (!section(a.id)) clouds.appendChild(shell(a)); });
    arrange(clouds, wanted.map(function (a) { return section(a.id); }));
    (v.agenda || []).forEach(function (a) {
      var sec = a.kind === "wordcloud" && section(a.id);
      if (!sec) return;
      sec.querySelector(".wc-prompt").textContent = a.prompt;
      var meta = sec.querySelector(".wc-meta");
      clear(meta);
      add(meta, h("span", "badge badge-" + a.state, T.states[a.state] || a.state));
      if (wcFrozen(a)) add(meta, " ", h("span", "badge badge-frozen", WC.frozen));
      if (!a.revealed) add(meta, " ", h("span", "badge badge-private", WC.private));
      add(meta, " ", h("span", "wc-counts", counted("participants", a.answers) + " · " + wcEntries(a.entries || 0)));
      later(a.id);
    });
  }

  function onResults(data) {
    var sec = data && section(data.activity), counts = sec && sec.querySelector(".wc-counts");
    if (counts) counts.textContent = counted("participants", data.answers) + " · " + wcEntries(data.entries || 0);
  }

  function shell(a) {
    var id = a.id, sec = attr(h("section", "panel cloud-mod"), { id: "wc-" + id, "data-cloud": id,
      "data-action": "/m/" + body.getAttribute("data-token") + "/words/" + id, "aria-labelledby": "wc-title-" + id });
    var held = attr(h("div", "wc-held"), { hidden: "" });
    add(held, h("h3", null, M.held_title), h("p", "hint", M.held_hint), h("ul", "groups held-list"));
    var form = attr(h("form", "wmod"), { method: "post", action: sec.getAttribute("data-action") });
    add(form, csrf(), held, h("h3", null, M.counted), add(h("ul", "groups all-groups"), h("li", "empty", WC.no_entries)));
    return add(sec, add(attr(h("h2"), { id: "wc-title-" + id }), h("span", "badge", M.cloud), " ", h("span", "wc-prompt", a.prompt)),
               add(h("p", "item-meta wc-meta"), h("span", "badge badge-" + a.state, T.states[a.state] || a.state)),
               missingNote(id), form);
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
    var button = e.submitter;
    if (!sec || !button || button.name !== "act" || !socket.connected || e.defaultPrevented) return;
    e.preventDefault();
    if (queue.busy) return;
    var id = parseInt(sec.getAttribute("data-cloud"), 10), value = button.value, cut = value.indexOf(":");
    var payload = { cid: newId(), activity: id, action: cut < 0 ? value : value.slice(0, cut), key: value.slice(cut + 1) };
    if (payload.action === "merge") {
      payload.key = form.elements.key.value;
      payload.into = form.elements.into.value;
    }
    queue.push({ event: "word:moderate", payload: payload, done: function (ack) {
      notify(WC.done, false);
      draw(id, ack.groups, payload.action === "merge" ? "merge" : value);
    } });
  }

  /* A group's button: its action and group in its value (the form's `act`). */
  function button(action, key, label, text, cls) {
    return attr(h("button", "btn btn-small" + (cls ? " " + cls : ""), label),
                { type: "submit", name: "act", value: action + ":" + key, "aria-label": actionOn(label, text) });
  }

  function row(sec, g, inHeld) {
    var held = g.held && !g.released;
    var li = add(attr(h("li", "group" + (g.hidden ? " is-hidden" : "") + (held ? " is-held" : "")), { "data-key": "g" + g.key }),
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
    var acts = attr(h("span", "g-actions"), { "data-key": "acts" });
    if (held) acts.appendChild(button("release", g.key, WC.release, g.text, "btn-primary"));
    if (g.released) acts.appendChild(button("hold", g.key, WC.hold, g.text));
    if (!inHeld) {
      acts.appendChild(g.hidden ? button("restore", g.key, WC.restore, g.text) :
                                  button("hide", g.key, WC.hide, g.text, "btn-danger"));
    }
    add(li, acts);
    if (g.members.length && !inHeld) {
      var members = attr(h("ul", "g-members"), { "data-key": "members" });
      g.members.forEach(function (m) {
        members.appendChild(add(h("li"), attr(h("span", "g-member", m.text), { dir: "auto" }), " ", button("unmerge", m.key, WC.unmerge, m.text)));
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
    var focused = doc.activeElement, wkey = acted || (focused && sec.contains(focused) && focused.name === "act" && focused.value);
    var heldGroups = groups.filter(function (g) { return g.held && !g.released; });
    var heldBox = sec.querySelector(".wc-held"), heldList = sec.querySelector(".held-list");
    keepSame(heldList, heldGroups.map(function (g) { return row(sec, g, true); }));
    heldBox.hidden = !heldGroups.length;
    var list = sec.querySelector(".all-groups");
    keepSame(list, groups.length ? groups.map(function (g) { return row(sec, g, false); }) : [h("li", "empty", WC.no_entries)]);
    var merge = sec.querySelector(".wc-merge");
    if (!merge && groups.length > 1) {
      merge = add(h("p", "wc-merge"), add(h("label"), WC.merge + " ", attr(h("select"), { name: "key" })), " ",
                  add(h("label"), WC.into + " ", attr(h("select"), { name: "into" })), " ",
                  attr(h("button", "btn btn-small", WC.merge), { type: "submit", name: "act", value: "merge" }));
      list.parentNode.insertBefore(merge, list);
    }
    if (merge) {
      merge.hidden = groups.length < 2;
      var key = merge.querySelector("select[name=key]"), into = merge.querySelector("select[name=into]");
      options(key, groups, key.value);
      options(into, groups, into.value);
    }
    if (wkey) {
      var parts = wkey.split(":"), rest = wkey.slice(parts[0].length + 1);
      var target = Array.prototype.filter.call(sec.querySelectorAll("button[name=act]"), function (b) {
        return b.value === wkey || b.value === PAIRS[parts[0]] + ":" + rest;
      })[0];
      if (target) target.focus();
    }
  }

  return { view: onView, results: onResults };
}

/* Idea walls and Q&A: the markup of boards/_moderate.html, drawn from a board's moderation data
   (the `board_moderation` answer). Each board carries the stamp of its items and the version of
   its settings as drawn (`data-stamp`, `data-version`); a `results` push with a new stamp, or a
   `state` with a new version, asks for that board's data again (one request at a time per board)
   and redraws it, keeping what the moderator checked, opened or typed. Vote counts come with
   `results` and are drawn without asking. `#boards` says `data-synced="1"` when no request or
   redraw is waiting. Every button is a form post; over the socket the same requests are sent. */
function boardModeration(socket, queue, token) {
  var boards = $("boards");
  if (!boards) return null;
  var data = {}, asking = {}, again = {}, waiting = {};
  var statusBox = $("mod-status");
  synced();

  function section(id) { return $("board-" + id); }
  function sections() { return Array.prototype.slice.call(boards.querySelectorAll(".board-mod")); }
  function busy() { return Object.keys(asking).length + Object.keys(waiting).length > 0; }
  function synced() { boards.setAttribute("data-synced", busy() ? "0" : "1"); }

  /* Ask for board `id`'s moderation data; a call while asking asks once more after. */
  function ask(id) {
    if (asking[id]) { again[id] = true; return; }
    asking[id] = true;
    synced();
    socket.timeout(8000).emit("board_moderation", { cid: newId(), activity: id }, function (err, ack) {
      delete asking[id];
      if (!err && ack && ack.ok) show(id, ack.board);
      else if (!err && ack && ack.error) drop(id);  // the board is gone
      if (again[id]) { delete again[id]; ask(id); }
      synced();
    });
  }

  function drop(id) {
    var sec = section(id);
    if (sec) sec.parentNode.removeChild(sec);
    delete data[id];
  }

  function typing(sec) {
    var el = doc.activeElement;
    return el && el.tagName === "TEXTAREA" && sec.contains(el) && el.value !== el.defaultValue;
  }

  /* Draw board `id` from `b` unless the page already shows it; not under the moderator's typing
     (drawn when the field is left). */
  function show(id, b) {
    var sec = section(id);
    data[id] = b;
    if (sec && !sec.hasAttribute("data-drawn") && sec.getAttribute("data-stamp") === b.stamp &&
        sec.getAttribute("data-version") === String(b.version)) return;  // the server's, current
    if (sec && typing(sec)) { waiting[id] = true; synced(); return; }
    delete waiting[id];
    /* Drawn again, the section keeps what did not change (morph, keepSame): an item's buttons
       stay under the moderator's finger while others' ideas arrive; a <details> not opened
       yet takes the new content to build. */
    var fresh = boardNode(b, token), state = keep(sec), focus = focusKey(sec);
    fresh.setAttribute("data-drawn", "1");
    if (sec) morph(sec, fresh, function (was, node) { if (was._build) was._build = node._build; });
    else boards.appendChild(sec = fresh);
    restore(sec, state);
    refocus(sec, focus);
    if (order) order();
  }


  boards.addEventListener("toggle", function (e) {  // toggle does not bubble: caught on its way down
    if (e.target.open) { openLazy(e.target); fillNames(e.target); }
  }, true);

  boards.addEventListener("focusout", function () {
    setTimeout(function () {
      Object.keys(waiting).forEach(function (id) { if (data[id]) show(parseInt(id, 10), data[id]); });
      synced();
    }, 0);
  }, false);

  var order = null;  // set by the page: puts the sections in the agenda's order

  function focusKey(sec) {
    var el = doc.activeElement;
    if (!sec || !el || !sec.contains(el) || !el.name) return null;
    var value = String(el.value || "").split(":").slice(0, 2).join(":");
    return { name: el.name, value: el.type === "textarea" ? "" : value };
  }

  function refocus(sec, key) {
    if (!key) return;
    var found = Array.prototype.filter.call(sec.querySelectorAll("[name]"), function (el) {
      return el.name === key.name && (!key.value || String(el.value).split(":").slice(0, 2).join(":") === key.value);
    })[0];
    if (found) found.focus();
  }

  function remembered(name) {
    try { return window.localStorage.getItem(name) || ""; } catch (e) { return ""; }
  }
  function remember(name, value) {
    try { window.localStorage.setItem(name, value); } catch (e) { /* private mode */ }
  }

  function fillNames(root) {
    var name = remembered("palabre.moderator");
    Array.prototype.forEach.call(root.querySelectorAll("input[name=by]"), function (el) {
      if (!el.value) el.value = name;
    });
  }

  function keep(sec) {
    var state = { checked: {}, open: {}, typed: {}, by: "" };
    if (!sec) return state;
    Array.prototype.forEach.call(sec.querySelectorAll("input[name=item]:checked"), function (el) {
      state.checked[el.value.split(":")[0]] = true;
    });
    Array.prototype.forEach.call(sec.querySelectorAll("details[open]"), function (el) {
      var owner = el.parentNode.closest("[id]");
      if (owner) state.open[owner.id + ":" + el.className] = true;
    });
    Array.prototype.forEach.call(sec.querySelectorAll("textarea"), function (el) {
      if (el.value !== el.defaultValue) state.typed[el.name] = el.value;
    });
    var by = sec.querySelector("input[name=by]");
    if (by) state.by = by.value;
    return state;
  }

  function restore(sec, state) {
    [0, 1].forEach(function () {  // twice: an opened <details> may hold others
      Array.prototype.forEach.call(sec.querySelectorAll("details:not([open])"), function (el) {
        var owner = el.parentNode.closest("[id]");
        if (owner && state.open[owner.id + ":" + el.className]) { openLazy(el); el.open = true; }
      });
    });
    Array.prototype.forEach.call(sec.querySelectorAll("input[name=item]"), function (el) {
      if (state.checked[el.value.split(":")[0]]) el.checked = true;
    });
    Array.prototype.forEach.call(sec.querySelectorAll("textarea"), function (el) {
      if (state.typed.hasOwnProperty(el.name)) el.value = state.typed[el.name];
    });
    var by = sec.querySelector("input[name=by]");
    if (by && state.by) by.value = state.by;
    fillNames(sec);
  }

  function say(lines, isError) {
    if (!statusBox) return;
    clear(statusBox);
    statusBox.className = "form-status " + (isError ? "is-error" : "is-ok");
    lines.forEach(function (text, i) { statusBox.appendChild(h(i ? "span" : "strong", null, (i ? " " : "") + text)); });
    statusBox.setAttribute("role", isError ? "alert" : "status");
  }

  function conflict(ack) {
    var lines = [ack && ack.error ? ack.error.message : (BT.offline || "")];
    ((ack && ack.state && ack.state.items) || []).forEach(function (item) {
      lines.push(fill(BT.item_now, { id: item.id, status: (BT.status || {})[item.status] || item.status,
                                     text: String(item.text).slice(0, 80) }));
    });
    return lines;
  }

  function ref(raw) {
    var parts = String(raw || "").split(":");
    var id = parseInt(parts[0], 10), version = parseInt(parts[1], 10);
    return isNaN(id) || isNaN(version) ? null : { id: id, version: version };
  }

  /* The same request the form would post: one item's button, an edit, a suggested merge, or the
     bulk buttons with the checked items. */
  function request(form, button) {
    var f = form.elements, name = button.name, value = button.value;
    var base = { cid: newId(), activity: parseInt(form.closest("[data-activity]").getAttribute("data-activity"), 10),
                 by: f.by ? f.by.value : "" };
    if (name === "current") return { event: "board_display", payload: Object.assign(base, { current: parseInt(value, 10) }) };
    var p = base;
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

  boards.addEventListener("change", function (e) {
    if (e.target.name === "by") remember("palabre.moderator", e.target.value);
  }, false);
  boards.addEventListener("submit", function (e) {
    var form = e.target, button = e.submitter;
    if (!socket.connected || e.defaultPrevented || !button || !form.closest("[data-activity]")) return;
    var req = request(form, button);
    if (!req) return;  // the form posts
    e.preventDefault();
    if (req.problem !== undefined) { say([req.problem], true); return; }
    if (queue.busy) return;
    var id = req.payload.activity;
    button.setAttribute("aria-busy", "true");
    queue.push({ event: req.event, payload: req.payload, done: function () {
      say([BT.done || ""], false);
      Array.prototype.forEach.call(form.querySelectorAll("input[name=item]:checked"), function (el) { el.checked = false; });
      button.removeAttribute("aria-busy");
      ask(id);  // show the current state
    }, failed: function (why) {
      say(why === true ? [BT.no_reply || ""] : conflict(why), true);
      button.removeAttribute("aria-busy");
      ask(id);  // show the current state either way
    } });
  }, false);
  fillNames(boards);

  return {
    ask: ask,
    drop: drop,
    set order(fn) { order = fn; },
    version: function (a) {  // a board of the agenda: ask for it if not drawn at this version
      var sec = section(a.id);
      if (!sec || sec.getAttribute("data-version") !== String(a.version)) ask(a.id);
    },
    results: function (msg) {
      var r = msg && msg.results, id = msg && msg.activity, sec = section(id);
      if (!r || r.stamp === undefined || !sec) return;
      if (sec.getAttribute("data-stamp") !== r.stamp) { ask(id); return; }
      var b = data[id];
      if (!b) { if (votesDiffer(sec, r.votes)) ask(id); return; }
      var changed = false;
      ["queue", "published", "removed"].forEach(function (part) {
        b[part].forEach(function (i) {
          var n = r.votes[String(i.id)] || 0;
          if (i.votes !== n) { i.votes = n; changed = true; }
        });
      });
      if (changed) show(id, b);
    }
  };

  function votesDiffer(sec, votes) {
    return Array.prototype.some.call(sec.querySelectorAll(".mod-item"), function (li) {
      return li.getAttribute("data-votes") !== String(votes[li.id.slice(5)] || 0);
    });
  }
}

/* --- the markup of boards/_moderate.html ---------------------------------------------------- */

function csrf() {
  var meta = doc.querySelector('meta[name="csrf-token"]');
  return hidden("csrf_token", meta ? meta.getAttribute("content") : "");
}

function modButton(cls, name, value, label) {
  return attr(h("button", "btn btn-small" + (cls ? " " + cls : ""), label), { name: name, value: value });
}

function short(text) {
  var chars = Array.from(text);
  return chars.length > 40 ? chars.slice(0, 40).join("") + "…" : text;
}

function boardNode(b, token) {
  var id = b.activity, s = b.settings || {}, columns = b.kind === "ideas" && s.columns && s.columns.length > 1 ? s.columns : null;
  var waiting = b.queue.filter(function (i) { return i.status === "pending"; });
  var ctx = { b: b, token: token, columns: columns, dupOf: {}, texts: {}, versions: {} };
  b.duplicates.forEach(function (d) { (ctx.dupOf[d.item] = ctx.dupOf[d.item] || []).push(d); });
  b.queue.concat(b.published, b.removed).forEach(function (i) { ctx.texts[i.id] = i.text; ctx.versions[i.id] = i.version; });
  var sec = attr(h("section", "panel board-mod"), { id: "board-" + id, "aria-labelledby": "board-title-" + id,
    "data-activity": id, "data-stamp": b.stamp, "data-version": b.version });
  add(sec, attr(h("h2", null, (b.kind === "ideas" ? M.ideas : M.questions) + " · " + b.prompt), { id: "board-title-" + id }),
      h("p", "stats", fill(M.stats, b.counts) + " · " + (s.premoderation ? M.pre : M.post)),
      attr(add(h("p", "item-meta mod-private"), h("span", "badge badge-private", WC.private)), b.private ? {} : { hidden: "" }));
  var form = attr(h("form", "mod-form"), { method: "post", action: "/m/" + token + "/boards/" + id + "/moderate", "data-key": "form" });
  add(form, csrf(), add(h("label", "field mod-by"), M.by + " ", attr(h("input"), { name: "by", maxlength: "40", autocomplete: "name" })));
  var bulk = attr(h("div", "mod-bulk"), { role: "group", "aria-label": M.selected_items, "data-key": "bulk" });
  add(bulk, h("span", null, M.selected), modButton("btn-primary", "action", "approve", M.approve),
      modButton("btn-danger", "action", "reject", M.reject), modButton("", "action", "hide", M.hide), modButton("", "action", "pin", M.pin));
  if (columns) {
    var col = attr(h("select"), { name: "column" });
    columns.forEach(function (c, n) { col.appendChild(attr(h("option", null, c), { value: n })); });
    add(bulk, add(h("label"), M.column + " ", col), modButton("", "action", "move", M.move));
  }
  var targets = waiting.concat(b.published);
  if (targets.length > 1) {
    var into = attr(h("select"), { name: "into" });
    targets.forEach(function (i) { into.appendChild(attr(h("option", null, "#" + i.id + " " + short(i.text)), { value: i.id + ":" + i.version })); });
    add(bulk, add(h("label"), M.merge_into + " ", into), modButton("", "action", "merge", M.merge));
  }
  add(form, bulk, attr(h("p", "hint", M.edit_hint), { id: "edit-hint-" + id }));
  [[M.queue, waiting, M.nothing_waiting, "queue"], [M.published, b.published, M.nothing_published, "published"]].forEach(function (part) {
    add(form, add(h("h3", null, part[0] + " "), h("span", "badge", part[1].length)),
        part[1].length ? attr(itemList(ctx, part[1]), { "data-key": part[3] }) : h("p", "hint", part[2]));
  });
  if (b.removed.length) {
    add(form, lazy(h("details", "mod-removed"), M.removed + " (" + b.removed.length + ")", function () { return [itemList(ctx, b.removed, true)]; }));
  }
  sec.appendChild(form);
  if (b.log.length) sec.appendChild(logNode(b.log));
  return sec;
}

function itemList(ctx, items, eager) {
  var ul = h("ul", "mod-list");
  items.forEach(function (i) { ul.appendChild(itemNode(ctx, i, eager)); });
  return ul;
}

function logNode(log) {
  return lazy(h("details", "mod-log"), M.log, function () {
    var ol = h("ol");
    log.forEach(function (e) {
      var text = " " + (e.moderator || e.link) + " · " + e.action + " #" + e.item;
      if (e.before && e.after && e.before.text !== e.after.text) text += " · “" + e.before.text + "” → “" + e.after.text + "”";
      ol.appendChild(add(h("li"), attr(h("time", null, e.at.slice(11, 19)), { datetime: e.at }), text));
    });
    return [ol];
  });
}

/* A <details> whose content is built when it is first opened (openLazy): `build()` returns its
   nodes. The server renders that content in a <noscript> (there without JavaScript), which
   openLazy() turns into the same nodes. */
function lazy(details, summary, build) {
  details._build = build;
  return add(details, h("summary", null, summary));
}

function openLazy(details) {
  var nodes = [], script = details.querySelector(":scope > noscript");
  if (details._build) nodes = details._build();
  else if (script) {
    nodes = Array.prototype.map.call(new DOMParser().parseFromString(script.textContent, "text/html").body.childNodes,
                                     function (n) { return doc.importNode(n, true); });
  }
  details._build = null;
  if (script) details.removeChild(script);
  nodes.forEach(function (n) { details.appendChild(n); });
}

function badge(cls, text) { return h("span", "badge" + (cls ? " " + cls : ""), text); }

/* One item; `eager`: its edit field built at once (it is in a list built when opened). */
function itemNode(ctx, i, eager) {
  var b = ctx.b, s = b.settings || {}, ref = i.id + ":" + i.version, act = b.activity;
  var li = attr(h("li", "mod-item" + (i.flagged ? " is-flagged" : "") + (i.pinned ? " is-pinned" : "") + (i.highlighted ? " is-highlighted" : "")),
                { id: "item-" + i.id, "data-key": "i" + i.id, "data-votes": i.votes });
  var body = attr(h("div", "mod-body"), { "data-key": "body" }), meta = h("p", "item-meta");
  add(meta, badge("", "#" + i.id), " ", badge("badge-" + i.status, (BT.status || {})[i.status] || i.status));
  if (ctx.columns) add(meta, " ", badge("", ctx.columns[i.column]));
  if (i.flagged) add(meta, " ", badge("badge-flag", M.flagged));
  if (i.pinned) add(meta, " ", badge("", M.pinned));
  if (i.highlighted) add(meta, " ", badge("", M.highlighted));
  if (i.answered) add(meta, " ", badge("", M.answered));
  if (s.current === i.id) add(meta, " ", badge("badge-screen", M.being_answered));
  if (i.author) add(meta, " ", h("span", null, fill(M.signed, { name: i.author })));
  add(meta, " " + bCount("votes", i.votes));
  add(body, h("p", "mod-text", i.text), meta);
  (ctx.dupOf[i.id] || []).forEach(function (d) {
    add(body, add(h("p", "mod-dup"), fill(M.looks_like, { id: d.like, score: d.score, text: ctx.texts[d.like] || "" }) + " ",
                  modButton("", "merge_pair", ref + "|" + d.like + ":" + (ctx.versions[d.like] || 0), fill(M.merge_into_id, { id: d.like }))));
  });
  if (i.history && i.history.length) {
    var past = add(h("ul"), h("li", null, M.sent + " " + i.original));
    i.history.forEach(function (e) { past.appendChild(h("li", null, (e.merged ? fill(M.merged, { id: e.merged }) : M.before_edit) + " " + e.text)); });
    add(body, add(h("details", "mod-history"), h("summary", null, M.history), past));
  }
  var acts = h("p", "mod-actions"), st = i.status;
  if (["pending", "visible", "rejected", "hidden"].indexOf(st) >= 0) add(acts, modButton("btn-primary", "act", "approve:" + ref, M.approve));
  if (st === "pending" || st === "visible") add(acts, " ", modButton("btn-danger", "act", "reject:" + ref, M.reject));
  if (st === "visible" || st === "approved") {
    add(acts, " ", modButton("", "act", "hide:" + ref, M.hide), " ",
        modButton("", "act", (i.pinned ? "unpin:" : "pin:") + ref, i.pinned ? M.unpin : M.pin), " ",
        modButton("", "act", (i.highlighted ? "unhighlight:" : "highlight:") + ref, i.highlighted ? M.unhighlight : M.highlight));
    if (b.kind === "questions") {
      add(acts, " ", modButton("", "act", (i.answered ? "unanswer:" : "answer:") + ref, i.answered ? M.not_answered : M.answered));
      if (s.current !== i.id) {
        add(acts, " ", attr(modButton("", "current", i.id, M.answer_now), { formaction: "/m/" + ctx.token + "/boards/" + act + "/display" }));
      }
    }
  }
  var edit = lazy(h("details", "mod-edit"), M.edit, function () {
    return [attr(h("textarea", null, i.text), { name: "text_" + i.id, maxlength: "280", rows: "3",
              "aria-label": fill(M.new_text, { id: i.id }), "aria-describedby": "edit-hint-" + act }),
            modButton("", "edit", ref, M.save_edit)];
  });
  if (eager) openLazy(edit);
  add(body, acts, edit);
  return add(li, attr(h("input", "mod-pick"), { type: "checkbox", name: "item", value: ref, "aria-label": M.select + " #" + i.id }), body);
}

/* Put `nodes` (those on the page) in this order at the end of `box`, moving only what is out
   of place. */
function arrange(box, nodes) {
  nodes = nodes.filter(function (n) { return n && n.parentNode === box; });
  var now = Array.prototype.filter.call(box.children, function (n) { return nodes.indexOf(n) >= 0; });
  if (now.every(function (n, i) { return n === nodes[i]; })) return;
  var focused = doc.activeElement;  // moving its section takes the focus away: give it back
  nodes.forEach(function (n) { box.appendChild(n); });
  if (focused && focused !== doc.activeElement && box.contains(focused)) focused.focus();
}

function moderatorPage() {
  var token = body.getAttribute("data-token"), view = null;
  var socket = connect({ token: token }, { snapshot: onSnapshot, state: onView, results: onResults });
  var queue = sendQueue(socket);
  readMissing();
  followMissing(socket);
  var boards = boardModeration(socket, queue, token);
  var clouds = cloudModeration(socket, queue);
  if (boards) boards.order = order;

  function boardsOf(v) {
    var current = v.current && v.current.id;
    var list = (v.agenda || []).filter(function (a) { return a.kind === "ideas" || a.kind === "questions"; });
    return list.filter(function (a) { return a.id === current; }).concat(list.filter(function (a) { return a.id !== current; }));
  }

  /* The boards in the agenda's order (the one on screen first), the others gone; the "nothing
     to moderate" panel only when there is nothing. */
  function order() {
    var box = $("boards");
    if (!view || !box) return;
    var ids = boardsOf(view).map(function (a) { return a.id; });
    Array.prototype.forEach.call(box.querySelectorAll(".board-mod"), function (sec) {
      if (ids.indexOf(parseInt(sec.getAttribute("data-activity"), 10)) < 0) boards.drop(sec.getAttribute("data-activity"));
    });
    arrange(box, ids.map(function (id) { return $("board-" + id); }));
    var empty = $("mod-empty"), nothing = !doc.querySelector(".board-mod, .cloud-mod");
    if (!nothing && empty) empty.parentNode.removeChild(empty);
    if (nothing && !empty && !boardsOf(view).length) {
      box.appendChild(add(attr(h("section", "panel"), { id: "mod-empty", "aria-labelledby": "mod-title" }),
                          attr(h("h2", null, M.empty_title), { id: "mod-title" }), h("p", null, M.empty)));
    }
  }

  /* "On screen now": the activity on screen, or the join banner. */
  function onScreen(v) {
    var box = $("now"), a = v.current;
    if (!box) return;
    var title = box.querySelector("h2"), refresh = box.lastElementChild;
    while (title.nextSibling && title.nextSibling !== refresh) box.removeChild(title.nextSibling);
    var nodes = a ? [h("p", "now-text", a.prompt),
                     add(h("p", "item-meta"), h("span", "badge", a.kind === "poll" ? T.types[a.type] : T.kinds[a.kind]), " ",
                         h("span", "badge badge-" + a.state, T.states[a.state] || a.state))] : [h("p", null, M.nothing)];
    nodes.forEach(function (n) { box.insertBefore(n, refresh); });
  }

  function onView(v) {
    view = v;
    people(v.participants);
    if (clouds) clouds.view(v);
    if (boards) boardsOf(v).forEach(boards.version);
    boardsOf(v).forEach(function (a) {  // a private wall shows its badge until revealed
      var note = $("board-" + a.id) && $("board-" + a.id).querySelector(".mod-private");
      if (note) note.hidden = !(a.settings && a.settings.private) || a.revealed;
    });
    order();
    onScreen(v);
  }
  /* A snapshot comes at each connection: pushes may have been missed meanwhile. */
  function onSnapshot(v) {
    onView(v);
    if (boards) boardsOf(v).forEach(function (a) { boards.ask(a.id); });
  }
  function people(n) {
    var stats = doc.querySelector(".session-head .stats");
    if (stats && n !== undefined) stats.textContent = counted("participants", n);
  }
  function onResults(data) {
    people(data && data.participants);
    if (clouds) clouds.results(data);
    if (boards) boards.results(data);
  }
}

moderatorPage();
