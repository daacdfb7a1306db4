// Charts of the Cairn benchmark report, drawn as inline SVG. This file is embedded as it is in
// the self-contained HTML report (render/html.ts): no library, no network. It reads the report
// from <script type="application/json" id="cairn-report"> and fills every <svg data-chart=...>:
//
//   throughput        committed / sent / reads per second of one round, with warm-up and faults
//   latency           latency histogram of one round, with p50 / p95 / p99 marked
//   resources         per-node CPU, memory, disk and network of one round, as bars
//   saturation        committed against offered tx/s at each step of a closed-loop round's search
//   sweep-throughput  throughput against the swept parameter
//   sweep-latency     average / p95 / p99 latency against the swept parameter
//
// Every text goes through textContent or setAttribute, never through HTML parsing. A chart that
// fails draws its error in place and logs it with console.error; the page then carries on.
(() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 640;
  const H = 260;
  const PAD = { left: 56, right: 16, top: 28, bottom: 40 };
  const COLORS = { committed: "#1f6feb", sent: "#8b949e", reads: "#2da44e", fault: "#cf222e", healed: "#1a7f37" };
  const SERIES = ["#1f6feb", "#bf8700", "#cf222e", "#8250df", "#2da44e"];

  const report = JSON.parse(document.getElementById("cairn-report").textContent);

  // ---------------------------------------------------------------------------------------------
  // Small helpers

  /** Creates an SVG element with attributes (and text), appends it to `parent`, returns it. */
  function el(parent, name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    parent.appendChild(node);
    return node;
  }

  /** A hover text for a drawn element. */
  function tip(node, text) {
    el(node, "title", {}, text);
    return node;
  }

  /** Three significant digits, thousands separated. */
  function fmt(n) {
    if (!Number.isFinite(n)) return "–";
    const a = Math.abs(n);
    if (a >= 1000) return Math.round(n).toLocaleString("en-US");
    if (a === 0) return "0";
    return String(Number(n.toPrecision(3)));
  }

  /** Milliseconds in the most readable unit. */
  function fmtMs(ms) {
    return ms >= 1000 ? `${fmt(ms / 1000)} s` : `${fmt(ms)} ms`;
  }

  /** About `count` round tick values covering [min, max]. */
  function ticks(min, max, count) {
    let lo = min;
    let hi = max;
    if (!(hi > lo)) hi = lo + 1;
    const raw = (hi - lo) / Math.max(1, count);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const e = raw / mag;
    const step = (e >= 7.5 ? 10 : e >= 3.5 ? 5 : e >= 1.5 ? 2 : 1) * mag;
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    const out = [];
    for (let i = 0; lo + i * step <= hi + step / 1e6; i++) out.push(Number((lo + i * step).toPrecision(12)));
    return out;
  }

  function scale(d0, d1, r0, r1) {
    const span = d1 - d0 || 1;
    return (v) => r0 + ((v - d0) / span) * (r1 - r0);
  }

  /** The plot area, with a background frame so every chart has drawn content. */
  function frame(svg, title) {
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    el(svg, "rect", { x: 0, y: 0, width: W, height: H, class: "bg" });
    if (title) el(svg, "text", { x: PAD.left, y: 16, class: "title" }, title);
    return { x0: PAD.left, x1: W - PAD.right, y0: H - PAD.bottom, y1: PAD.top };
  }

  function noData(svg, box, message) {
    el(svg, "rect", { x: box.x0, y: box.y1, width: box.x1 - box.x0, height: box.y0 - box.y1, class: "empty" });
    el(svg, "text", { x: (box.x0 + box.x1) / 2, y: (box.y0 + box.y1) / 2, class: "nodata" }, message);
  }

  /** Axes with grid lines; returns nothing. */
  function axes(svg, box, xs, ys, xTicks, yTicks, xLabel, yLabel, xFormat) {
    const g = el(svg, "g", { class: "axis" });
    for (const t of yTicks) {
      const y = ys(t);
      el(g, "line", { x1: box.x0, x2: box.x1, y1: y, y2: y, class: "grid" });
      el(g, "text", { x: box.x0 - 6, y: y + 4, class: "ytick" }, fmt(t));
    }
    for (const t of xTicks) {
      const x = xs(t);
      el(g, "line", { x1: x, x2: x, y1: box.y0, y2: box.y0 + 4, class: "tick" });
      el(g, "text", { x, y: box.y0 + 16, class: "xtick" }, xFormat ? xFormat(t) : fmt(t));
    }
    el(g, "path", { d: `M${box.x0},${box.y1}V${box.y0}H${box.x1}`, class: "frame" });
    el(g, "text", { x: (box.x0 + box.x1) / 2, y: H - 6, class: "xlabel" }, xLabel);
    el(
      g,
      "text",
      { x: 14, y: (box.y0 + box.y1) / 2, class: "ylabel", transform: `rotate(-90 14 ${(box.y0 + box.y1) / 2})` },
      yLabel,
    );
  }

  function legend(svg, box, items) {
    let x = box.x1;
    const g = el(svg, "g", { class: "legend" });
    for (const it of [...items].reverse()) {
      const w = 22 + it.name.length * 6.2;
      x -= w;
      el(g, "line", {
        x1: x,
        x2: x + 16,
        y1: 12,
        y2: 12,
        stroke: it.color,
        "stroke-width": 2.5,
        "stroke-dasharray": it.dash || "",
      });
      el(g, "text", { x: x + 20, y: 16, class: "legend-text" }, it.name);
    }
  }

  /** Lines (with a dot per point) through [x, y] pairs. */
  function lines(svg, xs, ys, series) {
    for (const s of series) {
      if (s.points.length === 0) continue;
      const d = s.points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${xs(x).toFixed(1)},${ys(y).toFixed(1)}`).join("");
      el(svg, "path", {
        d,
        fill: "none",
        stroke: s.color,
        "stroke-width": 2,
        "stroke-dasharray": s.dash || "",
        class: "series",
      });
      if (s.dots) {
        for (const [x, y] of s.points) {
          tip(
            el(svg, "circle", { cx: xs(x), cy: ys(y), r: 3.5, fill: s.color }),
            `${s.name}: ${s.label ? s.label(x, y) : `${fmt(x)}, ${fmt(y)}`}`,
          );
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Charts

  /** Committed, sent and read per second over one round, warm-up shaded, faults marked. */
  function throughputChart(svg, round) {
    const box = frame(svg, "transactions per second");
    const tl = round.timeline || [];
    if (tl.length === 0) return noData(svg, box, "no timeline recorded in this round");
    const hasReads = tl.some((p) => typeof p.reads === "number");
    const tMin = Math.min(...tl.map((p) => p.t));
    const faults = round.faults || [];
    const tMax = Math.max(...tl.map((p) => p.t), ...faults.map((f) => f.healedAt ?? f.at));
    const yMax = Math.max(1, ...tl.map((p) => Math.max(p.committed, p.sent, hasReads ? p.reads || 0 : 0)));
    const yt = ticks(0, yMax, 5);
    const xt = ticks(tMin, tMax, 8).filter((t) => t >= tMin && t <= tMax);
    const xs = scale(tMin, tMax, box.x0, box.x1);
    const ys = scale(0, yt[yt.length - 1], box.y0, box.y1);
    if (tMin < 0) {
      tip(
        el(svg, "rect", { x: box.x0, y: box.y1, width: xs(0) - box.x0, height: box.y0 - box.y1, class: "warmup" }),
        "warm-up",
      );
      el(svg, "text", { x: box.x0 + 4, y: box.y1 + 12, class: "span-label" }, "warm-up");
    }
    for (const f of faults) {
      const end = f.healedAt ?? tMax;
      tip(
        el(svg, "rect", {
          x: xs(f.at),
          y: box.y1,
          width: Math.max(1, xs(end) - xs(f.at)),
          height: box.y0 - box.y1,
          class: "fault-span",
        }),
        `${f.kind} of ${f.targets.join(", ")} at ${fmt(f.at)} s${f.healedAt === undefined ? " (not healed)" : `, healed at ${fmt(f.healedAt)} s`}`,
      );
    }
    axes(svg, box, xs, ys, xt, yt, "seconds into the measured phase", "tx/s");
    const series = [
      { name: "sent", color: COLORS.sent, dash: "5 3", points: tl.map((p) => [p.t, p.sent]) },
      { name: "committed", color: COLORS.committed, points: tl.map((p) => [p.t, p.committed]) },
    ];
    if (hasReads) series.push({ name: "reads", color: COLORS.reads, points: tl.map((p) => [p.t, p.reads || 0]) });
    lines(svg, xs, ys, series);
    for (const f of faults) {
      const x = xs(f.at);
      el(svg, "line", {
        x1: x,
        x2: x,
        y1: box.y1,
        y2: box.y0,
        stroke: COLORS.fault,
        "stroke-width": 2,
        class: "fault-marker",
      });
      el(
        svg,
        "text",
        { x: x + 4, y: box.y1 + 24, class: "marker-label", fill: COLORS.fault },
        `${f.kind} ${f.targets.join(", ")}`,
      );
      if (f.recoverySec !== null && f.recoverySec !== undefined) {
        const xr = xs(f.at + f.recoverySec);
        tip(
          el(svg, "path", { d: `M${xr},${box.y1 + 30}l-5,-8h10z`, fill: COLORS.fault }),
          `next commit ${fmt(f.recoverySec)} s after the fault`,
        );
      }
      if (f.healedAt !== undefined) {
        const xh = xs(f.healedAt);
        el(svg, "line", {
          x1: xh,
          x2: xh,
          y1: box.y1,
          y2: box.y0,
          stroke: COLORS.healed,
          "stroke-width": 2,
          "stroke-dasharray": "4 3",
          class: "fault-marker",
        });
        el(svg, "text", { x: xh + 4, y: box.y1 + 38, class: "marker-label", fill: COLORS.healed }, "healed");
      }
    }
    legend(svg, box, series);
  }

  /** Position of latency `ms` on the equal-width bucket axis (interpolated within its bucket). */
  function bucketPosition(bounds, ms) {
    let lower = 0;
    for (let i = 0; i < bounds.length; i++) {
      if (ms <= bounds[i]) return i + (bounds[i] > lower ? (ms - lower) / (bounds[i] - lower) : 1);
      lower = bounds[i];
    }
    return bounds.length;
  }

  /** Histogram of latency (all validators), or a strip of its percentiles when no histogram was kept. */
  function latencyChart(svg, round) {
    const lat = round.latencyAll;
    const box = frame(svg, "latency, submit to commit on all validators");
    if (!lat || lat.count === 0) return noData(svg, box, "no committed transaction: no latency");
    const marks = [
      ["p50", lat.p50, SERIES[0]],
      ["p95", lat.p95, SERIES[1]],
      ["p99", lat.p99, SERIES[2]],
    ];
    const h = lat.histogram;
    if (!h || h.bounds.length === 0) {
      // A strip of min, p50, p95, p99, max on a linear axis.
      const xt = ticks(0, lat.max, 6);
      const xs = scale(0, xt[xt.length - 1], box.x0, box.x1);
      const ys = scale(0, 1, box.y0, box.y1);
      axes(svg, box, xs, ys, xt, [], "latency", "", fmtMs);
      const y = (box.y0 + box.y1) / 2;
      el(svg, "line", { x1: xs(lat.min), x2: xs(lat.max), y1: y, y2: y, stroke: COLORS.sent, "stroke-width": 2 });
      for (const [name, v, color] of [["min", lat.min, COLORS.sent], ...marks, ["max", lat.max, COLORS.sent]]) {
        tip(el(svg, "circle", { cx: xs(v), cy: y, r: 5, fill: color }), `${name} ${fmtMs(v)}`);
        el(svg, "text", { x: xs(v), y: y - 10, class: "xtick" }, name);
      }
      el(
        svg,
        "text",
        { x: box.x0 + 4, y: box.y1 + 12, class: "span-label" },
        "no histogram in this round: percentiles only",
      );
      return;
    }
    const n = h.bounds.length;
    const yMax = Math.max(1, ...h.counts);
    const yt = ticks(0, yMax, 5);
    const xs = scale(0, n, box.x0, box.x1);
    const ys = scale(0, yt[yt.length - 1], box.y0, box.y1);
    const every = Math.max(1, Math.ceil(n / 8));
    const xt = [];
    for (let i = 0; i < n; i += every) xt.push(i + 1);
    axes(svg, box, xs, ys, xt, yt, "latency (bucket upper bound)", "transactions", (i) => fmtMs(h.bounds[i - 1]));
    const bw = (box.x1 - box.x0) / n;
    for (let i = 0; i < n; i++) {
      const c = h.counts[i] || 0;
      const lower = i === 0 ? 0 : h.bounds[i - 1];
      tip(
        el(svg, "rect", { x: xs(i) + 1, y: ys(c), width: Math.max(1, bw - 2), height: box.y0 - ys(c), class: "bar" }),
        `${fmtMs(lower)} – ${fmtMs(h.bounds[i])}: ${c.toLocaleString("en-US")} transactions`,
      );
    }
    // The percentiles as dashed lines, named in the legend above the plot (labels beside the lines
    // collided when percentiles were close).
    for (const [name, v, color] of marks) {
      const x = xs(bucketPosition(h.bounds, v));
      tip(
        el(svg, "line", {
          x1: x,
          x2: x,
          y1: box.y1,
          y2: box.y0,
          stroke: color,
          "stroke-width": 2,
          "stroke-dasharray": "4 3",
          class: "percentile",
        }),
        `${name} ${fmtMs(v)}`,
      );
    }
    legend(
      svg,
      box,
      marks.map(([name, v, color]) => ({ name: `${name} ${fmtMs(v)}`, color, dash: "4 3" })),
    );
  }

  /** Per-node bars in four panels: CPU cores, peak RSS, disk written, network sent + received. */
  function resourcesChart(svg, round) {
    const box = frame(svg, "resources per node");
    const nodes = round.nodes || [];
    if (nodes.length === 0) return noData(svg, box, "no per-node resources recorded in this round");
    const panels = [
      { name: "CPU (cores)", value: (n) => n.cpuCores, unit: "cores" },
      { name: "RSS peak (MiB)", value: (n) => n.rssMiB.peak, unit: "MiB" },
      { name: "disk written (MiB)", value: (n) => n.diskWriteMiB, unit: "MiB" },
      { name: "network (MiB)", value: (n) => n.netSentMiB + n.netReceivedMiB, unit: "MiB sent + received" },
    ];
    const gap = 14;
    const pw = (W - 20 - gap * (panels.length - 1)) / panels.length;
    panels.forEach((p, k) => {
      const x0 = 10 + k * (pw + gap) + 28;
      const x1 = 10 + k * (pw + gap) + pw;
      const values = nodes.map(p.value).map((v) => (Number.isFinite(v) ? v : 0));
      const top = Math.max(...values);
      const yt = ticks(0, top > 0 ? top : 1, 4);
      const ys = scale(0, yt[yt.length - 1], box.y0, box.y1 + 20);
      const g = el(svg, "g", { class: "panel" });
      el(g, "text", { x: (x0 + x1) / 2, y: box.y1 + 9, class: "panel-title" }, p.name);
      for (const t of yt) {
        el(g, "line", { x1: x0, x2: x1, y1: ys(t), y2: ys(t), class: "grid" });
        el(g, "text", { x: x0 - 4, y: ys(t) + 4, class: "ytick" }, fmt(t));
      }
      const slot = (x1 - x0) / nodes.length;
      nodes.forEach((node, i) => {
        const v = values[i];
        const x = x0 + i * slot;
        tip(
          el(g, "rect", {
            x: x + slot * 0.15,
            y: ys(v),
            width: Math.max(1, slot * 0.7),
            height: box.y0 - ys(v),
            fill: SERIES[k % SERIES.length],
            class: "bar",
          }),
          `${node.name}: ${fmt(v)} ${p.unit}`,
        );
        const label = slot >= node.name.length * 6 ? node.name : node.name.replace(/^\D+/, "") || node.name.slice(0, 2);
        el(g, "text", { x: x + slot / 2, y: box.y0 + 14, class: "xtick" }, label);
      });
      el(g, "path", { d: `M${x0},${box.y1 + 20}V${box.y0}H${x1}`, class: "frame" });
    });
  }

  /** Committed against offered tx/s at each step of a saturation search, with the y = x line. */
  function saturationChart(svg, round) {
    const box = frame(svg, "saturation search: committed against offered");
    const steps = (round.saturation?.steps || []).slice().sort((a, b) => a.rate - b.rate);
    if (steps.length === 0) return noData(svg, box, "no saturation search in this round");
    const top = Math.max(...steps.map((st) => Math.max(st.rate, st.throughput)));
    const xt = ticks(0, top, 6);
    const end = xt[xt.length - 1];
    const xs = scale(0, end, box.x0, box.x1);
    const ys = scale(0, end, box.y0, box.y1);
    axes(svg, box, xs, ys, xt, xt, "offered tx/s", "committed tx/s");
    el(svg, "path", {
      d: `M${xs(0)},${ys(0)}L${xs(end)},${ys(end)}`,
      stroke: COLORS.sent,
      "stroke-dasharray": "5 3",
      fill: "none",
    });
    const series = [
      {
        name: "committed",
        color: COLORS.committed,
        dots: true,
        points: steps.map((st) => [st.rate, st.throughput]),
        label: (x, y) => {
          const st = steps.find((q) => q.rate === x);
          return `offered ${fmt(x)}: committed ${fmt(y)} tx/s, p50 ${fmtMs(st.p50)}, p99 ${fmtMs(st.p99)}`;
        },
      },
    ];
    lines(svg, xs, ys, series);
    for (const st of steps) {
      const x = xs(st.rate);
      const anchor = x > box.x1 - 40 ? "end" : x < box.x0 + 40 ? "start" : "middle";
      el(
        svg,
        "text",
        { x, y: ys(st.throughput) - 8, class: "point-label", "text-anchor": anchor },
        `p99 ${fmtMs(st.p99)}`,
      );
    }
    const best = steps.find((st) => st.rate === round.saturation.rate);
    if (best !== undefined) {
      el(svg, "circle", {
        cx: xs(best.rate),
        cy: ys(best.throughput),
        r: 7,
        fill: "none",
        stroke: COLORS.fault,
        "stroke-width": 2,
      });
    }
    legend(svg, box, [...series, { name: "saturation point", color: COLORS.fault }]);
  }

  function sweepPoints(sweep) {
    const byName = new Map(report.rounds.map((r) => [r.name, r]));
    return sweep.points
      .map((p) => ({ value: p.value, round: byName.get(p.round) }))
      .filter((p) => p.round !== undefined)
      .sort((a, b) => a.value - b.value);
  }

  function sweepChart(svg, sweep, kind) {
    const pts = sweepPoints(sweep);
    const what = kind === "throughput" ? "throughput" : "latency";
    const box = frame(svg, `${sweep.name}: ${what} against ${sweep.parameter}`);
    if (pts.length === 0) return noData(svg, box, "no point in this sweep");
    const vs = pts.map((p) => p.value);
    let lo = Math.min(...vs);
    let hi = Math.max(...vs);
    if (lo === hi) {
      lo -= 1;
      hi += 1;
    }
    const xs = scale(lo, hi, box.x0 + 10, box.x1 - 10);
    const series =
      kind === "throughput"
        ? [
            {
              name: "committed tx/s",
              color: COLORS.committed,
              dots: true,
              points: pts.map((p) => [p.value, p.round.throughput]),
              label: (x, y) => `${sweep.parameter} ${fmt(x)}: ${fmt(y)} tx/s`,
            },
          ]
        : [
            ["average", "mean", SERIES[0]],
            ["p95", "p95", SERIES[1]],
            ["p99", "p99", SERIES[2]],
          ].map(([name, key, color]) => ({
            name,
            color,
            dots: true,
            points: pts.map((p) => [p.value, p.round.latencyAll[key] / 1000]),
            label: (x, y) => `${sweep.parameter} ${fmt(x)}: ${fmt(y)} s`,
          }));
    const yMax = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
    const yt = ticks(0, yMax > 0 ? yMax : 1, 5);
    const ys = scale(0, yt[yt.length - 1], box.y0, box.y1);
    axes(svg, box, xs, ys, vs, yt, sweep.parameter, kind === "throughput" ? "tx/s" : "seconds");
    lines(svg, xs, ys, series);
    legend(svg, box, series);
  }

  /**
   * The consensus simulation against n: one line per engine and latency model (Tendermint solid,
   * Raft dashed), for commit latency, gossip transmissions or bytes per block.
   */
  function simulationChart(svg, sim, kind) {
    const what = { latency: "commit latency", messages: "gossip transmissions per block", bytes: "MiB per block" }[
      kind
    ];
    const box = frame(svg, `SIMULATION: ${what}`);
    const points = sim?.points ?? [];
    if (points.length === 0) return noData(svg, box, "no simulated point");
    const value = (p) =>
      kind === "latency"
        ? p.commitLatencyMs.mean
        : kind === "messages"
          ? p.transmissionsPerBlock
          : p.bytesPerBlock / (1024 * 1024);
    const keys = [...new Set(points.map((p) => `${p.engine}|${p.model}`))];
    const models = [...new Set(points.map((p) => p.model))];
    const series = keys.map((k) => {
      const [engine, model] = k.split("|");
      const pts = points
        .filter((p) => p.engine === engine && p.model === model)
        .sort((a, b) => a.validators - b.validators)
        .map((p) => [p.validators, value(p)]);
      return {
        name: `${engine === "raft" ? "Raft" : "Tendermint"}, ${model}`,
        color: SERIES[models.indexOf(model) % SERIES.length],
        dash: engine === "raft" ? "5 3" : "",
        dots: true,
        points: pts,
        label: (x, y) =>
          `${fmt(x)} validators: ${fmt(y)}${kind === "latency" ? " ms" : kind === "bytes" ? " MiB" : ""}`,
      };
    });
    const ns = points.map((p) => p.validators);
    const xt = [...new Set(ns)].sort((a, b) => a - b);
    const xs = scale(Math.min(...ns), Math.max(...ns), box.x0 + 10, box.x1 - 10);
    const yMax = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
    const yt = ticks(0, yMax > 0 ? yMax : 1, 5);
    const ys = scale(0, yt[yt.length - 1], box.y0, box.y1);
    axes(
      svg,
      box,
      xs,
      ys,
      xt,
      yt,
      "validators",
      kind === "latency" ? "ms" : kind === "bytes" ? "MiB" : "transmissions",
    );
    lines(svg, xs, ys, series);
    // One colour per latency model (its short name), and the dash for Raft.
    legend(svg, box, [
      ...models.map((m, i) => ({
        name: m.replace(/ \(.*\)$/, "").replace(/^uniform /, ""),
        color: SERIES[i % SERIES.length],
      })),
      { name: "Raft", color: "#59636e", dash: "5 3" },
    ]);
  }

  // ---------------------------------------------------------------------------------------------
  // Draw every chart of the page

  const draw = {
    throughput: (svg) => throughputChart(svg, report.rounds[Number(svg.dataset.round)]),
    latency: (svg) => latencyChart(svg, report.rounds[Number(svg.dataset.round)]),
    resources: (svg) => resourcesChart(svg, report.rounds[Number(svg.dataset.round)]),
    saturation: (svg) => saturationChart(svg, report.rounds[Number(svg.dataset.round)]),
    "sweep-throughput": (svg) => sweepChart(svg, report.sweeps[Number(svg.dataset.sweep)], "throughput"),
    "sweep-latency": (svg) => sweepChart(svg, report.sweeps[Number(svg.dataset.sweep)], "latency"),
    "simulation-latency": (svg) => simulationChart(svg, report.simulation, "latency"),
    "simulation-messages": (svg) => simulationChart(svg, report.simulation, "messages"),
    "simulation-bytes": (svg) => simulationChart(svg, report.simulation, "bytes"),
  };
  let drawn = 0;
  let failed = 0;
  for (const svg of document.querySelectorAll("svg[data-chart]")) {
    const kind = svg.dataset.chart;
    try {
      const fn = draw[kind];
      if (fn === undefined) throw new Error(`unknown chart ${kind}`);
      fn(svg);
      drawn++;
    } catch (e) {
      failed++;
      const box = frame(svg, "");
      noData(svg, box, `this chart could not be drawn: ${e instanceof Error ? e.message : String(e)}`);
      console.error(`chart ${kind}:`, e);
    }
  }
  document.body.dataset.chartsDrawn = String(drawn);
  document.body.dataset.chartsFailed = String(failed);
})();
