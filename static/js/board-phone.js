/* Idea walls and Q&A on the phone: post, edit, withdraw and vote over the socket; the board is
   drawn from `state`/`snapshot` pushes (published items only), `results` pushes (counts and
   order, once revealed) and the phone's own `mine` (snapshot, acks, `board_mine`). Same markup
   as boards/_participant.html; the forms post without a socket. Loaded by the participant page
   when a board is on screen. */
import { doc, T, BT, $, h, add, attr, clear, keepSame, hasClass, fill, newId, notify, say, errorText, bCount, boardResults, hidden, actionOn } from "./core.js";

/* The phone: post, edit, withdraw and vote through the page's outbox (`box`, see core.js:
   kept until the server answers, even across a reload); draws the board from pushes. */
export function boardPhone(code, stage, getSocket, mineMap, box) {
  var shown = null, editing = null, notice = null, refocus = null;
  box.on(function (it, ack) {  // an answer, maybe to what was sent before a reload: redraw
    var a = current();
    if (ack.ok && a && a.id === it.p.activity) lists(a);
  });

  function current() { return stage.getAttribute("data-board-view") ? stage._boardView : null; }

  function render(a, force) {
    stage._boardView = a;
    stage.setAttribute("data-board-view", "1");
    var key = a.id + ":" + a.state;
    var box = $("board"), kept = null;
    if (!box || key !== shown || force === "all") {
      kept = box && box.getAttribute("data-board") === String(a.id) ? fields() : null;
      clear(stage);
      stage.appendChild(shell(a));
      if (kept) putBack(kept);
      if (kept && kept.control) refocus = kept.control;  // once drawn (an item: with the counts)
      shown = key;
    }
    lists(a);
  }

  /* What the participant was typing or choosing in the post form (this page's markup, or the
     server's when this module has just come), and where: kept across a redraw. The focus too
     when it is on a button: this module comes just after the page, and someone quick with Tab
     was already on "Send my idea" (or an item's button) of the server's markup; the redraw
     left the focus on the page's body, where Space and Enter do nothing. */
  var FIELDS = ["board-text", "board-column", "board-name"];
  function fields() {
    var el = doc.activeElement, form = el && el.tagName === "BUTTON" && el.form;
    var kept = { values: {}, focus: el && el.id, control: null };
    FIELDS.forEach(function (id) { if ($(id)) kept.values[id] = $(id).value; });
    if (form && hasClass(form, "board-post")) kept.control = ".board-post .submit-bar button";
    else if (form && form.querySelector("input[name=item]")) {  // (`elements.item` is a method)
      var id = parseInt(form.querySelector("input[name=item]").value, 10);
      kept.control = hasClass(form, "board-withdraw") ? "[data-bkey='withdraw-" + id + "']"
                                                       : "[data-bkey='vote-" + id + "'], [data-bkey='take-" + id + "']";
    }
    return kept;
  }
  function putBack(kept) {
    FIELDS.forEach(function (id) { if ($(id) && kept.values[id]) $(id).value = kept.values[id]; });
    var el = kept.focus && FIELDS.indexOf(kept.focus) >= 0 && $(kept.focus);
    if (el) {
      el.focus();
      if (el.setSelectionRange) el.setSelectionRange(el.value.length, el.value.length);
    }
  }

  function shell(a) {
    var s = a.settings || {}, isQ = a.kind === "questions";
    var sec = attr(h("section", "activity"), { "aria-labelledby": "prompt" });
    var box = attr(h("div", "board"), { id: "board", "data-board": a.id });
    add(box, attr(h("h2", "prompt", a.prompt), { id: "prompt" }), attr(h("p", "private-note"), { id: "board-private" }));
    if (a.state === "open") {
      var form = attr(h("form", "board-post"), { method: "post", action: "/j/" + code + "/boards/post", id: "board-post" });
      add(form, hidden("activity", a.id), hidden("cid", newId()),
          add(attr(h("label", "field"), { "for": "board-text" }), isQ ? BT.your_question : BT.your_idea,
              attr(h("textarea"), { id: "board-text", name: "text", maxlength: "280", rows: "3", required: "required" })),
          h("p", "hint", BT.limit + (s.premoderation ? " " + BT.premoderated : "")));
      if (!isQ && s.columns && s.columns.length > 1) {
        var select = attr(h("select"), { id: "board-column", name: "column" });
        s.columns.forEach(function (c, i) { select.appendChild(attr(h("option", null, c), { value: i })); });
        add(form, add(attr(h("label", "field"), { "for": "board-column" }), BT.column, select));
      }
      if (s.signed) {
        add(form, add(attr(h("label", "field"), { "for": "board-name" }), BT.your_name,
                      attr(h("input"), { id: "board-name", name: "name", maxlength: "40", autocomplete: "name" })));
      }
      add(form, add(h("div", "submit-bar"), h("button", "btn btn-primary btn-block", isQ ? BT.send_question : BT.send_idea)));
      box.appendChild(form);
    } else {
      box.appendChild(h("p", "state-note", a.state === "closed" ? BT.closed : BT.not_open));
    }
    add(box, attr(h("p", "form-status"), { id: "board-status", role: "status", "aria-live": "polite" }),
        attr(h("div", "board-mine"), { id: "board-mine" }), attr(h("div", "board-items"), { id: "board-items" }));
    return add(sec, box);
  }

  function status(text, kind) {
    var el = $("board-status");
    if (!el) { notify(text, kind === "is-error"); return; }
    el.textContent = text || "";
    el.className = "form-status" + (kind ? " " + kind : "");
  }

  function button(label, cls, key, aria) {
    var b = attr(h("button", "btn btn-small" + (cls ? " " + cls : ""), label), { type: "submit", "data-bkey": key });
    if (aria) b.setAttribute("aria-label", aria);
    return b;
  }

  function lists(a) {
    var focused = doc.activeElement, fkey = focused && focused.getAttribute && focused.getAttribute("data-bkey");
    var mine = mineMap[a.id] || { items: [], votes: {}, budget: 0, left: null };
    var open = a.state === "open", isQ = a.kind === "questions", s = a.settings || {};
    var mineBox = $("board-mine"), itemsBox = $("board-items"), priv = $("board-private");
    if (!mineBox || !itemsBox) return;
    if (priv) {  // a private wall not revealed yet: the phone says whose ideas it shows
      clear(priv);
      if (s.private && (a.items === null || a.items === undefined)) add(priv, h("span", "badge badge-private", BT.priv[0]), " " + BT.priv[1]);
    }
    var mineNodes = [];
    if (mine.items && mine.items.length) {
      var ul = attr(h("ul", "ideas-list"), { "data-key": "mine" });
      mine.items.forEach(function (i) {
        var li = attr(h("li", "idea is-mine"), { "data-key": "i" + i.id });
        if (editing === i.id && i.editable && open) {
          var ef = attr(h("form", "board-edit"), { "data-item": i.id, "data-key": "edit" });
          var ta = attr(h("textarea"), { id: "board-edit-" + i.id, maxlength: "280", rows: "3", name: "text" });
          ta.value = i.text;
          add(ef, add(attr(h("label", "vh"), { "for": "board-edit-" + i.id }), BT.edit_label), ta,
              add(h("div", "idea-meta"), button(BT.save, "btn-primary", "save-" + i.id),
                  attr(h("button", "btn btn-small", BT.cancel), { type: "button", "data-cancel": "1", "data-bkey": "cancel-" + i.id })));
          li.appendChild(ef);
        } else {
          var meta = add(attr(h("div", "idea-meta"), { "data-key": "meta" }),
                         h("span", "badge badge-" + i.status, (BT.status || {})[i.status] || i.status));
          if (i.editable && open) {
            add(meta, attr(h("button", "btn btn-small", BT.edit), { type: "button", "data-edit": i.id, "data-bkey": "edit-" + i.id,
                                                                   "aria-label": actionOn(BT.edit, i.text.slice(0, 60)) }));
            var wf = attr(h("form", "board-withdraw"), { method: "post", action: "/j/" + code + "/boards/withdraw" });
            add(wf, hidden("activity", a.id), hidden("item", i.id),
                button(BT.withdraw, "", "withdraw-" + i.id, actionOn(BT.withdraw, i.text.slice(0, 60))));
            add(meta, wf);
          }
          add(li, h("p", "idea-text", i.text), meta);
        }
        if (notice && notice.id === i.id) li.appendChild(attr(h("p", "form-status is-error", notice.text), { role: "alert" }));
        ul.appendChild(li);
      });
      mineNodes.push(h("h3", null, BT.what_you_sent), ul);
    }
    keepSame(mineBox, mineNodes);
    var nodes = [];
    if (a.items === null || a.items === undefined) {
      if (!s.private && a.published) nodes.push(h("p", "hint", BT.wall_later));
    } else {
      if (mine.budget) nodes.push(attr(h("p", "votes-left", bCount("left", mine.left === null ? 0 : mine.left)), { id: "votes-left" }));
      var groups = !isQ && s.columns && s.columns.length > 1 ? s.columns : [null];
      groups.forEach(function (c, col) {
        var shownItems = a.items.filter(function (i) { return (c === null || i.column === col) && !i.answered; });
        if (c !== null) nodes.push(h("h3", null, c));
        else if (shownItems.length) nodes.push(h("h3", null, isQ ? BT.from_room_q : BT.from_room));
        var list = attr(h("ul", "ideas-list"), { "data-key": "col" + col });
        shownItems.forEach(function (i) { list.appendChild(itemNode(a, i, mine, open, isQ, s)); });
        nodes.push(list);
      });
      var done = isQ ? a.items.filter(function (i) { return i.answered; }) : [];
      if (done.length) {
        var dl = attr(h("ul", "ideas-list"), { "data-key": "answered" });
        done.forEach(function (i) { dl.appendChild(add(attr(h("li", "idea"), { "data-key": "i" + i.id }), h("p", "idea-text", i.text))); });
        nodes.push(h("h3", null, BT.answered), dl);
      }
    }
    keepSame(itemsBox, nodes);
    if (fkey) {
      var back = stage.querySelector("[data-bkey='" + fkey + "']");
      if (!back && /^(vote|take)-/.test(fkey)) {
        var n = fkey.split("-")[1];
        back = stage.querySelector("[data-bkey='vote-" + n + "'], [data-bkey='take-" + n + "']");
      }
      if (back) back.focus();
      else if (/^save-|^cancel-/.test(fkey) && stage.querySelector("[data-bkey='edit-" + fkey.split("-")[1] + "']")) {
        stage.querySelector("[data-bkey='edit-" + fkey.split("-")[1] + "']").focus();
      }
    }
    if (editing !== null && $("board-edit-" + editing) && fkey && /^edit-/.test(fkey)) $("board-edit-" + editing).focus();
    if (refocus && doc.activeElement && doc.activeElement !== doc.body) refocus = null;  // moved on
    var control = refocus && stage.querySelector(refocus);
    if (control) { control.focus(); refocus = null; }
  }

  function itemNode(a, i, mine, open, isQ, s) {
    var mv = (mine.votes || {})[String(i.id)] || 0;
    var meta = attr(h("div", "idea-meta"), { "data-key": "meta" });
    if (i.author) add(meta, h("span", null, "— " + i.author));
    if (i.votes !== undefined) add(meta, h("span", null, bCount("votes", i.votes)));
    if (mv) add(meta, h("span", "badge", bCount("yours", mv)));
    if (open) {
      var f = attr(h("form", "board-vote"), { method: "post", action: "/j/" + code + "/boards/vote", "data-key": "vote" });
      add(f, hidden("activity", a.id), hidden("item", i.id));
      var label = i.text.slice(0, 60);
      if (mv && (isQ || !s.stack || mine.left === 0)) {
        add(f, hidden("take", "1"), button(BT.take_back, "", "take-" + i.id, actionOn(BT.take_back, label)));
      } else {
        var b = button(isQ ? BT.upvote : BT.vote, "btn-primary", "vote-" + i.id, actionOn(isQ ? BT.upvote : BT.vote, label));
        if (mine.budget && mine.left === 0) b.disabled = true;
        add(f, b);
      }
      add(meta, f);
    }
    return add(attr(h("li", "idea" + (i.highlighted ? " is-highlighted" : "") + (i.pinned ? " is-pinned" : "")), { "data-key": "i" + i.id }),
               h("p", "idea-text", i.text), meta);
  }

  /* Into the outbox: sent in order, kept until the server answers (also after a reload). */
  function send(op, what) {
    notice = null;
    op.label = what.length > 80 ? what.slice(0, 79) + "…" : what;
    op.failed = function (ack) { status(errorText(ack), "is-error"); };
    if (!box.push(op)) { status(T.ob_full, "is-error"); return false; }
    status(getSocket().connected ? BT.sending : BT.offline, "is-wait");
    return true;
  }

  function itemText(form) {
    var li = form.parentNode.parentNode, p = li && li.querySelector(".idea-text");
    return p ? p.textContent : "";
  }

  function onSubmit(e) {
    var a = current();
    if (!a || !getSocket() || e.defaultPrevented) return;  // without script the form posts
    if (submit(e.target, a)) e.preventDefault();
  }

  /* Put what `form` (this module's or the server's markup) asks in the outbox; false: not a
     form of the board. */
  function submit(form, a) {
    var item = form.querySelector("input[name=item]"), id = item ? parseInt(item.value, 10) : null;
    if (hasClass(form, "board-post")) {
      var text = $("board-text").value;
      if (!text.replace(/\s+/g, "")) { status(BT.empty, "is-error"); $("board-text").focus(); return true; }
      var payload = { cid: form.elements.cid.value, activity: a.id, text: text,
                      column: form.elements.column ? parseInt(form.elements.column.value, 10) : 0 };
      if (form.elements.name) payload.name = form.elements.name.value;
      var post = { event: "board_post", payload: payload, done: function (ack) {
        status(ack.status === "pending" ? BT.saved_pending : BT.saved, "is-ok");
      } };
      if (!send(post, text)) return true;
      post.failed = function (ack) {  // refused: the text comes back to be changed
        if ($("board-text") && !$("board-text").value) $("board-text").value = text;
        status(errorText(ack), "is-error");
      };
      $("board-text").value = "";  // it is safe in the outbox
      form.elements.cid.value = newId();  // the next idea is a new one
    } else if (hasClass(form, "board-vote")) {
      var take = !!form.elements.take, act = take ? BT.take_back : (a.kind === "questions" ? BT.upvote : BT.vote);
      send({ event: "board_vote", payload: { cid: newId(), activity: a.id, item: id, take: take },
             done: function () { status(take ? BT.vote_taken : BT.vote_saved, "is-ok"); } },
           actionOn(act, itemText(form)));
    } else if (hasClass(form, "board-withdraw")) {
      send({ event: "board_withdraw", payload: { cid: newId(), activity: a.id, item: id },
             done: function () { status(BT.withdrawn, "is-ok"); } }, actionOn(BT.withdraw, itemText(form)));
    } else if (hasClass(form, "board-edit")) {
      id = parseInt(form.getAttribute("data-item"), 10);
      send({ event: "board_edit", payload: { cid: newId(), activity: a.id, item: id, text: form.elements.text.value },
             done: function () { editing = null; status(BT.edited, "is-ok"); } }, form.elements.text.value);
    } else {
      return false;
    }
    return true;
  }

  function onClick(e) {
    var a = current(), t = e.target;
    if (!a || !t.getAttribute) return;
    if (t.getAttribute("data-edit")) {
      editing = parseInt(t.getAttribute("data-edit"), 10);
      lists(a);
      var ta = $("board-edit-" + editing);
      if (ta) ta.focus();
    } else if (t.getAttribute("data-cancel")) {
      var was = editing;
      editing = null;
      lists(a);
      var back = stage.querySelector("[data-bkey='edit-" + was + "']");
      if (back) back.focus();
    }
  }

  stage.addEventListener("submit", onSubmit, false);
  stage.addEventListener("click", onClick, false);

  return {
    render: render,
    submit: submit,
    leave: function () { shown = null; stage.removeAttribute("data-board-view"); },
    mine: function (data) {  // `board_mine`: this phone's items were moderated
      if (!data) return;
      var before = mineMap[data.activity], a = current();
      mineMap[data.activity] = data.mine;
      if (!a || a.id !== data.activity) return;
      var was = {}, wasText = {};
      ((before && before.items) || []).forEach(function (i) { was[i.id] = i.status; wasText[i.id] = i.text; });
      var edited = editing;
      data.mine.items.forEach(function (i) {
        if (was[i.id] && was[i.id] !== i.status) say(fill(BT.now_status, { text: i.text.slice(0, 60), status: (BT.status || {})[i.status] || i.status }));
        /* The author was rewriting this item when a moderator acted on it: say so, plainly,
           with its current state (nothing typed is sent over a moderator's decision). */
        if (i.id === edited && (!i.editable || i.text !== wasText[i.id])) {
          editing = null;  // the message goes where the author was looking: under the item
          notice = { id: i.id, text: fill(BT.changed_meanwhile, { text: i.text.slice(0, 80), status: (BT.status || {})[i.status] || i.status }) };
        }
      });
      if (edited !== null && editing === edited && !data.mine.items.some(function (i) { return i.id === edited; })) editing = null;
      lists(a);
    },
    results: function (a, r) { if (boardResults(a, r) && shown) lists(a); }
  };
}

