TV.mat4 = {
  multiply: function (a, b) {
    const o = new Float32Array(16);
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) {
      let s = 0; for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
      o[c * 4 + r] = s;
    }
    return o;
  },
  perspective: function (fovy, aspect, near, far) {
    const f = 1 / Math.tan(fovy / 2), o = new Float32Array(16);
    o[0] = f / aspect; o[5] = f; o[10] = (far + near) / (near - far); o[11] = -1; o[14] = 2 * far * near / (near - far);
    return o;
  },
  lookAt: function (eye, target, up) {
    const sub = function (a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; };
    const norm = function (a) { const l = Math.hypot(a[0], a[1], a[2]) || 1; return [a[0] / l, a[1] / l, a[2] / l]; };
    const cross = function (a, b) { return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]; };
    const dot = function (a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; };
    const z = norm(sub(eye, target)), x = norm(cross(up, z)), y = cross(z, x);
    return new Float32Array([x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0, -dot(x, eye), -dot(y, eye), -dot(z, eye), 1]);
  }
};

TV.Surface3D = class {
  constructor(canvas, overlay) {
    this.canvas = canvas; this.overlay = overlay; this.height = 0.9;
    this.resetView();
    this.gl = canvas.getContext("webgl", { antialias: true, preserveDrawingBuffer: true, alpha: false });
    if (!this.gl) { this.failed = "this browser gives no WebGL context"; return; }
    const gl = this.gl;
    const vs = "attribute vec3 aPos; attribute vec3 aNormal; attribute vec3 aColor; attribute float aT;" +
      "uniform mat4 uMatrix; varying vec3 vColor; varying vec3 vNormal; varying float vT;" +
      "void main() { gl_Position = uMatrix * vec4(aPos, 1.0); vColor = aColor; vNormal = aNormal; vT = aT; }";
    const fs = "precision mediump float; varying vec3 vColor; varying vec3 vNormal; varying float vT;" +
      "uniform float uLit; uniform float uAlpha; uniform vec3 uLight;" +
      "void main() { if (vT > 1.0005) discard; vec3 c = vColor;" +
      "  if (uLit > 0.5) { float d = abs(dot(normalize(vNormal), uLight)); c = c * (0.62 + 0.38 * d) + vec3(0.06) * pow(d, 30.0); }" +
      "  gl_FragColor = vec4(c, uAlpha); }";
    const compile = function (type, source) {
      const s = gl.createShader(type); gl.shaderSource(s, source); gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error("shader: " + gl.getShaderInfoLog(s));
      return s;
    };
    const p = gl.createProgram();
    gl.attachShader(p, compile(gl.VERTEX_SHADER, vs)); gl.attachShader(p, compile(gl.FRAGMENT_SHADER, fs));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error("program: " + gl.getProgramInfoLog(p));
    this.program = p;
    this.attributes = { aPos: 3, aNormal: 3, aColor: 3, aT: 1 };
    this.location = {};
    for (const name in this.attributes) this.location[name] = gl.getAttribLocation(p, name);
    for (const name of ["uMatrix", "uLit", "uAlpha", "uLight"]) this.location[name] = gl.getUniformLocation(p, name);
    this.mesh = null; this.wires = null;
    this.listen();
  }

  resetView() { this.azimuth = -0.95; this.elevation = 0.52; this.distance = 4.9; }

  listen() {
    let drag = null;
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY }; c.setPointerCapture(e.pointerId); });
    c.addEventListener("pointermove", (e) => {
      if (!drag) return;
      this.azimuth -= (e.clientX - drag.x) * 0.01;
      this.elevation = Math.min(1.5, Math.max(-0.2, this.elevation + (e.clientY - drag.y) * 0.01));
      drag = { x: e.clientX, y: e.clientY };
      this.requestDraw();
    });
    const end = () => { drag = null; };
    c.addEventListener("pointerup", end); c.addEventListener("pointercancel", end);
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.distance = Math.min(12, Math.max(1.6, this.distance * Math.exp(e.deltaY * 0.0012)));
      this.requestDraw();
    }, { passive: false });
    c.addEventListener("dblclick", () => { this.resetView(); this.requestDraw(); });
  }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  // A buffer set for gl.drawArrays from flat arrays (every attribute, one entry per vertex).
  upload(arrays) {
    const gl = this.gl, set = { count: arrays.aT.length, buffers: {} };
    for (const name in this.attributes) {
      const b = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, b);
      gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(arrays[name]), gl.STATIC_DRAW);
      set.buffers[name] = b;
    }
    return set;
  }
  release(set) { if (set) for (const name in set.buffers) this.gl.deleteBuffer(set.buffers[name]); }

  // The grid to draw: x, y (coordinates), values (Float32Array, row j over y), the scale,
  // the colour map anchors, the axis titles, and the training path ({x, y}) or null.
  setData(x, y, values, scale, anchors, titles, path) {
    this.x = x; this.y = y; this.scale = scale; this.titles = titles;
    if (!this.gl) return;
    const nx = x.length, ny = y.length;
    const wx = function (i) { return nx > 1 ? -1 + 2 * (x[i] - x[0]) / (x[nx - 1] - x[0]) : 0; };
    const wy = function (j) { return ny > 1 ? -1 + 2 * (y[j] - y[0]) / (y[ny - 1] - y[0]) : 0; };
    const t = new Float32Array(nx * ny);
    for (let k = 0; k < t.length; k++) {
      const v = values[k], u = Number.isFinite(v) ? scale.t(v) : NaN;
      t[k] = Number.isFinite(u) ? Math.min(u, 1e4) : NaN;
    }
    const H = this.height, at = function (i, j) { return t[j * nx + i]; };
    const vertex = (arrays, i, j) => {
      const k = j * nx + i, h = H * t[k];
      // The normal from central differences of the height over world x and y.
      const il = Math.max(i - 1, 0), ir = Math.min(i + 1, nx - 1), jd = Math.max(j - 1, 0), ju = Math.min(j + 1, ny - 1);
      let dx = 0, dy = 0;
      if (ir > il && Number.isFinite(at(ir, j)) && Number.isFinite(at(il, j))) dx = H * (at(ir, j) - at(il, j)) / (wx(ir) - wx(il));
      if (ju > jd && Number.isFinite(at(i, ju)) && Number.isFinite(at(i, jd))) dy = H * (at(i, ju) - at(i, jd)) / (wy(ju) - wy(jd));
      const c = TV.colorAt(anchors, Math.min(t[k], 1));
      arrays.aPos.push(wx(i), wy(j), h); arrays.aNormal.push(-dx, -dy, 1); arrays.aColor.push(c[0], c[1], c[2]); arrays.aT.push(t[k]);
    };
    const mesh = { aPos: [], aNormal: [], aColor: [], aT: [] };
    this.finiteCount = 0;
    for (let k = 0; k < t.length; k++) if (Number.isFinite(t[k])) this.finiteCount++;
    for (let j = 0; j + 1 < ny; j++) for (let i = 0; i + 1 < nx; i++) {
      const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
      const ok = corners.map(function (p) { return Number.isFinite(at(p[0], p[1])); });
      const triangles = ok.every(Boolean) ? [[0, 1, 2], [0, 2, 3]]
        : ok.filter(Boolean).length === 3 ? [[0, 1, 2, 3].filter(function (q) { return ok[q]; })] : [];
      for (const tri of triangles) for (const q of tri) vertex(mesh, corners[q][0], corners[q][1]);
    }
    // A wire every `step` grid lines, so that a dense grid does not turn grey.
    const wires = { aPos: [], aNormal: [], aColor: [], aT: [] };
    const stepX = Math.max(1, Math.round(nx / 24)), stepY = Math.max(1, Math.round(ny / 24));
    const segment = (i0, j0, i1, j1) => {
      if (!Number.isFinite(at(i0, j0)) || !Number.isFinite(at(i1, j1))) return;
      for (const p of [[i0, j0], [i1, j1]]) {
        wires.aPos.push(wx(p[0]), wy(p[1]), H * at(p[0], p[1])); wires.aNormal.push(0, 0, 1);
        wires.aColor.push(0.1, 0.1, 0.12); wires.aT.push(at(p[0], p[1]));
      }
    };
    for (let j = 0; j < ny; j += stepY) for (let i = 0; i + 1 < nx; i++) segment(i, j, i + 1, j);
    for (let i = 0; i < nx; i += stepX) for (let j = 0; j + 1 < ny; j++) segment(i, j, i, j + 1);
    // The path, laid on the surface: each segment in short steps, heights interpolated
    // bilinearly from the cell under each step (left out over holes and above the clip).
    const track = { aPos: [], aNormal: [], aColor: [], aT: [] };
    const fractional = function (values, v) {
      const n = values.length;
      if (n < 2 || v < Math.min(values[0], values[n - 1]) || v > Math.max(values[0], values[n - 1])) return NaN;
      let i = 0;
      while (i < n - 2 && (values[i + 1] - v) * (values[n - 1] - values[0]) < 0) i++;
      return i + (v - values[i]) / (values[i + 1] - values[i]);
    };
    const heightAt = function (px, py) {
      const fi = fractional(x, px), fj = fractional(y, py);
      if (!Number.isFinite(fi) || !Number.isFinite(fj)) return NaN;
      const i = Math.min(Math.floor(fi), nx - 2), j = Math.min(Math.floor(fj), ny - 2), u = fi - i, w = fj - j;
      return (1 - w) * ((1 - u) * at(i, j) + u * at(i + 1, j)) + w * ((1 - u) * at(i, j + 1) + u * at(i + 1, j + 1));
    };
    if (path && path.x.length > 1 && nx > 1 && ny > 1) {
      const world = function (px, py) {
        return [-1 + 2 * (px - x[0]) / (x[nx - 1] - x[0]), -1 + 2 * (py - y[0]) / (y[ny - 1] - y[0])];
      };
      for (let k = 0; k + 1 < path.x.length; k++) {
        const steps = 12;
        for (let q = 0; q < steps; q++) {
          const ends = [q / steps, (q + 1) / steps].map(function (f) {
            const px = path.x[k] + f * (path.x[k + 1] - path.x[k]), py = path.y[k] + f * (path.y[k + 1] - path.y[k]);
            return [world(px, py), heightAt(px, py)];
          });
          if (!ends.every(function (e) { return Number.isFinite(e[1]); })) continue;
          for (const e of ends) {
            track.aPos.push(e[0][0], e[0][1], H * e[1] + 0.012); track.aNormal.push(0, 0, 1);
            track.aColor.push(0.84, 0.1, 0.12); track.aT.push(e[1]);
          }
        }
      }
    }
    this.release(this.mesh); this.release(this.wires); this.release(this.track);
    this.mesh = this.upload(mesh); this.wires = this.upload(wires); this.track = this.upload(track);
  }

  eye() {
    const ce = Math.cos(this.elevation), d = this.distance;
    return [d * ce * Math.cos(this.azimuth), d * ce * Math.sin(this.azimuth), this.height / 2 + d * Math.sin(this.elevation)];
  }

  matrix(aspect) {
    const projection = TV.mat4.perspective(0.62, aspect, 0.1, 50);
    return TV.mat4.multiply(projection, TV.mat4.lookAt(this.eye(), [0, 0, this.height * 0.36], [0, 0, 1]));
  }

  // Base rectangle and the vertical axis at the corner to the viewer's left.
  boxGeometry() {
    const e = this.eye(), sx = e[0] >= 0 ? 1 : -1, sy = e[1] >= 0 ? 1 : -1, H = this.height;
    const z = this.zCorner();
    const lines = { aPos: [], aNormal: [], aColor: [], aT: [] };
    const add = function (a, b) {
      for (const p of [a, b]) { lines.aPos.push(p[0], p[1], p[2]); lines.aNormal.push(0, 0, 1); lines.aColor.push(0.45, 0.45, 0.48); lines.aT.push(0); }
    };
    add([-1, -1, 0], [1, -1, 0]); add([1, -1, 0], [1, 1, 0]); add([1, 1, 0], [-1, 1, 0]); add([-1, 1, 0], [-1, -1, 0]);
    add([z[0], z[1], 0], [z[0], z[1], H]);
    // The back walls' top edges give the height a frame of reference.
    add([-sx, -1, H], [-sx, 1, H]); add([-1, -sy, H], [1, -sy, H]);
    add([-sx, -sy, 0], [-sx, -sy, H]);
    return lines;
  }
  zCorner() {
    const e = this.eye(), sx = e[0] >= 0 ? 1 : -1, sy = e[1] >= 0 ? 1 : -1;
    // Of the two side corners, the one that appears on the left of the screen.
    const a = [sx, -sy], b = [-sx, sy];
    const right = [-Math.sin(this.azimuth), Math.cos(this.azimuth)];
    return a[0] * right[0] + a[1] * right[1] < b[0] * right[0] + b[1] * right[1] ? a : b;
  }

  drawSet(set, mode) {
    const gl = this.gl;
    if (!set || set.count === 0) return;
    for (const name in this.attributes) {
      const loc = this.location[name];
      if (loc < 0) continue;
      gl.bindBuffer(gl.ARRAY_BUFFER, set.buffers[name]);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, this.attributes[name], gl.FLOAT, false, 0, 0);
    }
    gl.drawArrays(mode, 0, set.count);
  }

  draw() {
    const size = TV.fitCanvas(this.canvas);
    const ctx = this.overlay.getContext("2d");
    TV.fitCanvas(this.overlay, ctx);
    ctx.clearRect(0, 0, size.width, size.height);
    if (!this.gl) { this.message(ctx, size, "3D view unavailable: " + this.failed); return; }
    const gl = this.gl;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    gl.enable(gl.DEPTH_TEST);
    gl.useProgram(this.program);
    const m = this.matrix(size.width / Math.max(size.height, 1));
    gl.uniformMatrix4fv(this.location.uMatrix, false, m);
    const light = [-0.35, -0.55, 0.76], l = Math.hypot(light[0], light[1], light[2]);
    gl.uniform3f(this.location.uLight, light[0] / l, light[1] / l, light[2] / l);
    gl.disable(gl.BLEND);
    gl.uniform1f(this.location.uLit, 1); gl.uniform1f(this.location.uAlpha, 1);
    gl.enable(gl.POLYGON_OFFSET_FILL); gl.polygonOffset(1, 1);
    this.drawSet(this.mesh, gl.TRIANGLES);
    gl.disable(gl.POLYGON_OFFSET_FILL);
    gl.enable(gl.BLEND); gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    gl.uniform1f(this.location.uLit, 0); gl.uniform1f(this.location.uAlpha, 0.28);
    this.drawSet(this.wires, gl.LINES);
    gl.uniform1f(this.location.uAlpha, 1);
    gl.lineWidth(2);
    this.drawSet(this.track, gl.LINES);
    gl.lineWidth(1);
    const box = this.upload(this.boxGeometry());
    this.drawSet(box, gl.LINES);
    this.release(box);
    this.labels(ctx, size, m);
    if (this.finiteCount === 0) this.message(ctx, size, "no finite value to draw");
  }

  message(ctx, size, text) {
    ctx.font = TV.font; ctx.fillStyle = "#555"; ctx.textAlign = "center";
    ctx.fillText(text, size.width / 2, size.height / 2);
  }

  // Ticks and titles of the three axes, projected from the box onto the overlay.
  labels(ctx, size, m) {
    if (!this.x || !this.scale) return;
    const project = function (p) {
      const v = [0, 1, 2, 3].map(function (r) { return m[r] * p[0] + m[4 + r] * p[1] + m[8 + r] * p[2] + m[12 + r]; });
      return v[3] > 0 ? [(v[0] / v[3] + 1) / 2 * size.width, (1 - v[1] / v[3]) / 2 * size.height] : null;
    };
    const e = this.eye(), sx = e[0] >= 0 ? 1 : -1, sy = e[1] >= 0 ? 1 : -1, H = this.height;
    ctx.font = TV.font; ctx.fillStyle = "#333"; ctx.strokeStyle = "#777"; ctx.lineWidth = 1;
    const x = this.x, y = this.y, nx = x.length, ny = y.length;
    const label = function (p, text, dx, dy, align) {
      const s = project(p); if (!s) return;
      const a = align || "center", width = ctx.measureText(text).width;
      // Kept inside the canvas: a long title (the z axis's, "train perplexity (log)") at the
      // edge of a narrow panel would otherwise lose its first letters.
      let px = s[0] + (dx || 0);
      const start = a === "center" ? px - width / 2 : a === "right" ? px - width : px;
      px += Math.max(0, 2 - start) - Math.max(0, start + width - (size.width - 2));
      ctx.textAlign = a; ctx.textBaseline = "middle";
      ctx.fillText(text, px, s[1] + (dy || 0));
    };
    const axisTicks = (values, toWorld, place, outward) => {
      const lo = values[0], hi = values[values.length - 1];
      for (const v of TV.ticks(Math.min(lo, hi), Math.max(lo, hi), 4, false)) {
        const w = toWorld(v), a = place(w, 0), b = place(w, 0.07 * outward);
        const pa = project(a), pb = project(b);
        if (pa && pb) { ctx.beginPath(); ctx.moveTo(pa[0], pa[1]); ctx.lineTo(pb[0], pb[1]); ctx.stroke(); }
        label(place(w, 0.2 * outward), TV.format(v, 3));
      }
    };
    if (nx > 1) axisTicks(x, function (v) { return -1 + 2 * (v - x[0]) / (x[nx - 1] - x[0]); },
      function (w, o) { return [w, sy * (1 + o), 0]; }, 1);
    if (ny > 1) axisTicks(y, function (v) { return -1 + 2 * (v - y[0]) / (y[ny - 1] - y[0]); },
      function (w, o) { return [sx * (1 + o), w, 0]; }, 1);
    label([0, sy * 1.55, 0], this.titles.x);
    label([sx * 1.55, 0, 0], this.titles.y);
    const z = this.zCorner(), s = this.scale;
    // A log axis of less than a decade gets ticks at 1, 1.5, 2, 3, 5, 7: every other one is
    // enough on the short z axis, where six labels would touch.
    let zTicks = TV.ticks(s.valueAt(0), s.valueAt(1), 4, s.log);
    if (zTicks.length > 5) zTicks = zTicks.filter(function (v, k) { return k % 2 === 0; });
    for (const v of zTicks) {
      const h = H * s.t(v);
      if (h < -1e-6 || h > H + 1e-6) continue;
      label([z[0], z[1], h], TV.format(v, 3) + " ", -4, 0, "right");
    }
    label([z[0], z[1], H * 1.12], this.titles.z, 0, 0, "center");
  }

  pixels() {
    if (!this.gl) return null;
    const gl = this.gl, w = this.canvas.width, h = this.canvas.height, bytes = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, bytes);
    return TV.pixelSummary(bytes, [255, 255, 255]);
  }
};
