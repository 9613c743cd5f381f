/* The projected screen: the join banner, the slide of the activity on screen with its results,
   idea walls and Q&A (board-screen.js), word clouds (wordcloud.js). */
import { doc, body, T, $, readJSON, h, add, attr, clear, fill, counted, connect, newer, patchResults, isBoard, boardResults, wcEntries } from "./core.js";
import { boardScreenNode, fitBoard } from "./board-screen.js";
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
    var key = !a ? "banner:" + ended : a.kind === "wordcloud" ?  // its counts and image follow pushes
      ["cloud", a.id, a.state, a.revealed, !!a.results, ended].join(":") : [a.id, a.version, a.state, a.revealed, ended].join(":");
    if (shownKey === null && a && a.kind === "wordcloud" && $("cloud-img")) shownKey = key;  // the server's, at load
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
    if (a.kind === "wordcloud") {
      content.appendChild(cloudScreenBody(a, body.getAttribute("data-token")));
    } else if (a.results) {
      content.appendChild(patchResults(null, a, null, "big" + many(a)));
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

  function countsText(a) {
    if (a.kind === "wordcloud") return counted("participants", a.answers) + " · " + wcEntries(a.entries || 0);
    return counted("participants", view.participants) + " · " + counted("answers", a.answers);
  }

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

screenPage();
