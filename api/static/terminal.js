// The guard terminal: live feed over server-sent events, alerts that sound until handled,
// one-key decisions (A admit, D deny, V register visitor, N "not this person" on a face),
// search. No build step.
"use strict";
(() => {
  const I18N = JSON.parse(document.getElementById("gate-i18n").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const feed = $("feed"), alertsList = $("alerts");
  const alerts = new Map();          // seq -> item waiting for a decision; "v:<ref>" -> visit request
  let lastSeq = 0, selected = null, pendingOutcome = null, pendingReason = null;

  // --- alarm: a beep every 1.5 s while anything waits -------------------------------
  const alarm = { context: null, timer: null, beeps: 0 };
  window.gateAlarm = alarm;
  function beep() {
    try {
      alarm.context = alarm.context || new (window.AudioContext || window.webkitAudioContext)();
      const ctx = alarm.context, osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.3;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.35);
      alarm.beeps += 1;
    } catch (e) { /* no audio device: the red panel still shows */ }
  }
  function updateAlarm() {
    const on = alerts.size > 0;
    document.body.dataset.alarm = on ? "on" : "off";
    $("alert-count").textContent = alerts.size;
    if (on && !alarm.timer) { beep(); alarm.timer = setInterval(beep, 1500); }
    if (!on && alarm.timer) { clearInterval(alarm.timer); alarm.timer = null; }
  }

  // --- rendering -------------------------------------------------------------------
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function row(item) {
    const li = el("li", `passage outcome-${item.outcome}`);
    li.dataset.seq = item.seq;
    const head = el("div", "line");
    head.append(el("span", "time", item.time), el("span", "badge", item.outcome_text),
      el("span", "dir", `${item.lane} · ${item.direction_text} · ${item.credential_text}`));
    const who = el("div", "who");
    who.append(el("strong", "name", item.name || item.identity_text),
      el("span", "home", [item.home, item.kind_text || item.identity_text].filter(Boolean).join(" · ")));
    const reasons = el("ul", "reasons");
    item.reasons.forEach((r) => reasons.append(el("li", null, r)));
    li.append(head, who, reasons);
    if (item.face) li.append(faceRow(item.face));
    if (item.rule_ids.length) li.append(el("div", "rules", item.rule_ids.join(", ")));
    if (item.overrides_seq) li.append(el("div", "rules", `#${item.overrides_seq} · ${item.decided_by}`));
    return li;
  }
  function picture(url, caption) {
    const fig = el("figure", "face-picture");
    if (url) {
      const img = el("img"); img.src = url; img.alt = caption; img.loading = "lazy";
      img.onerror = () => { img.replaceWith(el("span", "no-photo", I18N.faceNoPhoto)); };
      fig.append(img);
    } else fig.append(el("span", "no-photo", I18N.faceNoPhoto));
    fig.append(el("figcaption", null, caption));
    return fig;
  }
  function faceRow(face) {
    // The camera's picture beside the candidate's enrolment photo: the guard compares them.
    const box = el("div", `face face-${face.band}`);
    box.append(picture(face.snapshot_url, I18N.faceSnapshot), picture(face.photo_url, I18N.faceEnrolled));
    const facts = el("div", "face-facts", face.band_text + (face.distance != null ? ` · ${face.distance}` : ""));
    box.append(facts);
    if (face.corrections_text) box.append(el("div", "face-corrections", face.corrections_text));
    return box;
  }
  function addToFeed(item) {
    const empty = feed.querySelector(".empty"); if (empty) empty.remove();
    feed.prepend(row(item));
    while (feed.children.length > 200) feed.lastChild.remove();
  }
  function requestRow(item) {
    const li = el("li", "passage request outcome-review");
    li.dataset.request = item.ref;
    const head = el("div", "line");
    head.append(el("span", "time", item.time), el("span", "badge", I18N.request));
    const who = el("div", "who");
    who.append(el("strong", "name", item.name), el("span", "home", item.summary));
    li.append(head, who, el("div", "rules", `···${item.doc_last4 || ""} · ☎ ···${item.phone_last4 || ""}`));
    return li;
  }
  function syncRequests(requests) {
    const now = new Set(requests.map((r) => r.key));
    let changed = false;
    for (const key of [...alerts.keys()]) {
      if (typeof key === "string" && !now.has(key)) { alerts.delete(key); changed = true; }
    }
    requests.forEach((r) => { if (!alerts.has(r.key)) { alerts.set(r.key, r); changed = true; } });
    if (changed) renderAlerts();
  }
  async function decideRequest(key, approve) {
    const item = alerts.get(key); if (!item) return;
    const response = await fetch(`/terminal/visit-requests/${encodeURIComponent(item.ref)}`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ approve }),
    });
    const body = await response.json().catch(() => ({}));
    alerts.delete(key); renderAlerts();
    const note = el("li", "passage note", response.ok ? `${item.name} · ${approve ? I18N.approveRequest : I18N.declineRequest}` : (body.detail || response.status));
    feed.prepend(note);
  }
  function renderAlerts() {
    alertsList.replaceChildren();
    if (!alerts.size) { alertsList.append(el("li", "empty", I18N.noAlerts)); selected = null; updateAlarm(); return; }
    if (!selected || !alerts.has(selected)) selected = alerts.keys().next().value;
    for (const [seq, item] of alerts) {
      if (typeof seq === "string") {
        const li = requestRow(item);
        li.classList.add("alert");
        if (seq === selected) li.classList.add("selected");
        const actions = el("div", "actions");
        const yes = el("button", "admit", I18N.approveRequest); yes.onclick = () => decideRequest(seq, true);
        const no = el("button", "deny", I18N.declineRequest); no.onclick = () => decideRequest(seq, false);
        actions.append(yes, no); li.append(actions);
        li.onclick = (e) => { if (e.target.tagName !== "BUTTON") { selected = seq; renderAlerts(); } };
        alertsList.append(li);
        continue;
      }
      const li = row(item);
      li.classList.add("alert");
      if (seq === selected) li.classList.add("selected");
      const actions = el("div", "actions");
      const admit = el("button", "admit", I18N.admit); admit.onclick = () => openOverride(seq, "allow");
      const deny = el("button", "deny", I18N.deny); deny.onclick = () => openOverride(seq, "deny");
      actions.append(admit, deny);
      if (item.face && item.face.photo_url) {
        const wrong = el("button", "not-this-person", `${I18N.notThisPerson} (N)`);
        wrong.onclick = () => openOverride(seq, "deny", "not_this_person");
        actions.append(wrong);
      }
      if (item.identity_kind === "outsider") {
        const visitor = el("button", "visitor", I18N.register); visitor.onclick = () => openVisitor(seq);
        actions.append(visitor);
      }
      li.append(actions);
      li.onclick = (e) => { if (e.target.tagName !== "BUTTON") { selected = seq; renderAlerts(); } };
      alertsList.append(li);
    }
    updateAlarm();
  }
  function accept(item) {
    if (item.seq <= lastSeq) return;
    lastSeq = item.seq;
    addToFeed(item);
    if (item.overrides_seq && alerts.delete(item.overrides_seq)) renderAlerts();
    if (item.needs_action) { alerts.set(item.seq, item); renderAlerts(); }
  }
  function renderHeader(h) {
    const devices = $("devices"); devices.replaceChildren();
    if (!h.devices.length) devices.append(el("span", "device none", I18N.noDevices));
    h.devices.forEach((d) => {
      const chip = el("span", `device state-${d.state}`, `${d.lane} ${d.label}: ${d.state_text}`);
      chip.title = d.detail || ""; devices.append(chip);
    });
    $("occupancy").textContent = h.occupancy;
    const q = $("quarantined"); q.replaceChildren(el("span", null, h.quarantined_text));
    q.classList.toggle("bad", h.quarantined_outside.length > 0);
    h.quarantined_outside.forEach((p) => q.append(el("span", "person", `${p.name} ${p.home || ""}`)));
    if (h.requests) syncRequests(h.requests);
    [["upstream", h.upstream], ["clock-off", h.clock]].forEach(([id, warning]) => {
      const line = $(id); line.hidden = !warning; line.textContent = warning ? warning.text : "";
    });
    const c = $("controls"); c.replaceChildren(el("span", null, h.controls_text));
    c.hidden = !(h.controls && h.controls.length);
    (h.controls || []).forEach((p) => {
      const line = el("span", `change control-${p.status_code}`, `${p.time} ${p.name} ${p.home} → ${p.status}`);
      c.append(line);
    });
  }

  // --- decisions -------------------------------------------------------------------
  function openOverride(seq, outcome, fixedReason) {
    const item = alerts.get(seq); if (!item) return;
    selected = seq; pendingOutcome = outcome; pendingReason = fixedReason || null;
    const verb = fixedReason ? I18N.notThisPerson : (outcome === "allow" ? I18N.admit : I18N.deny);
    $("override-seq").textContent = `#${seq} → ${verb}`;
    $("override-summary").textContent = `${item.name || item.identity_text} · ${item.reasons.join("；")}`;
    const codes = [...document.querySelectorAll('#override-form input[name="reason_code"]')];
    const preferred = outcome === "deny" ? "refused" : "identity_confirmed";
    codes.forEach((c) => { c.checked = c.value === preferred; });
    $("override-reasons").hidden = Boolean(fixedReason);
    $("override-text").value = fixedReason ? I18N.notThisPerson : ""; $("override-error").hidden = true;
    $("override-dialog").showModal(); $("override-text").focus();
  }
  async function submitOverride(event) {
    event.preventDefault();
    const text = $("override-text").value.trim();
    if (!text) { $("override-error").textContent = I18N.textRequired; $("override-error").hidden = false; return; }
    const code = pendingReason || document.querySelector('#override-form input[name="reason_code"]:checked').value;
    const response = await fetch(`/terminal/passages/${selected}/override`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ outcome: pendingOutcome, reason_code: code, text }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { $("override-error").textContent = body.detail || response.status; $("override-error").hidden = false; return; }
    $("override-dialog").close();
    alerts.delete(selected); renderAlerts(); accept(body);
  }
  function openVisitor(seq) {
    const item = alerts.get(seq); if (!item) return;
    selected = seq;
    $("visitor-seq").value = seq; $("visitor-error").hidden = true;
    $("visitor-name").value = (item.card && item.card.name) || "";
    $("visitor-card").textContent = item.card ? I18N.fromCard.replace("__MASK__", item.card.masked) : "";
    $("visitor-doc-fields").hidden = Boolean(item.card);
    $("visitor-number").required = !item.card;
    $("visitor-dialog").showModal(); $("visitor-host").focus();
  }
  async function submitVisitor(event) {
    event.preventDefault();
    const data = new FormData($("visitor-form"));
    const response = await fetch("/terminal/visitors", { method: "POST", headers: { "X-CSRF-Token": csrf }, body: data });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { $("visitor-error").textContent = body.detail || response.status; $("visitor-error").hidden = false; return; }
    $("visitor-dialog").close();
    alerts.delete(Number(data.get("seq"))); renderAlerts();
    const note = el("li", "passage note", body.message); feed.prepend(note);
  }
  document.addEventListener("keydown", (e) => {
    if ($("place-dialog").open) { if (e.key === "Escape") { $("place-dialog").close(); clearTimeout(placeTimer); } return; }
    const dialogOpen = $("override-dialog").open || $("visitor-dialog").open;
    if (dialogOpen) {
      if (e.key === "Escape") { $("override-dialog").close(); $("visitor-dialog").close(); }
      if ($("override-dialog").open && /^[1-9]$/.test(e.key) && document.activeElement.tagName !== "INPUT") {
        const codes = document.querySelectorAll('#override-form input[name="reason_code"]');
        if (codes[Number(e.key) - 1]) codes[Number(e.key) - 1].checked = true;
      }
      return;
    }
    if (document.activeElement && document.activeElement.id === "search-q") return;
    if (!selected) return;
    const key = e.key.toLowerCase();
    if (typeof selected === "string") {
      if (key === "a") { e.preventDefault(); decideRequest(selected, true); }
      if (key === "d") { e.preventDefault(); decideRequest(selected, false); }
      return;
    }
    if (key === "a") { e.preventDefault(); openOverride(selected, "allow"); }
    if (key === "d") { e.preventDefault(); openOverride(selected, "deny"); }
    if (key === "v" && alerts.get(selected)?.identity_kind === "outsider") { e.preventDefault(); openVisitor(selected); }
    if (key === "n" && alerts.get(selected)?.face?.photo_url) { e.preventDefault(); openOverride(selected, "deny", "not_this_person"); }
  });
  $("override-form").addEventListener("submit", submitOverride);
  $("visitor-form").addEventListener("submit", submitVisitor);
  $("override-cancel").onclick = () => $("override-dialog").close();
  $("visitor-cancel").onclick = () => $("visitor-dialog").close();

  // --- place code: residents record a passage with their own phone ---------------------
  let placeTimer = null;
  async function showPlaceCodes() {
    const response = await fetch("/terminal/place-codes", { cache: "no-store" });
    if (!response.ok) return;
    const body = await response.json();
    const box = $("place-codes"); box.replaceChildren();
    body.codes.forEach((code) => {
      const card = el("figure", "place-code");
      card.dataset.url = code.url;
      const qr = el("div", "qr");
      window.GatePass.drawQr(qr, code.url, { mode: "Byte", label: code.url });
      card.append(qr, el("figcaption", null, `${code.lane} · ${code.direction_text}`));
      box.append(card);
    });
    const renew = body.codes.length ? Date.parse(body.codes[0].renew_at) - Date.now() : 30000;
    clearTimeout(placeTimer);
    if ($("place-dialog").open) placeTimer = setTimeout(showPlaceCodes, Math.max(1000, renew + 200));
  }
  $("place-open").onclick = () => { $("place-dialog").showModal(); showPlaceCodes(); };
  $("place-close").onclick = () => { $("place-dialog").close(); clearTimeout(placeTimer); };

  // --- search ----------------------------------------------------------------------
  $("search-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = $("search-q").value.trim(); if (!q) return;
    const response = await fetch(`/terminal/search?q=${encodeURIComponent(q)}`);
    const body = await response.json();
    const out = $("search-results"); out.replaceChildren();
    if (!body.results.length) { out.append(el("p", "empty", I18N.none)); return; }
    body.results.forEach((p) => {
      const card = el("div", `person status-${p.status}`);
      card.append(el("strong", null, p.name), el("span", "home", ` ${p.home || ""} · ${p.status_text}`));
      if (p.exemptions.length) card.append(el("div", "small", `${I18N.exemptions}: ${p.exemptions.map((x) => x.reason).join(", ")}`));
      card.append(el("div", "small", `${I18N.today}: ${p.today.map((x) => `${x.time} ${x.direction} ${x.outcome}`).join(" · ") || "—"}`));
      out.append(card);
    });
  });

  // --- live feed -------------------------------------------------------------------
  function connect() {
    const source = new EventSource(`/terminal/feed?after=${lastSeq}`);
    source.addEventListener("passage", (e) => accept(JSON.parse(e.data)));
    source.addEventListener("status", (e) => renderHeader(JSON.parse(e.data)));
    source.addEventListener("signed_out", () => { source.close(); window.location.href = "/login"; });
    source.onopen = () => { $("connection").hidden = true; document.body.dataset.live = "on"; };
    source.onerror = () => { $("connection").hidden = false; document.body.dataset.live = "off"; };
  }
  async function start() {
    const response = await fetch("/terminal/state");
    if (response.status === 423) { window.location.href = "/terminal"; return; }
    if (!response.ok) { window.location.href = "/login"; return; }
    const state = await response.json();
    renderHeader(state.header);
    state.recent.forEach(accept);
    state.alerts.forEach((item) => alerts.set(item.seq, item));
    lastSeq = Math.max(lastSeq, state.last_seq);
    renderAlerts();
    connect();
  }
  const tick = () => { $("clock").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }); };
  tick(); setInterval(tick, 1000);
  start();
})();
