// dockd status page: polls /parts/status and swaps in the sections the server rendered.
// The HTML is written once, by the server's templates (the same includes as the page);
// this script only moves it into place. No framework, no CDN.
"use strict";

(() => {
  const body = document.body;
  if (body.dataset.page !== "status") return;

  const POLL_MS = Number(body.dataset.pollMs || 2000);
  const STALE_MS = 3 * POLL_MS + 1000;
  const PARTS = ["live-text", "alerts", "summary", "slots", "today", "station"];
  const parser = new DOMParser();
  const previous = {};
  let lastOk = Date.now();
  let lastTime = null; // station-local time of the shown picture, as the server wrote it

  // Replace a section only when its markup changed: no flicker, text selection survives.
  function swap(parts) {
    for (const name of PARTS) {
      const part = parts.querySelector(`template[data-part="${name}"]`);
      const el = document.getElementById(name);
      if (!part || !el || previous[name] === part.innerHTML) continue;
      previous[name] = part.innerHTML;
      el.innerHTML = part.innerHTML;
    }
  }

  function setStale(stale) {
    const live = document.getElementById("live");
    if (!live) return;
    live.classList.toggle("stale", stale);
    body.classList.toggle("stale", stale);
    if (stale) {
      // the words come from the page, in its language; the script only fills in the time
      const text = lastTime ? body.dataset.staleSince.replace("{time}", lastTime) : body.dataset.stale;
      document.getElementById("live-text").textContent = text;
      previous["live-text"] = null;
    }
  }

  async function poll() {
    if (document.hidden) {
      window.setTimeout(poll, POLL_MS);
      return;
    }
    try {
      const response = await fetch("/parts/status", {
        headers: { Accept: "text/html", "X-Dockd-Poll": "1" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const parts = parser.parseFromString(await response.text(), "text/html").getElementById("parts");
      if (!parts) throw new Error("no parts in the answer");
      swap(parts);
      lastOk = Date.now();
      lastTime = parts.dataset.time;
      body.dataset.updated = parts.dataset.generated; // when the shown picture was made
      setStale(false);
    } catch (_error) {
      if (Date.now() - lastOk > STALE_MS) setStale(true);
    } finally {
      window.setTimeout(poll, POLL_MS);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) lastOk = Math.max(lastOk, Date.now() - POLL_MS);
  });
  poll();
})();
