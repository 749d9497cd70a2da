// qcity page behaviour: charts from embedded JSON (no inline scripts, CSP script-src 'self').
(function () {
  "use strict";
  function drawChart(el, option) {
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    el.dataset.ready = "drawn";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function initCharts(root) {
    var nodes = root.querySelectorAll ? root.querySelectorAll("[data-chart]") : [];
    Array.prototype.forEach.call(nodes, function (el) {
      if (el.dataset.ready) return;
      el.dataset.ready = "pending";
      var src = document.getElementById(el.dataset.chart);
      if (!src || typeof echarts === "undefined") return;
      var option = JSON.parse(src.textContent);
      if (el.dataset.geo) {
        fetch(el.dataset.geo, { credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error("map " + r.status); return r.json(); })
          .then(function (geo) {
            var name = el.dataset.mapName || "districts";
            var prop = el.dataset.nameProp;
            if (prop) {
              geo.features.forEach(function (f) { f.properties.name = f.properties[prop] || f.properties.code; });
              var byCode = {};
              geo.features.forEach(function (f) { byCode[f.properties.code] = f.properties.name; });
              (option.series || []).forEach(function (s) {
                if (s.type === "map") {
                  delete s.nameProperty;
                  (s.data || []).forEach(function (d) { if (byCode[d.name]) d.name = byCode[d.name]; });
                }
              });
            }
            echarts.registerMap(name, geo);
            drawChart(el, option);
          })
          .catch(function (e) { el.textContent = String(e); });
      } else {
        drawChart(el, option);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initCharts(document); });
  document.addEventListener("htmx:afterSwap", function (e) { initCharts(e.target); });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  window.qcity = { initCharts: initCharts };
})();
