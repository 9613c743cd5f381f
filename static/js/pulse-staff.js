/* The room's pulse on the console and the screen: the numbers of every [data-pulse-n] and
   [data-react-n] are replaced by those of each `pulse` push (coalesced by the server, at most
   twice a second); the console redraws its queue of raised hands from the server's <template>;
   the screen shows how many hands are up and lets each new reaction rise and fade (only fade
   when the viewer prefers reduced motion: static/css/screen.css). */
import { fill, plural, canonical, newId, notify, errorText, T } from "./core.js";

var shownQueue = null, reacted = null;

export function showPulse(p) {
  if (!p || !p.counts) return;
  var box = document.querySelector("[data-pulse-box]");  // the screen's line: shown while on
  if (box) box.hidden = !p.on;
  switched(p.on);
  var cells = document.querySelectorAll("[data-pulse-n]");
  for (var i = 0; i < cells.length; i++) {
    var key = cells[i].getAttribute("data-pulse-n");
    cells[i].textContent = key === "average" ? paceNumber(p.average)
      : key === "hands" ? String(p.hands || 0) : String(p.counts[key] || 0);
  }
  var words = document.querySelectorAll("[data-pulse-word]");
  for (i = 0; i < words.length; i++) words[i].textContent = JSON.parse(words[i].getAttribute("data-words"))[p.gauge || "none"];
  var counts = document.querySelectorAll("[data-react-n]");
  for (i = 0; i < counts.length; i++) counts[i].textContent = String((p.reactions || {})[counts[i].getAttribute("data-react-n")] || 0);
  hands(p);
  if (p.queue) queue(p.queue);
  rise(p);
}

/* The average as the page's language writes it (-1,00 in French), signed as the server's. */
function paceNumber(average) {
  if (average === null || average === undefined) return "–";
  try {
    return new Intl.NumberFormat(document.documentElement.lang || undefined,
      { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: "exceptZero" }).format(average);
  } catch (e) { return (average > 0 ? "+" : "") + average.toFixed(2); }
}

/* The console's panel: switched on or off from any console, every console shows it. */
function switched(on) {
  var parts = document.querySelectorAll("[data-pulse-on], [data-pulse-off]");
  for (var i = 0; i < parts.length; i++) parts[i].hidden = parts[i].hasAttribute("data-pulse-on") ? !on : on;
  var form = document.querySelector("form.pulse-switch");
  if (!form) return;
  form.elements.on.value = on ? "false" : "true";
  var button = form.querySelector("button");
  button.textContent = button.getAttribute(on ? "data-off" : "data-on");
}

function hands(p) {  // the screen: "3 hands raised", never who
  var el = document.querySelector("[data-pulse-hands]");
  if (!el) return;
  el.hidden = !p.hands;
  el.textContent = " · ✋ " + fill(el.getAttribute(plural(p.hands) ? "data-many" : "data-one"), { n: p.hands });
}

function queue(list) {  // the console: raised hands in order, each with its "has spoken" button
  var ol = document.querySelector("[data-hand-queue]"), tpl = document.getElementById("hand-tpl");
  var key = canonical(list);
  if (!ol || !tpl || key === shownQueue) return;
  shownQueue = key;
  var keep = document.activeElement && ol.contains(document.activeElement);
  while (ol.firstChild) ol.removeChild(ol.firstChild);
  list.forEach(function (hand) {
    var li = tpl.content.firstElementChild.cloneNode(true);
    li.setAttribute("data-hand", hand.hand);
    li.querySelector("b").textContent = "#" + hand.ticket;
    if (hand.name) li.querySelector(".hand-who").appendChild(document.createTextNode(" " + hand.name));
    li.querySelector("button").value = String(hand.hand);
    ol.appendChild(li);
  });
  var empty = document.querySelector("[data-hands-empty]");
  if (empty) empty.hidden = list.length > 0;
  if (keep && ol.querySelector("button")) ol.querySelector("button").focus();
}

function rise(p) {  // the screen: each new reaction since the last push rises (at most 5 of a kind)
  var layer = document.querySelector("[data-reactions]");
  if (!layer || !p.reacted) return;
  layer.hidden = !p.on;
  if (reacted === null) reacted = JSON.parse(layer.getAttribute("data-reacted") || "{}");
  var emoji = JSON.parse(layer.getAttribute("data-emoji") || "{}"), n = 0;
  Object.keys(p.reacted).forEach(function (name) {
    var fresh = Math.min(5, p.reacted[name] - (reacted[name] || 0));
    for (var i = 0; i < fresh && p.on; i++) {
      var span = document.createElement("span");
      span.className = "lane" + (n++ % 5);
      span.textContent = emoji[name] || "";
      layer.appendChild(span);
      setTimeout(function (el) { if (el.parentNode) el.parentNode.removeChild(el); }, 3200, span);
    }
  });
  reacted = p.reacted;
  layer.setAttribute("data-count", String(layer.children.length));
}

/* The console's queue form sent over the socket (through the send queue); it posts without it. */
export function onHands(e, socket, commands) {
  var form = e.target, button = e.submitter || document.activeElement;
  if (!form.classList || !form.classList.contains("hands") || !socket.connected || e.defaultPrevented) return;
  if (!button || button.form !== form) return;
  e.preventDefault();
  if (button.name === "clear") commands.push({ event: "hands_clear", payload: { cid: newId() } });
  else commands.push({ event: "hand_done", payload: { cid: newId(), hand: parseInt(button.value, 10) } });
}

/* The console's switch sent over the socket: every console (this one too) follows the push. */
export function onSwitch(e, socket, commands) {
  var form = e.target;
  if (!form.classList || !form.classList.contains("pulse-switch") || !socket.connected || e.defaultPrevented) return;
  e.preventDefault();
  commands.push({ event: "pulse_switch", payload: { cid: newId(), on: form.elements.on.value === "true" },
                  done: function () { notify(""); },
                  failed: function (why) { notify(why === true ? T.no_reply : errorText(why), true); } });
}
