/// Max and average pooling over NCHW tensors, one (image, channel) plane per work item.
/// Average pooling counts padded positions in the divisor (PyTorch's default).
extension CPUBackend {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func maxPool2d<T: TensorScalar>(_ x: Tensor<T>, geometry g: Pool2dGeometry) -> (output: Tensor<T>, argmax: [Int32]) {
        let d = PoolDims(x.shape, g)
        var y = Tensor<T>(uninitializedShape: [d.n, d.c, d.oh, d.ow])
        var argmax = [Int32](repeating: 0, count: y.count)
        let xp = x.pointer, yp = y.mutablePointer()
        argmax.withUnsafeMutableBufferPointer { ab in
            let ap = ab.baseAddress!
            d.forEachOutputPosition { plane, oh, ow, o in
                let src = xp + plane * d.h * d.w
                var best = -T.infinity, bestIndex = -1
                d.forEachInputIndex(inWindowOf: oh, ow) { index in
                    let v = src[index]
                    if v > best || bestIndex < 0 || v.isNaN { best = v; bestIndex = index }
                }
                yp[o] = best
                ap[o] = Int32(plane * d.h * d.w + bestIndex)
            }
        }
        return (y, argmax)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func maxPool2dBackward<T: TensorScalar>(gradient gy: Tensor<T>, argmax: [Int32], inputShape: [Int]) -> Tensor<T> {
        precondition(argmax.count == gy.count, "max-pool backward: \(argmax.count) indices for \(gy.count) gradients")
        var gx = Tensor<T>(zeros: inputShape)
        let gxp = gx.mutablePointer(), gp = gy.pointer
        // Windows may overlap, so scatter serially per plane group (planes never share inputs).
        let planes = inputShape[0] * inputShape[1], outPerPlane = gy.count / max(planes, 1)
        argmax.withUnsafeBufferPointer { ab in
            Parallel.forEach(range: planes, grain: 64) { range in
                for o in (range.lowerBound * outPerPlane)..<(range.upperBound * outPerPlane) {
                    gxp[Int(ab[o])] += gp[o]
                }
            }
        }
        return gx
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func maxPool2dTangent<T: TensorScalar>(_ x: Tensor<T>, argmax: [Int32], outputShape: [Int]) -> Tensor<T> {
        var y = Tensor<T>(uninitializedShape: outputShape)
        precondition(argmax.count == y.count, "max-pool tangent: \(argmax.count) indices for an output of shape \(outputShape)")
        let xp = x.pointer, yp = y.mutablePointer(), n = x.count
        argmax.withUnsafeBufferPointer { ab in
            Parallel.forEach(range: ab.count, grain: Self.elementwiseGrain) { r in
                for o in r {
                    let i = Int(ab[o])
                    precondition(i < n, "max-pool tangent: index \(i) outside an input of \(n) values")
                    yp[o] = xp[i]
                }
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func avgPool2d<T: TensorScalar>(_ x: Tensor<T>, geometry g: Pool2dGeometry) -> Tensor<T> {
        let d = PoolDims(x.shape, g)
        var y = Tensor<T>(uninitializedShape: [d.n, d.c, d.oh, d.ow])
        let xp = x.pointer, yp = y.mutablePointer()
        let inv = 1 / T(d.kh * d.kw)
        d.forEachOutputPosition { plane, oh, ow, o in
            let src = xp + plane * d.h * d.w
            var acc: T = 0
            d.forEachInputIndex(inWindowOf: oh, ow) { acc += src[$0] }
            yp[o] = acc * inv
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func avgPool2dBackward<T: TensorScalar>(gradient gy: Tensor<T>, inputShape: [Int], geometry g: Pool2dGeometry) -> Tensor<T> {
        let d = PoolDims(inputShape, g)
        var gx = Tensor<T>(zeros: inputShape)
        let gxp = gx.mutablePointer(), gp = gy.pointer
        let inv = 1 / T(d.kh * d.kw)
        // Windows may overlap, but only within a plane, and a plane is one work item.
        d.forEachOutputPosition { plane, oh, ow, o in
            let dst = gxp + plane * d.h * d.w
            let v = gp[o] * inv
            d.forEachInputIndex(inWindowOf: oh, ow) { dst[$0] += v }
        }
        return gx
    }
}

struct PoolDims {
    let n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow: Int
    init(_ shape: [Int], _ g: Pool2dGeometry) {
        precondition(shape.count == 4, "pooling input must be [N, C, H, W], got \(shape)")
        (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        (kh, kw, sh, sw, ph, pw) = (g.kernel.height, g.kernel.width, g.stride.height, g.stride.width, g.padding.height, g.padding.width)
        (oh, ow) = g.outputSize(height: h, width: w)
        precondition(oh > 0 && ow > 0, "pooling: input \(h)x\(w) too small for window \(kh)x\(kw)")
    }

    /// Calls `body(plane, oh, ow, o)` for every output position: plane = image·C + channel, the
    /// position (oh, ow) in it and its index o = (plane·OH + oh)·OW + ow in the output. Planes
    /// are the work items of `Parallel.forEach` (64 a chunk), each walked row by row, so every
    /// pooling kernel splits its work the same way and a plane never spans two threads.
    @inline(__always)
    func forEachOutputPosition(_ body: (_ plane: Int, _ oh: Int, _ ow: Int, _ o: Int) -> Void) {
        Parallel.forEach(range: n * c, grain: 64) { planes in
            for plane in planes {
                for y in 0..<oh {
                    for x in 0..<ow { body(plane, y, x, (plane * oh + y) * ow + x) }
                }
            }
        }
    }

    /// Calls `body` with the index ih·W + iw, within its input plane, of each input position in
    /// the window of output position (`oh`, `ow`): ih = oh·sh − ph + i and iw = ow·sw − pw + j for
    /// the taps (i, j) in row-major order, those that fall in the padding skipped. Max pooling,
    /// average pooling and its adjoint all walk their windows with it, in the same order.
    @inline(__always)
    func forEachInputIndex(inWindowOf oh: Int, _ ow: Int, _ body: (Int) -> Void) {
        for i in 0..<kh {
            let ih = oh * sh - ph + i
            if ih < 0 || ih >= h { continue }
            for j in 0..<kw {
                let iw = ow * sw - pw + j
                if iw >= 0 && iw < w { body(ih * w + iw) }
            }
        }
    }
}
