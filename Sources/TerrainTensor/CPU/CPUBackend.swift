import Foundation
import Numerics
import CTerrainKernels

/// The CPU back end: OpenBLAS for matrix products, Swift kernels for the rest, threads from
/// `Parallel` with size-determined chunks (bit-identical results for any thread count).
///
/// Every method is pre-specialized for `Float` and `Double`: calls through `any Backend` land in
/// concrete code, so the per-element loops run at native speed.
public struct CPUBackend: Backend {
    /// How Float convolutions are computed (Double ones always use im2col + GEMM).
    public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
        /// oneDNN's direct kernels in its blocked layout: the fastest on x86 (the default).
        case oneDNN = "onednn"
        /// Column matrices and OpenBLAS GEMMs: the portable reference.
        case im2col
    }

    public var convolution: ConvolutionAlgorithm

    /// `TERRAIN_CONV=im2col` in the environment selects the reference convolutions.
    public init(convolution: ConvolutionAlgorithm? = nil) {
        self.convolution = convolution
            ?? getenv("TERRAIN_CONV").flatMap { ConvolutionAlgorithm(rawValue: String(cString: $0).lowercased()) }
            ?? .oneDNN
    }

    public var name: String { convolution == .oneDNN ? "cpu" : "cpu (im2col convolutions)" }

    /// Elements per parallel chunk of an elementwise kernel.
    static let elementwiseGrain = 1 << 16
    /// Upper bound on the row blocks of one matrix product.
    static let maxGemmChunks = 8

    // MARK: Linear algebra

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func matmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> Tensor<T> {
        let (m, n) = matmulShape(a, b, transposeA: transposeA, transposeB: transposeB)
        var c = Tensor<T>(uninitializedShape: [m, n])
        matmul(a, b, transposeA: transposeA, transposeB: transposeB, into: c.mutablePointer(), beta: 0)
        return c
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func matmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                        addingTo c: inout Tensor<T>) {
        let (m, n) = matmulShape(a, b, transposeA: transposeA, transposeB: transposeB)
        precondition(c.shape == [m, n], "matmul: the sum \(c.shape) is not the product's [\(m), \(n)]")
        matmul(a, b, transposeA: transposeA, transposeB: transposeB, into: c.mutablePointer(), beta: 1)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func linear<T: TensorScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) -> Tensor<T> {
        let (m, n) = matmulShape(x, weight, transposeA: false, transposeB: true)
        precondition(bias == nil || bias!.count == n, "linear: a bias of \(bias!.count) for \(n) outputs")
        var y = Tensor<T>(uninitializedShape: [m, n])
        matmul(x, weight, transposeA: false, transposeB: true, into: y.mutablePointer(), beta: 0, rowBias: bias)
        return y
    }

    /// op(A)'s rows and op(B)'s columns, the inner dimensions checked.
    private func matmulShape<T>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> (Int, Int) {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
        return (m, n)
    }

    /// C = op(A)·op(B) + β·C (β 0 or 1) into C [m, n] at `cp`, then `rowBias` [n] added to every
    /// row by the thread that computed it, while its block of rows is still in cache (the same
    /// float adds as `addFeatureBias`, so the same bits).
    private func matmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                         into cp: UnsafeMutablePointer<T>, beta: T, rowBias: Tensor<T>? = nil) {
        let (m, n) = matmulShape(a, b, transposeA: transposeA, transposeB: transposeB)
        let k = transposeA ? a.shape[0] : a.shape[1]
        let ap = a.pointer, bp = b.pointer
        let lda = a.shape[1], ldb = b.shape[1]
        let biasPointer = rowBias?.pointer
        if k == 0 {
            if beta == 0 { cp.update(repeating: 0, count: m * n) }
            if let biasPointer { Self.addBias(biasPointer, toRows: 0..<m, of: cp, width: n) }
            return
        }
        // Rows of C in at most `maxGemmChunks` blocks of at least 64 rows, each an independent
        // single-threaded GEMM. The split depends on the sizes only, so results do not depend
        // on the thread count; few large blocks keep the packing of B amortized.
        let rowsPerChunk = max(64, (m + Self.maxGemmChunks - 1) / Self.maxGemmChunks)
        Parallel.forEach(range: m, grain: rowsPerChunk) { rows in
            let aStart = transposeA ? ap + rows.lowerBound : ap + rows.lowerBound * lda
            T.gemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k,
                   alpha: 1, a: aStart, lda: lda, b: bp, ldb: ldb,
                   beta: beta, c: cp + rows.lowerBound * n, ldc: n)
            if let biasPointer { Self.addBias(biasPointer, toRows: rows, of: cp, width: n) }
        }
    }

    // MARK: Elementwise

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func add<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        var c = Tensor<T>(uninitializedShape: a.shape)
        let ap = a.pointer, bp = b.pointer, cp = c.mutablePointer()
        Parallel.forEach(range: a.count, grain: Self.elementwiseGrain) { r in
            for i in r { cp[i] = ap[i] + bp[i] }
        }
        return c
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func multiply<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
        precondition(a.shape == b.shape, "multiply: shapes \(a.shape) and \(b.shape) differ")
        var c = Tensor<T>(uninitializedShape: a.shape)
        let ap = a.pointer, bp = b.pointer, cp = c.mutablePointer()
        Parallel.forEach(range: a.count, grain: Self.elementwiseGrain) { r in
            for i in r { cp[i] = ap[i] * bp[i] }
        }
        return c
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func axpy<T: TensorScalar>(_ alpha: T, _ x: Tensor<T>, into y: inout Tensor<T>) {
        precondition(x.count == y.count, "axpy: sizes \(x.shape) and \(y.shape) differ")
        let xp = x.pointer, yp = y.mutablePointer()
        Parallel.forEach(range: x.count, grain: Self.elementwiseGrain) { r in
            for i in r { yp[i] += alpha * xp[i] }
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func scale<T: TensorScalar>(_ x: inout Tensor<T>, by alpha: T) {
        let p = x.mutablePointer()
        Parallel.forEach(range: x.count, grain: Self.elementwiseGrain) { r in
            for i in r { p[i] *= alpha }
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func dot<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
        precondition(a.count == b.count, "dot: sizes \(a.shape) and \(b.shape) differ")
        let ap = a.pointer, bp = b.pointer
        return chunkedSum(count: a.count) { r in
            var s = 0.0
            for i in r { s += Double(ap[i]) * Double(bp[i]) }
            return s
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func sum<T: TensorScalar>(_ a: Tensor<T>) -> Double {
        let ap = a.pointer
        return chunkedSum(count: a.count) { r in
            var s = 0.0
            for i in r { s += Double(ap[i]) }
            return s
        }
    }

    /// A sum over fixed-size chunks, the partial sums added in chunk order: deterministic.
    func chunkedSum(count: Int, _ partial: (Range<Int>) -> Double) -> Double {
        let grain = Self.elementwiseGrain
        let chunks = max(1, (count + grain - 1) / grain)
        var partials = [Double](repeating: 0, count: chunks)
        partials.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            Parallel.forEach(chunks: chunks) { c in
                let lo = c * grain, hi = min(count, lo + grain)
                o[c] = lo < hi ? partial(lo..<hi) : 0
            }
        }
        return partials.reduce(0, +)
    }

    /// The cubic term's coefficient in GELU's tanh approximation (`Activation.geluTanh`).
    static let geluTanhCubic = 0.044715

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func activation<T: TensorScalar>(_ kind: Activation, _ x: Tensor<T>) -> Tensor<T> {
        var y = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, yp = y.mutablePointer()
        Parallel.forEach(range: x.count, grain: Self.elementwiseGrain) { r in
            switch kind {
            case .relu:
                if T.self == Float.self {
                    selectWherePositive(mask: UnsafeRawPointer(xp), values: UnsafeRawPointer(xp), into: UnsafeMutableRawPointer(yp), r)
                } else {
                    for i in r { let v = xp[i]; yp[i] = v <= 0 ? 0 : v }
                }
            case .leakyRelu(let slope):
                let s = T(slope)
                for i in r { let v = xp[i]; yp[i] = v > 0 ? v : s * v }
            case .tanh:
                for i in r { yp[i] = T.tanh(xp[i]) }
            case .sigmoid:
                for i in r { yp[i] = 1 / (1 + T.exp(-xp[i])) }
            case .gelu:
                if T.self == Float.self {
                    terrain_gelu_f32(floats(xp) + r.lowerBound, mutableFloats(yp) + r.lowerBound, r.count)
                } else {
                    let invSqrt2 = 1 / T.sqrt(2)
                    for i in r { let v = xp[i]; yp[i] = v * (1 + T.erf(v * invSqrt2)) / 2 }
                }
            case .geluTanh:
                let c = T.sqrt(2 / T.pi), k = T(Self.geluTanhCubic)
                for i in r { let v = xp[i]; yp[i] = v * (1 + T.tanh(c * (v + k * v * v * v))) / 2 }
            case .erf:
                for i in r { yp[i] = T.erf(xp[i]) }
            case .clip(let lower, let upper):
                // NaN passes through: both comparisons are false for it.
                let lo = T(lower), hi = T(upper)
                for i in r { let v = xp[i], a = v < lo ? lo : v; yp[i] = a > hi ? hi : a }
            case .hardSigmoid(let alpha, let beta):
                let a = T(alpha), b = T(beta)
                for i in r { let u = a * xp[i] + b; yp[i] = u < 0 ? 0 : (u > 1 ? 1 : u) }
            case .hardSwish:
                for i in r { let v = xp[i], u = v / 6 + 0.5; yp[i] = v * (u < 0 ? 0 : (u > 1 ? 1 : u)) }
            case .softplus:
                // Exact for large |x|: e^(−|x|) never overflows.
                for i in r { let v = xp[i]; yp[i] = (v > 0 ? v : 0) + T.log(onePlus: T.exp(-abs(v))) }
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func activationBackward<T: TensorScalar>(_ kind: Activation, input x: Tensor<T>, output y: Tensor<T>,
                                                    gradient gy: Tensor<T>) -> Tensor<T> {
        precondition(x.count == gy.count && y.count == gy.count, "activation backward: size mismatch")
        var gx = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, yp = y.pointer, gp = gy.pointer, op = gx.mutablePointer()
        Parallel.forEach(range: x.count, grain: Self.elementwiseGrain) { r in
            switch kind {
            case .relu:
                if T.self == Float.self {
                    selectWherePositive(mask: UnsafeRawPointer(xp), values: UnsafeRawPointer(gp), into: UnsafeMutableRawPointer(op), r)
                } else {
                    for i in r { op[i] = xp[i] <= 0 ? 0 : gp[i] }
                }
            case .leakyRelu(let slope):
                let s = T(slope)
                for i in r { op[i] = xp[i] > 0 ? gp[i] : s * gp[i] }
            case .tanh:
                for i in r { op[i] = gp[i] * (1 - yp[i] * yp[i]) }
            case .sigmoid:
                for i in r { op[i] = gp[i] * yp[i] * (1 - yp[i]) }
            case .gelu:
                // d/dx x·Φ(x) = Φ(x) + x·φ(x)
                if T.self == Float.self {
                    terrain_gelu_backward_f32(floats(xp) + r.lowerBound, floats(gp) + r.lowerBound,
                                              mutableFloats(op) + r.lowerBound, r.count)
                } else {
                    let invSqrt2 = 1 / T.sqrt(2), invSqrt2Pi = 1 / T.sqrt(2 * T.pi)
                    for i in r {
                        let v = xp[i]
                        op[i] = gp[i] * ((1 + T.erf(v * invSqrt2)) / 2 + v * invSqrt2Pi * T.exp(-v * v / 2))
                    }
                }
            case .geluTanh:
                // f′ = ½(1 + t) + ½x·(1 − t²)·u′ (see `Activation.geluTanh`)
                let c = T.sqrt(2 / T.pi), k = T(Self.geluTanhCubic)
                for i in r {
                    let v = xp[i], t = T.tanh(c * (v + k * v * v * v)), slope = c * (1 + 3 * k * v * v)
                    op[i] = gp[i] * ((1 + t) / 2 + v * (1 - t * t) * slope / 2)
                }
            case .erf:
                // erf′(x) = 2/√π·e^(−x²)
                let twoOverSqrtPi = 2 / T.sqrt(T.pi)
                for i in r { let v = xp[i]; op[i] = gp[i] * twoOverSqrtPi * T.exp(-v * v) }
            case .clip(let lower, let upper):
                let lo = T(lower), hi = T(upper)
                for i in r { let v = xp[i]; op[i] = v <= lo || v >= hi ? 0 : gp[i] }
            case .hardSigmoid(let alpha, let beta):
                let a = T(alpha), b = T(beta)
                for i in r { let u = a * xp[i] + b; op[i] = u <= 0 || u >= 1 ? 0 : a * gp[i] }
            case .hardSwish:
                for i in r { let v = xp[i]; op[i] = v < -3 ? 0 : (v > 3 ? gp[i] : gp[i] * (v / 3 + 0.5)) }
            case .softplus:
                for i in r { op[i] = gp[i] / (1 + T.exp(-xp[i])) }
            }
        }
        return gx
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func activationSecondDerivative<T: TensorScalar>(_ kind: Activation, input x: Tensor<T>, output y: Tensor<T>,
                                                            times t: Tensor<T>) -> Tensor<T> {
        precondition(x.count == t.count && y.count == t.count, "activation second derivative: size mismatch")
        var out = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, yp = y.pointer, tp = t.pointer, op = out.mutablePointer()
        Parallel.forEach(range: x.count, grain: Self.elementwiseGrain) { r in
            switch kind {
            case .relu, .leakyRelu:
                for i in r { op[i] = 0 }
            case .tanh:
                // σ′ = 1 − y², σ″ = −2y·σ′
                for i in r { let v = yp[i]; op[i] = tp[i] * (-2 * v * (1 - v * v)) }
            case .sigmoid:
                // σ′ = y(1 − y), σ″ = σ′·(1 − 2y)
                for i in r { let v = yp[i]; op[i] = tp[i] * (v * (1 - v) * (1 - 2 * v)) }
            case .gelu:
                // σ = x·Φ(x), σ′ = Φ + x·φ, σ″ = 2φ + x·φ′ = φ(x)·(2 − x²)
                if T.self == Float.self {
                    terrain_gelu_second_f32(floats(xp) + r.lowerBound, floats(tp) + r.lowerBound,
                                            mutableFloats(op) + r.lowerBound, r.count)
                } else {
                    let invSqrt2Pi = 1 / T.sqrt(2 * T.pi)
                    for i in r {
                        let v = xp[i]
                        op[i] = tp[i] * (invSqrt2Pi * T.exp(-v * v / 2) * (2 - v * v))
                    }
                }
            case .geluTanh:
                // f″ = (1 − t²)·(u′ − x·t·u′² + ½x·u″) (see `Activation.geluTanh`)
                let c = T.sqrt(2 / T.pi), k = T(Self.geluTanhCubic)
                for i in r {
                    let v = xp[i], t = T.tanh(c * (v + k * v * v * v))
                    let slope = c * (1 + 3 * k * v * v), curve = 6 * c * k * v
                    op[i] = tp[i] * ((1 - t * t) * (slope - v * t * slope * slope + v * curve / 2))
                }
            case .erf:
                // erf″(x) = −2x·erf′(x)
                let twoOverSqrtPi = 2 / T.sqrt(T.pi)
                for i in r { let v = xp[i]; op[i] = tp[i] * (-2 * v * twoOverSqrtPi * T.exp(-v * v)) }
            case .clip, .hardSigmoid:
                for i in r { op[i] = 0 }
            case .hardSwish:
                for i in r { let v = xp[i]; op[i] = v > -3 && v < 3 ? tp[i] / 3 : 0 }
            case .softplus:
                for i in r { let s = 1 / (1 + T.exp(-xp[i])); op[i] = tp[i] * (s * (1 - s)) }
            }
        }
        return out
    }

    // MARK: Per-feature operations

    /// (batch, features, spatial size) of a [N, C, …] tensor.
    @inline(__always)
    func featureLayout(_ shape: [Int]) -> (n: Int, c: Int, spatial: Int) {
        precondition(shape.count >= 2, "expected [N, C, …], got \(shape)")
        return (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func addFeatureBias<T: TensorScalar>(_ x: inout Tensor<T>, _ bias: Tensor<T>) {
        let (n, c, s) = featureLayout(x.shape)
        precondition(bias.count == c, "bias of \(bias.count) for \(c) features")
        let xp = x.mutablePointer(), bp = bias.pointer
        Parallel.forEach(range: n, grain: max(1, Self.elementwiseGrain / max(1, c * s))) { rows in
            // Rows of features ([N, F], a linear layer's output): one contiguous, vectorized add
            // per row, not F single-element loops.
            if s == 1 {
                Self.addBias(bp, toRows: rows, of: xp, width: c)
                return
            }
            for i in rows {
                for f in 0..<c {
                    let b = bp[f], base = xp + (i * c + f) * s
                    for j in 0..<s { base[j] += b }
                }
            }
        }
    }

    /// row[j] += bias[j] for the given rows of a row-major [·, width] matrix: a linear layer's bias.
    @inline(__always)
    static func addBias<T: TensorScalar>(_ bias: UnsafePointer<T>, toRows rows: Range<Int>,
                                         of matrix: UnsafeMutablePointer<T>, width: Int) {
        for i in rows {
            let row = matrix + i * width
            for j in 0..<width { row[j] += bias[j] }
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func sumPerFeature<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> {
        let (n, c, s) = featureLayout(x.shape)
        var out = Tensor<T>(uninitializedShape: [c])
        let xp = x.pointer, op = out.mutablePointer()
        if s == 1 {
            // Rows of features ([N, F]): each feature's sum still runs over the rows in order (the
            // same bits), but a block of features at a time, so each row is read contiguously.
            let block = 256
            Parallel.forEach(chunks: (c + block - 1) / block) { chunk in
                let first = chunk * block, count = min(block, c - first)
                var acc = [Double](repeating: 0, count: count)
                acc.withUnsafeMutableBufferPointer { a in
                    for i in 0..<n {
                        let row = xp + i * c + first
                        for f in 0..<count { a[f] += Double(row[f]) }
                    }
                }
                for f in 0..<count { op[first + f] = T(acc[f]) }
            }
            return out
        }
        Parallel.forEach(range: c, grain: max(1, Self.elementwiseGrain / max(1, n * s))) { features in
            for f in features {
                var acc = 0.0
                for i in 0..<n {
                    let base = xp + (i * c + f) * s
                    for j in 0..<s { acc += Double(base[j]) }
                }
                op[f] = T(acc)
            }
        }
        return out
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func featureAffine<T: TensorScalar>(_ x: Tensor<T>, scale: Tensor<T>, shift: Tensor<T>) -> Tensor<T> {
        let (n, c, s) = featureLayout(x.shape)
        precondition(scale.count == c && shift.count == c, "affine parameters must have \(c) entries")
        var y = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, yp = y.mutablePointer(), ap = scale.pointer, bp = shift.pointer
        Parallel.forEach(range: n, grain: max(1, Self.elementwiseGrain / max(1, c * s))) { rows in
            for i in rows {
                for f in 0..<c {
                    let a = ap[f], b = bp[f], off = (i * c + f) * s
                    for j in 0..<s { yp[off + j] = xp[off + j] * a + b }
                }
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func featureMoments<T: TensorScalar>(_ x: Tensor<T>) -> (mean: [Double], variance: [Double]) {
        let (n, c, s) = featureLayout(x.shape)
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        let xp = x.pointer
        let m = Double(n * s)
        mean.withUnsafeMutableBufferPointer { mb in
            variance.withUnsafeMutableBufferPointer { vb in
                let mp = mb.baseAddress!, vp = vb.baseAddress!
                Parallel.forEach(chunks: c) { f in
                    var acc = 0.0
                    for i in 0..<n { let b = xp + (i * c + f) * s; for j in 0..<s { acc += Double(b[j]) } }
                    let mu = acc / m
                    // Two passes: the centred sum of squares is exact where E[x²]−μ² cancels.
                    var sq = 0.0
                    for i in 0..<n { let b = xp + (i * c + f) * s; for j in 0..<s { let d = Double(b[j]) - mu; sq += d * d } }
                    mp[f] = mu; vp[f] = sq / m
                }
            }
        }
        return (mean, variance)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func batchNormBackward<T: TensorScalar>(input x: Tensor<T>, gradient gy: Tensor<T>, mean: [Double],
                                                   invStd: [Double], gamma: Tensor<T>) -> BatchNormGradients<T> {
        let (n, c, s) = featureLayout(x.shape)
        var gx = Tensor<T>(uninitializedShape: x.shape)
        var gGamma = Tensor<T>(uninitializedShape: [c]), gBeta = Tensor<T>(uninitializedShape: [c])
        let xp = x.pointer, gp = gy.pointer, op = gx.mutablePointer(), gam = gamma.pointer
        let ggp = gGamma.mutablePointer(), gbp = gBeta.mutablePointer()
        let m = Double(n * s)
        mean.withUnsafeBufferPointer { mb in
            invStd.withUnsafeBufferPointer { ib in
                Parallel.forEach(chunks: c) { f in
                    let mu = mb[f], inv = ib[f]
                    var sumG = 0.0, sumGX = 0.0
                    for i in 0..<n {
                        let off = (i * c + f) * s
                        for j in 0..<s {
                            let g = Double(gp[off + j])
                            sumG += g; sumGX += g * (Double(xp[off + j]) - mu) * inv
                        }
                    }
                    ggp[f] = T(sumGX); gbp[f] = T(sumG)
                    // dx = γ·σ⁻¹/m · (m·g − Σg − x̂·Σ(g·x̂))
                    let k = Double(gam[f]) * inv / m
                    for i in 0..<n {
                        let off = (i * c + f) * s
                        for j in 0..<s {
                            let xhat = (Double(xp[off + j]) - mu) * inv
                            op[off + j] = T(k * (m * Double(gp[off + j]) - sumG - xhat * sumGX))
                        }
                    }
                }
            }
        }
        return BatchNormGradients(input: gx, gamma: gGamma, beta: gBeta)
    }

    // MARK: Shape

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func concatFeatures<T: TensorScalar>(_ parts: [Tensor<T>]) -> Tensor<T> {
        precondition(!parts.isEmpty)
        let n = parts[0].shape[0], s = featureLayout(parts[0].shape).spatial
        for p in parts {
            precondition(p.shape[0] == n && featureLayout(p.shape).spatial == s && Array(p.shape.dropFirst(2)) == Array(parts[0].shape.dropFirst(2)),
                         "concat: incompatible shapes \(parts.map(\.shape))")
        }
        let total = parts.reduce(0) { $0 + $1.shape[1] }
        var shape = parts[0].shape; shape[1] = total
        var y = Tensor<T>(uninitializedShape: shape)
        let yp = y.mutablePointer()
        for i in 0..<n {
            var offset = 0
            for p in parts {
                let block = p.shape[1] * s
                (yp + (i * total * s) + offset).update(from: p.pointer + i * block, count: block)
                offset += block
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func splitFeatures<T: TensorScalar>(_ x: Tensor<T>, sizes: [Int]) -> [Tensor<T>] {
        let (n, c, s) = featureLayout(x.shape)
        precondition(sizes.reduce(0, +) == c, "split sizes \(sizes) do not add up to \(c)")
        var offset = 0
        return sizes.map { size in
            var shape = x.shape; shape[1] = size
            var part = Tensor<T>(uninitializedShape: shape)
            let pp = part.mutablePointer()
            for i in 0..<n { (pp + i * size * s).update(from: x.pointer + (i * c + offset) * s, count: size * s) }
            offset += size
            return part
        }
    }

    // MARK: Losses

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func softmaxCrossEntropy<T: TensorScalar>(logits: Tensor<T>, labels: [Int32]) -> LossResult<T> {
        var grad = Tensor<T>(uninitializedShape: logits.shape)
        let (rowLoss, rowCorrect) = crossEntropyRows(logits: logits, labels: labels, gradient: &grad)
        // The rows' losses added in row order.
        var total = 0.0, correct = 0
        for i in rowLoss.indices {
            total += rowLoss[i]
            if rowCorrect[i] { correct += 1 }
        }
        return LossResult(loss: total * (1 / Double(logits.shape[0])), gradient: grad, correct: correct)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func softmaxCrossEntropyRows<T: TensorScalar>(logits: Tensor<T>, labels: [Int32]) -> (losses: [Double], correct: [Bool]) {
        var scratch = Tensor<T>(uninitializedShape: logits.shape)
        return crossEntropyRows(logits: logits, labels: labels, gradient: &scratch)
    }

    /// Each row's −log softmax(z)[label] and arg-max hit, with the mean loss's gradient written
    /// into `grad` (shaped like the logits): what `softmaxCrossEntropy` and
    /// `softmaxCrossEntropyRows` share.
    @_specialize(where T == Float) @_specialize(where T == Double)
    func crossEntropyRows<T: TensorScalar>(logits: Tensor<T>, labels: [Int32], gradient grad: inout Tensor<T>) -> (losses: [Double], correct: [Bool]) {
        precondition(logits.rank == 2 && logits.shape[0] == labels.count,
                     "cross-entropy: logits \(logits.shape) for \(labels.count) labels")
        let n = logits.shape[0], k = logits.shape[1]
        let lp = logits.pointer, gp = grad.mutablePointer()
        let invN = 1 / Double(n)
        var rowLoss = [Double](repeating: 0, count: n)
        if T.self == Float.self && k > 0 {
            // Rows in parallel by the vectorized kernel.
            for label in labels { precondition(label >= 0 && Int(label) < k, "label \(label) outside 0..<\(k)") }
            var rowArgmax = [Int](repeating: 0, count: n)
            rowLoss.withUnsafeMutableBufferPointer { lossBuffer in
                rowArgmax.withUnsafeMutableBufferPointer { argBuffer in
                    labels.withUnsafeBufferPointer { labelBuffer in
                        let losses = lossBuffer.baseAddress!, args = argBuffer.baseAddress!, ls = labelBuffer.baseAddress!
                        Parallel.forEach(range: n, grain: max(1, Self.elementwiseGrain / k)) { rows in
                            terrain_cross_entropy_rows_f32(floats(lp) + rows.lowerBound * k, ls + rows.lowerBound, rows.count, k, invN,
                                                           mutableFloats(gp) + rows.lowerBound * k, losses + rows.lowerBound,
                                                           args + rows.lowerBound)
                        }
                    }
                }
            }
            return (rowLoss, (0..<n).map { rowArgmax[$0] == Int(labels[$0]) })
        }
        var rowCorrect = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let row = lp + i * k, g = gp + i * k
            let label = Int(labels[i])
            precondition(label >= 0 && label < k, "label \(label) outside 0..<\(k)")
            // The arg-max as torch.max gives it: the first NaN if there is one (NaN ranks above
            // every number), else the first largest value.
            var maxV = Double(row[0]), arg = 0
            for j in 1..<max(k, 1) where Double(row[j]) > maxV || (row[j].isNaN && !maxV.isNaN) { maxV = Double(row[j]); arg = j }
            var sumExp = 0.0
            for j in 0..<k { sumExp += Double.exp(Double(row[j]) - maxV) }
            let logZ = maxV + Double.log(sumExp)
            rowLoss[i] = logZ - Double(row[label])
            rowCorrect[i] = arg == label
            for j in 0..<k {
                let p = Double.exp(Double(row[j]) - logZ)
                g[j] = T((p - (j == label ? 1 : 0)) * invN)
            }
        }
        return (rowLoss, rowCorrect)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func softmaxCrossEntropyTangent<T: TensorScalar>(logits: Tensor<T>, tangent: Tensor<T>) -> Tensor<T> {
        precondition(logits.rank == 2 && tangent.shape == logits.shape,
                     "cross-entropy tangent: logits \(logits.shape), tangent \(tangent.shape)")
        let n = logits.shape[0], k = logits.shape[1]
        var out = Tensor<T>(uninitializedShape: logits.shape)
        let lp = logits.pointer, tp = tangent.pointer, op = out.mutablePointer()
        let invN = 1 / Double(n)
        var p = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let row = lp + i * k, dz = tp + i * k, o = op + i * k
            var maxV = -Double.infinity
            for j in 0..<k { maxV = max(maxV, Double(row[j])) }
            var sumExp = 0.0
            for j in 0..<k { p[j] = Double.exp(Double(row[j]) - maxV); sumExp += p[j] }
            var pDotDz = 0.0
            for j in 0..<k { p[j] /= sumExp; pDotDz += p[j] * Double(dz[j]) }
            for j in 0..<k { o[j] = T(p[j] * (Double(dz[j]) - pDotDz) * invN) }
        }
        return out
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func meanSquaredError<T: TensorScalar>(prediction: Tensor<T>, target: Tensor<T>) -> LossResult<T> {
        precondition(prediction.count == target.count, "MSE: prediction \(prediction.shape) vs target \(target.shape)")
        var grad = Tensor<T>(uninitializedShape: prediction.shape)
        let pp = prediction.pointer, tp = target.pointer, gp = grad.mutablePointer()
        let count = prediction.count
        var total = 0.0
        let scale = 2 / Double(max(count, 1))
        for i in 0..<count {
            let d = Double(pp[i]) - Double(tp[i])
            total += d * d
            gp[i] = T(scale * d)
        }
        return LossResult(loss: total / Double(max(count, 1)), gradient: grad, correct: 0)
    }
}

/// out[i] = mask[i] <= 0 ? 0 : values[i] on Float over `range`, eight lanes at a time with a
/// compare-and-select: ReLU's forward pass (mask = values = x) and its backward and tangent passes
/// (mask = x, values = the gradient). The scalar loop compiled to a branch per element, which
/// mispredicts on half of a ReLU's inputs (it was 20% of a ResNet-20 Hessian-vector product, 3.5%
/// after). The test is `<= 0`, not `> 0`, so that NaN in `mask` selects `values` as PyTorch does:
/// relu(NaN) = NaN, and its backward (`threshold_backward`: result <= 0 ? 0 : g) passes the
/// gradient at NaN. One comparison either way, so the same cost.
/// A Float kernel's view of a pointer the caller has checked to be `Float`'s (T == Float).
@inline(__always)
func floats<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }

@inline(__always)
func mutableFloats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

private func selectWherePositive(mask: UnsafeRawPointer, values: UnsafeRawPointer, into out: UnsafeMutableRawPointer,
                                 _ range: Range<Int>) {
    let stride = MemoryLayout<Float>.stride
    var i = range.lowerBound
    let zero = SIMD8<Float>(repeating: 0)
    while i + 8 <= range.upperBound {
        let m = mask.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Float>.self)
        let v = values.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Float>.self)
        out.storeBytes(of: v.replacing(with: zero, where: m .<= zero), toByteOffset: i * stride, as: SIMD8<Float>.self)
        i += 8
    }
    while i < range.upperBound {
        let m = mask.load(fromByteOffset: i * stride, as: Float.self)
        out.storeBytes(of: m <= 0 ? 0 : values.load(fromByteOffset: i * stride, as: Float.self), toByteOffset: i * stride, as: Float.self)
        i += 1
    }
}
