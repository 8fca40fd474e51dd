// dockd status page: polls /api/status and redraws what changed. No framework, no CDN.
// The markup mirrors the server's templates (_slots.html, _today.html, _station.html,
// _alerts.html) so that a page that never ran this script shows the same thing.
"use strict";

(() => {
  const body = document.body;
  if (body.dataset.page !== "status") return;

  const POLL_MS = Number(body.dataset.pollMs || 2000);
  const STALE_MS = 3 * POLL_MS + 1000;
  let utcOffset = Number(body.dataset.utcOffset || 0);
  let lastOk = Date.now();
  let lastGenerated = null;
  const previous = {};

  const STATE_LABELS = {
    empty: "Empty", mounting: "Mounting", copying: "Copying", verifying: "Verifying",
    done: "Done", interrupted: "Interrupted", error: "Error",
  };
  const SESSION_LABELS = {
    running: "Running", completed: "Completed", completed_with_problems: "Completed with problems",
    interrupted: "Interrupted", failed: "Failed",
  };
  const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // --- formatting: the same as the server's Jinja filters ---------------------------------
  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
  const pad = (n) => String(n).padStart(2, "0");
  const count = (n) => Number(n).toLocaleString("en-US");

  function bytes(n) {
    if (n === null || n === undefined) return "—";
    let v = Number(n);
    let u = 0;
    while (Math.abs(v) >= 1024 && u < UNITS.length - 1) { v /= 1024; u += 1; }
    if (u === 0) return `${Math.trunc(v)} B`;
    return Math.abs(v) < 100 ? `${v.toFixed(1)} ${UNITS[u]}` : `${v.toFixed(0)} ${UNITS[u]}`;
  }
  const rate = (bps) => (bps === null || bps === undefined ? "—" : `${bytes(bps)}/s`);

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }
  const signed = (v, digits) => (v >= 0 ? "+" : "") + v.toFixed(digits);
  function drift(d) {
    if (d === null || d === undefined) return "unknown";
    if (Math.abs(d) < 60) return `${signed(d, 1)} s`;
    return (d > 0 ? "+" : "-") + duration(Math.abs(d));
  }
  function offset(o) {
    if (o === null || o === undefined) return "unknown";
    if (Math.abs(o) < 0.01) return `${signed(o * 1000, 2)} ms`;
    return Math.abs(o) < 1 ? `${signed(o * 1000, 1)} ms` : `${signed(o, 3)} s`;
  }
  function pct(done, total) {
    if (total <= 0) return "100%";
    return `${Math.min(100, (100 * done) / total).toFixed(0)}%`;
  }
  function daysLeft(d) {
    if (d === null || d === undefined) return "—";
    if (d > 2 * 365) return "More than 2 years left";
    return d < 10 ? `About ${d.toFixed(1)} days left` : `About ${count(Math.round(d))} days left`;
  }

  // Station-local time: the document carries the station's UTC offset.
  const local = (iso) => new Date(Date.parse(iso) + utcOffset * 1000);
  function time(iso) {
    if (!iso) return "—";
    const d = local(iso);
    return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }
  function datetime(iso) {
    if (!iso) return "—";
    const d = local(iso);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }
  function day(iso) {
    const d = local(iso);
    return `${DAYS[d.getUTCDay()]} ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  }

  // --- sections ---------------------------------------------------------------------------
  function alerts(doc) {
    return doc.alerts.map((a) => `<div class="alert alert-${esc(a.level)}" role="alert">${esc(a.text)}</div>`).join("");
  }

  function card(s) {
    const verdict = s.drift_verdict || "none";
    const judged = s.drift_verdict === "warn" || s.drift_verdict === "violation" ? ` · ${esc(s.drift_verdict)}` : "";
    let middle = "";
    if (s.state === "copying" || s.state === "verifying") {
      const eta = s.eta_s === null ? "estimating…" : `${duration(s.eta_s)} left`;
      middle = `<div class="progress-block">
        <div class="progress-top"><span class="pct">${pct(s.bytes_done, s.bytes_total)}</span><span class="eta">${eta}</span></div>
        <progress max="${Math.max(s.bytes_total, 1)}" value="${s.bytes_done}">${pct(s.bytes_done, s.bytes_total)}</progress>
        <div class="progress-facts"><span>${count(s.files_done)} / ${count(s.files_total)} files</span><span>${bytes(s.bytes_done)} / ${bytes(s.bytes_total)}</span><span>${rate(s.rate_bps)}</span></div>
      </div>`;
    } else if (s.state === "mounting") {
      middle = `<p class="status-line">Write-blocked, mounting read-only…</p>`;
    } else if (s.state === "done") {
      const line = s.files_total
        ? `${count(s.files_done)} of ${count(s.files_total)} files copied and verified`
        : "Nothing new: every recording was already in the store";
      middle = `<div class="safe">SAFE TO UNPLUG</div><p class="status-line">${line}</p>`;
    } else if (s.state === "interrupted" || s.state === "error") {
      middle = `<div class="problem"><strong>${s.state === "interrupted" ? "Copy interrupted" : "Error"}:</strong> ${esc(s.message || "no details")}
        ${s.hint ? `<p class="hint">${esc(s.hint)}</p>` : ""}${s.code ? `<code class="code">${esc(s.code)}</code>` : ""}</div>`;
    }
    const link = s.session
      ? `<a class="session-link" href="/sessions/${encodeURIComponent(s.session)}">Session ${esc(s.session.slice(0, 8))} →</a>`
      : "";
    return `<article class="card state-${esc(s.state)}" data-slot="${esc(s.slot)}">
      <header class="card-head"><span class="slot-name">${esc(s.slot)}</span><span class="pill pill-${esc(s.state)}">${esc(STATE_LABELS[s.state] || s.state)}</span></header>
      <div class="serial">${esc(s.serial || "—")}</div>
      <dl class="facts">
        <div><dt>Profile</dt><dd>${esc(s.profile || "—")}</dd></div>
        <div><dt>Custodian</dt><dd>${esc(s.custodian || "—")}${s.unit ? ` <span class="unit">${esc(s.unit)}</span>` : ""}</dd></div>
        <div><dt>Clock drift</dt><dd class="verdict-${esc(verdict)}">${s.drift_s === null ? "—" : drift(s.drift_s)}${judged}</dd></div>
      </dl>
      ${middle}${link}
    </article>`;
  }

  function slots(doc) {
    if (!doc.slots.length) {
      return `<div class="no-slots">No recorder docked. Plug a recorder into any slot: it appears here within seconds.</div>`;
    }
    return doc.slots.map(card).join("");
  }

  function tile(label, items, key) {
    if (items === null) {
      return `<div class="tile unchecked" title="Not available: the deadline report could not be read"><span class="n">—</span><span class="l">${label}</span></div>`;
    }
    return `<a class="tile ${items.length ? "bad" : "good"}" href="#${key}"><span class="n">${items.length}</span><span class="l">${label}</span></a>`;
  }

  function list(id, title, items, item) {
    if (!items || !items.length) return "";
    return `<h3 id="${id}">${title}</h3><ul class="issues">${items.map((x) => `<li>${item(x)}</li>`).join("")}</ul>`;
  }
  const who = (x) => (x.custodian ? ` · ${esc(x.custodian)}` : "");

  // A docked recorder is often late with every clip: one line per recorder.
  function groupLate(items) {
    if (!items) return items;
    const groups = new Map();
    for (const x of items) {
      if (!groups.has(x.serial)) groups.set(x.serial, []);
      groups.get(x.serial).push(x);
    }
    return [...groups].map(([serial, late]) => ({
      serial,
      count: late.length,
      worst_s: Math.max(...late.map((x) => x.late_by_s)),
      first: late[0],
      custodian: (late.find((x) => x.custodian) || {}).custodian || null,
    }));
  }
  const sessionHref = (id) => `/sessions/${encodeURIComponent(id)}`;

  function today(doc) {
    const t = doc.today;
    const rows = t.sessions.map((s) => `<tr>
      <td><a href="${sessionHref(s.id)}">${time(s.started_at)}</a></td>
      <td class="mono">${esc(s.serial)}</td>
      <td class="hide-sm">${esc(s.slot || "—")}</td>
      <td><span class="badge session-${esc(s.state)}">${esc(SESSION_LABELS[s.state] || s.state)}</span></td>
      <td class="num hide-sm">${count(s.recordings)}</td>
      <td class="num hide-sm">${bytes(s.bytes_copied)}</td>
      <td class="num hide-sm verdict-${esc(s.drift_verdict || "none")}">${s.drift_s === null ? "—" : drift(s.drift_s)}</td>
      <td class="num${s.problems ? " bad-text" : ""}">${s.problems}</td>
    </tr>`).join("");
    const table = t.sessions.length
      ? `<div class="table-wrap"><table class="sessions"><thead><tr><th>Started</th><th>Recorder</th><th class="hide-sm">Slot</th><th>State</th><th class="num hide-sm">Copied</th><th class="num hide-sm">Size</th><th class="num hide-sm">Drift</th><th class="num">Problems</th></tr></thead><tbody>${rows}</tbody></table></div>`
      : `<p class="empty">No dock sessions yet today.</p>`;
    return `<h2 id="today-h">Today <span class="since">${day(t.since)}</span></h2>
      <div class="tiles">
        <a class="tile neutral" href="#sessions-h"><span class="n">${t.sessions.length}</span><span class="l">Sessions</span></a>
        ${tile("Late offloads", t.late_offloads, "late")}
        ${tile("Overdue recorders", t.overdue_recorders, "overdue")}
        ${tile("Drift violations", t.drift_violations, "drift")}
        ${tile("Interruptions", t.interruptions, "interruptions")}
      </div>
      ${t.deadline_report ? "" : `<p class="note">The deadline report could not be read from the ledger: late offloads, overdue recorders and interruptions are not shown (—). See the journal.</p>`}
      ${list("late", "Late offloads", groupLate(t.late_offloads), (g) => (g.count === 1
        ? `<span class="mono">${esc(g.serial)}</span> ${esc(g.first.path)} <span class="muted">late by ${duration(g.worst_s)} (deadline ${datetime(g.first.deadline)})${who(g)}</span>`
        : `<span class="mono">${esc(g.serial)}</span> ${count(g.count)} recordings <span class="muted">up to ${duration(g.worst_s)} late${who(g)}</span>`))}
      ${list("overdue", "Overdue recorders", t.overdue_recorders, (x) => `<span class="mono">${esc(x.serial)}</span> <span class="muted">overdue by ${duration(x.overdue_by_s)}, last docked ${datetime(x.last_docked)}${who(x)}</span>`)}
      ${list("drift", "Clock drift", t.drift_violations, (x) => `<a class="mono" href="${sessionHref(x.session)}">${esc(x.serial)}</a> <span class="verdict-${esc(x.verdict)}">${drift(x.drift_s)} · ${esc(x.verdict)}</span> <span class="muted">${esc(x.method)}, ${time(x.at)}${who(x)}</span>`)}
      ${list("interruptions", "Interruptions", t.interruptions, (x) => `<span class="mono">${esc(x.serial)}</span> gap of ${duration(x.gap_s)} <span class="muted">${time(x.gap_start)}–${time(x.gap_end)}, between ${esc(x.before)} and ${esc(x.after)}</span>`)}
      ${list("unsealed", "Unsealed sessions", t.unsealed_sessions, (x) => `<a class="mono" href="${sessionHref(x.session)}">${esc(x.serial)}</a> <span class="muted">${x.attestations.length} attestation(s) so far</span>`)}
      ${list("verify", "Verify failures", t.verify_failures, (x) => `<span class="bad-text">${esc(x.problem)}</span> <span class="mono small">${esc(x.object)}</span> <span class="muted">${time(x.at)}</span>`)}
      <h3 id="sessions-h">Sessions</h3>
      ${table}`;
  }

  function station(doc) {
    const st = doc.station;
    const c = st.clock;
    let clock;
    if (c === null) {
      clock = `<span class="badge warn">Unknown</span><div class="sub">The clock could not be read.</div>`;
    } else if (c.synchronised) {
      const via = [c.method, c.server, c.stratum ? `stratum ${c.stratum}` : ""].filter(Boolean).map(esc).join(" · ");
      clock = `<span class="badge good">Synchronised</span><div class="line">Offset <strong>${offset(c.offset_s)}</strong></div><div class="sub">${via}</div>`;
    } else {
      clock = `<span class="badge bad">Not synchronised</span><div class="sub">${esc(c.detail)}</div>`;
    }
    const s = st.store;
    let store;
    if (s === null) {
      store = `<span class="badge bad">Unreadable</span><div class="sub">${esc(st.store_error)}</div>`;
    } else {
      const left = s.days_left === null
        ? "Nothing copied in the last 7 days"
        : `${daysLeft(s.days_left)} at ${bytes(s.ingest_bytes_per_day)}/day`;
      store = `<div><strong>${bytes(s.free_bytes)}</strong> free of ${bytes(s.size_bytes)}</div>
        <progress class="store-bar" max="${Math.max(s.size_bytes, 1)}" value="${s.size_bytes - s.free_bytes}"></progress>
        <div class="sub">${left}</div>`;
    }
    const v = st.last_verify;
    let verify;
    if (v === null) {
      verify = `<span class="badge warn">Never</span><div class="sub">Run <code>dockd verify</code> to re-hash the store.</div>`;
    } else if (v.result === "ok") {
      verify = `<span class="badge good">All match</span><div class="line">${count(v.checked)} objects re-hashed</div><div class="sub">${datetime(v.at)}</div>`;
    } else {
      verify = `<span class="badge bad">${count(v.findings)} failed</span><div class="line">of ${count(v.checked)} objects re-hashed</div><div class="sub">${datetime(v.at)}</div>`;
    }
    const up = st.uptime_s === null ? "daemon not running" : `up ${duration(st.uptime_s)}`;
    return `<h2 id="station-h">Station</h2>
      <dl class="kv">
        <div><dt>Station clock</dt><dd>${clock}</dd></div>
        <div><dt>Evidence store</dt><dd>${store}</dd></div>
        <div><dt>Last verify</dt><dd>${verify}</dd></div>
        <div><dt>Policy</dt><dd>${esc(st.policy_name)}<div class="sub mono">${esc(st.policy)}</div></dd></div>
        <div><dt>dockd</dt><dd>${esc(st.version)}<div class="sub">${up}</div></dd></div>
      </dl>`;
  }

  // Replace a section only when its data changed: no flicker, text selection survives.
  function update(id, data, render, doc) {
    const key = JSON.stringify(data);
    if (previous[id] === key) return;
    previous[id] = key;
    const el = document.getElementById(id);
    if (el) el.innerHTML = render(doc);
  }

  function render(doc) {
    utcOffset = doc.station.utc_offset_s;
    update("alerts", doc.alerts, alerts, doc);
    update("slots", doc.slots, slots, doc);
    update("today", doc.today, today, doc);
    // uptime changes every poll; the rest of the station rarely does
    update("station", { ...doc.station, uptime_s: Math.floor((doc.station.uptime_s || 0) / 60) }, station, doc);
    const summary = document.getElementById("summary");
    if (summary) summary.textContent = doc.summary;
  }

  function setLive(ok) {
    const el = document.getElementById("live");
    if (!el) return;
    const text = el.querySelector(".live-text");
    if (ok) {
      el.classList.remove("stale");
      body.classList.remove("stale");
      text.textContent = `Live · ${time(lastGenerated)}`;
    } else if (Date.now() - lastOk > STALE_MS) {
      el.classList.add("stale");
      body.classList.add("stale");
      const since = lastGenerated ? ` since ${time(lastGenerated)}` : "";
      text.textContent = `Not updating${since}: no answer from dockd, retrying`;
    }
  }

  async function poll() {
    if (document.hidden) {
      window.setTimeout(poll, POLL_MS);
      return;
    }
    try {
      const response = await fetch("/api/status", {
        headers: { Accept: "application/json", "X-Dockd-Poll": "1" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const doc = await response.json();
      render(doc);
      lastOk = Date.now();
      lastGenerated = doc.generated_at;
      body.dataset.updated = doc.generated_at; // when the shown picture was made
      setLive(true);
    } catch (_error) {
      setLive(false);
    } finally {
      window.setTimeout(poll, POLL_MS);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) lastOk = Math.max(lastOk, Date.now() - POLL_MS);
  });
  poll();
})();
