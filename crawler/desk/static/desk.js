// The review desk's own script (no inline script anywhere: the pages' CSP allows only files
// from this service). It adds the CSRF token to htmx requests, draws the follower charts with
// uPlot from the JSON data blocks the pages carry, and follows a running lookup's server-sent
// events. Text from the server is only ever set as textContent.
(function () {
  "use strict";

  var PALETTE = ["#b02a2a", "#1f5fb4", "#1d7a52", "#a35f00", "#6b3fa0", "#0d7787", "#a3306f", "#5a6a12", "#44546a", "#8a4a12"];

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  function formatCount(v) {
    if (v == null) return "";
    var a = Math.abs(v);
    if (a >= 1e8) return (v / 1e8).toFixed(1) + "亿";
    if (a >= 1e4) return (v / 1e4).toFixed(1) + "万";
    return String(Math.round(v));
  }

  // Every series' points on one x axis: a time a series has no point at is undefined (uPlot
  // spans it); the nulls the server put in a series' holes stay null (uPlot breaks the line).
  function aligned(series) {
    var times = {};
    series.forEach(function (s) { s.points.forEach(function (p) { times[p[0]] = true; }); });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    var index = {};
    xs.forEach(function (x, i) { index[x] = i; });
    var data = [xs];
    series.forEach(function (s) {
      var ys = new Array(xs.length);
      s.points.forEach(function (p) { ys[index[p[0]]] = p[1]; });
      // A hole stays a hole: the other series' times inside it are nulls too, not spanned.
      for (var i = 0; i < ys.length; i++) {
        if (ys[i] !== null) continue;
        for (var j = i - 1; j >= 0 && ys[j] === undefined; j--) ys[j] = null;
        for (var k = i + 1; k < ys.length && ys[k] === undefined; k++) ys[k] = null;
      }
      data.push(ys);
    });
    return data;
  }

  function drawChart(el) {
    if (el.getAttribute("data-drawn") === "true" || typeof uPlot === "undefined") return;
    var block = document.getElementById(el.getAttribute("data-chart"));
    if (!block) return;
    var doc = JSON.parse(block.textContent);
    if (!doc.series.length) return;
    var data = aligned(doc.series);
    var width = Math.max(320, Math.min(el.clientWidth || 720, 1100));
    var series = [{}].concat(doc.series.map(function (s, i) {
      return {label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2,
              points: {show: true, size: 5, fill: PALETTE[i % PALETTE.length]},
              value: function (u, v) { return v == null ? "–" : formatCount(v); }};
    }));
    var options = {
      width: width, height: doc.series.length > 3 ? 320 : 220,
      series: series,
      scales: {x: {time: true}, y: doc.log ? {distr: 3} : {}},
      axes: [{}, {size: 70, values: function (u, vals) { return vals.map(formatCount); }}],
      legend: {live: true},
    };
    var chart = new uPlot(options, data, el);
    var drawn = 0, gaps = 0;
    doc.series.forEach(function (s) { s.points.forEach(function (p) { if (p[1] === null) gaps++; else drawn++; }); });
    el.setAttribute("data-points", String(drawn));
    el.setAttribute("data-gaps", String(gaps));
    el.setAttribute("data-drawn", "true");
    el._chart = chart;
  }

  function followLookup(el) {
    if (el.getAttribute("data-following") === "true" || typeof EventSource === "undefined") return;
    el.setAttribute("data-following", "true");
    var statusEl = el.querySelector(".lookup-status");
    var list = el.querySelector(".lookup-progress");
    var source = new EventSource(el.getAttribute("data-lookup-events"));
    function show(state) {
      statusEl.textContent = state.status + " · " + state.elapsed + " s";
      while (list.firstChild) list.removeChild(list.firstChild);
      Object.keys(state.progress).sort().forEach(function (platform) {
        var p = state.progress[platform];
        var item = document.createElement("li");
        item.textContent = platform + ": " + p.snapshots + " profile snapshot(s)" +
          (p.failures.length ? ", failures: " + p.failures.join(", ") : "");
        list.appendChild(item);
      });
      if (state.error) {
        var err = document.createElement("li");
        err.textContent = "error: " + state.error;
        list.appendChild(err);
      }
    }
    source.addEventListener("progress", function (e) { show(JSON.parse(e.data)); });
    source.addEventListener("done", function (e) {
      var state = JSON.parse(e.data);
      show(state);
      source.close();
      el.setAttribute("data-done", state.status);
      window.setTimeout(function () { window.location.reload(); }, 600);
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) statusEl.textContent = "lost the connection: reload the page";
    };
  }

  function scan(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(drawChart);
    (root || document).querySelectorAll("[data-lookup-events]").forEach(followLookup);
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.target); });
})();
