"use strict";
const TV = {};

// Little-endian float32 values from base64 (NaN and ±Infinity come through as themselves).
// A JavaScript NaN has no sign, so the NaNs whose sign bit is set (a loss computed as NaN,
// not a point never computed) are marked in out.invalid, read from the raw bits.
TV.decodeFloat32 = function (b64) {
  const bin = atob(b64);
  const view = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
  const out = new Float32Array(bin.length >> 2);
  out.invalid = new Uint8Array(out.length);
  for (let k = 0; k < out.length; k++) {
    out[k] = view.getFloat32(4 * k, true);
    if (Number.isNaN(out[k]) && view.getUint32(4 * k, true) >>> 31) out.invalid[k] = 1;
  }
  return out;
};
// Whether values[k] is a loss computed as NaN (rather than a point not computed).
TV.isInvalid = function (values, k) { return Boolean(values.invalid && values.invalid[k]); };

// The colour at t in 0…1 by linear interpolation between evenly spaced anchors, exactly as
// TerrainPlot's ColorMap.color(at:) does; NaN gives the "not computed" grey.
TV.colorAt = function (anchors, t, missing) {
  if (Number.isNaN(t)) return missing;
  const u = Math.min(Math.max(t, 0), 1) * (anchors.length - 1);
  const i = Math.min(Math.floor(u), anchors.length - 2), f = u - i;
  const a = anchors[i], b = anchors[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
};
TV.css = function (rgb, alpha) {
  const c = rgb.map(function (v) { return Math.round(255 * Math.min(Math.max(v, 0), 1)); });
  return alpha === undefined ? "rgb(" + c.join(",") + ")" : "rgba(" + c.join(",") + "," + alpha + ")";
};

// A value scale from lo to hi, linear or log10: t(v) is 0 at lo and 1 at hi (beyond for
// values above hi, which the 3D view cuts off and the contour view saturates).
TV.Scale = class {
  constructor(lo, hi, log) {
    this.log = log; this.lo = lo; this.hi = hi;
    this.a = this.f(lo); this.b = this.f(hi);
    if (!(this.b > this.a)) { this.b = this.a + (this.log ? 1 : Math.max(Math.abs(this.a) * 0.1, 1e-12)); }
  }
  f(v) { return this.log ? Math.log10(v) : v; }
  inverse(u) { return this.log ? Math.pow(10, u) : u; }
  t(v) { return (this.f(v) - this.a) / (this.b - this.a); }
  valueAt(t) { return this.inverse(this.a + t * (this.b - this.a)); }
};

// About `count` round tick values in [lo, hi]: 1, 2, 5 × 10^k steps; on a log scale the
// decades (and 2, 5 between them when there are few decades).
TV.ticks = function (lo, hi, count, log) {
  if (!(hi > lo)) return [lo];
  if (log) {
    const a = Math.log10(lo), b = Math.log10(hi), out = [];
    const mantissas = b - a < 1.2 ? [1, 1.5, 2, 3, 5, 7] : b - a < 3 ? [1, 2, 5] : [1];
    const stride = Math.max(1, Math.ceil((b - a) / count));
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
      if (mantissas.length === 1 && e % stride !== 0) continue;
      for (const m of mantissas) { const v = m * Math.pow(10, e); if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v); }
    }
    return out.length >= 2 ? out : TV.ticks(lo, hi, count, false);
  }
  const raw = (hi - lo) / Math.max(count, 1), p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(function (m) { return m * p; }).find(function (s) { return s >= raw; }) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
};

// Short, readable numbers: 0.25, 1.5e-3, 12.4, −0.5 (a true minus sign).
TV.format = function (v, digits, invalid) {
  if (Number.isNaN(v)) return invalid ? "NaN" : "not computed";
  if (v === Infinity) return "diverged";
  if (v === -Infinity) return "−∞";
  const d = digits || 4;
  let s;
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) s = v.toExponential(Math.max(d - 2, 1)).replace(/\.?0+e/, "e");
  else s = String(Number(v.toPrecision(d)));
  return s.replace(/-/g, "−");
};

// What each quantity is called and how it is scaled.
TV.quantityInfo = function (name) {
  const known = {
    train_loss: { title: "train loss", kind: "loss" }, test_loss: { title: "test loss", kind: "loss" },
    train_acc: { title: "train accuracy", kind: "accuracy", unit: "%" }, test_acc: { title: "test accuracy", kind: "accuracy", unit: "%" },
    max_eig: { title: "λmax (Hessian)", kind: "curvature" }, min_eig: { title: "λmin (Hessian)", kind: "curvature" },
    eig_ratio: { title: "λmin / λmax", kind: "ratio" },
    train_perplexity: { title: "train perplexity", kind: "perplexity" }, test_perplexity: { title: "test perplexity", kind: "perplexity" },
    line_train_loss: { title: "train loss along the line", kind: "loss" }, line_test_loss: { title: "test loss along the line", kind: "loss" },
    line_train_acc: { title: "train accuracy along the line", kind: "accuracy", unit: "%" },
    line_test_acc: { title: "test accuracy along the line", kind: "accuracy", unit: "%" }
  };
  const info = known[name] || { title: name.replace(/_/g, " "), kind: "other" };
  // The axis and colour bar title: "train accuracy (%)".
  info.label = info.title + (info.unit ? " (" + info.unit + ")" : "");
  return info;
};

// An FNV-1a hash of pixel bytes: the self-check compares frames by it.
TV.hashBytes = function (bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 0x01000193) >>> 0; }
  return ("0000000" + h.toString(16)).slice(-8);
};
// How many pixels differ from the background, how many distinct colours, and the hash.
TV.pixelSummary = function (bytes, background) {
  let drawn = 0; const colours = new Set();
  for (let i = 0; i < bytes.length; i += 4) {
    if (Math.abs(bytes[i] - background[0]) + Math.abs(bytes[i + 1] - background[1]) + Math.abs(bytes[i + 2] - background[2]) > 6) drawn++;
    if (colours.size < 5000) colours.add((bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2]);
  }
  return { pixels: bytes.length / 4, drawn: drawn, colours: colours.size, hash: TV.hashBytes(bytes) };
};

// A canvas sized to its box in device pixels; returns the 2D context scaled to CSS pixels.
TV.fitCanvas = function (canvas, context) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * ratio)), h = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  if (context) context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { width: canvas.clientWidth, height: canvas.clientHeight, ratio: ratio };
};

TV.font = "12px 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
TV.titleFont = "bold 13px 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";

// Axes shared by the 2D views: the plot rectangle, ticks, titles.
TV.Axes = class {
  constructor(size, xRange, yRange, margins) {
    const m = margins || { left: 62, right: 16, top: 28, bottom: 46 };
    this.left = m.left; this.top = m.top;
    this.width = Math.max(size.width - m.left - m.right, 10); this.height = Math.max(size.height - m.top - m.bottom, 10);
    this.xRange = xRange; this.yRange = yRange;
  }
  X(v) { return this.left + (v - this.xRange[0]) / (this.xRange[1] - this.xRange[0]) * this.width; }
  Y(v) { return this.top + this.height - (v - this.yRange[0]) / (this.yRange[1] - this.yRange[0]) * this.height; }
  dataX(px) { return this.xRange[0] + (px - this.left) / this.width * (this.xRange[1] - this.xRange[0]); }
  dataY(py) { return this.yRange[0] + (this.top + this.height - py) / this.height * (this.yRange[1] - this.yRange[0]); }
  inside(px, py) { return px >= this.left && px <= this.left + this.width && py >= this.top && py <= this.top + this.height; }
  // Frame, ticks (yTicks may be given, e.g. a log scale's), axis titles and the title.
  draw(ctx, titles, yTicks, yFormat) {
    ctx.strokeStyle = "#444"; ctx.lineWidth = 1; ctx.fillStyle = "#333"; ctx.font = TV.font;
    ctx.strokeRect(this.left + 0.5, this.top + 0.5, this.width, this.height);
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const v of TV.ticks(this.xRange[0], this.xRange[1], 6, false)) {
      const px = Math.round(this.X(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(px, this.top + this.height); ctx.lineTo(px, this.top + this.height + 5); ctx.stroke();
      ctx.fillText(TV.format(v, 3), px, this.top + this.height + 7);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const v of (yTicks || TV.ticks(this.yRange[0], this.yRange[1], 6, false))) {
      const py = Math.round(yFormat ? yFormat.Y(v) : this.Y(v)) + 0.5;
      if (py < this.top - 1 || py > this.top + this.height + 1) continue;
      ctx.beginPath(); ctx.moveTo(this.left - 5, py); ctx.lineTo(this.left, py); ctx.stroke();
      ctx.fillText(TV.format(v, 3), this.left - 7, py);
    }
    ctx.textAlign = "center"; ctx.textBaseline = "bottom";
    ctx.fillText(titles.x, this.left + this.width / 2, this.top + this.height + 42);
    ctx.save(); ctx.translate(14, this.top + this.height / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "top"; ctx.fillText(titles.y, 0, -2); ctx.restore();
    if (titles.title) { ctx.font = TV.titleFont; ctx.textBaseline = "bottom"; ctx.fillText(titles.title, this.left + this.width / 2, this.top - 8); }
  }
};

// What the 2D views (the contour view, the curve view) share: a canvas and the readout line
// under it, the mouse position over the canvas (hover, null when outside) with a redraw as the
// mouse moves or leaves, and the frame shown. A subclass draws (draw() reads this.hover).
TV.PlotView = class {
  constructor(canvas, readout) {
    this.canvas = canvas; this.readout = readout; this.hover = null;
    this.ctx = canvas.getContext("2d");
    canvas.addEventListener("mousemove", (e) => {
      const r = canvas.getBoundingClientRect();
      this.hover = [e.clientX - r.left, e.clientY - r.top];
      this.draw();
    });
    canvas.addEventListener("mouseleave", () => { this.hover = null; this.draw(); });
  }

  // frame: {x, y, path}; values of the shown quantity; every quantity for the readout.
  setData(frame, values, all, scale, colours, titles) {
    this.frame = frame; this.values = values; this.all = all; this.scale = scale; this.colours = colours; this.titles = titles;
  }
};
