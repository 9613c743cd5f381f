/* Idea walls and Q&A on the projected screen: columns of cards (or the spotlight), or the Q&A
   (current question, top, answered), fitted to the slide. Same markup as boards/_screen.html. */
import { BT, h, add, attr, bCount } from "./core.js";

/* The screen: columns of cards (or the spotlight), or the Q&A (current question, top, answered). */
export function card(i, cls) {
  var li = h("li", "card" + (i.pinned ? " is-pinned" : "") + (i.highlighted ? " is-highlighted" : "") + (cls ? " " + cls : ""));
  li.appendChild(h("p", "card-text", i.text));
  if (i.author || i.votes !== undefined) {
    var meta = h("p", "card-meta");
    if (i.author) meta.appendChild(h("span", "card-author", i.author));
    if (i.votes !== undefined) meta.appendChild(h("span", "card-votes", bCount("votes", i.votes)));
    li.appendChild(meta);
  }
  return li;
}

/* Nothing on the screen may be cut: when the board overflows its slide, the cards get denser
   (down to a size still read from the back of the room); the columns get wider (fewer side by
   side), the big card (spotlight, question being answered) and the Q&A lists smaller, until the
   first card of each list fits. The cards that still do not fit are shown in pages (screen.js). */
export function fitBoard(body) {
  var box = body && body.querySelector(".board-screen");
  if (!box) return;
  var edge = function () { return box.getBoundingClientRect().bottom - parseFloat(getComputedStyle(box).paddingBottom) + 1; };
  function over() { return box.scrollHeight > box.clientHeight + 1; }
  function cramped() {  // the big card, the top questions or a column of the first row do not fit a card
    return Array.prototype.some.call(box.querySelectorAll(".qa-top .cards, .columns .cards, .spotlight"), function (list) {
      var first = list.firstElementChild, row = list.parentNode.classList.contains("column");
      return first && (!row || list.getBoundingClientRect().top < edge()) && first.getBoundingClientRect().bottom > edge();
    });
  }
  var grid = box.querySelector(".columns"), lists = box.querySelector(".qa-lists");
  var big = box.querySelector(".is-spotlight, .is-current");
  if (grid) ["dense", "denser"].forEach(function (c) { if (over()) grid.classList.add(c); });
  [[grid, "cols-wide"], [grid, "cols-wider"], [lists, "single"], [big, "smaller"], [big, "smallest"], [lists, "dense"],
   [big, "tiny"]].forEach(function (step) {
    if (step[0] && cramped()) step[0].classList.add(step[1]);
  });
  var prompt = body.parentNode.querySelector(".prompt"), spot = box.querySelector(".is-spotlight");
  if (spot && prompt && cramped()) {  // a long question in a wide script (CJK): its type down to the floor
    prompt.classList.add("tight");
    spot.classList.remove("smaller", "smallest", "tiny");
    ["smaller", "smallest", "tiny"].forEach(function (c) { if (cramped()) spot.classList.add(c); });
  }
}

export function boardScreenNode(a) {
  var s = a.settings || {}, items = a.items || [];
  var box = attr(h("div", "board-screen board-" + a.kind), { "data-board": a.id });
  if (a.kind === "ideas") {
    var spot = a.spotlight && items.filter(function (i) { return i.id === a.spotlight.id; })[0];
    if (a.spotlight) {
      box.appendChild(add(h("ul", "spotlight"), card(spot || a.spotlight, "is-spotlight")));
    } else if (a.items === null || a.items === undefined) {
      box.appendChild(add(h("p", "hidden-note"), h("span", "big-count", bCount("ideas", a.published || 0))));
    } else {
      var cols = s.columns && s.columns.length ? s.columns : [""];
      var longest = 0;  // the fuller the longest column, the smaller the cards (all stay on screen)
      cols.forEach(function (c, col) {
        var n = items.filter(function (i) { return i.column === col || cols.length === 1; }).length;
        longest = Math.max(longest, cols.length === 1 ? Math.ceil(n / 2) : n);
      });
      var grid = h("div", "columns cols-" + cols.length + (longest > 4 ? " dense denser" : longest > 2 ? " dense" : ""));
      cols.forEach(function (c, col) {
        var sec = attr(h("section", "column"), { "aria-label": c });
        if (cols.length > 1) sec.appendChild(h("h2", "column-title", c));
        var ul = h("ul", "cards");
        items.forEach(function (i) { if (i.column === col || cols.length === 1) ul.appendChild(card(i)); });
        if (!ul.firstChild && cols.length === 1) sec.appendChild(h("p", "muted board-empty", BT.ask_ideas));
        sec.appendChild(ul);
        grid.appendChild(sec);
      });
      box.appendChild(grid);
    }
    return box;
  }
  var cur = a.current && (items.filter(function (i) { return i.id === a.current.id; })[0] || a.current);
  var open = items.filter(function (i) { return !i.answered && (!cur || i.id !== cur.id); });
  var done = items.filter(function (i) { return i.answered; });
  if (cur) {
    box.appendChild(add(attr(h("section", "qa-current"), { "aria-label": BT.being_answered }),
                        h("h2", "qa-label", BT.being_answered), add(h("ul", "spotlight"), card(cur, "is-current"))));
  }
  function label(text, left) {  // "+ 3 others": the questions beyond the lists
    return add(h("h2", "qa-label", text), left > 0 ? " " : null, left > 0 ? h("span", "more-note", bCount("more", left)) : null);
  }
  var lists = h("div", "qa-lists" + (done.length ? "" : " single"));
  var top = add(h("section", "qa-top"), label(BT.top_questions, open.length - 8));
  if (open.length) {
    var ol = h("ol", "cards");
    open.slice(0, 8).forEach(function (i) { ol.appendChild(card(i)); });  // in pages if they do not fit
    top.appendChild(ol);
  } else {
    top.appendChild(h("p", "muted", BT.ask_questions));
  }
  lists.appendChild(top);
  if (done.length) {
    var ul2 = h("ul", "cards small");
    done.slice(-6).reverse().forEach(function (i) { ul2.appendChild(card(i)); });
    lists.appendChild(add(h("section", "qa-done"), label(BT.answered, done.length - 6), ul2));
  }
  box.appendChild(lists);
  return box;
}

