// The resident's pass page (/pass/) and the enrollment QR on the office person page.
//
// /pass/: a pass handed over by the enrollment answer (data-enrolled) is kept in
// localStorage, then the page draws whatever this phone keeps: the rotating QR
// (GatePass.startRotating), masked name, home, seconds left in the step, the end of
// validity and whether the phone is online. The current QR text is on #pass-qr as
// data-text. The service worker /pass/sw.js keeps the page for use without a network.
"use strict";
(function () {
  const STORE_KEY = "gate.pass";

  // --- any page: a link as a QR (byte mode), drawn by GatePass like the passes -----
  document.querySelectorAll("[data-qr-text]").forEach(function (el) {
    if (window.GatePass) window.GatePass.drawQr(el, el.dataset.qrText, { mode: "Byte", label: el.dataset.qrText });
  });

  // --- the pass page ----------------------------------------------------------------
  const root = document.getElementById("pass");
  if (!root) return;
  const $ = (id) => document.getElementById(id);

  function show(id) {
    $(id).hidden = false;
  }

  function load() {
    let raw = null;
    try {
      raw = window.localStorage.getItem(STORE_KEY);
    } catch (_e) {
      return { broken: true };
    }
    if (!raw) return null;
    try {
      const kept = JSON.parse(raw);
      if (!kept || kept.v !== 1 || !kept.signed) return { broken: true };
      return kept;
    } catch (_e) {
      return { broken: true };
    }
  }

  function formatUntil(iso, lang) {
    const moment = new Date(iso);
    try {
      return moment.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
        timeZone: "Asia/Shanghai",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hour12: false,
      });
    } catch (_e) {
      return iso.slice(0, 16).replace("T", " ");
    }
  }

  function showNet() {
    const net = $("pass-net");
    const online = navigator.onLine;
    net.textContent = online ? net.dataset.online : net.dataset.offline;
    net.dataset.state = online ? "online" : "offline";
    root.dataset.online = online ? "yes" : "no";
  }

  let rotation = null;

  function expire() {
    if (rotation) rotation.stop();
    $("pass-card").hidden = true;
    show("pass-expired");
    root.dataset.state = "expired";
  }

  function draw(kept) {
    const kinds = JSON.parse(root.dataset.kinds || "{}");
    $("pass-name").textContent = kept.masked_name || "";
    $("pass-kind").textContent = kinds[kept.kind] || kept.kind;
    $("pass-home").textContent = kept.home || root.dataset.homeNone;
    $("pass-until").textContent = formatUntil(kept.not_after, root.dataset.lang);
    const until = Date.parse(kept.not_after);
    if (!(until > Date.now())) {
      expire();
      return;
    }
    $("pass-card").hidden = false;
    const qr = $("pass-qr");
    rotation = window.GatePass.startRotating({
      container: qr,
      signedB64: kept.signed,
      secretB64: kept.secret,
      onTick: function (tick) {
        qr.dataset.text = tick.text;
        qr.dataset.step = String(tick.step);
        $("pass-seconds").textContent = String(tick.secondsLeft);
        if (Date.now() >= until) expire();
      },
    });
    // The seconds count down between steps too.
    setInterval(function () {
      if (root.dataset.state !== "shown") return;
      if (Date.now() >= until) {
        expire();
        return;
      }
      const left = window.GatePass.secondsLeft(Date.now());
      $("pass-seconds").textContent = String(left);
      if (String(window.GatePass.stepAt(Date.now())) !== qr.dataset.step) rotation.refresh();
    }, 1000);
    root.dataset.state = "shown";
  }

  function start() {
    const handed = root.dataset.enrolled;
    if (handed) {
      try {
        const kept = JSON.parse(handed);
        window.localStorage.setItem(STORE_KEY, JSON.stringify(kept));
        show("enrolled-note");
      } catch (_e) {
        // Private mode without storage: the pass still shows on this page.
      }
      root.removeAttribute("data-enrolled");
      // A reload opens the static page, not the enrollment answer again.
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "/pass/");
      }
    }
    const kept = handed ? JSON.parse(handed) : load();
    if (kept === null) {
      show("pass-none");
      root.dataset.state = "none";
    } else if (kept.broken) {
      show("pass-broken");
      root.dataset.state = "broken";
    } else {
      try {
        draw(kept);
      } catch (_e) {
        $("pass-card").hidden = true;
        show("pass-broken");
        root.dataset.state = "broken";
      }
    }
    showNet();
    window.addEventListener("online", showNet);
    window.addEventListener("offline", showNet);
  }

  start();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker
      .register("/pass/sw.js", { scope: "/pass/" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function () {
        root.dataset.sw = "ready";
      })
      .catch(function () {
        root.dataset.sw = "failed";
      });
  }
})();
