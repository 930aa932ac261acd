// On every page (loaded deferred by base.html): what used to be inline script, so that the
// Content-Security-Policy can forbid inline script altogether.
"use strict";
(() => {
  // Print buttons: <button data-print>.
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
  // The paper pass: its text is the same at every moment, drawn once.
  const paper = document.getElementById("paper-qr");
  if (paper && window.GatePass) {
    window.GatePass.drawQr(paper, paper.dataset.passText, { label: paper.dataset.label });
    paper.dataset.drawn = "yes";
  }
})();
