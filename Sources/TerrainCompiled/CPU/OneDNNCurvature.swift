import Foundation
import CDNNL
import TerrainTensor

extension CPUBackend {
    /// oneDNN's curvature program, unless convolutions are set to run as im2col.
    public func makeCurvatureProgram(_ graph: InferenceGraph, batchSize: Int) -> CurvatureProgram? {
        guard convolution == .oneDNN, batchSize > 0 else { return nil }
        return OneDNNCurvatureProgram(graph, batchSize: batchSize)
    }
}

/// A `CurvatureProgram` of oneDNN convolutions, OpenBLAS inner products and Swift sweeps over
/// values kept in blocked channels (B = 16 where oneDNN's kernels use AVX-512, else 8) from the
/// first convolution to the last.
///
/// A value of n samples is stored with its tangent as one batch of 2n ("a pair": the value, then
/// its tangent); a gradient pair holds R{∂L/∂·} first, then ∂L/∂·. With those orders a
/// convolution step runs, per chunk:
/// - forward: [y; ẏ′] = W ⊛ [x; ẋ], then ẏ = ẏ′ + V ⊛ x (a sum post-op);
/// - backward data: [ġ_x′; g_x] = Wᵀ ⊛ [ġ_y; g_y], then ġ_x = ġ_x′ + Vᵀ ⊛ g_y;
/// - backward weights: R{∂L/∂W} = Σ [x; ẋ] ⋆ [ġ_y; g_y] = x ⋆ ġ_y + ẋ ⋆ g_y, one product.
/// The network's input has no tangent, so the first layer runs W ⊛ x and V ⊛ x, x ⋆ ġ_y, and no
/// backward-data product at all. Wide 3x3 stride-1 convolutions use oneDNN's Winograd kernels
/// (F(4x4, 3x3): 4x fewer multiplications, transforms aside; see `usesWinograd`); the products
/// stay within 1e-6 relative of the layers' (the tests hold each group to 1e-5).
///
/// Each run takes a workspace (every buffer of a chunk: about 70 MB for ResNet-20 and 16 images)
/// from the program's pool, so threads run chunks side by side; weights reach the kernels'
/// layouts once per `setSlot`, not once per chunk.
///
/// Supported steps: convolutions (no groups or dilation) whose input is the network's input or a
/// value whose channels fill whole blocks, inner products on flat values (or the input),
/// global average pooling, residual additions, identities, and ReLU as the only activation.
/// Anything else gives nil, and the caller runs the layers.
final class OneDNNCurvatureProgram: CurvatureProgram {
    let graph: InferenceGraph
    let batchSize: Int
    let engine: dnnl_engine_t
    /// Channels per block of image values.
    private let block: Int

    /// Where value v's elements lie: sample i, channel c = cb·block + lane, position s at
    /// ((i·C/block + cb)·S + s)·block + lane. Flat values have one block of all channels.
    struct Layout {
        let channels: Int, spatial: Int, block: Int
        var size: Int { channels * spatial }
    }

    /// A primitive and its descriptor.
    final class Kernel {
        let primitive: dnnl_primitive_t
        let descriptor: dnnl_primitive_desc_t
        init?(_ pd: dnnl_primitive_desc_t) {
            var made: dnnl_primitive_t?
            guard dnnl_primitive_create(&made, pd) == dnnl_success, let made else {
                dnnl_primitive_desc_destroy(pd); return nil
            }
            primitive = made
            descriptor = pd
        }
        func md(_ query: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
            dnnl_primitive_desc_query_md(descriptor, query, index)!.pointee
        }
        var scratchpad: dnnl_memory_desc_t? {
            guard let d = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0),
                  dnnl_memory_desc_get_size(d) > 0 else { return nil }
            return d.pointee
        }
        deinit {
            dnnl_primitive_destroy(primitive)
            dnnl_primitive_desc_destroy(descriptor)
        }
    }

    /// Weights in a kernel's layout, copied from Terrain's at `setSlot`.
    final class WeightCopy {
        let md: dnnl_memory_desc_t
        let buffer: UnsafeMutableRawPointer
        /// From Terrain's layout; nil when the layouts agree.
        let reorder: Kernel?
        init(md: dnnl_memory_desc_t, reorder: Kernel?) {
            var d = md
            self.md = md
            self.reorder = reorder
            buffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, dnnl_memory_desc_get_size(&d)), alignment: 64)
        }
        deinit { buffer.deallocate() }
    }

    /// The kernels of one convolution step.
    struct Convolution {
        /// W ⊛ [x; ẋ] (nil for the first layer).
        let forwardPair: Kernel?
        /// The first layer: W ⊛ x and V ⊛ x; else V ⊛ x added to what the output holds.
        let forwardSingle: Kernel
        let backwardDataPair: Kernel?
        let backwardDataSingle: Kernel?
        /// [x; ẋ] ⋆ [ġ_y; g_y], or x ⋆ ġ_y for the first layer.
        let backwardWeights: Kernel
        /// The first layer: the caller's NCHW input into `forwardSingle`'s layout.
        let inputReorder: Kernel?
        /// The weight gradient into Terrain's layout (nil when they agree).
        let weightsOut: Kernel?
        let weightForward, tangentForward: WeightCopy
        let weightBackward, tangentBackward: WeightCopy?
    }

    /// Per step: its kernels (convolutions) and the layout of what it produces.
    private var convolutions: [Convolution?] = []
    private(set) var layouts: [Layout?] = []
    /// Per weight slot: the step that reads it, Terrain's weights, and the epilogue coefficients.
    private(set) var slotSteps: [Int] = []
    private var slotWeights: [[Float]] = []
    private var slotTangents: [[Float]] = []
    private var coefficients: [(scale: [Float], shift: [Float], scaleTangent: [Float], shiftTangent: [Float])] = []
    private var offsets: [Int] = []
    private(set) var productCount = 0
    private var scratchpadSize = 0
    private var idle: [Workspace] = []
    private let lock = NSLock()

    init?(_ graph: InferenceGraph, batchSize n: Int) {
        guard let engine = OneDNN.engine, !graph.steps.isEmpty else { return nil }
        self.graph = graph
        self.batchSize = n
        self.engine = engine
        let isa = dnnl_get_effective_cpu_isa().rawValue
        block = (isa & dnnl_cpu_isa_avx512_core.rawValue) == dnnl_cpu_isa_avx512_core.rawValue ? 16 : 8
        omp_set_num_threads(1)

        // Layouts, and what each value may be read by.
        layouts = [nil]
        for step in graph.steps {
            let shape = step.outputShape
            if shape.count == 1 {
                layouts.append(Layout(channels: shape[0], spatial: 1, block: shape[0]))
            } else if shape.count == 3, shape[0] % block == 0 {
                layouts.append(Layout(channels: shape[0], spatial: shape[1] * shape[2], block: block))
            } else if shape.count == 3, shape[1] * shape[2] == 1 {
                layouts.append(Layout(channels: shape[0], spatial: 1, block: shape[0]))
            } else {
                return nil
            }
            if let activation = step.activation, activation != .relu { return nil }
            if step.addend == 0 { return nil }
        }
        guard let last = layouts.last!, last.spatial == 1 else { return nil }

        slotSteps = Array(repeating: -1, count: graph.weightSlotCount)
        var offset = 0
        offsets = Array(repeating: 0, count: graph.weightSlotCount)
        for (i, step) in graph.steps.enumerated() {
            let inShape = graph.shape(of: step.input)
            let outLayout = layouts[i + 1]!
            switch step.operation {
            case .convolution(let g, let f):
                guard let slot = step.weightSlot, slotSteps[slot] < 0, inShape.count == 3,
                      step.input == 0 || inShape[0] % block == 0, f % block == 0, outLayout.block == block,
                      let made = makeConvolution(g, input: inShape, output: step.outputShape, fromInput: step.input == 0)
                else { return nil }
                convolutions.append(made)
                slotSteps[slot] = i
                offsets[slot] = offset
                offset += weightShape(step).reduce(1, *) + 3 * f
            case .innerProduct(let f):
                guard let slot = step.weightSlot, slotSteps[slot] < 0,
                      step.input == 0 || layouts[step.input]!.spatial == 1 else { return nil }
                convolutions.append(nil)
                slotSteps[slot] = i
                offsets[slot] = offset
                offset += weightShape(step).reduce(1, *) + 3 * f
            case .averagePool(let g):
                // Global pooling only: one output position per channel, no padding.
                guard step.input != 0, inShape.count == 3, g.kernel.height == inShape[1], g.kernel.width == inShape[2],
                      g.padding.height == 0, g.padding.width == 0, step.activation == nil, step.addend == nil,
                      layouts[step.input]!.block == block || layouts[step.input]!.spatial == 1 else { return nil }
                convolutions.append(nil)
            case .add:
                guard step.input != 0, step.addend != nil else { return nil }
                convolutions.append(nil)
            case .identity:
                guard step.input != 0 else { return nil }
                convolutions.append(nil)
            case .maxPool:
                return nil
            }
        }
        guard !slotSteps.contains(-1) else { return nil }
        productCount = offset
        slotWeights = Array(repeating: [], count: slotSteps.count)
        slotTangents = Array(repeating: [], count: slotSteps.count)
        coefficients = slotSteps.map { step in
            let f = graph.steps[step].outputShape[0]
            let zero = [Float](repeating: 0, count: f)
            return ([Float](repeating: 1, count: f), zero, zero, zero)
        }
        for case let c? in convolutions {
            for k in [c.forwardPair, c.forwardSingle, c.backwardDataPair, c.backwardDataSingle, c.backwardWeights] {
                if let pad = k?.scratchpad {
                    var d = pad
                    scratchpadSize = max(scratchpadSize, dnnl_memory_desc_get_size(&d))
                }
            }
        }
    }

    deinit {
        for w in idle { w.release() }
    }

    func productOffset(_ slot: Int) -> Int { offsets[slot] }

    // MARK: Building

    /// Descriptors here are of rank 4 (images and convolution weights), which oneDNN always accepts.
    static func desc(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        guard let md = OneDNN.memoryDesc(dims, tag) else { preconditionFailure("no oneDNN descriptor for \(dims)") }
        return md
    }

    /// `n` images of `shape` in blocked channels.
    func blocked(_ n: Int, _ shape: [Int]) -> dnnl_memory_desc_t {
        Self.desc([n] + shape, block == 16 ? dnnl_aBcd16b : dnnl_aBcd8b)
    }

    func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) -> Kernel?? {
        var from = from, to = to
        if dnnl_memory_desc_equal(&from, &to) != 0 { return .some(nil) }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_reorder_primitive_desc_create(&pd, &from, engine, &to, engine, nil) == dnnl_success, let pd,
              let kernel = Kernel(pd) else { return nil }
        return .some(kernel)
    }

    /// Whether a convolution of this shape runs Winograd's algorithm for `kind` (0 forward, 1
    /// backward data, 2 backward weights): 3x3, stride 1, padding 1, with at least 32 channels in
    /// and out (64 for weight gradients). Measured on ResNet-20's layers (2 AVX-512 cores, chunks
    /// of 16, each kernel's time per HVP): with 16 channels the direct kernels are 1.2-1.6x faster
    /// in every direction; with 32, Winograd's are up to 1.26x faster forward and backward-data but
    /// 1.09x slower for weight gradients; with 64, 1.3-1.7x faster in all three. A function of the
    /// shape alone, so a product's bits do not depend on timing. `TERRAIN_WINOGRAD=0` turns it off.
    static func usesWinograd(kind: Int32, _ g: Conv2dGeometry, inputChannels c: Int, outputChannels f: Int) -> Bool {
        if let setting = getenv("TERRAIN_WINOGRAD"), String(cString: setting) == "0" { return false }
        let least = kind == 2 ? 64 : 32
        return g.kernel.height == 3 && g.kernel.width == 3 && g.stride.height == 1 && g.stride.width == 1
            && g.padding.height == 1 && g.padding.width == 1 && c % 16 == 0 && f % 16 == 0 && c >= least && f >= least
    }

    /// kind: 0 forward, 1 backward data, 2 backward weights.
    func convolutionKernel(kind: Int32, _ g: Conv2dGeometry, input: [Int], output: [Int],
                                   src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, sums: Bool) -> Kernel? {
        let f = output[0]
        let winograd = Self.usesWinograd(kind: kind, g, inputChannels: input[0], outputChannels: f)
        var src = src, dst = dst
        var weights = Self.desc([f, input[0], g.kernel.height, g.kernel.width], dnnl_format_tag_any)
        let rightH = OneDNN.endPadding(size: input[1], kernel: g.kernel.height, stride: g.stride.height, padding: g.padding.height, output: output[1])
        let rightW = OneDNN.endPadding(size: input[2], kernel: g.kernel.width, stride: g.stride.width, padding: g.padding.width, output: output[2])
        func describe(_ kind: Int32, _ algorithm: Int32) -> dnnl_convolution_desc_t? {
            var cd = dnnl_convolution_desc_t()
            return terrain_dnnl_convolution_desc_algorithm(&cd, kind, algorithm, &src, &weights, nil, &dst,
                                                           Int64(g.stride.height), Int64(g.stride.width),
                                                           Int64(g.padding.height), Int64(g.padding.width),
                                                           Int64(rightH), Int64(rightW)) == dnnl_success ? cd : nil
        }
        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        guard dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user) == dnnl_success else { return nil }
        if sums {
            var postOps: dnnl_post_ops_t?
            guard dnnl_post_ops_create(&postOps) == dnnl_success, let postOps else { return nil }
            defer { dnnl_post_ops_destroy(postOps) }
            guard dnnl_post_ops_append_sum(postOps, 1) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attributes, postOps) == dnnl_success else { return nil }
        }
        for algorithm: Int32 in winograd ? [1, 0] : [0] {
            var pd: dnnl_primitive_desc_t?
            if kind == 0 {
                guard var cd = describe(0, algorithm) else { continue }
                guard dnnl_primitive_desc_create(&pd, &cd, attributes, engine, nil) == dnnl_success, let pd else { continue }
                return Kernel(pd)
            }
            guard var forward = describe(3, algorithm), var cd = describe(kind, algorithm) else { continue }
            var hint: dnnl_primitive_desc_t?
            guard dnnl_primitive_desc_create(&hint, &forward, nil, engine, nil) == dnnl_success, let hint else { continue }
            defer { dnnl_primitive_desc_destroy(hint) }
            guard dnnl_primitive_desc_create(&pd, &cd, attributes, engine, hint) == dnnl_success, let pd else { continue }
            return Kernel(pd)
        }
        return nil
    }

    private func makeConvolution(_ g: Conv2dGeometry, input: [Int], output: [Int], fromInput: Bool) -> Convolution? {
        guard g.groups == 1, g.dilation.height == 1, g.dilation.width == 1 else { return nil }
        let n = batchSize, f = output[0], c = input[0]
        let user = Self.desc([f, c, g.kernel.height, g.kernel.width], dnnl_oihw)
        func copy(_ kernel: Kernel, _ query: dnnl_query_t) -> WeightCopy? {
            let md = kernel.md(query)
            guard let r = reorder(from: user, to: md) else { return nil }
            return WeightCopy(md: md, reorder: r)
        }
        if fromInput {
            let any = Self.desc([n] + input, dnnl_format_tag_any)
            guard let forward = convolutionKernel(kind: 0, g, input: input, output: output,
                                                  src: any, dst: blocked(n, output), sums: false) else { return nil }
            let src = forward.md(dnnl_query_src_md)
            guard let weights = convolutionKernel(kind: 2, g, input: input, output: output,
                                                  src: src, dst: blocked(n, output), sums: false),
                  let inputReorder = reorder(from: Self.desc([n] + input, dnnl_nchw), to: src),
                  let weightsOut = reorder(from: weights.md(dnnl_query_diff_weights_md), to: user),
                  let w = copy(forward, dnnl_query_weights_md), let v = copy(forward, dnnl_query_weights_md) else { return nil }
            return Convolution(forwardPair: nil, forwardSingle: forward, backwardDataPair: nil, backwardDataSingle: nil,
                               backwardWeights: weights, inputReorder: inputReorder, weightsOut: weightsOut,
                               weightForward: w, tangentForward: v, weightBackward: nil, tangentBackward: nil)
        }
        guard let forwardPair = convolutionKernel(kind: 0, g, input: input, output: output,
                                                  src: blocked(2 * n, input), dst: blocked(2 * n, output), sums: false),
              let forwardSingle = convolutionKernel(kind: 0, g, input: input, output: output,
                                                    src: blocked(n, input), dst: blocked(n, output), sums: true),
              let dataPair = convolutionKernel(kind: 1, g, input: input, output: output,
                                               src: blocked(2 * n, input), dst: blocked(2 * n, output), sums: false),
              let dataSingle = convolutionKernel(kind: 1, g, input: input, output: output,
                                                 src: blocked(n, input), dst: blocked(n, output), sums: false),
              let weights = convolutionKernel(kind: 2, g, input: input, output: output,
                                              src: blocked(2 * n, input), dst: blocked(2 * n, output), sums: false),
              let weightsOut = reorder(from: weights.md(dnnl_query_diff_weights_md), to: user),
              let wf = copy(forwardPair, dnnl_query_weights_md), let vf = copy(forwardSingle, dnnl_query_weights_md),
              let wb = copy(dataPair, dnnl_query_weights_md), let vb = copy(dataSingle, dnnl_query_weights_md)
        else { return nil }
        return Convolution(forwardPair: forwardPair, forwardSingle: forwardSingle, backwardDataPair: dataPair,
                           backwardDataSingle: dataSingle, backwardWeights: weights, inputReorder: nil, weightsOut: weightsOut,
                           weightForward: wf, tangentForward: vf, weightBackward: wb, tangentBackward: vb)
    }

    // MARK: Weights

    func setSlot(_ slot: Int, weight: UnsafeBufferPointer<Float>, tangent: UnsafeBufferPointer<Float>,
                 scale: [Float], shift: [Float], scaleTangent: [Float], shiftTangent: [Float]) {
        let step = graph.steps[slotSteps[slot]]
        let f = step.outputShape[0]
        let count = weightShape(step).reduce(1, *)
        precondition(weight.count == count && tangent.count == count, "slot \(slot): \(weight.count) weights for \(count)")
        precondition([scale, shift, scaleTangent, shiftTangent].allSatisfy { $0.count == f }, "slot \(slot): coefficients for \(f) outputs")
        coefficients[slot] = (scale, shift, scaleTangent, shiftTangent)
        guard let c = convolutions[slotSteps[slot]] else {
            slotWeights[slot] = Array(weight)
            slotTangents[slot] = Array(tangent)
            return
        }
        omp_set_num_threads(1)
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue))
        defer { dnnl_stream_destroy(stream) }
        let user = Self.desc(weightShape(step), dnnl_oihw)
        func fill(_ copy: WeightCopy?, from source: UnsafeBufferPointer<Float>) {
            guard let copy else { return }
            guard let reorder = copy.reorder else {
                copy.buffer.copyMemory(from: source.baseAddress!, byteCount: source.count * 4)
                return
            }
            execute(reorder, stream: stream, [(DNNL_ARG_FROM, user, UnsafeMutableRawPointer(mutating: source.baseAddress!)),
                                              (DNNL_ARG_TO, copy.md, copy.buffer)])
        }
        fill(c.weightForward, from: weight)
        fill(c.tangentForward, from: tangent)
        fill(c.weightBackward, from: weight)
        fill(c.tangentBackward, from: tangent)
        check(dnnl_stream_wait(stream))
    }

    private func isConvolution(_ step: InferenceGraph.Step) -> Bool {
        if case .convolution = step.operation { return true }
        return false
    }

    func weightShape(_ step: InferenceGraph.Step) -> [Int] {
        let inShape = graph.shape(of: step.input)
        switch step.operation {
        case .convolution(let g, let f): return [f, inShape[0], g.kernel.height, g.kernel.width]
        default: return [step.outputShape[0], inShape.reduce(1, *)]
        }
    }

    func execute(_ kernel: Kernel, stream: dnnl_stream_t?, _ arguments: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)]) {
        var memories: [dnnl_memory_t?] = []
        var args: [dnnl_exec_arg_t] = []
        for (argument, md, pointer) in arguments {
            var d = md
            var memory: dnnl_memory_t?
            check(dnnl_memory_create(&memory, &d, engine, pointer))
            memories.append(memory)
            args.append(dnnl_exec_arg_t(arg: argument, memory: memory))
        }
        check(dnnl_primitive_execute(kernel.primitive, stream, Int32(args.count), &args))
        for m in memories { dnnl_memory_destroy(m) }
    }

    func check(_ status: dnnl_status_t) {
        // Every shape and layout was settled when the program was made: a failure is a bug.
        precondition(status == dnnl_success, "oneDNN curvature program failed with status \(status.rawValue)")
    }

    // MARK: Running

    func run(input: UnsafePointer<Float>,
             loss: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
             products: UnsafeMutablePointer<Float>) {
        lock.lock()
        let workspace = idle.popLast()
        lock.unlock()
        omp_set_num_threads(1)
        let w = workspace ?? Workspace(program: self)
        forward(w, input: input)
        let out = layouts.last!!
        let n = batchSize, half = n * out.size
        let value = w.values.last!, gradient = w.gradients.last!
        // Gradient pairs hold R{∂L/∂·} first.
        loss(value, value + half, gradient + half, gradient)
        backward(w, input: input, products: products)
        lock.lock()
        idle.append(w)
        lock.unlock()
    }

    /// The buffers of one running thread: a pair per value, the pre-epilogue pair of each step
    /// with weights, a gradient pair per value, scratch space.
    private final class Workspace {
        var values: [UnsafeMutablePointer<Float>] = []
        var products: [UnsafeMutablePointer<Float>?] = []
        var gradients: [UnsafeMutablePointer<Float>] = []
        var inputs: [UnsafeMutablePointer<Float>?] = []
        let temporary: UnsafeMutablePointer<Float>
        let scratchpad: UnsafeMutableRawPointer
        let diffWeights: UnsafeMutableRawPointer
        var stream: dnnl_stream_t?

        init(program p: OneDNNCurvatureProgram) {
            let n = p.batchSize
            func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
                UnsafeMutableRawPointer.allocate(byteCount: max(64, count * 4), alignment: 64).bindMemory(to: Float.self, capacity: count)
            }
            var largest = 0, largestWeights = 64
            values.append(UnsafeMutablePointer(bitPattern: 64)!)
            gradients.append(UnsafeMutablePointer(bitPattern: 64)!)
            for (i, step) in p.graph.steps.enumerated() {
                let size = p.layouts[i + 1]!.size
                largest = max(largest, size)
                values.append(allocate(2 * n * size))
                gradients.append(allocate(2 * n * size))
                switch step.operation {
                case .convolution, .innerProduct: products.append(allocate(2 * n * size))
                default: products.append(nil)
                }
                if let c = p.convolutions[i] {
                    var d = c.backwardWeights.md(dnnl_query_diff_weights_md)
                    largestWeights = max(largestWeights, dnnl_memory_desc_get_size(&d))
                    if let r = c.inputReorder {
                        var s = r.md(dnnl_query_dst_md)
                        inputs.append(allocate(dnnl_memory_desc_get_size(&s) / 4))
                    } else {
                        inputs.append(nil)
                    }
                } else {
                    inputs.append(nil)
                }
            }
            temporary = allocate(2 * n * largest)
            scratchpad = UnsafeMutableRawPointer.allocate(byteCount: max(64, p.scratchpadSize), alignment: 64)
            diffWeights = UnsafeMutableRawPointer.allocate(byteCount: largestWeights, alignment: 64)
            precondition(dnnl_stream_create(&stream, p.engine, dnnl_stream_default_flags.rawValue) == dnnl_success)
        }

        func release() {
            for v in values.dropFirst() { v.deallocate() }
            for g in gradients.dropFirst() { g.deallocate() }
            for case let p? in products { p.deallocate() }
            for case let p? in inputs { p.deallocate() }
            temporary.deallocate()
            scratchpad.deallocate()
            diffWeights.deallocate()
            dnnl_stream_destroy(stream)
        }
    }

    /// Runs a convolution kernel on raw buffers (with the scratchpad when it has one).
    private func run(_ kernel: Kernel, _ w: Workspace, _ arguments: [(Int32, dnnl_query_t, UnsafeMutableRawPointer)],
                     weights: WeightCopy? = nil) {
        var list: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = arguments.map { ($0.0, kernel.md($0.1), $0.2) }
        if let weights { list.append((DNNL_ARG_WEIGHTS, weights.md, weights.buffer)) }
        if let pad = kernel.scratchpad { list.append((DNNL_ARG_SCRATCHPAD, pad, w.scratchpad)) }
        execute(kernel, stream: w.stream, list)
    }

    private func forward(_ w: Workspace, input: UnsafePointer<Float>) {
        let n = batchSize
        let source = UnsafeMutableRawPointer(mutating: input)
        for (i, step) in graph.steps.enumerated() {
            let u = step.input, out = layouts[i + 1]!
            let half = n * out.size
            let target = w.values[i + 1]
            switch step.operation {
            case .convolution:
                let c = convolutions[i]!, y = w.products[i]!
                if u == 0 {
                    var x = source
                    if let r = c.inputReorder, let copy = w.inputs[i] {
                        run(r, w, [(DNNL_ARG_FROM, dnnl_query_src_md, source), (DNNL_ARG_TO, dnnl_query_dst_md, UnsafeMutableRawPointer(copy))])
                        x = UnsafeMutableRawPointer(copy)
                    }
                    run(c.forwardSingle, w, [(DNNL_ARG_SRC, dnnl_query_src_md, x), (DNNL_ARG_DST, dnnl_query_dst_md, UnsafeMutableRawPointer(y))],
                        weights: c.weightForward)
                    run(c.forwardSingle, w, [(DNNL_ARG_SRC, dnnl_query_src_md, x), (DNNL_ARG_DST, dnnl_query_dst_md, UnsafeMutableRawPointer(y + half))],
                        weights: c.tangentForward)
                } else {
                    let x = UnsafeMutableRawPointer(w.values[u])
                    run(c.forwardPair!, w, [(DNNL_ARG_SRC, dnnl_query_src_md, x), (DNNL_ARG_DST, dnnl_query_dst_md, UnsafeMutableRawPointer(y))],
                        weights: c.weightForward)
                    run(c.forwardSingle, w, [(DNNL_ARG_SRC, dnnl_query_src_md, x), (DNNL_ARG_DST, dnnl_query_dst_md, UnsafeMutableRawPointer(y + half))],
                        weights: c.tangentForward)
                }
                epilogue(i, slot: step.weightSlot!, w, y: y, into: target)
            case .innerProduct(let f):
                let slot = step.weightSlot!, y = w.products[i]!
                let k = graph.shape(of: u).reduce(1, *)
                slotWeights[slot].withUnsafeBufferPointer { wt in
                    slotTangents[slot].withUnsafeBufferPointer { vt in
                        if u == 0 {
                            Float.gemm(transposeA: false, transposeB: true, m: n, n: f, k: k, alpha: 1, a: input, lda: k,
                                       b: wt.baseAddress!, ldb: k, beta: 0, c: y, ldc: f)
                            Float.gemm(transposeA: false, transposeB: true, m: n, n: f, k: k, alpha: 1, a: input, lda: k,
                                       b: vt.baseAddress!, ldb: k, beta: 0, c: y + half, ldc: f)
                        } else {
                            let x = w.values[u]
                            Float.gemm(transposeA: false, transposeB: true, m: 2 * n, n: f, k: k, alpha: 1, a: x, lda: k,
                                       b: wt.baseAddress!, ldb: k, beta: 0, c: y, ldc: f)
                            Float.gemm(transposeA: false, transposeB: true, m: n, n: f, k: k, alpha: 1, a: x, lda: k,
                                       b: vt.baseAddress!, ldb: k, beta: 1, c: y + half, ldc: f)
                        }
                    }
                }
                epilogue(i, slot: slot, w, y: y, into: target)
            case .averagePool:
                let from = layouts[u]!
                CurvatureSweeps.averagePool(samples: 2 * n, from, w.values[u], into: target)
            case .add, .identity:
                epilogue(i, slot: nil, w, y: w.values[u], into: target)
            case .maxPool:
                preconditionFailure("max pooling is not compiled")
            }
        }
    }

    private func epilogue(_ i: Int, slot: Int?, _ w: Workspace, y: UnsafeMutablePointer<Float>,
                          into target: UnsafeMutablePointer<Float>) {
        let step = graph.steps[i], layout = layouts[i + 1]!
        let addend = step.addend.map { UnsafePointer(w.values[$0]) }
        let k = slot.map { coefficients[$0] }
        CurvatureSweeps.forward(samples: batchSize, layout, y: y, scale: k?.scale, shift: k?.shift, scaleTangent: k?.scaleTangent,
                                shiftTangent: k?.shiftTangent, addend: addend, relu: step.activation == .relu, into: target)
    }

    private func backward(_ w: Workspace, input: UnsafePointer<Float>, products: UnsafeMutablePointer<Float>) {
        let n = batchSize
        var ready = [Bool](repeating: false, count: graph.steps.count + 1)
        ready[graph.steps.count] = true
        for i in graph.steps.indices.reversed() {
            let step = graph.steps[i]
            let v = i + 1, u = step.input, out = layouts[v]!
            let g = w.gradients[v]
            if !ready[v] {
                // Nothing reads this value: its gradient is zero.
                g.initialize(repeating: 0, count: 2 * n * out.size)
                ready[v] = true
            }
            let addendGradient = step.addend.map { (w.gradients[$0], ready[$0]) }
            if let a = step.addend { ready[a] = true }
            switch step.operation {
            case .convolution, .innerProduct:
                let slot = step.weightSlot!, k = coefficients[slot]
                let base = products + offsets[slot]
                let weightCount = weightShape(step).reduce(1, *)
                let sums = base + weightCount
                CurvatureSweeps.backward(samples: n, out, gradient: g, output: w.values[v], relu: step.activation == .relu,
                                         y: w.products[i]!, scale: k.scale, scaleTangent: k.scaleTangent, sums: sums,
                                         addendGradient: addendGradient, into: g, accumulate: false)
                if isConvolution(step) {
                    backwardConvolution(i, w, u: u, input: input, gy: g, weightProduct: base, ready: &ready)
                } else {
                    backwardInnerProduct(i, w, u: u, input: input, gy: g, weightProduct: base, ready: &ready)
                }
            case .averagePool:
                CurvatureSweeps.averagePoolBackward(samples: 2 * n, layouts[u]!, gradient: g, into: w.gradients[u], accumulate: ready[u])
                ready[u] = true
            case .add, .identity:
                CurvatureSweeps.backward(samples: n, out, gradient: g, output: w.values[v], relu: step.activation == .relu,
                                         y: nil, scale: nil, scaleTangent: nil, sums: nil,
                                         addendGradient: addendGradient, into: w.gradients[u], accumulate: ready[u])
                ready[u] = true
            case .maxPool:
                preconditionFailure("max pooling is not compiled")
            }
        }
    }

    private func backwardConvolution(_ i: Int, _ w: Workspace, u: Int, input: UnsafePointer<Float>, gy: UnsafeMutablePointer<Float>,
                                     weightProduct: UnsafeMutablePointer<Float>, ready: inout [Bool]) {
        let c = convolutions[i]!, n = batchSize
        let gyRaw = UnsafeMutableRawPointer(gy)
        let dw = w.diffWeights
        // The first layer reads the (reordered) input alone; the others the pair [x; ẋ].
        let x = u == 0 ? UnsafeMutableRawPointer(w.inputs[i] ?? UnsafeMutablePointer(mutating: input))
                       : UnsafeMutableRawPointer(w.values[u])
        run(c.backwardWeights, w, [(DNNL_ARG_SRC, dnnl_query_src_md, x), (DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, gyRaw),
                                   (DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, c.weightsOut == nil ? UnsafeMutableRawPointer(weightProduct) : dw)])
        if let out = c.weightsOut {
            run(out, w, [(DNNL_ARG_FROM, dnnl_query_src_md, dw), (DNNL_ARG_TO, dnnl_query_dst_md, UnsafeMutableRawPointer(weightProduct))])
        }
        guard u != 0 else { return }
        let inLayout = layouts[u]!
        let half = n * inLayout.size, outHalf = n * layouts[i + 1]!.size
        let gx = w.gradients[u]
        let direct = !ready[u]
        let pairTarget = direct ? gx : w.temporary
        run(c.backwardDataPair!, w, [(DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, gyRaw),
                                     (DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, UnsafeMutableRawPointer(pairTarget))],
            weights: c.weightBackward)
        if !direct { CurvatureSweeps.add(w.temporary, into: gx, count: 2 * half) }
        ready[u] = true
        // ġ_x += Vᵀ ⊛ g_y (the pair's second half).
        run(c.backwardDataSingle!, w, [(DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, gyRaw + outHalf * 4),
                                       (DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, UnsafeMutableRawPointer(w.temporary))],
            weights: c.tangentBackward)
        CurvatureSweeps.add(w.temporary, into: gx, count: half)
    }

    private func backwardInnerProduct(_ i: Int, _ w: Workspace, u: Int, input: UnsafePointer<Float>, gy: UnsafeMutablePointer<Float>,
                                      weightProduct: UnsafeMutablePointer<Float>, ready: inout [Bool]) {
        let step = graph.steps[i], slot = step.weightSlot!, n = batchSize
        let f = step.outputShape[0], k = graph.shape(of: u).reduce(1, *)
        if u == 0 {
            // R{∂L/∂W} = ġ_yᵀ x.
            Float.gemm(transposeA: true, transposeB: false, m: f, n: k, k: n, alpha: 1, a: gy, lda: f, b: input, ldb: k,
                       beta: 0, c: weightProduct, ldc: k)
            return
        }
        let x = w.values[u], gx = w.gradients[u]
        // R{∂L/∂W} = [ġ_y; g_y]ᵀ [x; ẋ].
        Float.gemm(transposeA: true, transposeB: false, m: f, n: k, k: 2 * n, alpha: 1, a: gy, lda: f, b: x, ldb: k,
                   beta: 0, c: weightProduct, ldc: k)
        slotWeights[slot].withUnsafeBufferPointer { wt in
            slotTangents[slot].withUnsafeBufferPointer { vt in
                Float.gemm(transposeA: false, transposeB: false, m: 2 * n, n: k, k: f, alpha: 1, a: gy, lda: f,
                           b: wt.baseAddress!, ldb: k, beta: ready[u] ? 1 : 0, c: gx, ldc: k)
                Float.gemm(transposeA: false, transposeB: false, m: n, n: k, k: f, alpha: 1, a: gy + n * f, lda: f,
                           b: vt.baseAddress!, ldb: k, beta: 1, c: gx, ldc: k)
            }
        }
        ready[u] = true
    }
}
