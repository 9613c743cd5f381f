/* Word clouds on the phone and the screen: the cloud image follows pushes; the phone sends and
   withdraws its words over the socket (the forms post without it). */
import { body, T, WC, $, h, add, attr, clear, hasClass, fill, counted, newId, notify, errorText, sendQueue, hidden, wcEntries, wcFrozen } from "./core.js";

/* The text alternative of a cloud image: its most counted words, as text. */
export function cloudAlt(results) {
  var words = ((results && results.words) || []).slice(0, 12);
  if (!words.length) return WC.alt_none || "";
  return fill(WC.alt, { words: words.map(function (w) { return w.text + " (" + w.count + ")"; }).join(", ") });
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

/* The phone: send entries and withdraw them over the socket (the forms post without it). The
   cloud's markup is the server's (wordclouds/_participant.html, taken again when the cloud on
   screen changes: see foreign() in core.js), so everything is looked up when used. */
export function wordcloudPhone(socket, view) {
  var stage = $("stage"), queue = sendQueue(socket);
  cloudImage(socket, view);

  function box() { return $("wordcloud"); }
  function cloudId() { return box() ? parseInt(box().getAttribute("data-cloud"), 10) : null; }

  socket.on("snapshot", function (v) {
    var a = v && v.current;
    if (a && a.id === cloudId() && a.mine) showMine(a.mine);
  });
  stage.addEventListener("submit", function (e) {
    var target = e.target, id = cloudId();
    if (id === null || !box().contains(target) || !socket.connected || e.defaultPrevented) return;  // the form posts
    if (target.id === "word-form") {
      e.preventDefault();
      if (!queue.busy) send({ cid: newId(), activity: id, text: $("word-text").value }, "word:add");
    } else if (hasClass(target, "word-withdraw")) {
      e.preventDefault();
      if (!queue.busy) send({ cid: newId(), activity: id, entry: parseInt(target.elements.entry.value, 10) }, "word:withdraw");
    }
  }, false);

  function status(text, kind) {
    var el = $("word-status");
    if (!el) { notify(text, kind === "is-error"); return; }
    el.textContent = text || "";
    el.className = "form-status" + (kind ? " " + kind : "");
  }

  function send(payload, event) {
    status(WC.sending, "is-wait");
    queue.push({ event: event, payload: payload, done: function (ack) {
      var input = $("word-text");
      if (payload.activity === cloudId()) showMine(ack.mine);
      if (event === "word:add") {
        if (input) input.value = "";
        status(fill(WC.sent, { text: ack.entry.text }), "is-ok");
      } else {
        status(WC.done, "is-ok");
      }
      if (input && !input.disabled) input.focus();
    }, failed: function (why) {
      status(why === true ? T.no_reply : errorText(why), "is-error");
    } });
  }

  function showMine(mine) {
    var cloud = box(), id = cloudId(), list = $("word-mine"), title = $("mine-title");
    if (!cloud || !list) return;
    var open = cloud.getAttribute("data-state") === "open", cap = parseInt(cloud.getAttribute("data-cap"), 10);
    var form = $("word-form"), input = $("word-text");
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
    if (title) title.hidden = !mine.length;
    if (!form || !input) return;
    var left = Math.max(0, cap - mine.length), max = input.getAttribute("maxlength");
    $("word-left").textContent = fill(WC.left, { left: left, cap: cap }) + " · " + fill(WC.chars, { n: max });
    input.disabled = left === 0;
    form.querySelector("button[type=submit]").disabled = left === 0;
    if (left === 0) status(WC.full, "is-ok");
  }
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

