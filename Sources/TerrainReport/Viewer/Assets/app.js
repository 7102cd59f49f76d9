TV.parseHash = function () {
  const out = {};
  for (const part of (location.hash || "").replace(/^#/, "").split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    out[decodeURIComponent(eq < 0 ? part : part.slice(0, eq))] = eq < 0 ? true : decodeURIComponent(part.slice(eq + 1));
  }
  return out;
};

TV.element = function (tag, attributes, parent, text) {
  const e = document.createElement(tag);
  for (const k in attributes || {}) e.setAttribute(k, attributes[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
};

TV.App = class {
  constructor(root, data) {
    this.data = data; this.interval = 700; this.timer = null;
    this.quantities = [];
    for (const s of data.surfaces) for (const f of s.frames) for (const q of f.order) if (this.quantities.indexOf(q) < 0) this.quantities.push(q);
    this.frameCount = Math.max.apply(null, data.surfaces.map(function (s) { return s.frames.length; }));
    // Scale groups (data sets): each has its own colour scale and colour bar.
    this.groups = [];
    for (const s of data.surfaces) if (this.groups.indexOf(s.scaleGroup || "") < 0) this.groups.push(s.scaleGroup || "");
    const hash = TV.parseHash(), initial = data.initial;
    const startFrame = hash.frame !== undefined ? Number(hash.frame) : initial.frame;
    this.state = {
      quantity: this.quantities.indexOf(initial.quantity) >= 0 ? initial.quantity : this.quantities[0],
      map: data.colorMaps[initial.colorMap] ? initial.colorMap : data.colorMapOrder[0],
      log: initial.logarithmic === undefined ? null : initial.logarithmic,
      clip: 1,
      frame: Number.isFinite(startFrame) ? Math.min(Math.max(Math.round(startFrame), 0), this.frameCount - 1) : 0
    };
    if (hash.quantity && this.quantities.indexOf(hash.quantity) >= 0) this.state.quantity = hash.quantity;
    if (hash.colormap && data.colorMaps[hash.colormap]) this.state.map = hash.colormap;
    this.ranges = {};
    this.build(root);
    this.render();
    window.addEventListener("resize", () => this.render());
    if (hash.selftest) this.selfTest();
  }

  // Every quantity of a frame as Float32Arrays, decoded once.
  values(frame) {
    if (!frame.decoded) {
      frame.decoded = {};
      for (const q of frame.order) frame.decoded[q] = TV.decodeFloat32(frame.values[q]);
    }
    return frame.decoded;
  }

  // The finite range of a quantity over every surface of a scale group and every frame, and
  // what else it holds (present: some frame of the group has the quantity).
  range(q, group) {
    const key = q + "\u0000" + group;
    if (this.ranges[key]) return this.ranges[key];
    const r = { lo: Infinity, hi: -Infinity, positive: true, any: false, present: false, missing: false, invalid: false, diverged: false };
    for (const s of this.data.surfaces) for (const f of s.frames) {
      const v = (s.scaleGroup || "") === group ? this.values(f)[q] : undefined;
      if (!v) continue;
      r.present = true;
      for (let k = 0; k < v.length; k++) {
        const x = v[k];
        if (Number.isFinite(x)) { r.any = true; if (x < r.lo) r.lo = x; if (x > r.hi) r.hi = x; if (x <= 0) r.positive = false; }
        else if (TV.isInvalid(v, k)) r.invalid = true;
        else if (Number.isNaN(x)) r.missing = true; else r.diverged = true;
      }
      // A 1D ensemble's band (mean ± std) fits in the range too; its positive bounds only, so
      // that a band reaching below zero does not turn a positive loss's log scale off.
      const band = f.bands ? f.bands[q] : null;
      if (band) {
        for (const b64 of [band.lower, band.upper]) {
          const b = TV.decodeFloat32(b64);
          for (let k = 0; k < b.length; k++) if (Number.isFinite(b[k]) && (b[k] > 0 || !r.positive)) { r.lo = Math.min(r.lo, b[k]); r.hi = Math.max(r.hi, b[k]); }
        }
      }
    }
    if (!r.any) { r.lo = 0; r.hi = 1; r.positive = false; }
    if (TV.quantityInfo(q).kind === "accuracy") { r.lo = Math.min(r.lo, 0); r.hi = Math.max(r.hi, 100); r.positive = false; }
    this.ranges[key] = r;
    return r;
  }

  // The groups that hold the quantity shown.
  groupsShown() {
    const shown = this.groups.filter((g) => this.range(this.state.quantity, g).present);
    return shown.length > 0 ? shown : this.groups.slice(0, 1);
  }

  // A group's scale: the quantity's whole range there, log when asked (or, by default, for a
  // loss or perplexity that is positive everywhere), its top lowered to the z max slider's
  // value. Log is allowed when the quantity is positive in every group that holds it.
  scale(group) {
    const q = this.state.quantity, r = this.range(q, group), info = TV.quantityInfo(q);
    this.logAllowed = this.groupsShown().every((g) => this.range(q, g).positive);
    const log = this.logAllowed && (this.state.log === null ? info.kind === "loss" || info.kind === "perplexity" : this.state.log);
    const full = new TV.Scale(r.lo, r.hi, log);
    return new TV.Scale(r.lo, full.valueAt(this.state.clip), log);
  }

  build(root) {
    const data = this.data, several = data.surfaces.length > 1;
    const header = TV.element("header", {}, root);
    TV.element("h1", {}, header, data.title);
    const frames = this.frameCount > 1 ? ", " + this.frameCount + " frames" : "";
    const scales = this.groups.length > 1 ? " per data set (" + this.groups.map(function (g) { return g || "unnamed"; }).join(", ") + ")" : "";
    TV.element("p", { class: "sub" }, header, (several ? data.surfaces.length + " surfaces side by side on one colour scale" + scales : "1 surface") + frames);

    const bar = TV.element("section", { class: "controls" }, root);
    const group = function (label) { const g = TV.element("label", { class: "control" }, bar); TV.element("span", {}, g, label); return g; };
    this.quantitySelect = TV.element("select", { id: "tv-quantity" }, group("quantity"));
    for (const q of this.quantities) TV.element("option", { value: q }, this.quantitySelect, TV.quantityInfo(q).label);
    this.quantitySelect.value = this.state.quantity;
    this.quantitySelect.addEventListener("change", () => { this.state.quantity = this.quantitySelect.value; this.state.clip = 1; this.clipSlider.value = "1"; this.render(); });

    this.mapSelect = TV.element("select", { id: "tv-colormap" }, group("colour map"));
    for (const m of data.colorMapOrder) TV.element("option", { value: m }, this.mapSelect, m);
    this.mapSelect.value = this.state.map;
    this.mapSelect.addEventListener("change", () => { this.state.map = this.mapSelect.value; this.render(); });

    const logGroup = group("log z");
    this.logBox = TV.element("input", { type: "checkbox", id: "tv-log" }, logGroup);
    this.logBox.addEventListener("change", () => { this.state.log = this.logBox.checked; this.render(); });

    const clipGroup = group("z max");
    this.clipSlider = TV.element("input", { type: "range", id: "tv-clip", min: "0.02", max: "1", step: "0.005", value: "1" }, clipGroup);
    this.clipValue = TV.element("output", { id: "tv-clip-value" }, clipGroup);
    this.clipSlider.addEventListener("input", () => { this.state.clip = Number(this.clipSlider.value); this.render(); });

    const reset = TV.element("button", { type: "button", id: "tv-reset" }, bar, "reset view");
    reset.addEventListener("click", () => { for (const p of this.panels) if (p.view3d) { p.view3d.resetView(); p.view3d.draw(); } });

    if (this.frameCount > 1) {
      const f = TV.element("div", { class: "frames" }, root);
      this.playButton = TV.element("button", { type: "button", id: "tv-play", class: "play" }, f, "▶ play");
      this.playButton.addEventListener("click", () => this.togglePlay());
      this.frameSlider = TV.element("input", { type: "range", id: "tv-frame", min: "0", max: String(this.frameCount - 1), step: "1", value: String(this.state.frame) }, f);
      this.frameSlider.addEventListener("input", () => { this.state.frame = Number(this.frameSlider.value); this.render(); });
      this.frameLabel = TV.element("output", { id: "tv-frame-label" }, f);
    }

    const legend = TV.element("section", { class: "legend" }, root);
    const bars = TV.element("div", { class: "colorbars" }, legend);
    this.colorbars = this.groups.map(function (g, k) {
      return TV.element("canvas", { id: k === 0 ? "tv-colorbar" : "tv-colorbar-" + (k + 1), class: "colorbar" }, bars);
    });
    TV.element("p", { class: "help" }, legend, "3D: drag to rotate, wheel to zoom, double-click to reset · map: hover for values");

    const main = TV.element("main", { class: several ? "panels several" : "panels single" }, root);
    this.panels = data.surfaces.map((s) => {
      const twoD = s.frames[0].y.length > 0;
      const card = TV.element("article", { class: twoD ? "panel" : "panel one-d" }, main);
      TV.element("h2", {}, card, s.name);
      const frameLabel = TV.element("p", { class: "frame-label" }, card);
      const views = TV.element("div", { class: "views" }, card);
      const readout = TV.element("p", { class: "readout" }, card, " ");
      const panel = { surface: s, card: card, frameLabel: frameLabel, views: views, readout: readout };
      if (twoD) {
        const box = TV.element("div", { class: "view3d" }, views);
        const gl = TV.element("canvas", { class: "gl" }, box), overlay = TV.element("canvas", { class: "overlay" }, box);
        panel.view3d = new TV.Surface3D(gl, overlay);
        panel.contour = new TV.ContourView(TV.element("canvas", { class: "contour" }, views), readout);
      } else {
        panel.curve = new TV.CurveView(TV.element("canvas", { class: "curve" }, views), readout);
      }
      panel.message = TV.element("p", { class: "message", hidden: "" }, card);
      return panel;
    });
  }

  render() {
    const q = this.state.quantity, info = TV.quantityInfo(q), shown = this.groupsShown(), scales = {};
    for (const g of this.groups) scales[g] = this.scale(g);
    const colours = { anchors: this.data.colorMaps[this.state.map], missing: this.data.missingColor,
                      invalid: this.data.invalidColor, diverged: this.data.divergedColor };
    this.logBox.checked = scales[shown[0]].log; this.logBox.disabled = !this.logAllowed;
    this.clipValue.textContent = this.state.clip < 1 ? shown.map(function (g) { return TV.format(scales[g].valueAt(1), 4); }).join(" · ") : "all";
    for (const p of this.panels) {
      const scale = scales[p.surface.scaleGroup || ""];
      const frames = p.surface.frames, index = Math.min(this.state.frame, frames.length - 1), frame = frames[index];
      const all = this.values(frame), v = all[q];
      p.currentLabel = frame.label;
      p.frameLabel.textContent = frames.length > 1 ? "frame " + (index + 1) + " / " + frames.length + ": " + frame.label : frame.label;
      const titles = { x: p.surface.xLabel, y: p.surface.yLabel, z: info.label + (scale.log ? " (log)" : ""), title: info.label, quantity: q };
      const has = !!v;
      p.message.hidden = has;
      p.message.textContent = has ? "" : "this surface has no " + info.label;
      // A panel without the quantity shrinks to its title and the message.
      p.views.hidden = !has;
      if (!has) continue;
      if (p.view3d) {
        p.view3d.setData(frame.x, frame.y, v, scale, colours.anchors, titles, frame.path);
        p.view3d.draw();
        p.contour.setData(frame, v, all, scale, colours, titles);
        p.contour.draw();
      } else {
        p.curve.setData(frame, v, all, scale, colours, { x: p.surface.xLabel, y: titles.z, title: info.label, quantity: q });
        p.curve.draw();
      }
    }
    if (this.frameSlider) {
      this.frameSlider.value = String(this.state.frame);
      this.frameLabel.textContent = (this.state.frame + 1) + " / " + this.frameCount + (this.panels.length === 1 ? ": " + this.panels[0].currentLabel : "");
    }
    this.colorbarState = [];
    this.groups.forEach((g, k) => {
      const c = this.colorbars[k];
      c.hidden = shown.indexOf(g) < 0;
      if (!c.hidden) this.drawColorbar(c, g, scales[g], colours, info);
    });
    this.writeSelfCheck();
  }

  // One group's colour bar: titled with the quantity, and the group's name when there are several.
  drawColorbar(c, group, scale, colours, info) {
    const ctx = c.getContext("2d"), size = TV.fitCanvas(c, ctx);
    ctx.clearRect(0, 0, size.width, size.height);
    const left = 12, right = size.width - 12, top = 20, height = 14, width = right - left;
    for (let px = 0; px < width; px++) {
      ctx.fillStyle = TV.css(TV.colorAt(colours.anchors, px / (width - 1)));
      ctx.fillRect(left + px, top, 1.5, height);
    }
    ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.strokeRect(left + 0.5, top + 0.5, width - 1, height);
    ctx.font = TV.font; ctx.fillStyle = "#333"; ctx.textBaseline = "bottom"; ctx.textAlign = "left";
    const r = this.range(this.state.quantity, group);
    const title = info.label + (this.groups.length > 1 ? " · " + (group || "unnamed") : "") + (scale.log ? " · log scale" : "")
      + (this.state.clip < 1 ? " · clipped at " + TV.format(scale.valueAt(1), 4) : "");
    this.colorbarState.push({ group: group, title: title, range: [scale.valueAt(0), scale.valueAt(1)] });
    ctx.fillText(title, left, top - 4);
    ctx.textAlign = "right";
    const keys = [];
    if (r.missing) keys.push([colours.missing, "not computed"]);
    if (r.invalid) keys.push([colours.invalid, "NaN"]);
    if (r.diverged) keys.push([colours.diverged, "diverged"]);
    let x = right;
    for (const k of keys.reverse()) {
      ctx.fillText(k[1], x, top - 4);
      const w = ctx.measureText(k[1]).width;
      ctx.fillStyle = TV.css(k[0]); ctx.fillRect(x - w - 16, top - 15, 11, 11); ctx.strokeRect(x - w - 16 + 0.5, top - 15 + 0.5, 11, 11);
      ctx.fillStyle = "#333"; x -= w + 26;
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const v of TV.ticks(scale.valueAt(0), scale.valueAt(1), 7, scale.log)) {
      const t = scale.t(v);
      if (t < -1e-6 || t > 1 + 1e-6) continue;
      const px = Math.round(left + t * (width - 1)) + 0.5;
      ctx.beginPath(); ctx.moveTo(px, top + height); ctx.lineTo(px, top + height + 4); ctx.stroke();
      ctx.fillText(TV.format(v, 3), px, top + height + 6);
    }
  }

  togglePlay() {
    if (this.timer) {
      clearInterval(this.timer); this.timer = null; this.playButton.textContent = "▶ play";
    } else {
      this.playButton.textContent = "❚❚ pause";
      this.timer = setInterval(() => { this.state.frame = (this.state.frame + 1) % this.frameCount; this.render(); }, this.interval);
    }
  }

  // What the tests read: WebGL present, pixels drawn on every canvas and their hashes, the
  // frame and its labels, the controls' state (the quantities offered, the colour bars' titles
  // and ranges), and every error so far.
  selfCheck() {
    return {
      ready: true,
      webgl: this.panels.every(function (p) { return !p.view3d || !!p.view3d.gl; }),
      frame: this.state.frame, frameCount: this.frameCount,
      quantity: this.state.quantity, colorMap: this.state.map, logarithmic: this.logBox.checked,
      quantities: this.quantities.map(function (q) { return [q, TV.quantityInfo(q).label]; }),
      colorbars: this.colorbarState,
      labels: this.panels.map(function (p) { return p.currentLabel; }),
      panels: this.panels.map(function (p) {
        return {
          name: p.surface.name,
          surface3d: p.view3d ? p.view3d.pixels() : null,
          contour: p.contour ? p.contour.pixels() : null,
          curve: p.curve ? p.curve.pixels() : null
        };
      }),
      errors: window.terrainErrors.slice(),
      selftest: this.selftestResult || null
    };
  }
  writeSelfCheck() {
    document.getElementById("terrain-selfcheck").textContent = JSON.stringify(this.selfCheck());
  }

  // #selftest: move the frame slider to the last frame, press play for a while, change the
  // colour map, lower z max, flip log z, recording the frame, labels and pixel hashes at
  // each step; then hover the map and record the readout.
  selfTest() {
    const snap = () => {
      const c = this.selfCheck();
      return { frame: c.frame, labels: c.labels, hashes: c.panels.map(function (p) {
        return [p.surface3d, p.contour, p.curve].map(function (s) { return s ? s.hash : "-"; }).join("/");
      }) };
    };
    const result = { before: snap() };
    const finish = () => {
      const other = this.data.colorMapOrder.find((m) => m !== this.state.map);
      this.mapSelect.value = other; this.mapSelect.dispatchEvent(new Event("change", { bubbles: true }));
      result.afterColorMap = snap();
      this.clipSlider.value = "0.5"; this.clipSlider.dispatchEvent(new Event("input", { bubbles: true }));
      result.afterClip = snap();
      if (!this.logBox.disabled) {
        this.logBox.checked = !this.logBox.checked; this.logBox.dispatchEvent(new Event("change", { bubbles: true }));
        result.afterLog = snap();
      }
      // The mouse over the middle of the first map (or curve): the readout names the point.
      const view = this.panels[0].contour || this.panels[0].curve, box = view.canvas.getBoundingClientRect();
      view.canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: box.left + box.width / 2, clientY: box.top + box.height / 2, bubbles: true }));
      result.hover = this.panels[0].readout.textContent;
      this.selftestResult = result; this.writeSelfCheck();
    };
    if (!this.frameSlider) { finish(); return; }
    this.frameSlider.value = String(this.frameCount - 1);
    this.frameSlider.dispatchEvent(new Event("input", { bubbles: true }));
    result.afterSlider = snap();
    this.playButton.click();
    setTimeout(() => { result.afterPlay = snap(); this.playButton.click(); finish(); }, 2.5 * this.interval);
  }
};

(function () {
  const root = document.getElementById("terrain-app");
  try {
    window.terrainViewer = new TV.App(root, JSON.parse(document.getElementById("terrain-data").textContent));
  } catch (e) {
    window.terrainErrors.push("viewer: " + (e && e.stack ? e.stack : e));
    TV.element("p", { class: "fatal" }, root, "The viewer could not start: " + e);
    document.getElementById("terrain-selfcheck").textContent = JSON.stringify({ ready: false, errors: window.terrainErrors });
  }
})();
