/* The join line's waiting page (templates/sessions/waiting.html): asks again every few seconds
   (the server says how many, with some jitter so that a room of phones does not ask in step),
   updates the place (read out by screen readers: role=status), and opens the session once let
   in. Without JavaScript, the page's refresh does the same. */
var body = document.body, place = document.getElementById("wait-place");
var url = body.getAttribute("data-wait");

function later(seconds) {
  setTimeout(ask, seconds * 1000 * (0.7 + Math.random() * 0.6));
}

function ask() {
  fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (d) {
      if (!d) return later(5);
      if (d.go) { location.replace(d.go); return; }
      if (d.text && place.textContent !== d.text) place.textContent = d.text;
      later(d.retry || 5);
    })
    .catch(function () { later(5); });
}

later(Math.min(2, Number(body.getAttribute("data-retry")) || 2));
