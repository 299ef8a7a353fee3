/*
 * Snorky's live status page: polls status.json (the same numbers as
 * /metrics) and draws the last minutes as plain SVG line charts.
 *
 * Query parameters: every=MS (poll interval, default 2000),
 * window=SECONDS (time shown, default 300).
 */
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const EVERY = Math.max(100, Number(params.get("every")) || 2000);
  const WINDOW = Math.max(10, Number(params.get("window")) || 300);
  const COLORS = ["#2f6fdb", "#e4572e", "#2e9d5b", "#8e44ad", "#f1a208", "#17a2b8",
                  "#c0392b", "#6c757d"];
  const SVG = "http://www.w3.org/2000/svg";
  const W = 400, H = 160, LEFT = 44, RIGHT = 6, TOP = 8, BOTTOM = 18;

  // Reading one snapshot: {time, samples: [[name, labels, value]]}.

  function sum(snapshot, name, keep) {
    let total = 0;
    for (const [n, labels, value] of snapshot.samples) {
      if (n === name && (!keep || keep(labels))) total += value;
    }
    return total;
  }

  function groupSum(snapshot, name, key, keep) {
    const groups = {};
    for (const [n, labels, value] of snapshot.samples) {
      if (n === name && (!keep || keep(labels))) {
        const group = labels[key] || "-";
        groups[group] = (groups[group] || 0) + value;
      }
    }
    return groups;
  }

  function rate(now, before, name, keep) {
    if (!before) return null;
    const seconds = now.time - before.time;
    const delta = sum(now, name, keep) - sum(before, name, keep);
    return seconds > 0 && delta >= 0 ? delta / seconds : null;
  }

  function groupRate(now, before, name, key) {
    const out = {};
    if (!before) return out;
    const seconds = now.time - before.time;
    const a = groupSum(now, name, key), b = groupSum(before, name, key);
    for (const group of Object.keys(a)) {
      const delta = a[group] - (b[group] || 0);
      if (seconds > 0 && delta >= 0) out[group] = delta / seconds;
    }
    return out;
  }

  // The q-quantile of the observations a histogram got between two
  // snapshots, interpolated within its bucket; null without any.
  function quantile(now, before, name, q) {
    if (!before) return null;
    const a = groupSum(now, name + "_bucket", "le");
    const b = groupSum(before, name + "_bucket", "le");
    const buckets = Object.keys(a)
      .map((le) => [le === "+Inf" ? Infinity : Number(le), a[le] - (b[le] || 0)])
      .sort((x, y) => x[0] - y[0]);
    const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
    if (total <= 0) return null;
    const target = q * total;
    let lower = 0, below = 0;
    for (const [le, count] of buckets) {
      if (count >= target) {
        if (le === Infinity) return lower;
        const inside = count - below;
        return inside > 0 ? lower + (le - lower) * (target - below) / inside : le;
      }
      lower = le;
      below = count;
    }
    return lower;
  }

  // The charts: each turns two snapshots into {series name: value}.

  const notExpired = (labels) => labels.state !== "expired";
  const CHARTS = [
    {id: "connections", title: "Connections open, by transport",
     read: (s) => groupSum(s, "snorky_connections_open", "transport")},
    {id: "deliveries", title: "Deliveries and frames written per second",
     read: (s, p) => ({
       "deliveries/s": rate(s, p, "snorky_datasync_deliveries_total"),
       "frames/s": rate(s, p, "snorky_frames_sent_total")})},
    {id: "rpc", title: "RPC calls per second, by outcome",
     read: (s, p) => groupRate(s, p, "snorky_rpc_calls_total", "outcome")},
    {id: "latency", title: "Publish to last frame written (ms)",
     read: (s, p) => ({
       p50: ms(quantile(s, p, "snorky_datasync_publish_latency_seconds", 0.5)),
       p99: ms(quantile(s, p, "snorky_datasync_publish_latency_seconds", 0.99))})},
    {id: "subscriptions", title: "DataSync subscriptions, by dealer",
     read: (s) => groupSum(s, "snorky_datasync_subscriptions", "dealer", notExpired)},
    {id: "dropped", title: "Slow consumers dropped and connections refused (total)",
     read: (s) => ({
       "slow consumers": sum(s, "snorky_slow_consumers_dropped_total"),
       "refused": sum(s, "snorky_connections_refused_total")})},
    {id: "memory", title: "Resident memory (MiB)",
     read: (s) => ({rss: sum(s, "process_resident_memory_bytes") / 1048576})},
    {id: "gc", title: "Garbage collection (ms of pause per second)",
     read: (s, p) => ({gc: ms(rate(s, p, "snorky_gc_pause_seconds_sum"))})},
  ];

  const TILES = [
    {label: "connections", read: (s) => sum(s, "snorky_connections_open"), digits: 0},
    {label: "deliveries/s", read: (s, p) => rate(s, p, "snorky_datasync_deliveries_total"),
     digits: 0},
    {label: "RPC calls/s", read: (s, p) => rate(s, p, "snorky_rpc_calls_total"), digits: 1},
    {label: "p99 publish (ms)",
     read: (s, p) => ms(quantile(s, p, "snorky_datasync_publish_latency_seconds", 0.99)),
     digits: 1},
    {label: "subscriptions",
     read: (s) => sum(s, "snorky_datasync_subscriptions", notExpired), digits: 0},
    {label: "slow consumers dropped",
     read: (s) => sum(s, "snorky_slow_consumers_dropped_total"), digits: 0},
    {label: "memory (MiB)", read: (s) => sum(s, "process_resident_memory_bytes") / 1048576,
     digits: 0},
    {label: "broker", read: (s) => {
      const up = s.samples.find(([name]) => name === "snorky_broker_up");
      return up ? (up[2] ? "up" : "down") : "none";
    }},
  ];

  function ms(seconds) {
    return seconds === null ? null : seconds * 1000;
  }

  // Drawing.

  function element(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const key of Object.keys(attributes)) node.setAttribute(key, attributes[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  function format(value, digits) {
    if (value === null || value === undefined) return "–";
    if (Math.abs(value) >= 10000) return (value / 1000).toFixed(1) + "k";
    return value.toFixed(digits);
  }

  const history = [];  // [{time, values: {chart id: {series: value}}}]
  const charts = {};
  const colors = {};

  function colorOf(chart, series) {
    const key = chart + "/" + series;
    if (!(key in colors)) {
      const used = Object.keys(colors).filter((k) => k.startsWith(chart + "/")).length;
      colors[key] = COLORS[used % COLORS.length];
    }
    return colors[key];
  }

  function buildCharts() {
    const main = document.getElementById("charts");
    for (const chart of CHARTS) {
      const box = document.createElement("div");
      box.className = "chart";
      box.id = "chart-" + chart.id;
      const title = document.createElement("h2");
      title.textContent = chart.title;
      box.appendChild(title);
      const svg = element("svg", {viewBox: "0 0 " + W + " " + H, role: "img",
                                  "aria-label": chart.title}, box);
      const legend = document.createElement("div");
      legend.className = "legend";
      box.appendChild(legend);
      main.appendChild(box);
      charts[chart.id] = {svg, legend};
    }
    const tiles = document.getElementById("tiles");
    for (const tile of TILES) {
      const box = document.createElement("div");
      box.className = "tile";
      box.innerHTML = '<div class="value">–</div><div class="label"></div>';
      box.querySelector(".label").textContent = tile.label;
      tiles.appendChild(box);
      tile.node = box.querySelector(".value");
    }
  }

  function draw(now) {
    for (const chart of CHARTS) {
      const {svg, legend} = charts[chart.id];
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      // As wide as drawn, so that text keeps its size.
      const width = Math.max(200, Math.round(svg.getBoundingClientRect().width) || W);
      svg.setAttribute("viewBox", "0 0 " + width + " " + H);
      const series = new Set();
      let top = 0;
      for (const point of history) {
        for (const [name, value] of Object.entries(point.values[chart.id] || {})) {
          series.add(name);
          if (value !== null && value > top) top = value;
        }
      }
      top = niceMax(top);
      const x = (time) => LEFT + (width - LEFT - RIGHT) * (1 - (now - time) / WINDOW);
      const y = (value) => TOP + (H - TOP - BOTTOM) * (1 - value / top);
      for (const fraction of [0, 0.5, 1]) {
        const at = y(top * fraction);
        element("line", {class: "grid", x1: LEFT, x2: width - RIGHT, y1: at, y2: at}, svg);
        element("text", {class: "axis", x: LEFT - 4, y: at + 3, "text-anchor": "end"}, svg)
          .textContent = format(top * fraction, Number.isInteger(top * fraction) ? 0 : 1);
      }
      element("text", {class: "axis", x: LEFT, y: H - 4}, svg).textContent =
        "-" + WINDOW + " s";
      element("text", {class: "axis", x: width - RIGHT, y: H - 4, "text-anchor": "end"}, svg)
        .textContent = "now";
      let points = 0;
      legend.textContent = "";
      for (const name of Array.from(series).sort()) {
        const color = colorOf(chart.id, name);
        // A null (no data in that interval) breaks the line.
        let run = [];
        const runs = [run];
        let last = null;
        for (const point of history) {
          const value = (point.values[chart.id] || {})[name];
          if (value === null || value === undefined) {
            if (run.length) runs.push(run = []);
            continue;
          }
          run.push(x(point.time).toFixed(1) + "," + y(value).toFixed(1));
          last = value;
          points += 1;
        }
        for (const line of runs) {
          if (line.length) {
            element("polyline", {points: line.join(" "), stroke: color,
                                 "data-series": name}, svg);
          }
        }
        const item = document.createElement("span");
        item.innerHTML = "<i></i>";
        item.firstChild.style.background = color;
        item.appendChild(document.createTextNode(name + " " + format(last, 1)));
        legend.appendChild(item);
      }
      svg.dataset.points = String(points);
    }
  }

  let previous = null;

  async function poll() {
    const state = document.getElementById("state");
    try {
      const response = await fetch("status.json", {cache: "no-store",
                                                   credentials: "same-origin"});
      if (!response.ok) throw new Error("status " + response.status);
      const snapshot = await response.json();
      const values = {};
      for (const chart of CHARTS) values[chart.id] = chart.read(snapshot, previous);
      for (const tile of TILES) {
        const value = tile.read(snapshot, previous);
        tile.node.textContent = typeof value === "string" ? value : format(value, tile.digits);
      }
      history.push({time: snapshot.time, values});
      while (history.length && history[0].time < snapshot.time - WINDOW) history.shift();
      previous = snapshot;
      draw(snapshot.time);
      state.textContent = "live";
      state.className = "state live";
      document.getElementById("updated").textContent =
        new Date(snapshot.time * 1000).toLocaleTimeString();
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
    } catch (error) {
      state.textContent = "unreachable";
      state.className = "state down";
    }
    setTimeout(poll, EVERY);
  }

  buildCharts();
  poll();
})();
