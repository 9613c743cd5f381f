/* The room's pulse on the phone (docs/architecture.md): loaded by core.js when the facilitator
   switches the widget on while the page is open, when the phone touches it, or when its hand's
   place moves. It shows or hides the widget, sends the pace and the hand through the outbox and
   reactions straight away (a reaction is a moment: not kept for later), and draws the phone's
   own view (its pace, its hand's ticket and place) from acks and `pulse` pushes. */
import { $, fill, newId, notify, say, errorText } from "./core.js";

export function pulsePhone(socket, box) {
  box.on(function (it, ack) {  // also what the outbox sent after a reload
    if (ack.ok && it.e === "pace" && $("pulse")) drawPace(ack.pace);
    if (ack.ok && it.e === "hand" && $("pulse")) drawHand(ack.hand);
  });

  function widget(on) {
    var el = $("pulse"), tpl = $("pulse-tpl");
    if (!el && on && tpl) {
      tpl.parentNode.insertBefore(tpl.content.cloneNode(true), tpl);
      el = $("pulse");
    }
    if (el) el.hidden = !on;
    return el;
  }

  function drawPace(mine) {
    var buttons = $("pulse").querySelectorAll("[name=pace]");
    for (var i = 0; i < buttons.length; i++) {
      var on = buttons[i].value === mine;
      buttons[i].className = "btn" + (on ? " is-on" : "");
      if (on) buttons[i].setAttribute("aria-pressed", "true"); else buttons[i].removeAttribute("aria-pressed");
    }
  }

  function drawHand(hand) {
    var el = $("pulse"), form = el.querySelector(".hand"), place = form.querySelector(".hand-place");
    var button = form.querySelector("button");
    el.setAttribute("data-hand", hand ? hand.ticket + ":" + hand.place : "");
    form.querySelector("[name=up]").value = hand ? "false" : "true";
    place.textContent = hand ? fill(place.getAttribute("data-text"), hand) : "";
    form.querySelector(".hand-name").hidden = !!hand;
    button.textContent = button.getAttribute(hand ? "data-lower" : "data-raise");
  }

  /* A push or snapshot: `own` when it carries this phone's view (snapshot, `pulse` push). */
  function show(p, own) {
    if (!p || !widget(p.on) || !p.on || !own) return;
    drawPace(p.mine);
    drawHand(p.hand);
  }

  function react(form, name) {
    var status = $("pulse").getAttribute("data-sent");
    socket.timeout(8000).emit("react", { cid: newId(), reaction: name }, function (err, ack) {
      if (err) return notify(errorText(null), true);
      if (!ack.ok) return notify(errorText(ack), true);
      var button = form.querySelector("[value=" + name + "]");
      say(status + " " + button.textContent);
      button.className = "btn is-on";  // seen: lit for a moment
      setTimeout(function () { button.className = "btn"; }, 700);
    });
  }

  /* A form of the widget, sent by the script instead of the page (core.js holds it until here). */
  function submit(form, button) {
    var kind = form.getAttribute("data-pulse-form");
    if (kind === "react") { if (button && button.value) react(form, button.value); return; }
    if (kind === "pace") {
      if (!button || !button.value) return;
      drawPace(button.value);
      box.push({ event: "pace", payload: { cid: newId(), pace: button.value }, label: button.textContent, replace: "pace" });
      return;
    }
    var up = form.querySelector("[name=up]").value === "true", name = form.querySelector("[name=name]");
    box.push({ event: "hand", payload: { cid: newId(), up: up, name: up && name.value ? name.value : null },
               label: form.querySelector("button").textContent, replace: "hand" });
  }

  return { show: show, submit: submit };
}
