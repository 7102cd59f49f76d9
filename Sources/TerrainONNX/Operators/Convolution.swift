import TerrainTensor

/// Conv over NCHW batches (2-D kernels): strides, pads (begin and end), dilations, groups and an
/// optional bias, through the back end's im2col convolution.
///
/// Bilinear in (x, W) like Terrain's `Conv2d`: ẏ = conv(ẋ, W) + conv(x, Ẇ) + ḃ;
/// R{∂x} = convᵀ(ġ, W) + convᵀ(g, Ẇ), R{∂W} = ∂W(ġ, x) + ∂W(g, ẋ), R{∂b} = Σ ġ.
struct ConvolutionOperator: GraphOperator {
    var geometry: Conv2dGeometry

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0), w = try inputs.real(1)
        let g = geometry
        guard x.rank == 4 else { throw OperatorFailure("input must be [N, C, H, W], got \(x.shape)") }
        guard w.rank == 4, w.shape[2] == g.kernel.height, w.shape[3] == g.kernel.width,
              w.shape[0] % g.groups == 0, w.shape[1] * g.groups == x.shape[1] else {
            throw OperatorFailure("weight \(w.shape) does not fit input \(x.shape) with kernel \(g.kernel) and \(g.groups) groups")
        }
        let out = g.outputSize(height: x.shape[2], width: x.shape[3])
        guard out.height > 0, out.width > 0 else { throw OperatorFailure("input \(x.shape) is too small for the kernel \(g.kernel)") }
        // The output and one image's column matrix must stay of a sane size.
        _ = try elementCount([x.shape[0], w.shape[0], out.height, out.width])
        _ = try elementCount([w.shape[1], g.kernel.height, g.kernel.width, out.height, out.width])
        var bias: Tensor<S>?
        if inputs.has(2) {
            let b = try inputs.real(2)
            guard b.shape == [w.shape[0]] else { throw OperatorFailure("bias \(b.shape) for \(w.shape[0]) filters") }
            bias = b
        }
        let backend = Backends.current
        let y = backend.conv2d(x, weight: w, bias: bias, geometry: g)
        var yDot = sumOf(inputs.tangent(0).map { backend.conv2d($0, weight: w, bias: nil, geometry: g) },
                         inputs.tangent(1).map { backend.conv2d(x, weight: $0, bias: nil, geometry: g) })
        if let bDot = inputs.tangent(2) {
            if yDot == nil { yDot = Tensor(zeros: y.shape) }
            backend.addFeatureBias(&yDot!, bDot)
        }
        return .real(y, tangent: yDot)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let backend = Backends.current
        let x = r.x(0), w = r.x(1), xDot = r.xDot(0), wDot = r.xDot(1)
        let first = backend.conv2dBackward(input: x, weight: w, gradient: g, geometry: geometry, needsInputGradient: true)
        var gxDot: Tensor<S>?, gwDot: Tensor<S>?, gbDot: Tensor<S>?
        if let gDot {
            let r = backend.conv2dBackward(input: x, weight: w, gradient: gDot, geometry: geometry, needsInputGradient: true)
            gxDot = r.input; gwDot = r.weight; gbDot = r.bias
        }
        if wDot != nil || xDot != nil {
            // convᵀ(g, Ẇ) and ∂W(g, ẋ) in one backward pass (a nil side stands in as zeros).
            let r = backend.conv2dBackward(input: xDot ?? Tensor(zeros: x.shape), weight: wDot ?? Tensor(zeros: w.shape),
                                           gradient: g, geometry: geometry, needsInputGradient: wDot != nil)
            if wDot != nil { gxDot = sumOf(gxDot, r.input) }
            if xDot != nil { gwDot = sumOf(gwDot, r.weight) }
        }
        var result: [InputGradient<S>?] = [InputGradient(first.input!, gxDot), InputGradient(first.weight, gwDot)]
        if r.inputs.has(2) { result.append(InputGradient(first.bias, gbDot)) }
        return result
    }
}
