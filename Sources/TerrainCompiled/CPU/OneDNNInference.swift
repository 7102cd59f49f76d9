import Foundation
import CDNNL
import TerrainTensor

extension CPUBackend {
    /// oneDNN's compiled graph, unless convolutions are set to run as im2col (then layer by
    /// layer), or bf16 is asked for where it is unavailable (`unavailability(of:)`).
    public func makeInferenceProgram(_ graph: InferenceGraph, batchSize: Int, precision: InferencePrecision) -> InferenceProgram? {
        guard convolution == .oneDNN, batchSize > 0, unavailability(of: precision) == nil else { return nil }
        return OneDNNInferenceProgram(graph, batchSize: batchSize, precision: precision)
    }

    /// Nil for Float; for bf16, nil where the CPU and oneDNN have bf16 kernels (`BFloat16Support`).
    public func unavailability(of precision: InferencePrecision) -> String? {
        switch precision {
        case .fp32: return nil
        case .bf16:
            guard convolution == .oneDNN else { return "bf16 runs on oneDNN's kernels, and convolutions are set to run as im2col" }
            return BFloat16Support.unavailableReason
        }
    }

    /// For bf16 without AMX, that it may be no faster than fp32 (`BFloat16Support.speedCaveat`).
    public func caveat(of precision: InferencePrecision) -> String? {
        precision == .bf16 && convolution == .oneDNN ? BFloat16Support.speedCaveat : nil
    }
}

/// An `InferenceGraph` as a chain of oneDNN primitives that keep every value in the layout the
/// kernels chose (channel blocks of 8 on AVX2) from the input to the output: one reorder of the
/// weights per point, none between layers. Convolutions and inner products carry their step's
/// residual addition and activation as post-ops (sum, then eltwise), so a ResNet block is two
/// primitives.
///
/// In bf16 (`InferencePrecision`) every value between steps is bfloat16 in the layout the kernels
/// chose (oneDNN's AMX or AVX-512 BF16 kernels, which accumulate in Float): the input is rounded
/// to bf16 once per run by a reorder, the weights once per point by the reorder into the kernel's
/// layout, biases stay Float, and the last convolution or inner product writes Float, so the
/// logits the loss reads are not rounded to bf16 (a last step of another kind writes bf16, and
/// the output reorder widens it to Float).
///
/// Like `ConvolutionPlan`, everything runs single-threaded inside the caller's thread, and a
/// sample's result does not depend on the thread that computed it.
final class OneDNNInferenceProgram: InferenceProgram {
    let graph: InferenceGraph
    let batchSize: Int
    let precision: InferencePrecision
    private let engine: dnnl_engine_t
    /// The type of the values between steps: f32, or bf16.
    private let valueType: dnnl_data_type_t
    /// oneDNN's implementation of each step (as ONEDNN_VERBOSE names them).
    private(set) var kernels: [String] = []

    /// One primitive per step, with the layouts it settled on.
    private struct StepPlan {
        let primitive: dnnl_primitive_t
        let descriptor: dnnl_primitive_desc_t
        let output: dnnl_memory_desc_t
        let scratchpadSize: Int
        /// Copies the addend into the output before a convolution or inner product that sums it.
        let addendCopy: dnnl_primitive_t?
        let addendCopyDescriptor: dnnl_primitive_desc_t?
    }

    /// A slot's weights in the kernel's layout and its bias, shared by every workspace.
    private struct SlotWeights {
        let userWeights: dnnl_memory_desc_t
        let innerWeights: dnnl_memory_desc_t
        let weightBuffer: UnsafeMutableRawPointer
        let biasBuffer: UnsafeMutableRawPointer
        let outputs: Int
        let reorder: dnnl_primitive_t?
        let reorderDescriptor: dnnl_primitive_desc_t?
    }

    private var plans: [StepPlan] = []
    private var slots: [SlotWeights?] = []
    /// The caller's input: Float, NCHW or NC.
    private var userInputDesc = dnnl_memory_desc_t()
    /// Value 0 as the steps read it: the caller's input itself in Float; in bf16 a buffer of each
    /// workspace, in the layout of the first step that reads it, filled by `inputReorder`.
    private var inputDesc = dnnl_memory_desc_t()
    private var inputReorder: (primitive: dnnl_primitive_t, descriptor: dnnl_primitive_desc_t)?
    private var outputDesc = dnnl_memory_desc_t()
    private var outputReorder: (primitive: dnnl_primitive_t, descriptor: dnnl_primitive_desc_t)?
    private var idle: [Workspace] = []
    private let lock = NSLock()

    init?(_ graph: InferenceGraph, batchSize: Int, precision: InferencePrecision = .fp32) {
        guard let engine = OneDNN.engine, !graph.steps.isEmpty else { return nil }
        self.graph = graph
        self.batchSize = batchSize
        self.precision = precision
        self.engine = engine
        valueType = precision == .bf16 ? dnnl_bf16 : dnnl_f32
        // oneDNN fixes a primitive's threading when it is made (see `PlanCache.take`).
        omp_set_num_threads(1)
        guard let userInputDesc = Self.plainDesc(batchSize, graph.inputShape) else { return nil }
        self.userInputDesc = userInputDesc
        slots = Array(repeating: nil, count: graph.weightSlotCount)
        // In bf16 the first convolution or inner product on the input chooses its layout (`any`);
        // a step of another kind reads it as plain bf16.
        var inputChoosesLayout = false
        if precision == .bf16 {
            let firstReader = graph.steps.first { $0.input == 0 || $0.addend == 0 }
            switch firstReader?.operation {
            case .convolution?, .innerProduct?: inputChoosesLayout = firstReader?.input == 0
            default: break
            }
            guard let typed = Self.plainDesc(batchSize, graph.inputShape, valueType, any: inputChoosesLayout) else { return nil }
            inputDesc = typed
        } else {
            inputDesc = userInputDesc
        }
        var descs: [dnnl_memory_desc_t] = [inputDesc]
        for (index, step) in graph.steps.enumerated() {
            guard let plan = makePlan(step, inputs: descs, isLast: index == graph.steps.count - 1) else { return nil }
            if inputChoosesLayout, step.input == 0 {
                // The layout the first reader settled on is value 0's from now on.
                guard let chosen = dnnl_primitive_desc_query_md(plan.descriptor, dnnl_query_src_md, 0)?.pointee else { return nil }
                descs[0] = chosen
                inputDesc = chosen
                inputChoosesLayout = false
            }
            plans.append(plan)
            descs.append(plan.output)
            kernels.append(Self.implementationName(of: plan.descriptor) ?? "?")
        }
        if precision == .bf16 {
            guard let made = Self.reorder(from: userInputDesc, to: inputDesc, engine: engine) else { return nil }
            inputReorder = made
        }
        guard let last = descs.last, let plain = Self.plainDesc(batchSize, graph.steps.last!.outputShape) else { return nil }
        outputDesc = plain
        var from = last, to = plain
        if dnnl_memory_desc_equal(&from, &to) == 0 {
            guard let made = Self.reorder(from: last, to: plain, engine: engine) else { return nil }
            outputReorder = made
        }
    }

    deinit {
        for workspace in idle { workspace.release() }
        for plan in plans {
            dnnl_primitive_destroy(plan.primitive)
            dnnl_primitive_desc_destroy(plan.descriptor)
            if let copy = plan.addendCopy { dnnl_primitive_destroy(copy) }
            if let d = plan.addendCopyDescriptor { dnnl_primitive_desc_destroy(d) }
        }
        for case let slot? in slots {
            slot.weightBuffer.deallocate()
            slot.biasBuffer.deallocate()
            if let r = slot.reorder { dnnl_primitive_destroy(r) }
            if let d = slot.reorderDescriptor { dnnl_primitive_desc_destroy(d) }
        }
        for made in [outputReorder, inputReorder].compactMap({ $0 }) {
            dnnl_primitive_destroy(made.primitive)
            dnnl_primitive_desc_destroy(made.descriptor)
        }
    }

    // MARK: Building

    /// A memory descriptor of rank 1, 2 or 4 of element type `type`.
    static func desc(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t? {
        guard var md = OneDNN.memoryDesc(dims, tag) else { return nil }
        guard type != dnnl_f32 else { return md }
        var shape = md.dims
        let rank = md.ndims
        let status = withUnsafePointer(to: &shape) { tuple in
            tuple.withMemoryRebound(to: dnnl_dim_t.self, capacity: Int(DNNL_MAX_NDIMS)) { dnnl_memory_desc_init_by_tag(&md, rank, $0, type, tag) }
        }
        return status == dnnl_success ? md : nil
    }

    /// oneDNN's name for the implementation behind a primitive descriptor (what ONEDNN_VERBOSE
    /// prints: "brgconv:avx512_core_amx_bf16", "jit:avx512_core", "ref:any").
    static func implementationName(of pd: dnnl_primitive_desc_t) -> String? {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return nil }
        return String(cString: name)
    }

    /// `n` samples of `shape` ([F] or [C, H, W]) as Terrain lays them out: NC or NCHW (or, with
    /// `any`, whatever layout the primitive prefers).
    private static func plainDesc(_ n: Int, _ shape: [Int], _ type: dnnl_data_type_t = dnnl_f32, any: Bool = false) -> dnnl_memory_desc_t? {
        desc([n] + shape, any ? dnnl_format_tag_any : (shape.count == 1 ? dnnl_nc : dnnl_nchw), type)
    }

    /// The same, in whatever layout the primitive prefers.
    private static func anyDesc(_ n: Int, _ shape: [Int], _ type: dnnl_data_type_t) -> dnnl_memory_desc_t? {
        desc([n] + shape, dnnl_format_tag_any, type)
    }

    private static func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t,
                                engine: dnnl_engine_t) -> (primitive: dnnl_primitive_t, descriptor: dnnl_primitive_desc_t)? {
        var from = from, to = to
        var pd: dnnl_primitive_desc_t?
        var primitive: dnnl_primitive_t?
        guard dnnl_reorder_primitive_desc_create(&pd, &from, engine, &to, engine, nil) == dnnl_success, let pd else { return nil }
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive else {
            dnnl_primitive_desc_destroy(pd); return nil
        }
        return (primitive, pd)
    }

    /// oneDNN's eltwise algorithm and α for an activation it computes, nil for one it lacks.
    private static func eltwise(_ activation: Activation) -> (dnnl_alg_kind_t, Float)? {
        switch activation {
        case .relu: return (dnnl_eltwise_relu, 0)
        case .leakyRelu(let slope): return (dnnl_eltwise_relu, Float(slope))
        case .tanh: return (dnnl_eltwise_tanh, 0)
        case .sigmoid: return (dnnl_eltwise_logistic, 0)
        case .gelu: return (dnnl_eltwise_gelu_erf, 0)
        case .geluTanh: return (dnnl_eltwise_gelu_tanh, 0)
        case .erf, .clip, .hardSigmoid, .hardSwish, .softplus: return nil
        }
    }

    private func makePlan(_ step: InferenceGraph.Step, inputs: [dnnl_memory_desc_t], isLast: Bool) -> StepPlan? {
        let n = batchSize
        var src = inputs[step.input]
        let inShape = graph.shape(of: step.input)
        // The last product writes Float: the logits are not rounded to bf16.
        var outputType = valueType
        switch step.operation {
        case .convolution, .innerProduct: if isLast { outputType = dnnl_f32 }
        default: break
        }
        guard var anyDst = Self.anyDesc(n, step.outputShape, outputType) else { return nil }

        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success, let attributes else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        guard dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user) == dnnl_success else { return nil }
        let fusesAddend = step.addend != nil && step.operation != .add
        if fusesAddend || step.activation != nil {
            var postOps: dnnl_post_ops_t?
            guard dnnl_post_ops_create(&postOps) == dnnl_success, let postOps else { return nil }
            defer { dnnl_post_ops_destroy(postOps) }
            if fusesAddend { guard dnnl_post_ops_append_sum(postOps, 1) == dnnl_success else { return nil } }
            if let activation = step.activation {
                guard let (algorithm, alpha) = Self.eltwise(activation),
                      dnnl_post_ops_append_eltwise(postOps, 1, algorithm, alpha, 0) == dnnl_success else { return nil }
            }
            guard dnnl_primitive_attr_set_post_ops(attributes, postOps) == dnnl_success else { return nil }
        }

        var pd: dnnl_primitive_desc_t?
        switch step.operation {
        case .convolution(let g, let f):
            guard g.groups == 1, g.dilation.height == 1, g.dilation.width == 1, inShape.count == 3,
                  let slot = step.weightSlot else { return nil }
            let (c, h, w) = (inShape[0], inShape[1], inShape[2])
            let (oh, ow) = (step.outputShape[1], step.outputShape[2])
            let rightH = OneDNN.endPadding(size: h, kernel: g.kernel.height, stride: g.stride.height, padding: g.padding.height, output: oh)
            let rightW = OneDNN.endPadding(size: w, kernel: g.kernel.width, stride: g.stride.width, padding: g.padding.width, output: ow)
            guard var anyWeights = Self.desc([f, c, g.kernel.height, g.kernel.width], dnnl_format_tag_any, valueType),
                  var bias = Self.desc([f], dnnl_a) else { return nil }
            var cd = dnnl_convolution_desc_t()
            guard terrain_dnnl_convolution_desc(&cd, 0, &src, &anyWeights, &bias, &anyDst, Int64(g.stride.height), Int64(g.stride.width),
                                                Int64(g.padding.height), Int64(g.padding.width), Int64(rightH), Int64(rightW)) == dnnl_success,
                  dnnl_primitive_desc_create(&pd, &cd, attributes, engine, nil) == dnnl_success, let made = pd,
                  let userWeights = Self.plainWeights([f, c, g.kernel.height, g.kernel.width]),
                  addSlot(slot, descriptor: made, userWeights: userWeights, outputs: f) else {
                if let pd { dnnl_primitive_desc_destroy(pd) }
                return nil
            }
        case .innerProduct(let f):
            let weightShape = [f] + inShape
            guard let slot = step.weightSlot, var anyWeights = Self.desc(weightShape, dnnl_format_tag_any, valueType),
                  var bias = Self.desc([f], dnnl_a) else { return nil }
            var ipd = dnnl_inner_product_desc_t()
            guard dnnl_inner_product_forward_desc_init(&ipd, dnnl_forward_inference, &src, &anyWeights, &bias, &anyDst) == dnnl_success,
                  dnnl_primitive_desc_create(&pd, &ipd, attributes, engine, nil) == dnnl_success, let made = pd,
                  let userWeights = Self.plainWeights(weightShape),
                  addSlot(slot, descriptor: made, userWeights: userWeights, outputs: f) else {
                if let pd { dnnl_primitive_desc_destroy(pd) }
                return nil
            }
        case .maxPool(let g), .averagePool(let g):
            guard step.activation == nil, g.groups == 1, g.dilation.height == 1, g.dilation.width == 1, inShape.count == 3 else { return nil }
            let (h, w) = (inShape[1], inShape[2])
            let (oh, ow) = (step.outputShape[1], step.outputShape[2])
            let rightH = OneDNN.endPadding(size: h, kernel: g.kernel.height, stride: g.stride.height, padding: g.padding.height, output: oh)
            let rightW = OneDNN.endPadding(size: w, kernel: g.kernel.width, stride: g.stride.width, padding: g.padding.width, output: ow)
            var poolDesc = dnnl_pooling_desc_t()
            let algorithm: dnnl_alg_kind_t
            if case .maxPool = step.operation { algorithm = dnnl_pooling_max } else { algorithm = dnnl_pooling_avg_include_padding }
            guard terrain_dnnl_pooling_desc(&poolDesc, algorithm, &src, &anyDst, Int64(g.stride.height), Int64(g.stride.width),
                                            Int64(g.kernel.height), Int64(g.kernel.width), Int64(g.padding.height), Int64(g.padding.width),
                                            Int64(rightH), Int64(rightW)) == dnnl_success,
                  dnnl_primitive_desc_create(&pd, &poolDesc, attributes, engine, nil) == dnnl_success else { return nil }
        case .add:
            guard let addend = step.addend else { return nil }
            var other = inputs[addend]
            var dst = src
            var bd = dnnl_binary_desc_t()
            guard dnnl_binary_desc_init(&bd, dnnl_binary_add, &src, &other, &dst) == dnnl_success,
                  dnnl_primitive_desc_create(&pd, &bd, attributes, engine, nil) == dnnl_success else { return nil }
        case .identity:
            guard let activation = step.activation, let (algorithm, alpha) = Self.eltwise(activation) else { return nil }
            var ed = dnnl_eltwise_desc_t()
            guard dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, algorithm, &src, alpha, 0) == dnnl_success,
                  dnnl_primitive_desc_create(&pd, &ed, nil, engine, nil) == dnnl_success else { return nil }
        }
        guard let pd else { return nil }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive,
              let output = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0)?.pointee else {
            dnnl_primitive_desc_destroy(pd); return nil
        }
        var scratchpadSize = 0
        if let padDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) {
            scratchpadSize = dnnl_memory_desc_get_size(padDesc)
        }
        var addendCopy: (primitive: dnnl_primitive_t, descriptor: dnnl_primitive_desc_t)?
        if fusesAddend, let addend = step.addend {
            var from = inputs[addend], to = output
            if dnnl_memory_desc_equal(&from, &to) == 0 {
                guard let made = Self.reorder(from: from, to: output, engine: engine) else {
                    dnnl_primitive_destroy(primitive); dnnl_primitive_desc_destroy(pd); return nil
                }
                addendCopy = made
            }
        }
        return StepPlan(primitive: primitive, descriptor: pd, output: output, scratchpadSize: scratchpadSize,
                        addendCopy: addendCopy?.primitive, addendCopyDescriptor: addendCopy?.descriptor)
    }

    /// Weights as Terrain keeps them: OIHW, or [out, in] for an inner product of flat inputs.
    private static func plainWeights(_ shape: [Int]) -> dnnl_memory_desc_t? {
        desc(shape, shape.count == 2 ? dnnl_oi : dnnl_oihw)
    }

    /// Allocates a slot's buffers in the layout primitive `pd` wants its weights.
    private func addSlot(_ slot: Int, descriptor pd: dnnl_primitive_desc_t, userWeights: dnnl_memory_desc_t, outputs: Int) -> Bool {
        guard slot < slots.count, slots[slot] == nil,
              let inner = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)?.pointee else { return false }
        var user = userWeights, kernel = inner
        var reorder: (primitive: dnnl_primitive_t, descriptor: dnnl_primitive_desc_t)?
        if dnnl_memory_desc_equal(&user, &kernel) == 0 {
            guard let made = Self.reorder(from: userWeights, to: inner, engine: engine) else { return false }
            reorder = made
        }
        let weightBuffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, dnnl_memory_desc_get_size(&kernel)), alignment: 64)
        let biasBuffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, outputs * 4), alignment: 64)
        slots[slot] = SlotWeights(userWeights: userWeights, innerWeights: inner, weightBuffer: weightBuffer,
                                  biasBuffer: biasBuffer, outputs: outputs, reorder: reorder?.primitive,
                                  reorderDescriptor: reorder?.descriptor)
        return true
    }

    // MARK: Running

    func setWeights(_ slot: Int, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>) {
        guard let s = slots[slot] else { preconditionFailure("no weight slot \(slot)") }
        var user = s.userWeights, inner = s.innerWeights
        precondition(weight.count * 4 == dnnl_memory_desc_get_size(&user) && bias.count == s.outputs,
                     "slot \(slot): \(weight.count) weights and \(bias.count) biases do not fit the graph")
        s.biasBuffer.copyMemory(from: bias.baseAddress!, byteCount: bias.count * 4)
        guard let reorder = s.reorder else {
            s.weightBuffer.copyMemory(from: weight.baseAddress!, byteCount: weight.count * 4)
            return
        }
        omp_set_num_threads(1)
        var from: dnnl_memory_t?, to: dnnl_memory_t?, stream: dnnl_stream_t?
        check(dnnl_memory_create(&from, &user, engine, UnsafeMutableRawPointer(mutating: weight.baseAddress!)))
        check(dnnl_memory_create(&to, &inner, engine, s.weightBuffer))
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue))
        var args = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to)]
        check(dnnl_primitive_execute(reorder, stream, 2, &args))
        check(dnnl_stream_wait(stream))
        dnnl_memory_destroy(from); dnnl_memory_destroy(to); dnnl_stream_destroy(stream)
    }

    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let workspace = takeWorkspace()
        defer { giveWorkspace(workspace) }
        omp_set_num_threads(1)
        workspace.execute(input: input, output: output)
    }

    private func takeWorkspace() -> Workspace {
        lock.lock()
        if let w = idle.popLast() { lock.unlock(); return w }
        lock.unlock()
        omp_set_num_threads(1)
        return Workspace(program: self)
    }

    private func giveWorkspace(_ w: Workspace) {
        lock.lock(); idle.append(w); lock.unlock()
    }

    private func check(_ status: dnnl_status_t) {
        // Every shape and layout was settled when the program was made: a failure is a bug.
        precondition(status == dnnl_success, "oneDNN inference failed with status \(status.rawValue)")
    }

    /// The memory one running thread needs: a buffer per value, the scratchpad, a stream, and
    /// memory objects bound to the program's weights.
    private final class Workspace {
        unowned let program: OneDNNInferenceProgram
        var stream: dnnl_stream_t?
        /// Value 0 is the caller's input; values 1... are this workspace's buffers.
        var values: [dnnl_memory_t?] = []
        var buffers: [UnsafeMutableRawPointer] = []
        var output: dnnl_memory_t?
        /// bf16: the caller's input (its handle set at each run) and value 0's buffer.
        var userInput: dnnl_memory_t?
        var inputBuffer: UnsafeMutableRawPointer?
        var scratchpadBuffer: UnsafeMutableRawPointer
        var scratchpads: [dnnl_memory_t?] = []
        var weights: [dnnl_memory_t?] = []
        var biases: [dnnl_memory_t?] = []

        init(program p: OneDNNInferenceProgram) {
            program = p
            let engine = p.engine
            func check(_ s: dnnl_status_t) { precondition(s == dnnl_success, "oneDNN workspace: status \(s.rawValue)") }
            check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue))
            let placeholder = UnsafeMutableRawPointer(bitPattern: 64)
            var input: dnnl_memory_t?
            if p.inputReorder != nil {
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, dnnl_memory_desc_get_size(&p.inputDesc)), alignment: 64)
                inputBuffer = buffer
                check(dnnl_memory_create(&input, &p.inputDesc, engine, buffer))
                check(dnnl_memory_create(&userInput, &p.userInputDesc, engine, placeholder))
            } else {
                check(dnnl_memory_create(&input, &p.inputDesc, engine, placeholder))
            }
            values.append(input)
            for plan in p.plans {
                var desc = plan.output
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, dnnl_memory_desc_get_size(&desc)), alignment: 64)
                var memory: dnnl_memory_t?
                check(dnnl_memory_create(&memory, &desc, engine, buffer))
                buffers.append(buffer)
                values.append(memory)
            }
            check(dnnl_memory_create(&output, &p.outputDesc, engine, placeholder))
            scratchpadBuffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, p.plans.map(\.scratchpadSize).max() ?? 0), alignment: 64)
            for plan in p.plans {
                var memory: dnnl_memory_t?
                if plan.scratchpadSize > 0, let padDesc = dnnl_primitive_desc_query_md(plan.descriptor, dnnl_query_scratchpad_md, 0) {
                    check(dnnl_memory_create(&memory, padDesc, engine, scratchpadBuffer))
                }
                scratchpads.append(memory)
            }
            for slot in p.slots {
                guard let s = slot else { weights.append(nil); biases.append(nil); continue }
                var w: dnnl_memory_t?, b: dnnl_memory_t?
                var inner = s.innerWeights
                check(dnnl_memory_create(&w, &inner, engine, s.weightBuffer))
                var biasDesc = OneDNNInferenceProgram.desc([s.outputs], dnnl_a)!
                check(dnnl_memory_create(&b, &biasDesc, engine, s.biasBuffer))
                weights.append(w); biases.append(b)
            }
        }

        func execute(input: UnsafePointer<Float>, output out: UnsafeMutablePointer<Float>) {
            let p = program
            if let reorder = p.inputReorder {
                // bf16: the input rounded once per run, into value 0's buffer.
                p.check(dnnl_memory_set_data_handle(userInput, UnsafeMutableRawPointer(mutating: input)))
                var args = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: userInput), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: values[0])]
                p.check(dnnl_primitive_execute(reorder.primitive, stream, 2, &args))
            } else {
                p.check(dnnl_memory_set_data_handle(values[0], UnsafeMutableRawPointer(mutating: input)))
            }
            for (i, (step, plan)) in zip(p.graph.steps, p.plans).enumerated() {
                let dst = values[i + 1]
                var args: [dnnl_exec_arg_t] = []
                switch step.operation {
                case .add:
                    args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC_0, memory: values[step.input]),
                            dnnl_exec_arg_t(arg: DNNL_ARG_SRC_1, memory: values[step.addend!]),
                            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dst)]
                default:
                    if let addend = step.addend {
                        // The sum post-op adds what the output holds: put the addend there first.
                        if let copy = plan.addendCopy {
                            var copyArgs = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: values[addend]),
                                            dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: dst)]
                            p.check(dnnl_primitive_execute(copy, stream, 2, &copyArgs))
                        } else {
                            var desc = plan.output
                            let source = addend == 0 ? UnsafeRawPointer(inputBuffer ?? UnsafeMutableRawPointer(mutating: input))
                                                     : UnsafeRawPointer(buffers[addend - 1])
                            buffers[i].copyMemory(from: source, byteCount: dnnl_memory_desc_get_size(&desc))
                        }
                    }
                    args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: values[step.input]),
                            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dst)]
                    if let slot = step.weightSlot {
                        args.append(dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: weights[slot]))
                        args.append(dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: biases[slot]))
                    }
                }
                if let pad = scratchpads[i] { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: pad)) }
                p.check(dnnl_primitive_execute(plan.primitive, stream, Int32(args.count), &args))
            }
            let last = values[values.count - 1]
            if let reorder = p.outputReorder {
                p.check(dnnl_memory_set_data_handle(output, out))
                var args = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: last), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: output)]
                p.check(dnnl_primitive_execute(reorder.primitive, stream, 2, &args))
                p.check(dnnl_stream_wait(stream))
            } else {
                p.check(dnnl_stream_wait(stream))
                var desc = p.outputDesc
                UnsafeMutableRawPointer(out).copyMemory(from: buffers[buffers.count - 1], byteCount: dnnl_memory_desc_get_size(&desc))
            }
        }

        func release() {
            for v in values { if let v { dnnl_memory_destroy(v) } }
            for b in buffers { b.deallocate() }
            if let output { dnnl_memory_destroy(output) }
            if let userInput { dnnl_memory_destroy(userInput) }
            inputBuffer?.deallocate()
            for s in scratchpads { if let s { dnnl_memory_destroy(s) } }
            scratchpadBuffer.deallocate()
            for w in weights { if let w { dnnl_memory_destroy(w) } }
            for b in biases { if let b { dnnl_memory_destroy(b) } }
            dnnl_stream_destroy(stream)
        }
    }
}
