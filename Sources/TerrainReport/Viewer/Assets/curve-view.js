TV.CurveView = class extends TV.PlotView {
  draw() {
    const size = TV.fitCanvas(this.canvas, this.ctx), ctx = this.ctx;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size.width, size.height);
    if (!this.frame) return;
    const x = this.frame.x, n = x.length, s = this.scale;
    // The y axis is in the scale's own units (log10 on a log scale), with a little headroom.
    const pad = 0.04 * (s.b - s.a);
    const axes = new TV.Axes(size, [x[0], x[n - 1]], [s.a - pad, s.b + pad]);
    this.axes = axes;
    const Y = function (v) { return axes.Y(s.f(v)); };
    ctx.save();
    ctx.beginPath(); ctx.rect(axes.left, axes.top, axes.width, axes.height); ctx.clip();
    // An ensemble's mean ± std (terrain surface --repeats), shaded under the curve, in runs of
    // points where both bounds can be drawn.
    const band = this.frame.bands ? this.frame.bands[this.titles.quantity] : null;
    if (band) {
      if (!band.lo) { band.lo = TV.decodeFloat32(band.lower); band.hi = TV.decodeFloat32(band.upper); }
      ctx.fillStyle = TV.css(TV.colorAt(this.colours.anchors, 0.25), 0.22);
      let run = [];
      const flush = function () {
        if (run.length > 1) {
          ctx.beginPath();
          run.forEach(function (k, i) { const px = axes.X(x[k]), py = Y(band.hi[k]); if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); });
          for (let i = run.length - 1; i >= 0; i--) ctx.lineTo(axes.X(x[run[i]]), Y(band.lo[run[i]]));
          ctx.closePath(); ctx.fill();
        }
        run = [];
      };
      for (let k = 0; k < n; k++) {
        if (Number.isFinite(s.f(band.lo[k])) && Number.isFinite(s.f(band.hi[k]))) run.push(k); else flush();
      }
      flush();
    }
    ctx.strokeStyle = TV.css(TV.colorAt(this.colours.anchors, 0.25)); ctx.lineWidth = 2.2; ctx.lineJoin = "round";
    ctx.beginPath();
    let open = false;
    for (let k = 0; k < n; k++) {
      const v = this.values[k], fv = Number.isFinite(v) ? s.f(v) : NaN;
      if (!Number.isFinite(fv)) { open = false; continue; }
      if (open) ctx.lineTo(axes.X(x[k]), Y(v)); else ctx.moveTo(axes.X(x[k]), Y(v));
      open = true;
    }
    ctx.stroke();
    // Diverged points as pale-red bands, like the contour view's cells.
    ctx.fillStyle = TV.css(this.colours.diverged, 0.7);
    for (let k = 0; k < n; k++) if (this.values[k] === Infinity) {
      const a = axes.X(x[Math.max(k - 1, 0)]), b = axes.X(x[Math.min(k + 1, n - 1)]);
      ctx.fillRect((a + axes.X(x[k])) / 2, axes.top, (b - a) / 2 || 2, axes.height);
    }
    ctx.restore();
    axes.draw(ctx, this.titles, TV.ticks(s.valueAt(0), s.valueAt(1), 6, s.log), { Y: Y });
    if (this.hover && axes.inside(this.hover[0], this.hover[1])) {
      const target = axes.dataX(this.hover[0]);
      let k = 0;
      for (let q = 1; q < n; q++) if (Math.abs(x[q] - target) < Math.abs(x[k] - target)) k = q;
      const v = this.values[k];
      ctx.strokeStyle = "rgba(0,0,0,0.35)"; ctx.beginPath(); ctx.moveTo(axes.X(x[k]) + 0.5, axes.top); ctx.lineTo(axes.X(x[k]) + 0.5, axes.top + axes.height); ctx.stroke();
      if (Number.isFinite(v) && Number.isFinite(s.f(v))) {
        ctx.fillStyle = "#d62728"; ctx.beginPath(); ctx.arc(axes.X(x[k]), Y(v), 4.5, 0, 2 * Math.PI); ctx.fill();
      }
      this.readout.textContent = TV.describePoint(this.titles, x[k], null, this.all, k, this.titles.quantity);
    } else {
      this.readout.textContent = "hover the curve for values";
    }
  }

  pixels() {
    const bytes = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
    return TV.pixelSummary(bytes, [255, 255, 255]);
  }
};
