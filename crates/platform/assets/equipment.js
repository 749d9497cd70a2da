// Equipment module behaviour: live 96333 board (server-sent events), running timers coloured by
// urgency and a WebAudio beep on new IoT alarms (the import form is upload.js). No inline
// scripts (CSP).
(function () {
  "use strict";
  var skew = 0; // server time − browser time, ms
  var audio = null;
  var soundOn = false;

  function beep() {
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.25, 0.5].forEach(function (t) {
        var o = audio.createOscillator();
        var g = audio.createGain();
        o.type = "square";
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.15, audio.currentTime + t);
        g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + t + 0.2);
        o.connect(g);
        g.connect(audio.destination);
        o.start(audio.currentTime + t);
        o.stop(audio.currentTime + t + 0.2);
      });
    } catch (e) { /* no audio device */ }
  }

  function fmt(ms) {
    var neg = ms < 0;
    var s = Math.floor(Math.abs(ms) / 1000);
    var m = Math.floor(s / 60);
    var r = s % 60;
    return (neg ? "-" : "") + m + ":" + (r < 10 ? "0" : "") + r;
  }

  function tickTimers() {
    var now = Date.now() + skew;
    Array.prototype.forEach.call(document.querySelectorAll("[data-deadline]"), function (el) {
      var dl = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(dl)) return;
      var left = dl - now;
      var label = el.getAttribute("data-label");
      if (label === null) { label = el.textContent.trim(); el.setAttribute("data-label", label); }
      el.textContent = label + " " + fmt(left);
      el.classList.remove("t-ok", "t-warn", "t-late");
      el.classList.add(left < 0 ? "t-late" : left < 60000 ? "t-warn" : "t-ok");
      el.style.color = left < 0 ? "#b00020" : left < 60000 ? "#b36b00" : "#1b7f3b";
      el.style.fontWeight = left < 60000 ? "700" : "400";
    });
  }

  function cell(tr, text, href) {
    var td = document.createElement("td");
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    tr.appendChild(td);
    return td;
  }

  function renderBoard(table, data, seen, first) {
    if (data.now) skew = Date.parse(data.now) - Date.now();
    var tbody = table.querySelector("tbody");
    var rows = data.incidents || [];
    var fresh = false;
    (data.iot || []).forEach(function (id) {
      if (!seen[id]) { seen[id] = true; if (!first) fresh = true; }
    });
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-id", r.id);
      cell(tr, String(r.id), "/app/equipment/incidents/" + r.id);
      cell(tr, r.received);
      cell(tr, r.rescue_code);
      cell(tr, r.address);
      cell(tr, r.channel);
      var st = cell(tr, r.state_label);
      if (r.propose_l3) {
        var b = document.createElement("span");
        b.className = "badge bad";
        b.textContent = " L3?";
        st.appendChild(b);
      }
      cell(tr, "L" + r.level);
      cell(tr, r.company + " " + r.duty_phone);
      var t = cell(tr, r.timer_label);
      t.className = "timer";
      if (r.deadline) t.setAttribute("data-deadline", r.deadline);
      tbody.appendChild(tr);
    });
    if (fresh) beep();
    tickTimers();
  }

  function initBoard() {
    var table = document.querySelector("[data-board]");
    if (!table) return;
    var seen = {};
    var init = document.getElementById("board-initial");
    if (init) renderBoard(table, JSON.parse(init.textContent), seen, true);
    var status = document.querySelector("[data-board-status]");
    var toggle = document.querySelector("[data-sound-toggle]");
    if (toggle) toggle.addEventListener("click", function () { soundOn = true; beep(); toggle.disabled = true; });
    if (!window.EventSource) return;
    var es = new EventSource(table.getAttribute("data-stream"));
    es.addEventListener("board", function (e) {
      renderBoard(table, JSON.parse(e.data), seen, false);
      if (status) status.textContent = "● live";
    });
    es.onerror = function () { if (status) status.textContent = "○ reconnecting…"; };
  }

  document.addEventListener("DOMContentLoaded", function () {
    initBoard();
    tickTimers();
    setInterval(tickTimers, 1000);
  });
})();
