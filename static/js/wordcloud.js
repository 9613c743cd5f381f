/* Word clouds on the phone and the screen, drawn from the pushed view with the same markup as
   wordclouds/_participant.html and _screen.html (the server's, at load); the cloud image follows
   `cloud` pushes; the phone sends and withdraws its words over the socket (the forms post
   without it). */
import { doc, body, T, WC, $, h, add, attr, clear, hasClass, fill, counted, newId, notify, errorText, hidden, wcEntries, wcFrozen, plural } from "./core.js";

/* Staff pages (console, moderator): the words a cloud's image could not draw (no font for
   them, or no room), from the `missing` of `cloud` pushes, under the cloud (the
   cloud_missing_note macro's markup). `missingNote(id)` draws the note for a page drawing the
   cloud again. */
var missingWords = {}, MISSING_SHOWN = 12;  // the heaviest first, then how many others
function fillMissing(p, words) {
  p.hidden = !(words && words.length);
  if (p.hidden) { p.textContent = ""; return; }
  var rest = words.length - MISSING_SHOWN, listed = words.slice(0, MISSING_SHOWN).join(", ");
  if (rest > 0) listed += fill(WC.others[plural(rest)], { n: rest });
  p.textContent = fill(WC.missing, { words: listed });
}
export function missingNote(id) {
  var p = attr(h("p", "wc-missing notice"), { role: "status", "data-cloud": id });
  fillMissing(p, missingWords[id]);
  return p;
}
export function readMissing() {  /* what the server drew in the page */
  Array.prototype.forEach.call(doc.querySelectorAll(".wc-missing[data-cloud]"), function (p) {
    try { missingWords[p.getAttribute("data-cloud")] = JSON.parse(p.getAttribute("data-words") || "[]"); } catch (e) { /* none */ }
  });
}
export function followMissing(socket) {
  socket.on("cloud", function (data) {
    if (!data || !data.missing) return;
    missingWords[data.activity] = data.missing;
    Array.prototype.forEach.call(doc.querySelectorAll(".wc-missing[data-cloud='" + data.activity + "']"), function (p) {
      fillMissing(p, data.missing);
    });
  });
}

/* The text alternative of a cloud image: its most counted words, as text. */
export function cloudAlt(results) {
  var words = ((results && results.words) || []).slice(0, 12);
  if (!words.length) return WC.alt_none || "";
  return fill(WC.alt, { words: words.map(function (w) { return w.text + " (" + w.count + ")"; }).join(", ") });
}

/* The cloud's image (one <img> of SVG); `base` is its address without a version. */
function figure(a, base) {
  var img = attr(h("img", "cloud-img"), {
    id: "cloud-img", "data-cloud": a.id, "data-src": base, width: 1920, height: 740, alt: cloudAlt(a.results),
    src: base + (base.indexOf("?") >= 0 ? "&" : "?") + "v=d" + new Date().getTime() });
  return add(attr(h("figure", "cloud-figure"), { "data-cloud": a.id }), img);
}

/* The screen's slide body: the cloud once revealed, else the count of entries. */
export function cloudScreenBody(a, token) {
  if (a.results) return figure(a, "/cloud/" + a.id + ".svg?t=" + encodeURIComponent(token));
  return add(h("p", "hidden-note"), attr(h("span", "big-count", wcEntries(a.entries || 0)), { id: "cloud-entries" }),
             " ", h("span", "muted", T.hidden));
}

/* The phone's list of its own entries, each with a withdraw form while the cloud is open. */
function mineItems(list, mine, open, id) {
  clear(list);
  mine.forEach(function (entry) {
    var li = add(h("li"), attr(h("span", "word-text", entry.text), { dir: "auto" }));
    if (open) {
      var f = attr(h("form", "word-withdraw"), { method: "post", action: "/j/" + body.getAttribute("data-code") + "/words/" + entry.id + "/withdraw" });
      add(f, hidden("activity", id), hidden("entry", entry.id),
          attr(h("button", "btn btn-small", WC.withdraw), { type: "submit", "aria-label": fill(WC.withdraw_label, { text: entry.text }) }));
      add(li, " ", f);
    }
    list.appendChild(li);
  });
}

/* The phone's view of a cloud: the entry form, its own entries, the cloud once revealed. */
function phoneNode(a, mine) {
  var s = a.settings || {}, cap = s.entries_per_participant, left = Math.max(0, cap - mine.length);
  var box = attr(h("div", "wordcloud"), { id: "wordcloud", "data-cloud": a.id, "data-cap": cap, "data-state": a.state });
  add(box, attr(h("h2", "prompt", a.prompt), { id: "prompt" }));
  if (!a.revealed && WC.priv) add(box, add(attr(h("p", "private-note"), { id: "word-private" }), h("span", "badge badge-private", WC.priv[0]), " " + WC.priv[1]));
  if (a.state === "open") {
    var input = attr(h("input"), { id: "word-text", name: "text", maxlength: s.max_length, autocomplete: "off",
                                   autocapitalize: "none", enterkeyhint: "send", spellcheck: "true",
                                   "aria-describedby": "word-left word-status" });
    var send = attr(h("button", "btn btn-primary", WC.send), { type: "submit" });
    input.required = true;
    input.disabled = send.disabled = left <= 0;
    var form = attr(h("form", "word-form"), { method: "post", action: "/j/" + body.getAttribute("data-code") + "/words", id: "word-form" });
    add(box, add(form, hidden("activity", a.id), hidden("cid", newId()),
                 attr(h("label", "field-label", WC.label), { "for": "word-text" }),
                 add(h("div", "word-row"), input, " ", send),
                 attr(h("p", "hint", fill(WC.left, { left: left, cap: cap }) + " · " + fill(WC.chars, { n: s.max_length })), { id: "word-left" }),
                 attr(h("p", "form-status"), { id: "word-status", role: "status", "aria-live": "polite" })));
  } else {
    box.appendChild(h("p", "state-note", a.state === "closed" ? WC.closed : WC.not_open));
  }
  var title = attr(h("h3", "sub", WC.mine), { id: "mine-title" });
  var list = attr(h("ul", "word-mine"), { id: "word-mine", "aria-labelledby": "mine-title" });
  title.hidden = !mine.length;
  mineItems(list, mine, a.state === "open", a.id);
  add(box, title, list);
  if (a.results && s.show_on_phones) add(box, h("h3", "sub", WC.cloud), figure(a, "/cloud/" + a.id + ".svg"));
  return add(attr(h("section", "activity"), { "aria-labelledby": "prompt" }), box);
}

/* Show another version of a cloud image: load it aside, then swap (no flicker, no blank). */
export function swapCloud(img, v) {
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
export function cloudImage(socket, initial) {
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

/* The phone: send entries and withdraw them through the page's outbox (`box`, see core.js: kept
   until the server answers, even across a reload; the forms post without script). The page
   (core.js) draws a cloud with `node(a)` when another cloud or state comes; the markup of the
   one on the page (the server's at load) is looked up when used. `mine`: activity id -> the
   entries known from snapshots and acks. */
export function wordcloudPhone(socket, view, mine, box) {
  var stage = $("stage");
  cloudImage(socket, view);
  box.on(function (it, ack) {  // an answer, maybe to what was sent before a reload
    if (ack.ok && ack.mine && it.p.activity === cloudId()) showMine(ack.mine);
  });

  function cloud() { return $("wordcloud"); }
  function cloudId() { return cloud() ? parseInt(cloud().getAttribute("data-cloud"), 10) : null; }

  socket.on("snapshot", function (v) {
    var a = v && v.current;
    if (a && a.kind === "wordcloud" && a.mine) mine[a.id] = a.mine;
    if (a && a.id === cloudId() && a.mine) showMine(a.mine);
  });
  stage.addEventListener("submit", function (e) {
    var target = e.target, id = cloudId(), input = $("word-text");
    if (id === null || !cloud().contains(target) || e.defaultPrevented) return;
    if (target.id === "word-form") {
      e.preventDefault();
      var text = input.value;
      if (send({ cid: newId(), activity: id, text: text }, "word:add", text)) input.value = "";  // safe in the outbox
    } else if (hasClass(target, "word-withdraw")) {
      e.preventDefault();
      var word = target.parentNode.querySelector(".word-text");
      send({ cid: newId(), activity: id, entry: parseInt(target.elements.entry.value, 10) }, "word:withdraw",
           fill(WC.withdraw_label, { text: word ? word.textContent : "" }));
    }
  }, false);

  function status(text, kind) {
    var el = $("word-status");
    if (!el) { notify(text, kind === "is-error"); return; }
    el.textContent = text || "";
    el.className = "form-status" + (kind ? " " + kind : "");
  }

  function send(payload, event, label) {
    var queued = box.push({ event: event, payload: payload, label: label, done: function (ack) {
      var input = $("word-text");
      status(event === "word:add" ? fill(WC.sent, { text: ack.entry.text }) : WC.done, "is-ok");
      if (input && !input.disabled) input.focus();
    }, failed: function (ack) {
      var input = $("word-text");  // refused: the word comes back to be changed
      if (event === "word:add" && input && !input.value && !input.disabled) input.value = payload.text;
      status(errorText(ack), "is-error");
    } });
    status(!queued ? T.ob_full : socket.connected ? WC.sending : fill(T.ob_queued, { what: label }), queued ? "is-wait" : "is-error");
    return queued;
  }

  function showMine(mine) {
    var box = cloud(), id = cloudId(), list = $("word-mine"), title = $("mine-title");
    if (!box || !list) return;
    var open = box.getAttribute("data-state") === "open", cap = parseInt(box.getAttribute("data-cap"), 10);
    var form = $("word-form"), input = $("word-text");
    mineItems(list, mine, open, id);
    if (title) title.hidden = !mine.length;
    if (!form || !input) return;
    var left = Math.max(0, cap - mine.length), max = input.getAttribute("maxlength");
    $("word-left").textContent = fill(WC.left, { left: left, cap: cap }) + " · " + fill(WC.chars, { n: max });
    input.disabled = left === 0;
    form.querySelector("button[type=submit]").disabled = left === 0;
    if (left === 0) status(WC.full, "is-ok");
  }

  return { node: function (a) { return phoneNode(a, mine[a.id] || a.mine || []); } };
}

/* The screen: the image (see cloudImage) and the counts under it. */
export function wordcloudScreen(socket, view) {
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

