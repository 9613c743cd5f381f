/* The timer of the activity on screen (live/sessions/timer.py), on the phone, the screen and the
   console: counted down here from the server's deadline, with the server's clock sent with each
   view (`now`), so a phone whose clock is off still shows the right time; redrawn once a second
   while it runs (the server pushes nothing meanwhile). The phone loads this module once a timer
   runs (core.js); the screen and the console import it. The page's element #timer
   (sessions/_timer.html, or timerNode(); added above the phone's stage, or after the element
   `after`, when the page has none); showTimer(view, after) after each view returns true when the timer appeared or went (the screen fits
   its slide again). Its style: css/timer.css (linked by the page, or here). */
import { doc, T, $, h, add, attr } from "./core.js";

var clock = { t: null, skew: 0, tick: null };

if (!$("timer-css")) {
  doc.head.appendChild(attr(h("link"), { rel: "stylesheet", id: "timer-css", href: new URL("../css/timer.css", import.meta.url).href }));
}

export function timerNode(tag) {
  return attr(add(h(tag || "p", "timer"), h("span", "timer-label"), " ", h("span", "timer-time")), { id: "timer", role: "timer", hidden: "" });
}

export function showTimer(v, after) {
  var a = v && v.current, el = $("timer"), was = el ? !el.hidden : false;
  clock.t = a && v.session.state !== "ended" ? a.timer : null;
  if (v && v.now) clock.skew = v.now - Date.now();
  after = after || (v.role === "participant" && $("stage").previousSibling);
  if (!el && clock.t && after) after.parentNode.insertBefore(timerNode("p"), after.nextSibling);
  draw();
  return was !== !!clock.t;
}

function two(n) { return (n < 10 ? "0" : "") + n; }

export function clockText(s) {
  return (s >= 3600 ? Math.floor(s / 3600) + ":" + two(Math.floor(s % 3600 / 60)) : Math.floor(s / 60)) + ":" + two(s % 60);
}

function draw() {
  var el = $("timer"), t = clock.t, TT = T.timer || {};
  clearTimeout(clock.tick);
  if (!el) return;
  el.hidden = !t;
  if (!t) return;
  var left = t.state === "running" ? (t.ends_at - Date.now() - clock.skew) / 1000 : t.left;
  var s = Math.max(0, Math.ceil(left)), paused = t.state === "paused", over = s <= 0;
  el.className = "timer" + (paused ? " is-paused" : over ? " is-over" : s <= 10 ? " is-ending" : "");
  el.firstChild.textContent = paused ? TT.paused : over ? TT.over : TT.left;
  el.lastChild.textContent = clockText(s);
  if (!paused && !over) clock.tick = setTimeout(draw, (left * 1000) % 1000 + 15);
}
