import TerrainTensor

/// MaxPool, AveragePool (padding counted in the divisor, PyTorch's default) and
/// GlobalAveragePool over NCHW batches.
///
/// Max pooling is linear at its recorded arg-max: ẏ takes ẋ there and R{∂x} routes ġ like g.
/// Average pooling is linear: tangents go through the same operation.
struct PoolingOperator: GraphOperator {
    enum Kind: Sendable { case max, average, globalAverage }
    var kind: Kind
    /// Unused for global pooling, whose window is the whole image.
    var geometry = Pool2dGeometry(kernel: 1)

    private func window<S>(_ x: Tensor<S>) -> Pool2dGeometry {
        kind == .globalAverage ? Pool2dGeometry(kernel: (x.shape[2], x.shape[3]), stride: (1, 1), padding: (0, 0)) : geometry
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        guard x.rank == 4 else { throw OperatorFailure("input must be [N, C, H, W], got \(x.shape)") }
        let g = window(x)
        let out = g.outputSize(height: x.shape[2], width: x.shape[3])
        guard out.height > 0, out.width > 0, g.kernel.height > 0, g.kernel.width > 0 else {
            throw OperatorFailure("input \(x.shape) is too small for the window \(g.kernel)")
        }
        // A window that lies wholly in the padding has no maximum.
        guard g.padding.height < g.kernel.height, g.padding.width < g.kernel.width,
              g.paddingEnd.height < g.kernel.height, g.paddingEnd.width < g.kernel.width else {
            throw OperatorFailure("padding \(g.padding) must be smaller than the window \(g.kernel)")
        }
        let backend = Backends.current
        switch kind {
        case .max:
            let (y, argmax) = backend.maxPool2d(x, geometry: g)
            return NodeOutput(.real(y), tangent: inputs.tangent(0).map { backend.maxPool2dTangent($0, argmax: argmax, outputShape: y.shape) },
                              argmax: argmax)
        case .average, .globalAverage:
            return .real(backend.avgPool2d(x, geometry: g), tangent: inputs.tangent(0).map { backend.avgPool2d($0, geometry: g) })
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let backend = Backends.current
        let x = r.x(0)
        switch kind {
        case .max:
            let argmax = r.output.argmax
            return [InputGradient(backend.maxPool2dBackward(gradient: g, argmax: argmax, inputShape: x.shape),
                                  gDot.map { backend.maxPool2dBackward(gradient: $0, argmax: argmax, inputShape: x.shape) })]
        case .average, .globalAverage:
            let w = window(x)
            return [InputGradient(backend.avgPool2dBackward(gradient: g, inputShape: x.shape, geometry: w),
                                  gDot.map { backend.avgPool2dBackward(gradient: $0, inputShape: x.shape, geometry: w) })]
        }
    }
}

/// Softmax and LogSoftmax along an axis. Operator sets before 13 flatten the input to a matrix
/// at `axis` and normalize its rows; from 13 on, along `axis` alone.
///
/// ẏ = J·ẋ; ∂x = Jᵀ·g; R{∂x} = Jᵀ·ġ + R{Jᵀ}·g (`Backend.softmaxSecondOrder`).
struct SoftmaxOperator: GraphOperator {
    var axis: Int
    var logarithm: Bool
    /// Before operator set 13: coerce to 2-D at `axis`.
    var coercesToMatrix: Bool

    /// The shape the softmax runs on and its axis.
    private func layout(_ shape: [Int]) throws -> (shape: [Int], axis: Int) {
        let a = try normalizedAxis(axis, rank: shape.count)
        if coercesToMatrix { return ([shape[..<a].reduce(1, *), shape[a...].reduce(1, *)], 1) }
        return (shape, a)
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        let (shape, a) = try layout(x.shape)
        let backend = Backends.current
        let y = backend.softmax(x.reshaped(shape), axis: a, logarithm: logarithm)
        let yDot = inputs.tangent(0).map {
            backend.softmaxJacobian(output: y, $0.reshaped(shape), axis: a, logarithm: logarithm, transposed: false).reshaped(x.shape)
        }
        return .real(y.reshaped(x.shape), tangent: yDot)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let x = r.x(0)
        guard let (shape, a) = try? layout(x.shape) else { return [nil] }
        let backend = Backends.current
        let y = r.y.reshaped(shape), g2 = g.reshaped(shape)
        let gx = backend.softmaxJacobian(output: y, g2, axis: a, logarithm: logarithm, transposed: true)
        var gxDot = gDot.map { backend.softmaxJacobian(output: y, $0.reshaped(shape), axis: a, logarithm: logarithm, transposed: true) }
        if let yDot = r.yDot {
            gxDot = sumOf(gxDot, backend.softmaxSecondOrder(output: y, outputTangent: yDot.reshaped(shape), gradient: g2,
                                                            axis: a, logarithm: logarithm))
        }
        return [InputGradient(gx.reshaped(x.shape), gxDot?.reshaped(x.shape))]
    }
}
