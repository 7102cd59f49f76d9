import Foundation
import CDNNL

/// Float convolutions by oneDNN's direct (JIT) kernels, in the layout oneDNN chooses.
///
/// Measured on two AVX2 cores: a 3x3 convolution runs 1.4-2x faster in oneDNN's blocked layout
/// (channels in blocks of 8) than as im2col + SGEMM, reorders included, because it never builds
/// the 9x larger column matrix. Terrain's tensors stay NCHW: each call reorders its operands into
/// the kernel's layout and the result back (a few percent of the time), so nothing else changes.
///
/// Like OpenBLAS, oneDNN runs single-threaded inside `Parallel`'s chunks of images, whose
/// boundaries depend on the batch size only: results do not depend on the thread count.
/// A `ConvolutionPlan` owns a primitive and every buffer one execution needs; plans are cached by
/// shape and lent to one thread at a time.
package enum OneDNN {
    /// The CPU engine, or nil where oneDNN cannot start (the im2col kernels then run).
    nonisolated(unsafe) package static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success else { return nil }
        return engine
    }()

    /// The padding after the last row (or column) that gives oneDNN the output size `output`.
    /// A window that stops short of the end (a 1x1 stride-2 convolution of an even size) would
    /// need a negative amount, which oneDNN refuses; 0 gives the same size, since oneDNN rounds
    /// (size + padding − kernel) / stride down like Terrain. Shared by the per-call convolutions
    /// and the compiled inference graph.
    package static func endPadding(size: Int, kernel: Int, stride: Int, padding: Int, output: Int) -> Int {
        max(0, (output - 1) * stride + kernel - size - padding)
    }

    /// A memory descriptor of rank 1, 2 or 4 (other ranks: nil), shared by the compiled programs.
    package static func memoryDesc(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t? {
        guard [1, 2, 4].contains(dims.count) else { return nil }
        var md = dnnl_memory_desc_t()
        let d = dims.map(Int64.init) + [0, 0, 0]
        return terrain_dnnl_tensor_desc(&md, Int32(dims.count), d[0], d[1], d[2], d[3], tag) == dnnl_success ? md : nil
    }

    /// Images per oneDNN call: a function of the batch size alone (see the type's comment).
    static func imagesPerChunk(batch n: Int) -> Int { min(16, max(1, n / 8)) }

    /// y = conv(x, W) + b, or nil when oneDNN cannot run this convolution.
    static func forward(_ x: UnsafeRawPointer, weight: UnsafeRawPointer, bias: UnsafeRawPointer?,
                        into y: UnsafeMutableRawPointer, _ d: ConvDims) -> Bool {
        forEachChunk(d, kind: .forward, hasBias: bias != nil) { plan, first, count in
            plan.execute([
                (DNNL_ARG_SRC, UnsafeMutableRawPointer(mutating: x) + first * d.imageSize * 4),
                (DNNL_ARG_WEIGHTS, UnsafeMutableRawPointer(mutating: weight)),
                (DNNL_ARG_BIAS, bias.map { UnsafeMutableRawPointer(mutating: $0) }),
                (DNNL_ARG_DST, y + first * d.f * d.outSpatial * 4),
            ])
        }
    }

    /// dL/dx = convᵀ(dL/dy, W).
    static func backwardData(_ gy: UnsafeRawPointer, weight: UnsafeRawPointer,
                             into gx: UnsafeMutableRawPointer, _ d: ConvDims) -> Bool {
        forEachChunk(d, kind: .backwardData, hasBias: false) { plan, first, count in
            plan.execute([
                (DNNL_ARG_DIFF_DST, UnsafeMutableRawPointer(mutating: gy) + first * d.f * d.outSpatial * 4),
                (DNNL_ARG_WEIGHTS, UnsafeMutableRawPointer(mutating: weight)),
                (DNNL_ARG_DIFF_SRC, gx + first * d.imageSize * 4),
            ])
        }
    }

    /// dL/dW of each chunk of images, written to `partials` (chunk c at c·F·C·kh·kw), to be
    /// summed in chunk order by the caller.
    static func backwardWeights(_ x: UnsafeRawPointer, gradient gy: UnsafeRawPointer,
                                partials: UnsafeMutableRawPointer, _ d: ConvDims) -> Bool {
        let per = imagesPerChunk(batch: d.n)
        return forEachChunk(d, kind: .backwardWeights, hasBias: false) { plan, first, count in
            plan.execute([
                (DNNL_ARG_SRC, UnsafeMutableRawPointer(mutating: x) + first * d.imageSize * 4),
                (DNNL_ARG_DIFF_DST, UnsafeMutableRawPointer(mutating: gy) + first * d.f * d.outSpatial * 4),
                (DNNL_ARG_DIFF_WEIGHTS, partials + (first / per) * d.f * d.k * 4),
            ])
        }
    }

    /// Number of chunks `backwardWeights` writes for a batch.
    static func chunkCount(_ d: ConvDims) -> Int {
        let per = imagesPerChunk(batch: d.n)
        return (d.n + per - 1) / per
    }

    /// Runs `body(plan, firstImage, count)` for every chunk of images, in parallel. Returns false,
    /// having run nothing, when oneDNN has no kernel for this convolution.
    private static func forEachChunk(_ d: ConvDims, kind: ConvolutionPlan.Kind, hasBias: Bool,
                                     _ body: (ConvolutionPlan, Int, Int) -> Void) -> Bool {
        // Grouped and dilated convolutions (imported models) keep the reference kernels.
        guard d.groups == 1, d.dh == 1, d.dw == 1 else { return false }
        let per = imagesPerChunk(batch: d.n)
        let chunks = (d.n + per - 1) / per
        let sizes = Set([per, d.n - (chunks - 1) * per])
        // Create (or find) one plan of each chunk size first, so that failure is known up front.
        for size in sizes {
            let key = ConvolutionPlan.Key(kind: kind, dims: d, images: size, hasBias: hasBias)
            guard let plan = PlanCache.shared.take(key) else { return false }
            PlanCache.shared.give(plan)
        }
        Parallel.forEach(chunks: chunks) { c in
            let first = c * per, count = min(per, d.n - first)
            let key = ConvolutionPlan.Key(kind: kind, dims: d, images: count, hasBias: hasBias)
            guard let plan = PlanCache.shared.take(key) else {
                fatalError("oneDNN: a convolution plan that was created once could not be created again")
            }
            omp_set_num_threads(1)
            body(plan, first, count)
            PlanCache.shared.give(plan)
        }
        return true
    }
}

/// Plans not in use, by shape. A plan is used by one thread at a time (it owns its buffers).
final class PlanCache: @unchecked Sendable {
    static let shared = PlanCache()
    private let lock = NSLock()
    private var idle: [ConvolutionPlan.Key: [ConvolutionPlan]] = [:]
    private var failed: Set<ConvolutionPlan.Key> = []
    private var idleCount = 0
    /// Beyond this many idle plans the cache starts afresh (plans hold buffers).
    private let capacity = 256

    func take(_ key: ConvolutionPlan.Key) -> ConvolutionPlan? {
        lock.lock()
        if failed.contains(key) { lock.unlock(); return nil }
        if var list = idle[key], let plan = list.popLast() {
            idle[key] = list
            idleCount -= 1
            lock.unlock()
            return plan
        }
        lock.unlock()
        // oneDNN fixes a primitive's thread count (and with it the order of its sums) when the
        // primitive is made: make every plan single-threaded, whichever thread makes it.
        omp_set_num_threads(1)
        if let plan = ConvolutionPlan(key) { return plan }
        lock.lock(); failed.insert(key); lock.unlock()
        return nil
    }

    func give(_ plan: ConvolutionPlan) {
        lock.lock()
        defer { lock.unlock() }
        if idleCount >= capacity { idle.removeAll(); idleCount = 0 }
        idle[plan.key, default: []].append(plan)
        idleCount += 1
    }
}

/// One oneDNN convolution primitive for one shape, with the reorders between Terrain's layouts
/// (NCHW, OIHW, vectors) and the primitive's, and every buffer an execution needs.
final class ConvolutionPlan {
    enum Kind: Hashable { case forward, backwardData, backwardWeights }

    struct Key: Hashable {
        let kind: Kind
        let n, c, h, w, f, kh, kw, sh, sw, ph, pw, oh, ow: Int
        let hasBias: Bool
        init(kind: Kind, dims d: ConvDims, images: Int, hasBias: Bool) {
            self.kind = kind
            (n, c, h, w, f, kh, kw) = (images, d.c, d.h, d.w, d.f, d.kh, d.kw)
            (sh, sw, ph, pw, oh, ow) = (d.sh, d.sw, d.ph, d.pw, d.oh, d.ow)
            self.hasBias = hasBias
        }
    }

    /// One argument of the primitive: Terrain's memory, and when the primitive wants another
    /// layout, its own buffer and the reorder between the two.
    private struct Port {
        let argument: Int32
        let isOutput: Bool
        let user: dnnl_memory_t
        let inner: dnnl_memory_t?
        let reorder: dnnl_primitive_t?
        let buffer: UnsafeMutableRawPointer?
    }

    let key: Key
    private let primitive: dnnl_primitive_t
    private let stream: dnnl_stream_t
    private let ports: [Port]
    private let scratchpad: (memory: dnnl_memory_t, buffer: UnsafeMutableRawPointer)?
    /// Primitive descriptors to destroy with the plan.
    private let owned: [dnnl_primitive_desc_t]

    init?(_ key: Key) {
        guard let engine = OneDNN.engine else { return nil }
        self.key = key
        let rightH = OneDNN.endPadding(size: key.h, kernel: key.kh, stride: key.sh, padding: key.ph, output: key.oh)
        let rightW = OneDNN.endPadding(size: key.w, kernel: key.kw, stride: key.sw, padding: key.pw, output: key.ow)

        var src = dnnl_memory_desc_t(), weights = dnnl_memory_desc_t(), bias = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t()
        var anySrc = dnnl_memory_desc_t(), anyWeights = dnnl_memory_desc_t(), anyDst = dnnl_memory_desc_t()
        let any = dnnl_format_tag_any
        guard terrain_dnnl_tensor_desc(&src, 4, Int64(key.n), Int64(key.c), Int64(key.h), Int64(key.w), dnnl_nchw) == dnnl_success,
              terrain_dnnl_tensor_desc(&weights, 4, Int64(key.f), Int64(key.c), Int64(key.kh), Int64(key.kw), dnnl_oihw) == dnnl_success,
              terrain_dnnl_tensor_desc(&bias, 1, Int64(key.f), 0, 0, 0, dnnl_a) == dnnl_success,
              terrain_dnnl_tensor_desc(&dst, 4, Int64(key.n), Int64(key.f), Int64(key.oh), Int64(key.ow), dnnl_nchw) == dnnl_success,
              terrain_dnnl_tensor_desc(&anySrc, 4, Int64(key.n), Int64(key.c), Int64(key.h), Int64(key.w), any) == dnnl_success,
              terrain_dnnl_tensor_desc(&anyWeights, 4, Int64(key.f), Int64(key.c), Int64(key.kh), Int64(key.kw), any) == dnnl_success,
              terrain_dnnl_tensor_desc(&anyDst, 4, Int64(key.n), Int64(key.f), Int64(key.oh), Int64(key.ow), any) == dnnl_success
        else { return nil }

        func convolutionDesc(_ kind: Int32, withBias: Bool) -> dnnl_convolution_desc_t? {
            var cd = dnnl_convolution_desc_t()
            let status = withBias
                ? terrain_dnnl_convolution_desc(&cd, kind, &anySrc, &anyWeights, &bias, &anyDst, Int64(key.sh), Int64(key.sw),
                                                Int64(key.ph), Int64(key.pw), Int64(rightH), Int64(rightW))
                : terrain_dnnl_convolution_desc(&cd, kind, &anySrc, &anyWeights, nil, &anyDst, Int64(key.sh), Int64(key.sw),
                                                Int64(key.ph), Int64(key.pw), Int64(rightH), Int64(rightW))
            return status == dnnl_success ? cd : nil
        }
        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        // The plan owns its scratchpad: no memory shared behind the scenes between threads.
        guard dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user) == dnnl_success else { return nil }

        var pd: dnnl_primitive_desc_t?
        var hint: dnnl_primitive_desc_t?
        defer { if let hint { dnnl_primitive_desc_destroy(hint) } }
        switch key.kind {
        case .forward:
            guard var cd = convolutionDesc(0, withBias: key.hasBias),
                  dnnl_primitive_desc_create(&pd, &cd, attributes, engine, nil) == dnnl_success else { return nil }
        case .backwardData, .backwardWeights:
            guard var forward = convolutionDesc(3, withBias: key.hasBias),
                  dnnl_primitive_desc_create(&hint, &forward, nil, engine, nil) == dnnl_success,
                  var cd = convolutionDesc(key.kind == .backwardData ? 1 : 2, withBias: key.hasBias),
                  dnnl_primitive_desc_create(&pd, &cd, attributes, engine, hint) == dnnl_success else { return nil }
        }
        guard let pd else { return nil }
        var owned = [pd]
        var made: dnnl_primitive_t?
        guard dnnl_primitive_create(&made, pd) == dnnl_success, let made else { return nil }
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else { return nil }

        // Terrain's side of each argument, and the query that gives the primitive's side.
        var arguments: [(Int32, dnnl_memory_desc_t, dnnl_query_t, Bool)]
        switch key.kind {
        case .forward:
            arguments = [(DNNL_ARG_SRC, src, dnnl_query_src_md, false), (DNNL_ARG_WEIGHTS, weights, dnnl_query_weights_md, false),
                         (DNNL_ARG_DST, dst, dnnl_query_dst_md, true)]
            if key.hasBias { arguments.append((DNNL_ARG_BIAS, bias, dnnl_query_weights_md, false)) }
        case .backwardData:
            arguments = [(DNNL_ARG_DIFF_DST, dst, dnnl_query_diff_dst_md, false), (DNNL_ARG_WEIGHTS, weights, dnnl_query_weights_md, false),
                         (DNNL_ARG_DIFF_SRC, src, dnnl_query_diff_src_md, true)]
        case .backwardWeights:
            arguments = [(DNNL_ARG_SRC, src, dnnl_query_src_md, false), (DNNL_ARG_DIFF_DST, dst, dnnl_query_diff_dst_md, false),
                         (DNNL_ARG_DIFF_WEIGHTS, weights, dnnl_query_diff_weights_md, true)]
            if key.hasBias { arguments.append((DNNL_ARG_DIFF_BIAS, bias, dnnl_query_diff_weights_md, true)) }
        }
        var ports: [Port] = []
        for (argument, userDesc, query, isOutput) in arguments {
            // Bias vectors are the query's second entry; oneDNN keeps them plain.
            let index: Int32 = (argument == DNNL_ARG_BIAS || argument == DNNL_ARG_DIFF_BIAS) ? 1 : 0
            guard let innerDesc = dnnl_primitive_desc_query_md(pd, query, index),
                  let made = Self.makePort(argument: argument, user: userDesc, inner: innerDesc.pointee,
                                           isOutput: isOutput, engine: engine) else { return nil }
            ports.append(made.0)
            if let reorderDesc = made.1 { owned.append(reorderDesc) }
        }
        var scratchpad: (memory: dnnl_memory_t, buffer: UnsafeMutableRawPointer)?
        if let padDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0), dnnl_memory_desc_get_size(padDesc) > 0 {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: dnnl_memory_desc_get_size(padDesc), alignment: 64)
            var memory: dnnl_memory_t?
            guard dnnl_memory_create(&memory, padDesc, engine, buffer) == dnnl_success, let memory else {
                buffer.deallocate(); return nil
            }
            scratchpad = (memory, buffer)
        }
        self.primitive = made
        self.stream = stream
        self.ports = ports
        self.scratchpad = scratchpad
        self.owned = owned
    }

    private static func makePort(argument: Int32, user userDesc: dnnl_memory_desc_t, inner innerDesc: dnnl_memory_desc_t,
                                 isOutput: Bool, engine: dnnl_engine_t) -> (Port, dnnl_primitive_desc_t?)? {
        var userDesc = userDesc, innerDesc = innerDesc
        var user: dnnl_memory_t?
        // The handle is set before every execution.
        let placeholder = UnsafeMutableRawPointer(bitPattern: 64)
        guard dnnl_memory_create(&user, &userDesc, engine, placeholder) == dnnl_success, let user else { return nil }
        if dnnl_memory_desc_equal(&userDesc, &innerDesc) != 0 {
            return (Port(argument: argument, isOutput: isOutput, user: user, inner: nil, reorder: nil, buffer: nil), nil)
        }
        let size = dnnl_memory_desc_get_size(&innerDesc)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 64), alignment: 64)
        var inner: dnnl_memory_t?
        var reorderDesc: dnnl_primitive_desc_t?
        var reorder: dnnl_primitive_t?
        guard dnnl_memory_create(&inner, &innerDesc, engine, buffer) == dnnl_success, let inner,
              (isOutput ? dnnl_reorder_primitive_desc_create(&reorderDesc, &innerDesc, engine, &userDesc, engine, nil)
                        : dnnl_reorder_primitive_desc_create(&reorderDesc, &userDesc, engine, &innerDesc, engine, nil)) == dnnl_success,
              let reorderDesc,
              dnnl_primitive_create(&reorder, reorderDesc) == dnnl_success, let reorder
        else { buffer.deallocate(); return nil }
        return (Port(argument: argument, isOutput: isOutput, user: user, inner: inner, reorder: reorder, buffer: buffer), reorderDesc)
    }

    /// Runs the primitive on Terrain's buffers (arguments with a nil pointer are left out).
    func execute(_ pointers: [(Int32, UnsafeMutableRawPointer?)]) {
        var args: [dnnl_exec_arg_t] = []
        for port in ports {
            guard let pointer = pointers.first(where: { $0.0 == port.argument })?.1 else { continue }
            check(dnnl_memory_set_data_handle(port.user, pointer))
            if let inner = port.inner, let reorder = port.reorder, !port.isOutput {
                var reorderArgs = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: port.user), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: inner)]
                check(dnnl_primitive_execute(reorder, stream, 2, &reorderArgs))
            }
            args.append(dnnl_exec_arg_t(arg: port.argument, memory: port.inner ?? port.user))
        }
        if let scratchpad { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad.memory)) }
        check(dnnl_primitive_execute(primitive, stream, Int32(args.count), &args))
        for port in ports where port.isOutput {
            guard let inner = port.inner, let reorder = port.reorder,
                  pointers.contains(where: { $0.0 == port.argument && $0.1 != nil }) else { continue }
            var reorderArgs = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: inner), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: port.user)]
            check(dnnl_primitive_execute(reorder, stream, 2, &reorderArgs))
        }
        check(dnnl_stream_wait(stream))
    }

    private func check(_ status: dnnl_status_t) {
        // Shapes and layouts were validated when the plan was made; a failure here is a bug.
        precondition(status == dnnl_success, "oneDNN convolution failed with status \(status.rawValue)")
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        for port in ports {
            dnnl_memory_destroy(port.user)
            if let inner = port.inner { dnnl_memory_destroy(inner) }
            if let reorder = port.reorder { dnnl_primitive_destroy(reorder) }
            port.buffer?.deallocate()
        }
        if let scratchpad { dnnl_memory_destroy(scratchpad.memory); scratchpad.buffer.deallocate() }
        for pd in owned { dnnl_primitive_desc_destroy(pd) }
        dnnl_stream_destroy(stream)
    }
}
