// iotpot dashboard: refetch every part of the page that names its source
// (data-src) every few seconds and swap it in place, so the page follows
// the store without a reload. The parts are HTML the dashboard wrote, every
// attacker string in them already escaped; this script adds no text of its
// own from them, and the page's Content-Security-Policy runs no other script.
"use strict";

(function () {
  const every = Math.max(1, Number(document.body.dataset.refresh) || 5) * 1000;
  const last = new Map();

  async function refresh(part) {
    const src = part.dataset.src;
    try {
      const r = await fetch(src, { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) {
        part.dataset.error = String(r.status);
        return false;
      }
      const html = await r.text();
      delete part.dataset.error;
      if (last.get(src) !== html) {
        last.set(src, html);
        part.innerHTML = html;
      }
      return true;
    } catch (e) {
      part.dataset.error = "unreachable";
      return false;
    }
  }

  async function round() {
    const parts = Array.from(document.querySelectorAll("[data-src]"));
    const ok = await Promise.all(parts.map(refresh));
    const stamp = document.getElementById("updated");
    if (stamp) {
      const when = new Date().toISOString().slice(11, 19);
      stamp.textContent = ok.every(Boolean)
        ? "updated " + when + " UTC"
        : "dashboard unreachable or failing (last try " + when + " UTC)";
    }
    document.body.dataset.rounds = String(Number(document.body.dataset.rounds || 0) + 1);
    setTimeout(round, every);
  }

  round();
})();
