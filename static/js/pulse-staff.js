/* The room's pulse on the console and the screen (its top margin, while on): the numbers of every [data-pulse] line are
   replaced by those of each `pulse` push (coalesced by the server, at most twice a second). */
export function showPulse(p) {
  if (!p || !p.counts) return;
  var box = document.querySelector("[data-pulse-box]");  // the screen's line: shown while on
  if (box) box.hidden = !p.on;
  var cells = document.querySelectorAll("[data-pulse-n]");
  for (var i = 0; i < cells.length; i++) {
    var key = cells[i].getAttribute("data-pulse-n");
    cells[i].textContent = key === "average"
      ? (p.average === null ? "–" : (p.average > 0 ? "+" : "") + p.average.toFixed(2))
      : String(p.counts[key] || 0);
  }
}
