// Contour segments of a grid of t values at one level, in fractional grid indices.
TV.marchingSquares = function (t, nx, ny, level, emit) {
  const at = function (i, j) { return t[j * nx + i]; };
  for (let j = 0; j + 1 < ny; j++) for (let i = 0; i + 1 < nx; i++) {
    const a = at(i, j), b = at(i + 1, j), c = at(i + 1, j + 1), d = at(i, j + 1);
    if (!(Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c) && Number.isFinite(d))) continue;
    const code = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0);
    if (code === 0 || code === 15) continue;
    const cross = function (v0, v1) { return (level - v0) / (v1 - v0); };
    const bottom = function () { return [i + cross(a, b), j]; }, right = function () { return [i + 1, j + cross(b, c)]; };
    const top = function () { return [i + cross(d, c), j + 1]; }, left = function () { return [i, j + cross(a, d)]; };
    const centreAbove = (a + b + c + d) / 4 > level;
    switch (code) {
      case 1: case 14: emit(bottom(), left()); break;
      case 2: case 13: emit(bottom(), right()); break;
      case 3: case 12: emit(left(), right()); break;
      case 4: case 11: emit(right(), top()); break;
      case 6: case 9: emit(bottom(), top()); break;
      case 7: case 8: emit(left(), top()); break;
      case 5: // a and c above
        if (centreAbove) { emit(bottom(), right()); emit(top(), left()); } else { emit(bottom(), left()); emit(right(), top()); }
        break;
      case 10: // b and d above
        if (centreAbove) { emit(bottom(), left()); emit(right(), top()); } else { emit(bottom(), right()); emit(top(), left()); }
        break;
    }
  }
};

TV.ContourView = class extends TV.PlotView {
  setData(frame, values, all, scale, colours, titles) {
    super.setData(frame, values, all, scale, colours, titles);
    const nx = frame.x.length, ny = frame.y.length;
    const t = new Float32Array(nx * ny);
    for (let k = 0; k < t.length; k++) { const v = values[k]; t[k] = Number.isFinite(v) ? scale.t(v) : NaN; }
    this.t = t;
    // The heat map at one pixel per grid point, drawn scaled.
    const image = document.createElement("canvas");
    image.width = nx; image.height = ny;
    const ictx = image.getContext("2d"), data = ictx.createImageData(nx, ny);
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const v = values[j * nx + i], u = t[j * nx + i];
      const c = Number.isNaN(v) ? (TV.isInvalid(values, j * nx + i) ? colours.invalid : colours.missing) : !Number.isFinite(v) ? colours.diverged
        : Number.isFinite(u) ? TV.colorAt(colours.anchors, u) : colours.missing;
      const o = ((ny - 1 - j) * nx + i) * 4;
      data.data[o] = Math.round(255 * c[0]); data.data[o + 1] = Math.round(255 * c[1]); data.data[o + 2] = Math.round(255 * c[2]); data.data[o + 3] = 255;
    }
    // Smoothing would smear grey into the finite cells around a hole: under the hole, the
    // image takes its finite neighbours' mean colour; draw() paints the hole's cell on top.
    this.holes = [];
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const v = values[j * nx + i];
      if (Number.isFinite(v) && Number.isFinite(t[j * nx + i])) continue;
      this.holes.push([i, j, TV.isInvalid(values, j * nx + i) ? colours.invalid
        : Number.isNaN(v) || Number.isFinite(v) ? colours.missing : colours.diverged]);
      const sum = [0, 0, 0]; let n = 0;
      for (const d of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const a = i + d[0], b = j + d[1];
        if (a < 0 || b < 0 || a >= nx || b >= ny || !Number.isFinite(t[b * nx + a])) continue;
        const c = TV.colorAt(colours.anchors, t[b * nx + a]);
        sum[0] += c[0]; sum[1] += c[1]; sum[2] += c[2]; n++;
      }
      if (n === 0) continue;
      const o = ((ny - 1 - j) * nx + i) * 4;
      for (let q = 0; q < 3; q++) data.data[o + q] = Math.round(255 * sum[q] / n);
    }
    ictx.putImageData(data, 0, 0);
    this.image = image;
    // Contour levels evenly spaced in t (log-spaced values on a log scale).
    this.segments = [];
    const levels = 14;
    for (let q = 1; q < levels; q++) {
      const segs = [];
      TV.marchingSquares(t, nx, ny, q / levels, function (p0, p1) { segs.push([p0, p1]); });
      this.segments.push(segs);
    }
  }

  // Data coordinates of a fractional grid index.
  coordinate(values, f) {
    const i = Math.min(Math.floor(f), values.length - 2);
    if (values.length < 2) return values[0];
    return values[i] + (f - i) * (values[i + 1] - values[i]);
  }

  draw() {
    const size = TV.fitCanvas(this.canvas, this.ctx), ctx = this.ctx;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size.width, size.height);
    if (!this.frame) return;
    const x = this.frame.x, y = this.frame.y, nx = x.length, ny = y.length;
    const hx = nx > 1 ? (x[nx - 1] - x[0]) / (nx - 1) / 2 : 0.5, hy = ny > 1 ? (y[ny - 1] - y[0]) / (ny - 1) / 2 : 0.5;
    const axes = new TV.Axes(size, [x[0] - hx, x[nx - 1] + hx], [y[0] - hy, y[ny - 1] + hy]);
    this.axes = axes;
    ctx.save();
    ctx.beginPath(); ctx.rect(axes.left, axes.top, axes.width, axes.height); ctx.clip();
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.image, axes.X(x[0] - hx), axes.Y(y[ny - 1] + hy), axes.X(x[nx - 1] + hx) - axes.X(x[0] - hx), axes.Y(y[0] - hy) - axes.Y(y[ny - 1] + hy));
    // Not computed (grey) and diverged (pale red) points: crisp cells, never interpolated.
    const edge = function (values, k, side) {
      const n = values.length;
      if (side < 0) return k > 0 ? (values[k - 1] + values[k]) / 2 : values[0] - (n > 1 ? (values[1] - values[0]) / 2 : 0.5);
      return k + 1 < n ? (values[k] + values[k + 1]) / 2 : values[n - 1] + (n > 1 ? (values[n - 1] - values[n - 2]) / 2 : 0.5);
    };
    for (const h of this.holes) {
      const x0 = axes.X(edge(x, h[0], -1)), x1 = axes.X(edge(x, h[0], 1)), y0 = axes.Y(edge(y, h[1], -1)), y1 = axes.Y(edge(y, h[1], 1));
      ctx.fillStyle = TV.css(h[2]);
      ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0) + 0.5, Math.abs(y1 - y0) + 0.5);
    }
    ctx.strokeStyle = "rgba(20, 20, 30, 0.55)"; ctx.lineWidth = 0.9;
    ctx.beginPath();
    for (const segs of this.segments) for (const s of segs) {
      ctx.moveTo(axes.X(this.coordinate(x, s[0][0])), axes.Y(this.coordinate(y, s[0][1])));
      ctx.lineTo(axes.X(this.coordinate(x, s[1][0])), axes.Y(this.coordinate(y, s[1][1])));
    }
    ctx.stroke();
    this.drawPath(ctx, axes);
    this.drawTopology(ctx, axes);
    ctx.restore();
    axes.draw(ctx, { x: this.titles.x, y: this.titles.y, title: this.titles.title });
    this.drawHover(ctx, axes);
  }

  drawPath(ctx, axes) {
    const p = this.frame.path;
    if (!p || p.x.length === 0) return;
    const line = function () {
      ctx.beginPath();
      for (let k = 0; k < p.x.length; k++) { const px = axes.X(p.x[k]), py = axes.Y(p.y[k]); if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); }
      ctx.stroke();
    };
    ctx.lineJoin = "round";
    ctx.strokeStyle = "rgba(255,255,255,0.95)"; ctx.lineWidth = 5; line();
    ctx.strokeStyle = "#1b1b1f"; ctx.lineWidth = 2.2; line();
    ctx.fillStyle = "#1b1b1f";
    for (let k = 1; k + 1 < p.x.length; k++) { ctx.beginPath(); ctx.arc(axes.X(p.x[k]), axes.Y(p.y[k]), 2.2, 0, 2 * Math.PI); ctx.fill(); }
    ctx.fillStyle = "#d62728"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.2;
    for (const k of p.drops) { ctx.beginPath(); ctx.arc(axes.X(p.x[k]), axes.Y(p.y[k]), 4.5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke(); }
    const s = [axes.X(p.x[0]), axes.Y(p.y[0])], e = [axes.X(p.x[p.x.length - 1]), axes.Y(p.y[p.y.length - 1])];
    ctx.fillStyle = "#fff"; ctx.strokeStyle = "#1b1b1f"; ctx.lineWidth = 1.5;
    ctx.fillRect(s[0] - 5, s[1] - 5, 10, 10); ctx.strokeRect(s[0] - 5, s[1] - 5, 10, 10);
    ctx.beginPath(); ctx.arc(e[0], e[1], 5.5, 0, 2 * Math.PI); ctx.fillStyle = "#1b1b1f"; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.stroke();
  }

  // What `terrain analyze` stored for the quantity shown, as on the contour figure: the centre
  // basin's outline (dashed), maxima (red triangles), saddles (crosses), minima (blue discs).
  drawTopology(ctx, axes) {
    const all = this.frame.topology, t = all && all[this.titles.quantity];
    if (!t) return;
    ctx.save();
    ctx.lineJoin = "round"; ctx.lineCap = "round";
    for (const line of t.outlines) {
      const trace = function () {
        ctx.beginPath();
        line.forEach(function (p, k) { const px = axes.X(p[0]), py = axes.Y(p[1]); if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); });
        ctx.stroke();
      };
      ctx.setLineDash([]); ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 4; trace();
      ctx.setLineDash([6, 4]); ctx.strokeStyle = "#111"; ctx.lineWidth = 1.8; trace();
    }
    ctx.setLineDash([]);
    ctx.fillStyle = "#d62728"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1;
    for (const p of t.maxima) {
      const px = axes.X(p[0]), py = axes.Y(p[1]);
      ctx.beginPath(); ctx.moveTo(px, py - 6); ctx.lineTo(px - 5.5, py + 4); ctx.lineTo(px + 5.5, py + 4); ctx.closePath(); ctx.fill(); ctx.stroke();
    }
    for (const p of t.saddles) {
      const px = axes.X(p[0]), py = axes.Y(p[1]);
      const cross = function () { ctx.beginPath(); ctx.moveTo(px - 5, py - 5); ctx.lineTo(px + 5, py + 5); ctx.moveTo(px - 5, py + 5); ctx.lineTo(px + 5, py - 5); ctx.stroke(); };
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 4; cross();
      ctx.strokeStyle = "#111"; ctx.lineWidth = 2; cross();
    }
    ctx.fillStyle = "#1f77b4"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.2;
    for (const p of t.minima) { ctx.beginPath(); ctx.arc(axes.X(p[0]), axes.Y(p[1]), 5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke(); }
    ctx.restore();
  }

  // The grid point nearest the mouse: a marker, and its values in the readout line.
  drawHover(ctx, axes) {
    if (!this.hover || !axes.inside(this.hover[0], this.hover[1])) {
      this.readout.textContent = "hover the map for values";
      return;
    }
    const x = this.frame.x, y = this.frame.y;
    const nearest = function (values, v) {
      let best = 0;
      for (let k = 1; k < values.length; k++) if (Math.abs(values[k] - v) < Math.abs(values[best] - v)) best = k;
      return best;
    };
    const i = nearest(x, axes.dataX(this.hover[0])), j = nearest(y, axes.dataY(this.hover[1])), k = j * x.length + i;
    const px = axes.X(x[i]), py = axes.Y(y[j]);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 3; ctx.beginPath(); ctx.arc(px, py, 6, 0, 2 * Math.PI); ctx.stroke();
    ctx.strokeStyle = "#d62728"; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.arc(px, py, 6, 0, 2 * Math.PI); ctx.stroke();
    this.readout.textContent = TV.describePoint(this.titles, x[i], y[j], this.all, k, this.titles.quantity);
  }

  pixels() {
    const bytes = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
    return TV.pixelSummary(bytes, [255, 255, 255]);
  }
};

// "α = 0.1, β = −0.3 · train loss 0.412 · train accuracy (%) 87.5": the shown quantity first.
TV.describePoint = function (titles, xv, yv, all, k, shown) {
  const where = titles.x + " = " + TV.format(xv, 4) + (yv === null ? "" : ", " + titles.y + " = " + TV.format(yv, 4));
  const names = [shown].concat(Object.keys(all).filter(function (n) { return n !== shown; }));
  return where + "  ·  " + names.map(function (n) {
    const info = TV.quantityInfo(n), v = all[n][k];
    return info.title + " " + TV.format(v, 5, TV.isInvalid(all[n], k)) + (info.unit && Number.isFinite(v) ? " " + info.unit : "");
  }).join("  ·  ");
};
