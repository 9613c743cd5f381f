/* The moderator page: idea walls and Q&A to moderate, word-cloud groups. One socket. */
import { doc, body, T, BT, WC, $, h, add, attr, clear, closest, hasClass, fill, plural, counted, newId, notify, connect, sendQueue, fetchPage, swapChildren, refresher, wcEntries, wcFrozen } from "./core.js";

/* Word clouds: each cloud's groups, redrawn from `word:groups` (after `cloud` pushes, at most
   once a second) or from the ack of an action. Same markup as wordclouds/_moderate.html. */
function cloudModeration(socket, queue) {
  var clouds = $("clouds");
  if (!clouds) return null;
  var timers = {}, last = {};
  clouds.addEventListener("submit", onSubmit, false);
  socket.on("cloud", function (data) { if (data) later(data.activity); });

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

  var reloadClouds = refresher("clouds");  // a cloud to moderate appeared: take the server's markup

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
    if (queue.busy) return;
    var id = parseInt(sec.getAttribute("data-cloud"), 10), f = form.elements;
    var payload = { cid: newId(), activity: id, action: f.action.value, key: f.key.value };
    if (f.into) payload.into = f.into.value;
    queue.push({ event: "word:moderate", payload: payload, done: function (ack) {
      notify(WC.done, false);
      draw(id, ack.groups, payload.action + ":" + payload.key);
    } });
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
        members.appendChild(add(h("li"), attr(h("span", "g-member", m.text), { dir: "auto" }), " ", button(sec, "unmerge", m.key, WC.unmerge, m.text)));
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

  return { view: onView, results: onResults };
}

/* Idea walls and Q&A: every button is a form post; over the socket, the same requests are sent
   and, when an item changes anywhere, the boards are taken again from the server's page,
   keeping what the moderator selected, opened or typed. Each board carries the stamp of its
   items as drawn (`data-stamp`): a `results` push with that stamp changes nothing. `#boards`
   says `data-synced="1"` when no redraw is waiting or under way (and the last one worked). */
function boardModeration(socket, queue) {
  var boards = $("boards");
  if (!boards) return null;
  var stamps = {}, timer = null, busy = false, again = false;
  var statusBox = $("mod-status");
  drawn();
  synced(true);

  function synced(yes) { boards.setAttribute("data-synced", yes ? "1" : "0"); }

  function drawn() {  // the stamps of the boards as the server drew them
    Array.prototype.forEach.call(boards.querySelectorAll("[data-stamp]"), function (el) {
      stamps[el.getAttribute("data-activity")] = el.getAttribute("data-stamp");
    });
  }

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
    var state = { checked: {}, open: {}, typed: {} };
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
    fetchPage().then(function (page) {
      var fresh = page && page.getElementById("boards");
      if (!fresh) return false;
      var state = keep();
      swapChildren(boards, fresh);
      restore(state);
      drawn();
      return true;
    }).catch(function () { return false; /* the next change retries */ }).then(function (ok) {
      busy = false;
      if (again) { again = false; schedule(200); }
      else if (!timer) synced(ok);
    });
  }

  function schedule(delay) {
    synced(false);
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; refresh(); }, delay);
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
    button.setAttribute("aria-busy", "true");
    function over() {
      button.removeAttribute("aria-busy");
      schedule(50);  // show the current state either way
    }
    queue.push({ event: req.event, payload: req.payload, done: function () {
      say([BT.done || ""], false);
      Array.prototype.forEach.call(form.querySelectorAll("input[name=item]:checked"), function (el) { el.checked = false; });
      over();
    }, failed: function (why) {
      say(why === true ? [BT.no_reply || ""] : conflict(why), true);
      over();
    } });
  }, false);
  fillNames();

  return {
    changed: function () { schedule(300); },
    results: function (data) {
      var r = data && data.results;
      if (!r || r.stamp === undefined || stamps[String(data.activity)] === r.stamp) return;
      stamps[String(data.activity)] = r.stamp;
      schedule(300);
    }
  };
}

function moderatorPage() {
  var boards = null, clouds = null;
  var socket = connect({ token: body.getAttribute("data-token") }, {
    snapshot: onView, state: onView, results: onResults
  });
  var queue = sendQueue(socket);
  boards = boardModeration(socket, queue);
  clouds = cloudModeration(socket, queue);

  function onView(v) {
    if (clouds) clouds.view(v);
    if (boards) boards.changed();
  }
  function onResults(data) {
    if (clouds) clouds.results(data);
    if (boards) boards.results(data);
  }
}

moderatorPage();
