// Visitors' phone pages: the status page (/visit/status/<code>) and the host's page
// (/visit/host/<code>).
//
// Status: polls <code>/json every 5 s; while pending it shows the host link (its code
// came in the URL fragment and is kept in localStorage, never sent to the server);
// once confirmed it draws the rotating visitor pass with GatePass and keeps it for
// offline use. Host: the host's phone holds their resident pass (/pass/ keeps it in
// localStorage as "gate.pass"); the decision carries the text it shows right now.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const PASS_KEY = "gate.pass";

  function bytes(b64) {
    return b64 ? window.GatePass.base64ToBytes(b64) : null;
  }

  // --- the visitor's status page ----------------------------------------------------
  const visit = $("visit");
  if (visit) {
    const code = visit.dataset.code;
    const visitKey = "gate.visit." + code;
    let rotation = null;
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    if (fragment.get("host")) {
      try { window.localStorage.setItem(visitKey + ".host", fragment.get("host")); } catch (_e) { /* private mode */ }
      window.history.replaceState(null, "", window.location.pathname);
    }
    let hostCode = fragment.get("host");
    try { hostCode = hostCode || window.localStorage.getItem(visitKey + ".host"); } catch (_e) { /* none */ }

    // The visit's window in the compound's time, to the minute; the end without its date
    // when it is the same day (a long date-and-seconds pair wraps on a phone).
    const locale = document.documentElement.lang === "en" ? "en-GB" : "zh-CN";
    function when(iso, timeOnly) {
      const options = { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false };
      if (!timeOnly) Object.assign(options, { month: "2-digit", day: "2-digit" });
      return new Date(iso).toLocaleString(locale, options);
    }
    function span(startIso, endIso) {
      const day = (iso) => new Date(iso).toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });
      return when(startIso) + " – " + when(endIso, day(startIso) === day(endIso));
    }
    function render(body) {
      visit.dataset.state = body.status;
      $("visit-state").textContent = visit.dataset["text" + body.status[0].toUpperCase() + body.status.slice(1)];
      $("visit-state").className = "notice " + (body.status === "declined" ? "bad" : body.status === "confirmed" ? "ok" : "");
      $("visit-summary").hidden = false;
      $("visit-name").textContent = body.name;
      $("visit-host").textContent = body.host || "";
      $("visit-window").textContent = body.status === "confirmed" ? span(body.starts_at, body.ends_at) : "";
      const link = $("host-link");
      if (body.status === "pending" && hostCode) {
        const url = window.location.origin + "/visit/host/" + hostCode;
        link.hidden = false;
        $("host-url").textContent = url;
        if (!$("host-qr").firstChild) window.GatePass.drawQr($("host-qr"), url, { mode: "Byte" });
      } else {
        link.hidden = true;
      }
      if (body.pass && !rotation) {
        try { window.localStorage.setItem(visitKey + ".pass", JSON.stringify(body.pass)); } catch (_e) { /* shown anyway */ }
        showPass(body.pass);
      }
    }
    function showPass(pass) {
      const qr = $("pass-qr");
      qr.hidden = false;
      $("visit-countdown").hidden = false;
      rotation = window.GatePass.startRotating({
        container: qr, signedB64: pass.signed, secretB64: pass.secret,
        onTick: function (tick) { qr.dataset.text = tick.text; $("pass-seconds").textContent = String(tick.secondsLeft); },
      });
      setInterval(function () {
        $("pass-seconds").textContent = String(window.GatePass.secondsLeft(Date.now()));
        if (Date.parse(pass.not_after) <= Date.now()) { rotation.stop(); qr.hidden = true; }
      }, 1000);
    }
    async function poll() {
      try {
        const response = await fetch("/visit/status/" + encodeURIComponent(code) + "/json", { cache: "no-store" });
        const body = await response.json();
        if (!response.ok) { visit.dataset.state = "gone"; $("visit-state").textContent = body.detail || visit.dataset.textGone; return; }
        render(body);
        if (body.status === "pending") setTimeout(poll, 5000);
      } catch (_e) {
        // Offline: a confirmed pass kept on this phone still shows.
        let kept = null;
        try { kept = JSON.parse(window.localStorage.getItem(visitKey + ".pass") || "null"); } catch (_e2) { kept = null; }
        if (kept && !rotation) showPass(kept);
        setTimeout(poll, 10000);
      }
    }
    poll();
  }

  // --- the host's page --------------------------------------------------------------
  const host = $("host");
  if (host && host.dataset.status === "pending") {
    async function decide(approve) {
      let kept = null;
      try { kept = JSON.parse(window.localStorage.getItem(PASS_KEY) || "null"); } catch (_e) { kept = null; }
      if (!kept || !kept.signed) { $("host-state").textContent = host.dataset.textNoPass; $("host-state").className = "notice bad"; return; }
      const text = window.GatePass.passText(bytes(kept.signed), bytes(kept.secret), Date.now());
      const response = await fetch("/visit/host/" + encodeURIComponent(host.dataset.code), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ approve: approve, pass_text: text }),
      });
      const body = await response.json().catch(function () { return {}; });
      if (!response.ok) { $("host-state").textContent = body.detail || String(response.status); $("host-state").className = "notice bad"; return; }
      host.dataset.status = body.status;
      $("host-state").textContent = body.status === "confirmed" ? host.dataset.textDoneConfirmed : host.dataset.textDoneDeclined;
      $("host-state").className = "notice ok";
      document.querySelectorAll(".decide button").forEach(function (b) { b.disabled = true; });
    }
    $("host-approve").onclick = function () { decide(true); };
    $("host-decline").onclick = function () { decide(false); };
  }
})();
