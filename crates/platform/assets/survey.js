// qcity survey: display logic of the public questionnaire (questions with data-show-if are shown
// only when the named question has one of the listed answers; the server applies the same rule)
// and the fieldwork file upload on the wave page (raw body POST with the CSRF header).
(function () {
  "use strict";
  function answersOf(form, code) {
    var vals = [];
    Array.prototype.forEach.call(form.querySelectorAll('[name="q_' + code + '"]'), function (el) {
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value !== "") vals.push(el.value);
    });
    return vals;
  }
  function applyLogic(form) {
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-show-if]"), function (fs) {
      var wanted = (fs.getAttribute("data-show-values") || "").split(" ");
      var have = answersOf(form, fs.getAttribute("data-show-if"));
      var show = have.some(function (v) { return wanted.indexOf(v) >= 0; });
      fs.hidden = !show;
      Array.prototype.forEach.call(fs.querySelectorAll("input,textarea,select"), function (el) { el.disabled = !show; });
    });
  }
  function initForm(form) {
    applyLogic(form);
    form.addEventListener("change", function () { applyLogic(form); });
  }
  function initImport(box) {
    var btn = box.querySelector("[data-import-button]");
    var input = box.querySelector('input[type="file"]');
    var out = box.querySelector(".import-result");
    btn.addEventListener("click", function () {
      var f = input.files && input.files[0];
      if (!f) return;
      var xlsx = /\.xlsx$/i.test(f.name);
      btn.disabled = true;
      out.textContent = "…";
      fetch(box.getAttribute("data-import-url") + "?format=" + (xlsx ? "xlsx" : "csv"), {
        method: "POST",
        headers: { "X-CSRF-Token": box.getAttribute("data-csrf"), "Content-Type": xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv" },
        body: f,
        credentials: "same-origin"
      }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (res) {
          out.innerHTML = "";
          var p = document.createElement("p");
          if (res.ok) {
            p.textContent = (box.getAttribute("data-ok") || "OK") + ": " + res.j.accepted;
            out.appendChild(p);
          } else {
            p.textContent = (box.getAttribute("data-failed") || "Failed") + " — " + (res.j.detail || "");
            p.className = "field-error";
            out.appendChild(p);
            var ul = document.createElement("ul");
            (res.j.errors || []).slice(0, 50).forEach(function (e) {
              var li = document.createElement("li");
              li.textContent = "#" + e.row + " " + e.field + ": " + e.message;
              ul.appendChild(li);
            });
            out.appendChild(ul);
          }
        })
        .catch(function (e) { out.textContent = String(e); })
        .then(function () { btn.disabled = false; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form.survey-form"), initForm);
    Array.prototype.forEach.call(document.querySelectorAll("[data-import-url]"), initImport);
  });
})();
