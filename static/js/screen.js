/* The projected screen: the join banner, the slide of the activity on screen with its results,
   idea walls and Q&A (board-screen.js), word clouds (wordcloud.js). */
import { doc, body, T, $, readJSON, h, add, attr, clear, fill, counted, connect, newer, patchResults, isBoard, boardResults, wcEntries, actionOn } from "./core.js";
import { boardScreenNode, fitBoard } from "./board-screen.js";
import { showPulse } from "./pulse-staff.js";
import { timerNode, showTimer } from "./timer.js";
import { wordcloudScreen, cloudScreenBody } from "./wordcloud.js";

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
  /* The pages' state, set before the first render (which may already page the slide). */
  var PAGE_MS = 8000, pages = [], at = 0, timer = null, paused = false;

  render();
  showTimer(view);
  var socket = connect({ token: body.getAttribute("data-token") }, {
    snapshot: accept, state: accept, results: onResults
  });
  socket.on("presence", onPresence);
  socket.on("pulse", showPulse);
  wordcloudScreen(socket, { get current() { return view.current; } });

  function accept(v) {
    if (!newer(view, v)) return;
    view = v;
    render();
    if (showTimer(v) && stage.querySelector(".slide-body")) fitSlide(true);  // the top line changed
  }

  function render() {
    var a = view.current, ended = view.session.state === "ended";
    if (isBoard(a)) { boardSlide(a, ended); return; }
    var key = !a ? "banner:" + ended : a.kind === "wordcloud" ?  // its counts and image follow pushes
      ["cloud", a.id, a.state, a.revealed, !!a.results, ended].join(":") : [a.id, a.version, a.state, a.revealed, ended].join(":");
    if (shownKey === null && a && a.kind === "wordcloud" && $("cloud-img")) shownKey = key;  // the server's, at load
    if (key === shownKey) { update(); return; }
    shownKey = key;
    clear(stage);
    stage.appendChild(a ? slide(a, ended) : banner(ended));
    showTimer(view);
    fitSlide(false);
  }

  function codeNode() { return h("span", "code", view.session.code); }

  function banner(ended) {
    var s = view.session;
    var text = add(h("div", "banner-text"), h("p", "event" + (s.event && s.event.length > 100 ? " long" : ""), s.event),
                   attr(h("h1", lengthClass(s.title, 60, 120) || null, s.title), { id: "banner-title" }));
    var sec = add(attr(h("section", "banner"), { "aria-labelledby": "banner-title" }), text);
    if (ended) {
      text.appendChild(h("p", "join-cta", T.ended_screen));
      return sec;
    }
    add(text, h("p", "join-cta", T.join_cta), urlNode(joinUrl),
        add(h("p", "join-code"), h("span", "join-code-label", T.code), " ", codeNode()),
        h("p", "join-count", presenceText()));
    sec.appendChild(attr(h("img", "banner-qr"), { src: qr, alt: fill(T.qr_alt, { url: joinUrl }) }));
    return sec;
  }

  function pill(a, ended) {
    var text = ended ? T.ended_screen : a.kind !== "poll" ? T.states[a.state] :
      a.state === "open" ? T.pill_open : a.state === "closed" ? T.pill_closed : T.pill_draft;
    return h("span", "pill pill-" + a.state, text);
  }

  /* Smaller type for longer texts and lists (the same thresholds as sessions/screen.html). */
  function lengthClass(text, long, longer) {
    var n = (text || "").length;
    return n > longer ? "longer" : n > long ? "long" : "";
  }

  function many(a) {
    var rows = a.results ? (a.results.options || a.results.buckets || []) : (a.options || []);
    var longest = Math.max.apply(null, rows.map(function (o) { return (o.label || "").length; }).concat(0));
    return (rows.length > 6 ? " many" : "") + (longest > 50 ? " long" : "");
  }

  function slide(a, ended) {
    var sec = attr(h("section", "slide"), { "aria-labelledby": "prompt", "data-activity": a.id });
    add(sec, add(h("p", "slide-top"), h("span", "slide-session", view.session.title), " ", timerNode("span"), " ", pill(a, ended)),
        attr(h("h1", ("prompt " + lengthClass(a.prompt, 100, 200)).trim(), a.prompt), { id: "prompt" }));
    var content = h("div", "slide-body");
    if (a.kind === "wordcloud") {
      content.appendChild(cloudScreenBody(a, body.getAttribute("data-token")));
    } else if (a.results) {
      content.appendChild(patchResults(null, a, null, "big" + many(a)));
    } else {
      var s = a.settings || {};
      if (a.kind !== "poll") {
        // other kinds draw their own screen
      } else if (a.type === "scale") {
        content.appendChild(h("p", "scale-line", (s.label_low ? actionOn(1, s.label_low) : "1") + " … " +
          (s.label_high ? actionOn(s.scale_max, s.label_high) : s.scale_max)));
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

  function countsText(a) {
    if (a.kind === "wordcloud") return counted("participants", a.answers) + " · " + wcEntries(a.entries || 0);
    return presenceText() + " · " + counted("answers", a.answers);
  }

  /* Connected now · joined: from the snapshot, then the `presence` pushes (twice a second at
     most, whatever the number of phones). */
  function presenceText() {
    return counted("connected", view.connected || 0) + " · " + counted("joined", view.participants || 0);
  }
  function onPresence(data) {
    if (data.session !== view.session.id) return;
    view.participants = data.participants;
    view.connected = data.connected;
    var line = stage.querySelector(".join-count");
    if (line) line.textContent = presenceText();
    var a = view.current, counts = stage.querySelector(".foot-count");
    if (counts && a && a.kind !== "wordcloud") counts.textContent = countsText(a);
  }

  function update() {
    var a = view.current;
    if (!a || a.kind !== "poll") return;
    var counts = stage.querySelector(".foot-count");
    if (counts) counts.textContent = countsText(a);
    var big = stage.querySelector(".big-count");
    if (big) big.textContent = counted("answers", a.answers);
    if (a.results) patchResults(stage.querySelector(".results"), a, null, "big" + many(a));
    fitSlide(true);
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
      showTimer(view);
      fitSlide(false);
      return;
    }
    var old = stage.querySelector(".board-screen"), sig = JSON.stringify([a.items, a.spotlight, a.current, a.settings, a.published]);
    if (old.getAttribute("data-sig") === sig) return;
    var fresh = boardScreenNode(a);
    fresh.setAttribute("data-sig", sig);
    old.parentNode.replaceChild(fresh, old);
    fitSlide(true);
    var counts = stage.querySelector(".foot-count");
    if (counts) counts.textContent = countsText(a);
  }
  window.addEventListener("resize", function () {  // another projector size: fit again
    var old = stage.querySelector(".board-screen");
    if (old && isBoard(view.current)) { old.removeAttribute("data-sig"); boardSlide(view.current, view.session.state === "ended"); }
    else fitSlide(true);
  }, false);

  /* Pages: the rows, options or cards the slide's list clips are shown in pages that turn every
     PAGE_MS (P or Pause stops and restarts that), or with PageDown/PageUp (a presenter's clicker);
     "Page 1/3" by the state. An item is
     on a page when its box ends inside the list's with the items of the pages before hidden. */
  function boxOf(el) {  // a `display: contents` row has no box: the union of its cells
    var r = el.getBoundingClientRect();
    if (r.width || r.height || !el.children.length) return r;
    return Array.prototype.reduce.call(el.children, function (u, c) {
      var b = boxOf(c);
      return { bottom: Math.max(u.bottom, b.bottom), right: Math.max(u.right, b.right) };
    }, { bottom: -Infinity, right: -Infinity });
  }
  function showOnly(items, shown) {
    items.forEach(function (el) { el.classList.toggle("pg-off", shown.indexOf(el) < 0); });
    Array.prototype.forEach.call(stage.querySelectorAll(".column, .qa-top, .qa-done"), function (sec) {
      var cards = sec.querySelectorAll(".card");
      sec.classList.toggle("pg-off", cards.length > 0 && sec.querySelectorAll(".card:not(.pg-off)").length === 0);
    });
    var ranked = stage.querySelector("ol.bars");
    if (ranked) ranked.setAttribute("data-skip", Math.max(0, items.indexOf(shown[0])));
  }
  function rotate(on) {  // a new slide or a key starts the count again; pushes do not
    clearInterval(timer);
    timer = on && !paused ? setInterval(function () { turn(1); }, PAGE_MS) : null;
  }
  function fitSlide(keep) {
    var body = stage.querySelector(".slide-body"), clip = body && body.querySelector(".bars, .option-list, .board-screen");
    var note = stage.querySelector(".pager");
    if (note) note.parentNode.removeChild(note);
    pages = [];
    if (body && !clip) body.setAttribute("data-fit", "1");
    if (!clip) return rotate(false);
    var items = Array.prototype.slice.call(clip.querySelectorAll(".bar, .option-list > li, .qa-lists .card, .columns .card"));
    showOnly(items, items);
    function fits() { return clip.scrollHeight <= clip.clientHeight + 1 && clip.scrollWidth <= clip.clientWidth + 1; }
    var list = body.querySelector(".results.big, .option-list");  // smaller type first, then pages
    if (list) ["many", "long"].forEach(function (c) { if (!fits()) list.classList.add(c); });
    fitBoard(body);
    if (fits()) {
      body.setAttribute("data-fit", "1");
      return rotate(false);
    }
    var top = stage.querySelector(".slide-top");
    top.insertBefore(h("span", "pager", fill(T.page, { n: 1, total: 1 })), top.lastChild);
    for (var rest = items; rest.length && pages.length < 60;) {
      showOnly(items, rest);
      var edge = clip.getBoundingClientRect(), bottom = edge.bottom - parseFloat(getComputedStyle(clip).paddingBottom);
      var fit = rest.filter(function (el) { var b = boxOf(el); return b.bottom <= bottom + 1 && b.right <= edge.right + 1; });
      if (!fit.length) fit = rest.slice(0, 1);
      pages.push(fit);
      rest = rest.filter(function (el) { return fit.indexOf(el) < 0; });
    }
    at = keep ? Math.min(at, pages.length - 1) : 0;
    turn(0);
    body.setAttribute("data-fit", pages.length);
    if (!keep || !timer) rotate(true);
    note = stage.querySelector(".pager");
    note.classList.toggle("paused", paused);
  }
  function turn(step) {
    var note = stage.querySelector(".pager"), items = [];
    if (!note || !pages.length) return;
    at = (at + step + pages.length) % pages.length;
    pages.forEach(function (p) { items = items.concat(p); });
    showOnly(items, pages[at]);
    note.textContent = fill(T.page, { n: at + 1, total: pages.length });
  }
  doc.addEventListener("keydown", function (e) {
    var step = { PageDown: 1, ArrowRight: 1, ArrowDown: 1, " ": 1, PageUp: -1, ArrowLeft: -1, ArrowUp: -1,
                 p: 0, P: 0, Pause: 0 }[e.key];
    if (step === undefined || pages.length < 2) return;
    e.preventDefault();
    if (step === 0) paused = !paused;  // P or Pause: the pages stop turning by themselves, or start again
    turn(step);
    rotate(true);
    stage.querySelector(".pager").classList.toggle("paused", paused);
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

screenPage();
