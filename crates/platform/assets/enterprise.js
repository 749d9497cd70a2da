// The register's import page: sends the chosen file as the request body (CSV or XLSX, told
// apart by the server) with the page's CSRF token, and shows the counts or the problem.
(function () {
  "use strict";
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
        out.textContent = x.ok ? ("✓ +" + x.j.created + " / ↻" + x.j.updated) : (x.j.detail || JSON.stringify(x.j));
        out.className = x.ok ? "ok" : "error";
      }).catch(function (err) { out.textContent = String(err); out.className = "error"; });
    });
  });
})();
