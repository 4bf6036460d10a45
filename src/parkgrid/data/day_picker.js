// The report's day picker: draws one day of the dispatch (kW; sources above zero, sinks
// below, TOU periods shaded) from the inline JSON in #dispatch-data. No network, no library.
(function () {
  const data = JSON.parse(document.getElementById("dispatch-data").textContent);
  const svg = document.getElementById("dispatch-svg");
  const picker = document.getElementById("dispatch-day");
  const NS = "http://www.w3.org/2000/svg";
  const W = 1300, H = 440, L = 80, R = 20, T = 16, B = 44;
  const el = (name, attrs, text) => {
    const node = document.createElementNS(NS, name);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    svg.appendChild(node);
    return node;
  };
  const niceStep = span => {
    const raw = span / 5, mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    return [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
  };
  function draw(day) {
    const i = data.days.indexOf(day);
    if (i < 0) return;
    const a = data.offsets[i], b = data.offsets[i + 1], n = b - a;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const x = k => L + (W - L - R) * k / n;
    const up = new Array(n).fill(0), down = new Array(n).fill(0);
    const stacks = data.series.map(s => {
      const base = s.sign > 0 ? up.slice() : down.slice();
      for (let k = 0; k < n; k++) {
        if (s.sign > 0) up[k] += s.values[a + k]; else down[k] -= s.values[a + k];
      }
      return {s: s, base: base, top: (s.sign > 0 ? up : down).slice()};
    });
    const hi = Math.max(1, ...up), lo = Math.min(0, ...down), step = niceStep(hi - lo);
    const y0 = Math.floor(lo / step) * step, y1 = Math.ceil(hi / step) * step;
    const y = v => T + (H - T - B) * (y1 - v) / (y1 - y0);
    for (let k = 0, j = 0; k < n; k = j) {  // one band per run of the same TOU period
      while (j < n && data.tou[a + j] === data.tou[a + k]) j++;
      el("rect", {x: x(k), y: T, width: x(j) - x(k), height: H - T - B,
                  fill: data.tou_colours[data.tou[a + k]] || "#fff", opacity: 0.6});
    }
    for (const {s, base, top} of stacks) {
      let d = "";
      for (let k = 0; k < n; k++) d += `L${x(k)},${y(top[k])}L${x(k + 1)},${y(top[k])}`;
      for (let k = n - 1; k >= 0; k--) d += `L${x(k + 1)},${y(base[k])}L${x(k)},${y(base[k])}`;
      el("path", {d: "M" + d.slice(1) + "Z", fill: s.colour, opacity: 0.9});
    }
    for (let v = y0; v <= y1 + 1e-9; v += step) {
      el("line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: v === 0 ? "#000" : "#ccc"});
      el("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 13},
         v.toLocaleString("en"));
    }
    for (let h = 0; h <= 24; h += 3) {
      const k = Math.round(n * h / 24);
      el("text", {x: x(k), y: H - B + 18, "text-anchor": "middle", "font-size": 13},
         String(h).padStart(2, "0") + ":00");
    }
    el("text", {x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "font-size": 13},
       "local time, " + day);
    el("text", {x: 16, y: (T + H - B) / 2, "font-size": 13, "text-anchor": "middle",
                transform: `rotate(-90 16 ${(T + H - B) / 2})`}, "kW: sources > 0 > sinks");
    picker.value = day;
  }
  picker.min = data.days[0];
  picker.max = data.days[data.days.length - 1];
  picker.addEventListener("change", () => draw(picker.value));
  for (const [id, dir] of [["dispatch-prev", -1], ["dispatch-next", 1]]) {
    document.getElementById(id).addEventListener("click", () => {
      const i = data.days.indexOf(picker.value) + dir;
      if (i >= 0 && i < data.days.length) draw(data.days[i]);
    });
  }
  draw(data.first);
})();
