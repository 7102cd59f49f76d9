import Foundation
import CDNNL
import CTerrainKernels
import TerrainTensor

extension CPUBackend {
    /// oneDNN's block program (see `CurvatureBlockProgram`), unless convolutions run as im2col.
    public func makeCurvatureBlockProgram(_ graph: InferenceGraph, batchSize: Int, probes: Int) -> CurvatureBlockProgram? {
        guard convolution == .oneDNN, batchSize > 0, probes > 0,
              let base = OneDNNCurvatureProgram(graph, batchSize: batchSize) else { return nil }
        return OneDNNCurvatureBlockProgram(base: base, probes: probes)
    }
}

/// A `CurvatureBlockProgram` of oneDNN convolutions, OpenBLAS/oneDNN inner products and the
/// block sweeps of `CTerrainKernels`, in the layouts of `OneDNNCurvatureProgram` (whose checks,
/// layouts, product offsets and kernel recipes it shares: it is built on one of batch n).
///
/// Per convolution step and chunk of n samples, with K probes:
/// - value pass: y = W ⊛ x (n samples); backward data g_x = Wᵀ ⊛ g_y (n);
/// - tangent pass: [ẏ₁ … ẏ_K] = W ⊛ [ẋ₁ … ẋ_K] (one convolution of K·n), then ẏ_k += V_k ⊛ x
///   (n each, a sum post-op); [ġ_x,1 … ġ_x,K] = Wᵀ ⊛ [ġ_y,1 … ġ_y,K] (K·n), then
///   ġ_x,k += V_kᵀ ⊛ g_y (n each); R{∂L/∂W}_k = x ⋆ ġ_y,k + ẋ_k ⋆ g_y (two weight-gradient
///   products of n samples, added in Float).
/// The first layer has no input tangent: ẏ_k = V_k ⊛ x, R{∂L/∂W}_k = x ⋆ ġ_y,k.
///
/// Against K separate products the block saves K − 1 value passes (one of three forward and
/// one of three backward-data convolutions per product), and all K value passes once the state
/// is kept; the batch of K·n samples also fills the kernels better than n.
final class OneDNNCurvatureBlockProgram: CurvatureBlockProgram {
    typealias Kernel = OneDNNCurvatureProgram.Kernel
    typealias WeightCopy = OneDNNCurvatureProgram.WeightCopy
    typealias Layout = OneDNNCurvatureProgram.Layout

    let base: OneDNNCurvatureProgram
    let probes: Int
    var graph: InferenceGraph { base.graph }
    var batchSize: Int { base.batchSize }
    var productCount: Int { base.productCount }
    func productOffset(_ slot: Int) -> Int { base.productOffset(slot) }

    /// The kernels and weight copies of one convolution step.
    struct Convolution {
        /// W ⊛ x (n samples); for the first layer also V_k ⊛ x.
        let value: Kernel
        /// W ⊛ [ẋ₁ … ẋ_K] (K·n), V_k ⊛ x added (n), Wᵀ ⊛ g (n, and V_kᵀ ⊛ g), Wᵀ ⊛ [ġ₁ … ġ_K]
        /// (K·n): nil for the first layer.
        let tangents: Kernel?, tangentSum: Kernel?, data: Kernel?, dataTangents: Kernel?
        /// x ⋆ g (n samples).
        let weights: Kernel
        let inputReorder: Kernel?
        let weightsOut: Kernel?
        let weightValue: WeightCopy
        let weightTangents, weightData, weightDataTangents: WeightCopy?
        /// V_k in `tangentSum`'s layout (the first layer: `value`'s) and in `data`'s.
        let tangentForward: [WeightCopy]
        let tangentData: [WeightCopy]
    }

    private var convolutions: [Convolution?] = []
    private var layouts: [Layout?] { base.layouts }
    /// Per slot: Terrain's W and each probe's V (inner products read them directly).
    private var slotWeights: [[Float]]
    private var slotTangents: [[[Float]]]
    private var coefficients: [(scale: [Float], shift: [Float], scaleTangents: [[Float]], shiftTangents: [[Float]])]
    private var scratchpadSize = 0
    private var weightGradientSize = 64
    private var idle: [Workspace] = []
    private let lock = NSLock()
    private(set) var stateByteCount = 0

    init?(base: OneDNNCurvatureProgram, probes: Int) {
        self.base = base
        self.probes = probes
        let slots = base.slotSteps.count
        slotWeights = Array(repeating: [], count: slots)
        slotTangents = Array(repeating: [], count: slots)
        coefficients = base.slotSteps.map { step in
            let f = base.graph.steps[step].outputShape[0]
            let zero = [Float](repeating: 0, count: f)
            return ([Float](repeating: 1, count: f), zero, Array(repeating: zero, count: probes), Array(repeating: zero, count: probes))
        }
        var bytes = 0
        for (i, step) in base.graph.steps.enumerated() {
            let size = base.layouts[i + 1]!.size * base.batchSize * 4
            bytes += 2 * size
            switch step.operation {
            case .convolution(let g, _):
                guard let made = makeConvolution(g, input: base.graph.shape(of: step.input), output: step.outputShape,
                                                 fromInput: step.input == 0) else { return nil }
                convolutions.append(made)
                bytes += 2 * size
                if let r = made.inputReorder { var d = r.md(dnnl_query_dst_md); bytes += dnnl_memory_desc_get_size(&d) }
                var d = made.weights.md(dnnl_query_diff_weights_md)
                weightGradientSize = max(weightGradientSize, dnnl_memory_desc_get_size(&d))
            case .innerProduct:
                convolutions.append(nil)
                bytes += 2 * size
            default:
                convolutions.append(nil)
            }
        }
        stateByteCount = bytes
        for case let c? in convolutions {
            for k in [c.value, c.tangents, c.tangentSum, c.data, c.dataTangents, c.weights] {
                if let pad = k?.scratchpad {
                    var d = pad
                    scratchpadSize = max(scratchpadSize, dnnl_memory_desc_get_size(&d))
                }
            }
        }
    }

    deinit { for w in idle { w.release() } }

    private func makeConvolution(_ g: Conv2dGeometry, input: [Int], output: [Int], fromInput: Bool) -> Convolution? {
        let n = batchSize, kn = probes * batchSize, f = output[0], c = input[0]
        let user = OneDNNCurvatureProgram.desc([f, c, g.kernel.height, g.kernel.width], dnnl_oihw)
        func copy(_ kernel: Kernel, _ query: dnnl_query_t) -> WeightCopy? {
            let md = kernel.md(query)
            guard let r = base.reorder(from: user, to: md) else { return nil }
            return WeightCopy(md: md, reorder: r)
        }
        func copies(_ kernel: Kernel) -> [WeightCopy]? {
            let made = (0..<probes).compactMap { _ in copy(kernel, dnnl_query_weights_md) }
            return made.count == probes ? made : nil
        }
        if fromInput {
            let any = OneDNNCurvatureProgram.desc([n] + input, dnnl_format_tag_any)
            guard let forward = base.convolutionKernel(kind: 0, g, input: input, output: output,
                                                       src: any, dst: base.blocked(n, output), sums: false) else { return nil }
            let src = forward.md(dnnl_query_src_md)
            guard let weights = base.convolutionKernel(kind: 2, g, input: input, output: output,
                                                       src: src, dst: base.blocked(n, output), sums: false),
                  let inputReorder = base.reorder(from: OneDNNCurvatureProgram.desc([n] + input, dnnl_nchw), to: src),
                  let weightsOut = base.reorder(from: weights.md(dnnl_query_diff_weights_md), to: user),
                  let w = copy(forward, dnnl_query_weights_md), let v = copies(forward) else { return nil }
            return Convolution(value: forward, tangents: nil, tangentSum: nil, data: nil, dataTangents: nil, weights: weights,
                               inputReorder: inputReorder, weightsOut: weightsOut, weightValue: w, weightTangents: nil,
                               weightData: nil, weightDataTangents: nil, tangentForward: v, tangentData: [])
        }
        func kernel(_ kind: Int32, _ samples: Int, sums: Bool) -> Kernel? {
            base.convolutionKernel(kind: kind, g, input: input, output: output, src: base.blocked(samples, input),
                                   dst: base.blocked(samples, output), sums: sums)
        }
        guard let value = kernel(0, n, sums: false), let tangents = kernel(0, kn, sums: false),
              let tangentSum = kernel(0, n, sums: true), let data = kernel(1, n, sums: false),
              let dataTangents = kernel(1, kn, sums: false), let weights = kernel(2, n, sums: false),
              let weightsOut = base.reorder(from: weights.md(dnnl_query_diff_weights_md), to: user),
              let wv = copy(value, dnnl_query_weights_md), let wt = copy(tangents, dnnl_query_weights_md),
              let wd = copy(data, dnnl_query_weights_md), let wdt = copy(dataTangents, dnnl_query_weights_md),
              let vf = copies(tangentSum), let vd = copies(data) else { return nil }
        return Convolution(value: value, tangents: tangents, tangentSum: tangentSum, data: data, dataTangents: dataTangents,
                           weights: weights, inputReorder: nil, weightsOut: weightsOut, weightValue: wv, weightTangents: wt,
                           weightData: wd, weightDataTangents: wdt, tangentForward: vf, tangentData: vd)
    }

    // MARK: Weights

    func setSlot(_ slot: Int, weight: UnsafeBufferPointer<Float>, tangents: [UnsafeBufferPointer<Float>],
                 scale: [Float], shift: [Float], scaleTangents: [[Float]], shiftTangents: [[Float]]) {
        let step = graph.steps[base.slotSteps[slot]]
        let f = step.outputShape[0]
        let count = base.weightShape(step).reduce(1, *)
        precondition(weight.count == count && tangents.count == probes && tangents.allSatisfy { $0.count == count },
                     "slot \(slot): \(probes) tangents of \(count) weights")
        precondition(scaleTangents.count == probes && shiftTangents.count == probes
                     && ([scale, shift] + scaleTangents + shiftTangents).allSatisfy { $0.count == f },
                     "slot \(slot): coefficients for \(f) outputs and \(probes) probes")
        coefficients[slot] = (scale, shift, scaleTangents, shiftTangents)
        guard let c = convolutions[base.slotSteps[slot]] else {
            slotWeights[slot] = Array(weight)
            slotTangents[slot] = tangents.map { Array($0) }
            return
        }
        omp_set_num_threads(1)
        var stream: dnnl_stream_t?
        base.check(dnnl_stream_create(&stream, base.engine, dnnl_stream_default_flags.rawValue))
        defer { dnnl_stream_destroy(stream) }
        let user = OneDNNCurvatureProgram.desc(base.weightShape(step), dnnl_oihw)
        func fill(_ copy: WeightCopy?, from source: UnsafeBufferPointer<Float>) {
            guard let copy else { return }
            guard let reorder = copy.reorder else {
                copy.buffer.copyMemory(from: source.baseAddress!, byteCount: source.count * 4)
                return
            }
            base.execute(reorder, stream: stream, [(DNNL_ARG_FROM, user, UnsafeMutableRawPointer(mutating: source.baseAddress!)),
                                                   (DNNL_ARG_TO, copy.md, copy.buffer)])
        }
        for copy in [c.weightValue, c.weightTangents, c.weightData, c.weightDataTangents] { fill(copy, from: weight) }
        for (k, tangent) in tangents.enumerated() {
            fill(c.tangentForward[k], from: tangent)
            if !c.tangentData.isEmpty { fill(c.tangentData[k], from: tangent) }
        }
        base.check(dnnl_stream_wait(stream))
    }

    // MARK: State and workspace

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(64, count * 4), alignment: 64).bindMemory(to: Float.self, capacity: max(16, count))
    }

    /// One chunk's θ-only results: per value v its n samples x_v and its loss gradient g_v; per
    /// step with weights its pre-epilogue y and ∂L/∂y; the first layer's reordered input.
    final class State: CurvatureChunkState {
        var values: [UnsafeMutablePointer<Float>] = [UnsafeMutablePointer(bitPattern: 64)!]
        var gradients: [UnsafeMutablePointer<Float>] = [UnsafeMutablePointer(bitPattern: 64)!]
        var pre: [UnsafeMutablePointer<Float>?] = []
        var preGradients: [UnsafeMutablePointer<Float>?] = []
        var inputs: [UnsafeMutablePointer<Float>?] = []
        let byteCount: Int
        var lossSum = 0.0
        var correct = 0

        init(program p: OneDNNCurvatureBlockProgram) {
            byteCount = p.stateByteCount
            let n = p.batchSize
            for (i, step) in p.graph.steps.enumerated() {
                let size = n * p.layouts[i + 1]!.size
                values.append(OneDNNCurvatureBlockProgram.allocate(size))
                gradients.append(OneDNNCurvatureBlockProgram.allocate(size))
                switch step.operation {
                case .convolution, .innerProduct:
                    pre.append(OneDNNCurvatureBlockProgram.allocate(size))
                    preGradients.append(OneDNNCurvatureBlockProgram.allocate(size))
                default:
                    pre.append(nil)
                    preGradients.append(nil)
                }
                if let r = p.convolutions[i]?.inputReorder {
                    var d = r.md(dnnl_query_dst_md)
                    inputs.append(OneDNNCurvatureBlockProgram.allocate(dnnl_memory_desc_get_size(&d) / 4))
                } else {
                    inputs.append(nil)
                }
            }
        }

        deinit {
            for v in values.dropFirst() { v.deallocate() }
            for g in gradients.dropFirst() { g.deallocate() }
            for case let p? in pre + preGradients + inputs { p.deallocate() }
        }
    }

    func makeState() -> CurvatureChunkState { State(program: self) }

    /// The buffers of one running thread's tangent pass: per value its K tangents and their
    /// gradients, per step with weights the K pre-epilogue tangents; scratch space.
    private final class Workspace {
        var tangents: [UnsafeMutablePointer<Float>] = [UnsafeMutablePointer(bitPattern: 64)!]
        var gradients: [UnsafeMutablePointer<Float>] = [UnsafeMutablePointer(bitPattern: 64)!]
        var pre: [UnsafeMutablePointer<Float>?] = []
        let temporary: UnsafeMutablePointer<Float>
        let scratchpad: UnsafeMutableRawPointer
        let weightGradient: UnsafeMutablePointer<Float>, secondWeightGradient: UnsafeMutablePointer<Float>
        var stream: dnnl_stream_t?

        init(program p: OneDNNCurvatureBlockProgram) {
            let kn = p.probes * p.batchSize
            var largest = 0
            for (i, step) in p.graph.steps.enumerated() {
                let size = p.layouts[i + 1]!.size
                largest = max(largest, size)
                tangents.append(OneDNNCurvatureBlockProgram.allocate(kn * size))
                gradients.append(OneDNNCurvatureBlockProgram.allocate(kn * size))
                switch step.operation {
                case .convolution, .innerProduct: pre.append(OneDNNCurvatureBlockProgram.allocate(kn * size))
                default: pre.append(nil)
                }
            }
            temporary = OneDNNCurvatureBlockProgram.allocate(kn * largest)
            scratchpad = UnsafeMutableRawPointer.allocate(byteCount: max(64, p.scratchpadSize), alignment: 64)
            weightGradient = OneDNNCurvatureBlockProgram.allocate(p.weightGradientSize / 4)
            secondWeightGradient = OneDNNCurvatureBlockProgram.allocate(p.weightGradientSize / 4)
            precondition(dnnl_stream_create(&stream, p.base.engine, dnnl_stream_default_flags.rawValue) == dnnl_success)
        }

        func release() {
            for t in tangents.dropFirst() { t.deallocate() }
            for g in gradients.dropFirst() { g.deallocate() }
            for case let p? in pre { p.deallocate() }
            temporary.deallocate()
            scratchpad.deallocate()
            weightGradient.deallocate()
            secondWeightGradient.deallocate()
            dnnl_stream_destroy(stream)
        }
    }

    // MARK: Running

    func run(input: UnsafePointer<Float>, state: CurvatureChunkState, fresh: Bool,
             valueLoss: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
             tangentLoss: (Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
             products: UnsafeMutablePointer<Float>) {
        guard let s = state as? State else { preconditionFailure("a chunk state of another program") }
        lock.lock()
        let workspace = idle.popLast()
        lock.unlock()
        omp_set_num_threads(1)
        let w = workspace ?? Workspace(program: self)
        if fresh {
            forwardValue(s, w, input: input)
            valueLoss(s.values.last!, s.gradients.last!)
            backwardValue(s, w)
        }
        forwardTangents(s, w, input: input)
        let half = batchSize * layouts.last!!.size
        for k in 0..<probes {
            tangentLoss(k, s.values.last!, w.tangents.last! + k * half, w.gradients.last! + k * half)
        }
        backwardTangents(s, w, input: input, products: products)
        lock.lock()
        idle.append(w)
        lock.unlock()
    }

    private func run(_ kernel: Kernel, _ w: Workspace, _ arguments: [(Int32, dnnl_query_t, UnsafeMutableRawPointer)],
                     weights: WeightCopy? = nil) {
        var list: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = arguments.map { ($0.0, kernel.md($0.1), $0.2) }
        if let weights { list.append((DNNL_ARG_WEIGHTS, weights.md, weights.buffer)) }
        if let pad = kernel.scratchpad { list.append((DNNL_ARG_SCRATCHPAD, pad, w.scratchpad)) }
        base.execute(kernel, stream: w.stream, list)
    }

    private func convolve(_ kernel: Kernel, _ w: Workspace, source: UnsafeMutableRawPointer, destination: UnsafeMutableRawPointer,
                          weights: WeightCopy) {
        run(kernel, w, [(DNNL_ARG_SRC, dnnl_query_src_md, source), (DNNL_ARG_DST, dnnl_query_dst_md, destination)], weights: weights)
    }

    private func convolveBackward(_ kernel: Kernel, _ w: Workspace, gradient: UnsafeMutableRawPointer, into target: UnsafeMutableRawPointer,
                                  weights: WeightCopy) {
        run(kernel, w, [(DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, gradient), (DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, target)],
            weights: weights)
    }

    private static func raw(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(p) }

    /// x (the reordered input for a first layer that has one).
    private func source(_ s: State, step i: Int, input: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> {
        let u = graph.steps[i].input
        return u == 0 ? (s.inputs[i] ?? UnsafeMutablePointer(mutating: input)) : s.values[u]
    }

    private func forwardValue(_ s: State, _ w: Workspace, input: UnsafePointer<Float>) {
        let n = batchSize
        for (i, step) in graph.steps.enumerated() {
            let u = step.input
            let target = s.values[i + 1]
            switch step.operation {
            case .convolution:
                let c = convolutions[i]!
                if u == 0, let r = c.inputReorder, let copy = s.inputs[i] {
                    run(r, w, [(DNNL_ARG_FROM, dnnl_query_src_md, UnsafeMutableRawPointer(mutating: input)),
                               (DNNL_ARG_TO, dnnl_query_dst_md, Self.raw(copy))])
                }
                convolve(c.value, w, source: Self.raw(source(s, step: i, input: input)), destination: Self.raw(s.pre[i]!), weights: c.weightValue)
                epilogueValue(i, s, y: s.pre[i]!, into: target)
            case .innerProduct(let f):
                let slot = step.weightSlot!, k = graph.shape(of: u).reduce(1, *)
                let x = u == 0 ? input : UnsafePointer(s.values[u])
                slotWeights[slot].withUnsafeBufferPointer { wt in
                    Float.gemm(transposeA: false, transposeB: true, m: n, n: f, k: k, alpha: 1, a: x, lda: k,
                               b: wt.baseAddress!, ldb: k, beta: 0, c: s.pre[i]!, ldc: f)
                }
                epilogueValue(i, s, y: s.pre[i]!, into: target)
            case .averagePool:
                CurvatureSweeps.averagePool(samples: n, layouts[u]!, s.values[u], into: target)
            case .add, .identity:
                epilogueValue(i, s, y: s.values[u], into: target)
            case .maxPool:
                preconditionFailure("max pooling is not compiled")
            }
        }
    }

    private func epilogueValue(_ i: Int, _ s: State, y: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
        let step = graph.steps[i], layout = layouts[i + 1]!
        let channels = layout.channels
        let one = [Float](repeating: 1, count: channels), zero = [Float](repeating: 0, count: channels)
        let k = step.weightSlot.map { coefficients[$0] }
        let addend = step.addend.map { UnsafePointer(s.values[$0]) }
        (k?.scale ?? one).withUnsafeBufferPointer { a in
            (k?.shift ?? zero).withUnsafeBufferPointer { c in
                terrain_curvature_forward_value(batchSize, channels, layout.spatial, layout.block, y, a.baseAddress, c.baseAddress,
                                                addend, step.activation == .relu ? 1 : 0, target)
            }
        }
    }

    private func epilogueTangent(_ i: Int, probe p: Int, _ s: State, _ w: Workspace, y: UnsafePointer<Float>, yDot: UnsafePointer<Float>,
                                 into target: UnsafeMutablePointer<Float>) {
        let step = graph.steps[i], layout = layouts[i + 1]!
        let channels = layout.channels, half = batchSize * layout.size
        let one = [Float](repeating: 1, count: channels), zero = [Float](repeating: 0, count: channels)
        let k = step.weightSlot.map { coefficients[$0] }
        let addend = step.addend.map { UnsafePointer(w.tangents[$0] + p * half) }
        (k?.scale ?? one).withUnsafeBufferPointer { a in
            (k?.scaleTangents[p] ?? zero).withUnsafeBufferPointer { aDot in
                (k?.shiftTangents[p] ?? zero).withUnsafeBufferPointer { cDot in
                    terrain_curvature_forward_tangent(batchSize, channels, layout.spatial, layout.block, y, yDot, a.baseAddress,
                                                      aDot.baseAddress, cDot.baseAddress, addend, s.values[i + 1],
                                                      step.activation == .relu ? 1 : 0, target)
                }
            }
        }
    }

    private func forwardTangents(_ s: State, _ w: Workspace, input: UnsafePointer<Float>) {
        let n = batchSize, kn = probes * batchSize
        for (i, step) in graph.steps.enumerated() {
            let u = step.input, layout = layouts[i + 1]!
            let half = n * layout.size
            let target = w.tangents[i + 1]
            switch step.operation {
            case .convolution:
                let c = convolutions[i]!, yDot = w.pre[i]!
                let x = Self.raw(source(s, step: i, input: input))
                if u == 0 {
                    for p in 0..<probes { convolve(c.value, w, source: x, destination: Self.raw(yDot + p * half), weights: c.tangentForward[p]) }
                } else {
                    convolve(c.tangents!, w, source: Self.raw(w.tangents[u]), destination: Self.raw(yDot), weights: c.weightTangents!)
                    for p in 0..<probes { convolve(c.tangentSum!, w, source: x, destination: Self.raw(yDot + p * half), weights: c.tangentForward[p]) }
                }
                for p in 0..<probes { epilogueTangent(i, probe: p, s, w, y: s.pre[i]!, yDot: yDot + p * half, into: target + p * half) }
            case .innerProduct(let f):
                let slot = step.weightSlot!, k = graph.shape(of: u).reduce(1, *), yDot = w.pre[i]!
                let x = u == 0 ? input : UnsafePointer(s.values[u])
                if u != 0 {
                    slotWeights[slot].withUnsafeBufferPointer { wt in
                        Float.gemm(transposeA: false, transposeB: true, m: kn, n: f, k: k, alpha: 1, a: w.tangents[u], lda: k,
                                   b: wt.baseAddress!, ldb: k, beta: 0, c: yDot, ldc: f)
                    }
                }
                for p in 0..<probes {
                    slotTangents[slot][p].withUnsafeBufferPointer { vt in
                        Float.gemm(transposeA: false, transposeB: true, m: n, n: f, k: k, alpha: 1, a: x, lda: k,
                                   b: vt.baseAddress!, ldb: k, beta: u == 0 ? 0 : 1, c: yDot + p * half, ldc: f)
                    }
                }
                for p in 0..<probes { epilogueTangent(i, probe: p, s, w, y: s.pre[i]!, yDot: yDot + p * half, into: target + p * half) }
            case .averagePool:
                CurvatureSweeps.averagePool(samples: kn, layouts[u]!, w.tangents[u], into: target)
            case .add, .identity:
                let inHalf = n * layouts[u]!.size
                for p in 0..<probes {
                    epilogueTangent(i, probe: p, s, w, y: s.values[u], yDot: w.tangents[u] + p * inHalf, into: target + p * half)
                }
            case .maxPool:
                preconditionFailure("max pooling is not compiled")
            }
        }
    }

    private func backwardValue(_ s: State, _ w: Workspace) {
        let n = batchSize
        var ready = [Bool](repeating: false, count: graph.steps.count + 1)
        ready[graph.steps.count] = true
        for i in graph.steps.indices.reversed() {
            let step = graph.steps[i]
            let v = i + 1, u = step.input, out = layouts[v]!
            let g = s.gradients[v]
            if !ready[v] {
                g.initialize(repeating: 0, count: n * out.size)
                ready[v] = true
            }
            let addend = step.addend.map { (s.gradients[$0], ready[$0]) }
            if let a = step.addend { ready[a] = true }
            func sweep(scale: [Float]?, into target: UnsafeMutablePointer<Float>, accumulate: Bool) {
                (scale ?? [Float](repeating: 1, count: out.channels)).withUnsafeBufferPointer { a in
                    terrain_curvature_backward_value(n, out.channels, out.spatial, out.block, g, step.activation == .relu ? s.values[v] : nil,
                                                     a.baseAddress, addend?.0, addend?.1 == true ? 1 : 0, target, accumulate ? 1 : 0)
                }
            }
            switch step.operation {
            case .convolution, .innerProduct:
                let slot = step.weightSlot!, gy = s.preGradients[i]!
                sweep(scale: coefficients[slot].scale, into: gy, accumulate: false)
                guard u != 0 else { continue }
                let gx = s.gradients[u], inSize = n * layouts[u]!.size
                if let c = convolutions[i] {
                    let direct = !ready[u]
                    convolveBackward(c.data!, w, gradient: Self.raw(gy), into: Self.raw(direct ? gx : w.temporary), weights: c.weightData!)
                    if !direct { CurvatureSweeps.add(w.temporary, into: gx, count: inSize) }
                } else {
                    let f = step.outputShape[0], k = graph.shape(of: u).reduce(1, *)
                    slotWeights[slot].withUnsafeBufferPointer { wt in
                        Float.gemm(transposeA: false, transposeB: false, m: n, n: k, k: f, alpha: 1, a: gy, lda: f,
                                   b: wt.baseAddress!, ldb: k, beta: ready[u] ? 1 : 0, c: gx, ldc: k)
                    }
                }
                ready[u] = true
            case .averagePool:
                CurvatureSweeps.averagePoolBackward(samples: n, layouts[u]!, gradient: g, into: s.gradients[u], accumulate: ready[u])
                ready[u] = true
            case .add, .identity:
                sweep(scale: nil, into: s.gradients[u], accumulate: ready[u])
                ready[u] = true
            case .maxPool:
                preconditionFailure("max pooling is not compiled")
            }
        }
    }

    private func backwardTangents(_ s: State, _ w: Workspace, input: UnsafePointer<Float>, products: UnsafeMutablePointer<Float>) {
        let n = batchSize, kn = probes * batchSize
        var ready = [Bool](repeating: false, count: graph.steps.count + 1)
        ready[graph.steps.count] = true
        for i in graph.steps.indices.reversed() {
            let step = graph.steps[i]
            let v = i + 1, u = step.input, out = layouts[v]!
            let half = n * out.size
            let gDot = w.gradients[v]
            if !ready[v] {
                gDot.initialize(repeating: 0, count: kn * out.size)
                ready[v] = true
            }
            let addend = step.addend.map { (w.gradients[$0], ready[$0]) }
            if let a = step.addend { ready[a] = true }
            let addendHalf = step.addend.map { n * layouts[$0]!.size } ?? 0
            /// Probe p's sweep: ġ_z (and g_z) from the value's gradients, into `target` + p's slice.
            func sweep(_ p: Int, scale: [Float]?, scaleTangent: [Float]?, y: UnsafePointer<Float>?, yDot: UnsafePointer<Float>?,
                       sums: UnsafeMutablePointer<Float>?, into target: UnsafeMutablePointer<Float>, accumulate: Bool) {
                let channels = out.channels
                var totals = [Double](repeating: 0, count: 3 * channels)
                (scale ?? [Float](repeating: 1, count: channels)).withUnsafeBufferPointer { a in
                    (scaleTangent ?? [Float](repeating: 0, count: channels)).withUnsafeBufferPointer { aDot in
                        totals.withUnsafeMutableBufferPointer { totals in
                            terrain_curvature_backward_tangent(n, channels, out.spatial, out.block, gDot + p * half, s.gradients[v],
                                                               step.activation == .relu ? s.values[v] : nil, y, yDot,
                                                               a.baseAddress, aDot.baseAddress, totals.baseAddress,
                                                               addend.map { $0.0 + p * addendHalf }, addend?.1 == true ? 1 : 0,
                                                               target, accumulate ? 1 : 0)
                        }
                    }
                }
                if let sums { for j in 0..<(3 * channels) { sums[j] = Float(totals[j]) } }
            }
            switch step.operation {
            case .convolution, .innerProduct:
                let slot = step.weightSlot!, k = coefficients[slot]
                let weightCount = base.weightShape(step).reduce(1, *)
                for p in 0..<probes {
                    let sums = products + p * productCount + base.productOffset(slot) + weightCount
                    sweep(p, scale: k.scale, scaleTangent: k.scaleTangents[p], y: s.pre[i]!, yDot: w.pre[i]! + p * half,
                          sums: sums, into: gDot + p * half, accumulate: false)
                }
                if let c = convolutions[i] {
                    backwardConvolution(i, c, s, w, u: u, input: input, products: products, ready: &ready)
                } else {
                    backwardInnerProduct(i, s, w, u: u, input: input, products: products, ready: &ready)
                }
            case .averagePool:
                CurvatureSweeps.averagePoolBackward(samples: kn, layouts[u]!, gradient: gDot, into: w.gradients[u], accumulate: ready[u])
                ready[u] = true
            case .add, .identity:
                let inHalf = n * layouts[u]!.size
                for p in 0..<probes {
                    sweep(p, scale: nil, scaleTangent: nil, y: nil, yDot: nil, sums: nil, into: w.gradients[u] + p * inHalf, accumulate: ready[u])
                }
                ready[u] = true
            case .maxPool:
                preconditionFailure("max pooling is not compiled")
            }
        }
    }

    private func backwardConvolution(_ i: Int, _ c: Convolution, _ s: State, _ w: Workspace, u: Int, input: UnsafePointer<Float>,
                                     products: UnsafeMutablePointer<Float>, ready: inout [Bool]) {
        let step = graph.steps[i], slot = step.weightSlot!, n = batchSize
        let outHalf = n * layouts[i + 1]!.size
        let gyDot = w.gradients[i + 1], gy = s.preGradients[i]!
        let weightCount = base.weightShape(step).reduce(1, *)
        let dw = w.weightGradient, dw2 = w.secondWeightGradient
        let x = Self.raw(source(s, step: i, input: input))
        for p in 0..<probes {
            // R{∂L/∂W}_k = x ⋆ ġ_y,k + ẋ_k ⋆ g_y.
            run(c.weights, w, [(DNNL_ARG_SRC, dnnl_query_src_md, x), (DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, Self.raw(gyDot + p * outHalf)),
                               (DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, Self.raw(dw))])
            if u != 0 {
                run(c.weights, w, [(DNNL_ARG_SRC, dnnl_query_src_md, Self.raw(w.tangents[u] + p * n * layouts[u]!.size)),
                                   (DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, Self.raw(gy)),
                                   (DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, Self.raw(dw2))])
                CurvatureSweeps.add(dw2, into: dw, count: weightGradientSize / 4)
            }
            let target = products + p * productCount + base.productOffset(slot)
            if let out = c.weightsOut {
                run(out, w, [(DNNL_ARG_FROM, dnnl_query_src_md, Self.raw(dw)), (DNNL_ARG_TO, dnnl_query_dst_md, Self.raw(target))])
            } else {
                target.update(from: dw, count: weightCount)
            }
        }
        guard u != 0 else { return }
        let inHalf = n * layouts[u]!.size
        let gx = w.gradients[u]
        let direct = !ready[u]
        convolveBackward(c.dataTangents!, w, gradient: Self.raw(gyDot), into: Self.raw(direct ? gx : w.temporary), weights: c.weightDataTangents!)
        if !direct { CurvatureSweeps.add(w.temporary, into: gx, count: probes * inHalf) }
        ready[u] = true
        for p in 0..<probes {
            // ġ_x,k += V_kᵀ ⊛ g_y.
            convolveBackward(c.data!, w, gradient: Self.raw(gy), into: Self.raw(w.temporary), weights: c.tangentData[p])
            CurvatureSweeps.add(w.temporary, into: gx + p * inHalf, count: inHalf)
        }
    }

    private func backwardInnerProduct(_ i: Int, _ s: State, _ w: Workspace, u: Int, input: UnsafePointer<Float>, products: UnsafeMutablePointer<Float>,
                                      ready: inout [Bool]) {
        let step = graph.steps[i], slot = step.weightSlot!, n = batchSize, kn = probes * batchSize
        let f = step.outputShape[0], k = graph.shape(of: u).reduce(1, *)
        let gyDot = w.gradients[i + 1], gy = s.preGradients[i]!
        let x = u == 0 ? input : UnsafePointer(s.values[u])
        for p in 0..<probes {
            let target = products + p * productCount + base.productOffset(slot)
            // R{∂L/∂W}_k = ġ_y,kᵀ x + g_yᵀ ẋ_k.
            Float.gemm(transposeA: true, transposeB: false, m: f, n: k, k: n, alpha: 1, a: gyDot + p * n * f, lda: f, b: x, ldb: k,
                       beta: 0, c: target, ldc: k)
            if u != 0 {
                Float.gemm(transposeA: true, transposeB: false, m: f, n: k, k: n, alpha: 1, a: gy, lda: f, b: w.tangents[u] + p * n * k,
                           ldb: k, beta: 1, c: target, ldc: k)
            }
        }
        guard u != 0 else { return }
        let gx = w.gradients[u]
        slotWeights[slot].withUnsafeBufferPointer { wt in
            Float.gemm(transposeA: false, transposeB: false, m: kn, n: k, k: f, alpha: 1, a: gyDot, lda: f,
                       b: wt.baseAddress!, ldb: k, beta: ready[u] ? 1 : 0, c: gx, ldc: k)
        }
        for p in 0..<probes {
            slotTangents[slot][p].withUnsafeBufferPointer { vt in
                Float.gemm(transposeA: false, transposeB: false, m: n, n: k, k: f, alpha: 1, a: gy, lda: f,
                           b: vt.baseAddress!, ldb: k, beta: 1, c: gx + p * n * k, ldc: k)
            }
        }
        ready[u] = true
    }
}
