// Import forms (`form[data-import]`: the equipment register, the register of market entities):
// sends the chosen file as the request body (CSV or XLSX, told apart by the server) with the
// page's CSRF token, and shows the counts (`imported`, or `created` / `updated`) or the problem.
(function () {
  "use strict";
  function summary(j) {
    if (j.imported !== undefined) return "✓ " + j.imported;
    return "✓ +" + j.created + " / ↻" + j.updated;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-import]");
    if (!form) return;
    var out = document.querySelector("[data-import-result]");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var file = form.querySelector("input[type=file]").files[0];
      if (!file) return;
      var token = form.querySelector("input[name=_csrf]").value;
      file.arrayBuffer().then(function (buf) {
        return fetch(form.getAttribute("action"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "text/csv", "X-CSRF-Token": token },
          body: buf
        });
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, j: j }; });
      }).then(function (x) {
        out.textContent = x.ok ? summary(x.j) : (x.j.detail || JSON.stringify(x.j));
        out.className = x.ok ? "ok" : "error";
      }).catch(function (err) { out.textContent = String(err); out.className = "error"; });
    });
  });
})();
