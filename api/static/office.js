// Office pages: ask before irreversible actions; show the escorted-pass fields only for a hospital need.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-confirm]") : null;
    if (link && !window.confirm(link.dataset.confirm)) {
      event.preventDefault();
    }
  });
  function syncEscort(select) {
    var fieldset = select.form.querySelector("fieldset.escort");
    if (!fieldset) return;
    var hospital = select.value === "hospital";
    fieldset.hidden = !hospital;
    if (!hospital) fieldset.querySelector("input[name=escort]").checked = false;
  }
  document.querySelectorAll("select.need-kind").forEach(function (select) {
    syncEscort(select);
    select.addEventListener("change", function () { syncEscort(select); });
  });
})();
