/// 2D convolution. Float convolutions run oneDNN's direct kernels (`OneDNNConvolution.swift`)
/// unless `CPUBackend.convolution` is `.im2col`; Double ones, and any shape oneDNN declines, run
/// im2col + GEMM, one image per parallel chunk:
///
/// For image n with input [C, H, W] and weights [F, C, kh, kw], the column matrix is
/// col[(c·kh + i)·kw + j, oh·Wo + ow] = x[c, oh·s − p + i·d, ow·s − p + j·d] (zero outside; d the
/// dilation), and y[n] = W[F, C·kh·kw] · col. With g groups this runs per group on C/g input
/// channels and F/g filters. A 1x1 stride-1 unpadded convolution uses x itself as col.
extension CPUBackend {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func conv2d<T: TensorScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?, geometry g: Conv2dGeometry) -> Tensor<T> {
        let dims = ConvDims(input: x.shape, weight: weight.shape, geometry: g)
        var y = Tensor<T>(uninitializedShape: [dims.n, dims.f, dims.oh, dims.ow])
        let xp = x.pointer, wp = weight.pointer, yp = y.mutablePointer()
        let bp = bias?.pointer
        if convolution == .oneDNN, T.self == Float.self,
           OneDNN.forward(xp, weight: wp, bias: bp.map { UnsafeRawPointer($0) }, into: yp, dims) {
            return y
        }
        Parallel.forEach(chunks: dims.n) { n in
            for group in 0..<dims.groups {
                let image = xp + n * dims.imageSize + group * dims.groupImageSize
                let out = yp + (n * dims.f + group * dims.fg) * dims.outSpatial
                withColumns(of: image, dims) { col in
                    T.gemm(transposeA: false, transposeB: false, m: dims.fg, n: dims.outSpatial, k: dims.k,
                           alpha: 1, a: wp + group * dims.fg * dims.k, lda: dims.k, b: col, ldb: dims.outSpatial,
                           beta: 0, c: out, ldc: dims.outSpatial)
                }
            }
            if let bp {
                let out = yp + n * dims.f * dims.outSpatial
                for f in 0..<dims.f {
                    let b = bp[f], row = out + f * dims.outSpatial
                    for j in 0..<dims.outSpatial { row[j] += b }
                }
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func conv2dBackward<T: TensorScalar>(input x: Tensor<T>, weight: Tensor<T>, gradient gy: Tensor<T>,
                                                geometry g: Conv2dGeometry, needsInputGradient: Bool) -> Conv2dGradients<T> {
        let dims = ConvDims(input: x.shape, weight: weight.shape, geometry: g)
        precondition(gy.shape == [dims.n, dims.f, dims.oh, dims.ow], "conv2d backward: gradient \(gy.shape) for output [\(dims.n), \(dims.f), \(dims.oh), \(dims.ow)]")
        var gx: Tensor<T>? = needsInputGradient ? Tensor<T>(uninitializedShape: x.shape) : nil
        let gxp = gx?.mutablePointer()
        if convolution == .oneDNN, T.self == Float.self {
            var partials = Tensor<T>(uninitializedShape: [OneDNN.chunkCount(dims), dims.f * dims.k])
            let pp = partials.mutablePointer()
            if OneDNN.backwardWeights(x.pointer, gradient: gy.pointer, partials: pp, dims),
               gxp.map({ OneDNN.backwardData(gy.pointer, weight: weight.pointer, into: $0, dims) }) ?? true {
                return Conv2dGradients(input: gx, weight: Self.sumOfRows(partials).reshaped(weight.shape),
                                       bias: sumPerFeature(gy))
            }
        }
        // Weight gradients are summed per fixed group of images, then the groups in order:
        // the same additions whatever the thread count.
        let group = 8
        let imageGroups = (dims.n + group - 1) / group
        var partials = Tensor<T>(zeros: [imageGroups, dims.f * dims.k])
        let pp = partials.mutablePointer()
        let xp = x.pointer, wp = weight.pointer, gp = gy.pointer
        Parallel.forEach(chunks: imageGroups) { gi in
            let colGrad = gxp == nil ? nil : TensorStorage<T>(uninitializedCount: dims.k * dims.outSpatial)
            // Alive until the chunk ends: col2im reads it after the last load of its pointer (see
            // `withColumns`).
            defer { withExtendedLifetime(colGrad) {} }
            for n in (gi * group)..<min(dims.n, (gi + 1) * group) {
                for cg in 0..<dims.groups {
                    let partial = pp + gi * dims.f * dims.k + cg * dims.fg * dims.k
                    let image = xp + n * dims.imageSize + cg * dims.groupImageSize
                    let gOut = gp + (n * dims.f + cg * dims.fg) * dims.outSpatial
                    let w = wp + cg * dims.fg * dims.k
                    withColumns(of: image, dims) { col in
                        // dW += gy[n] · colᵀ
                        T.gemm(transposeA: false, transposeB: true, m: dims.fg, n: dims.k, k: dims.outSpatial,
                               alpha: 1, a: gOut, lda: dims.outSpatial, b: col, ldb: dims.outSpatial,
                               beta: 1, c: partial, ldc: dims.k)
                    }
                    if let gxp, let colGrad {
                        let gImage = gxp + n * dims.imageSize + cg * dims.groupImageSize
                        if dims.isPointwise {
                            T.gemm(transposeA: true, transposeB: false, m: dims.k, n: dims.outSpatial, k: dims.fg,
                                   alpha: 1, a: w, lda: dims.k, b: gOut, ldb: dims.outSpatial,
                                   beta: 0, c: gImage, ldc: dims.outSpatial)
                        } else {
                            T.gemm(transposeA: true, transposeB: false, m: dims.k, n: dims.outSpatial, k: dims.fg,
                                   alpha: 1, a: w, lda: dims.k, b: gOut, ldb: dims.outSpatial,
                                   beta: 0, c: colGrad.pointer, ldc: dims.outSpatial)
                            col2im(colGrad.pointer, into: gImage, dims)
                        }
                    }
                }
            }
        }
        return Conv2dGradients(input: gx, weight: Self.sumOfRows(partials).reshaped(weight.shape), bias: sumPerFeature(gy))
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func conv2dBackwardData<T: TensorScalar>(gradient gy: Tensor<T>, weight: Tensor<T>, inputShape: [Int],
                                                    geometry g: Conv2dGeometry) -> Tensor<T> {
        let dims = ConvDims(input: inputShape, weight: weight.shape, geometry: g)
        precondition(gy.shape == [dims.n, dims.f, dims.oh, dims.ow], "conv2d backward: gradient \(gy.shape) for output [\(dims.n), \(dims.f), \(dims.oh), \(dims.ow)]")
        var gx = Tensor<T>(uninitializedShape: inputShape)
        let gxp = gx.mutablePointer(), wp = weight.pointer, gp = gy.pointer
        if convolution == .oneDNN, T.self == Float.self, OneDNN.backwardData(gp, weight: wp, into: gxp, dims) {
            return gx
        }
        // The reference path (Double, grouped or dilated convolutions) shares the full backward pass.
        return conv2dBackward(input: Tensor(zeros: inputShape), weight: weight, gradient: gy, geometry: g,
                              needsInputGradient: true).input!
    }

    /// Σᵢ rows[i] as a vector, adding the rows in order (a deterministic reduction).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func sumOfRows<T: TensorScalar>(_ rows: Tensor<T>) -> Tensor<T> {
        let (count, width) = (rows.shape[0], rows.shape[1])
        var sum = Tensor<T>(zeros: [width])
        let sp = sum.mutablePointer(), rp = rows.pointer
        for r in 0..<count {
            let row = rp + r * width
            for i in 0..<width { sp[i] += row[i] }
        }
        return sum
    }

    /// Calls `body` with the column matrix of one image's group of channels (the image itself
    /// for 1x1 convolutions).
    @inline(__always)
    func withColumns<T: TensorScalar>(of image: UnsafePointer<T>, _ d: ConvDims, _ body: (UnsafePointer<T>) -> Void) {
        if d.isPointwise { body(image); return }
        let col = TensorStorage<T>(uninitializedCount: d.k * d.outSpatial)
        // `col` is used only through its pointer: a Swift value may be destroyed right after its
        // last use (here the last load of `col.pointer`), which would give the buffer back to the
        // pool, and so to the next tensor of its size, while `body` still reads it.
        withExtendedLifetime(col) {
            im2col(image, into: col.pointer, d)
            body(col.pointer)
        }
    }

    @inline(__always)
    func im2col<T: TensorScalar>(_ image: UnsafePointer<T>, into col: UnsafeMutablePointer<T>, _ d: ConvDims) {
        d.forEachColumnRow { plane, row, ih, dj in
            let out = col + row
            if ih < 0 || ih >= d.h {
                out.update(repeating: 0, count: d.ow)
                return
            }
            let src = image + plane + ih * d.w
            if d.sw == 1 {
                let (lo, hi) = d.validColumns(shift: dj)
                if lo > 0 { out.update(repeating: 0, count: lo) }
                if hi > lo { (out + lo).update(from: src + (lo - d.pw + dj), count: hi - lo) }
                if hi < d.ow { (out + max(hi, lo)).update(repeating: 0, count: d.ow - max(hi, lo)) }
            } else {
                for ow in 0..<d.ow {
                    let iw = ow * d.sw - d.pw + dj
                    out[ow] = (iw >= 0 && iw < d.w) ? src[iw] : 0
                }
            }
        }
    }

    /// The adjoint of im2col: overwrites `image` with the sum of every column entry mapped to it.
    @inline(__always)
    func col2im<T: TensorScalar>(_ col: UnsafePointer<T>, into image: UnsafeMutablePointer<T>, _ d: ConvDims) {
        image.update(repeating: 0, count: d.groupImageSize)
        d.forEachColumnRow { plane, row, ih, dj in
            if ih < 0 || ih >= d.h { return }
            let dst = image + plane + ih * d.w, src = col + row
            if d.sw == 1 {
                let (lo, hi) = d.validColumns(shift: dj)
                if hi > lo {
                    let base = dst + (lo - d.pw + dj)
                    for ow in 0..<(hi - lo) { base[ow] += src[lo + ow] }
                }
            } else {
                for ow in 0..<d.ow {
                    let iw = ow * d.sw - d.pw + dj
                    if iw >= 0 && iw < d.w { dst[iw] += src[ow] }
                }
            }
        }
    }
}

/// The sizes of one convolution, derived and checked once.
struct ConvDims {
    let n, c, h, w, f, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups: Int
    /// Input channels and filters per group.
    var cg: Int { c / groups }
    var fg: Int { f / groups }
    /// Rows of one group's column matrix (and columns of its weight block).
    var k: Int { cg * kh * kw }
    var outSpatial: Int { oh * ow }
    var imageSize: Int { c * h * w }
    var groupImageSize: Int { cg * h * w }
    let isPointwise: Bool

    init(input: [Int], weight: [Int], geometry g: Conv2dGeometry) {
        precondition(input.count == 4, "conv2d input must be [N, C, H, W], got \(input)")
        precondition(g.groups >= 1 && input[1] % g.groups == 0 && weight.first.map({ $0 % g.groups == 0 }) == true,
                     "conv2d: \(g.groups) groups do not divide input \(input) and weight \(weight)")
        precondition(weight.count == 4 && weight[1] * g.groups == input[1] && weight[2] == g.kernel.height && weight[3] == g.kernel.width,
                     "conv2d weight \(weight) does not fit input \(input), kernel \(g.kernel) and \(g.groups) groups")
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (f, kh, kw) = (weight[0], weight[2], weight[3])
        (sh, sw, ph, pw) = (g.stride.height, g.stride.width, g.padding.height, g.padding.width)
        (dh, dw, groups) = (g.dilation.height, g.dilation.width, g.groups)
        (oh, ow) = g.outputSize(height: h, width: w)
        precondition(oh > 0 && ow > 0, "conv2d: input \(h)x\(w) too small for kernel \(kh)x\(kw) with padding \(ph)")
        isPointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0
            && g.paddingEnd.height == 0 && g.paddingEnd.width == 0
    }

    /// Walks the rows of one group's column matrix in memory order, the order im2col writes
    /// them: for each input channel c, kernel tap (i, j) and output row oh, calls
    /// `body(plane, row, ih, dj)` with the channel plane's offset c·H·W in the image, the row's
    /// offset ((c·kh + i)·kw + j)·OH·OW + oh·OW in the columns, the input row
    /// ih = oh·sh − ph + i·dh (possibly outside [0, H): padding) and the column shift dj = j·dw,
    /// so that output column ow reads input column ow·sw − pw + dj. im2col and its adjoint
    /// col2im share it, so the two always agree on which entry maps where.
    @inline(__always)
    func forEachColumnRow(_ body: (_ plane: Int, _ row: Int, _ ih: Int, _ dj: Int) -> Void) {
        var row = 0
        for c in 0..<cg {
            let plane = c * h * w
            for i in 0..<kh {
                for j in 0..<kw {
                    let dj = j * dw
                    for y in 0..<oh {
                        body(plane, row + y * ow, y * sh - ph + i * dh, dj)
                    }
                    row += outSpatial
                }
            }
        }
    }

    /// For stride 1 along the width: the output columns lo..<hi whose input column
    /// ow − pw + dj lies inside [0, W) (0 ≤ ow − pw + dj < W), clamped to [0, OW).
    @inline(__always)
    func validColumns(shift dj: Int) -> (lo: Int, hi: Int) {
        (min(ow, max(0, pw - dj)), min(ow, w + pw - dj))
    }
}
