// What a resident's phone does with its pass besides showing it, and the visitor's invite.
//
// - /pass/: "invite a visitor" sends the pass text of this moment with the visitor's
//   name and the length; the answer is a link to send the visitor (/visit/pass#...).
// - /pass/here (opened by scanning the terminal's place code): sends this moment's pass
//   text with the lane's token at once and shows the gate's decision, big.
// - /visit/pass#t=...: the invite on the visitor's phone, drawn from the link's fragment
//   (the server keeps nothing for it; the page works without a network once opened).
// The pass itself is what /pass/ keeps in localStorage ("gate.pass").
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const PASS_KEY = "gate.pass";

  function keptPass() {
    try {
      const kept = JSON.parse(window.localStorage.getItem(PASS_KEY) || "null");
      return kept && kept.signed ? kept : null;
    } catch (_e) {
      return null;
    }
  }
  function textNow(kept) {
    const signed = window.GatePass.base64ToBytes(kept.signed);
    const secret = kept.secret ? window.GatePass.base64ToBytes(kept.secret) : null;
    return window.GatePass.passText(signed, secret, Date.now());
  }
  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(function () { return {}; });
    return { ok: response.ok, body: answer };
  }

  // --- invite a visitor (on /pass/) -----------------------------------------------------
  const panel = $("invite-panel");
  if (panel) {
    const kept = keptPass();
    if (kept && kept.kind === "resident" && navigator.onLine !== false) panel.hidden = false;
    $("invite-form").addEventListener("submit", async function (event) {
      event.preventDefault();
      const current = keptPass();
      if (!current) return;
      const data = new FormData($("invite-form"));
      const result = await post("/pass/invite", {
        pass_text: textNow(current),
        visitor_name: String(data.get("visitor_name") || ""),
        hours: Number(data.get("hours")),
      });
      $("invite-error").hidden = result.ok;
      $("invite-result").hidden = !result.ok;
      if (!result.ok) { $("invite-error").textContent = result.body.detail || "?"; return; }
      $("invite-link").textContent = result.body.link;
      panel.dataset.link = result.body.link;
    });
    $("invite-copy").onclick = function () {
      if (navigator.clipboard) navigator.clipboard.writeText(panel.dataset.link || "");
    };
  }

  // --- a passage at a place code (/pass/here) -------------------------------------------
  const here = $("here");
  if (here) {
    const kept = keptPass();
    const verdict = $("here-verdict");
    if (!kept) {
      here.dataset.state = "no_pass";
      verdict.textContent = here.dataset.textNoPass;
      verdict.className = "verdict bad";
    } else {
      post("/pass/here", { lane: here.dataset.lane, token: here.dataset.token, pass_text: textNow(kept) })
        .then(function (result) {
          const allowed = result.ok && result.body.outcome === "allow";
          here.dataset.state = result.ok ? result.body.outcome : "refused";
          verdict.textContent = allowed ? here.dataset.textAllow : (result.ok ? here.dataset.textRefused : (result.body.detail || here.dataset.textRefused));
          verdict.className = "verdict " + (allowed ? "ok" : "bad");
          (result.body.reasons || []).forEach(function (reason) {
            const li = document.createElement("li"); li.textContent = reason; $("here-reasons").append(li);
          });
        })
        .catch(function () { here.dataset.state = "offline"; verdict.className = "verdict bad"; });
    }
  }

  // --- the invite on the visitor's phone (/visit/pass#t=...) -----------------------------
  const invite = $("invite");
  if (invite) {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const text = params.get("t");
    if (!text) {
      $("invite-missing").hidden = false;
      invite.dataset.state = "missing";
    } else {
      $("invite-card").hidden = false;
      $("invite-name").textContent = params.get("name") || "";
      $("invite-host").textContent = params.get("host") || "";
      const until = params.get("until");
      $("invite-until").textContent = until
        ? new Date(until).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false })
        : "";
      window.GatePass.drawQr($("invite-qr"), text);
      $("invite-qr").dataset.text = text;
      invite.dataset.state = "shown";
    }
  }
})();
