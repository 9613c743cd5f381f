/* A running import, purge or retention job: the page asks the server for itself again every
   second and updates the progress in place, instead of reloading (a reload every second sends a
   screen reader back to the top of the page, WCAG 2.2.1). The progress is not a live region; the
   outcome, once there, is written into #outcome (a polite status, or an alert when the job
   failed), so it is announced once. Without JavaScript the page reloads itself (<noscript>). */
var doc = document;
doc.documentElement.className += " js";
var progress = doc.getElementById("progress");
var outcome = doc.getElementById("outcome");

function finish(fresh) {
  var done = fresh.getElementById("outcome");
  var note = doc.getElementById("progress-note");
  progress.parentNode.removeChild(progress);
  if (note) note.parentNode.removeChild(note);
  if (done && outcome) {
    outcome.setAttribute("role", done.getAttribute("role") || "status");
    outcome.innerHTML = done.innerHTML;  // the server's own markup, escaped by Jinja
  }
}

function tick() {
  fetch(location.href, { credentials: "same-origin", cache: "no-store" })
    .then(function (response) { return response.text(); })
    .then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      var next = fresh.getElementById("progress");
      if (!next) { finish(fresh); return; }
      progress.innerHTML = next.innerHTML;
      setTimeout(tick, 1000);
    })
    .catch(function () { setTimeout(tick, 2000); });  // the server restarting: try again
}

if (progress) setTimeout(tick, 1000);
