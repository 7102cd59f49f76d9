import CTerrainKernels

/// An activation's forward pass with its tangent, and its backward pass with its R-operator, each
/// in one call. Exact GELU on Float runs one C pass that computes Φ(x) and φ(x) once per value
/// for every output (in a Hessian-vector product it otherwise took three passes of the normal
/// CDF and two of the density); other activations compose the single passes. Either way the
/// values are those of the single passes, bit for bit.
extension CPUBackend {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func activationWithTangent<T: TensorScalar>(_ kind: Activation, _ x: Tensor<T>,
                                                       tangent xDot: Tensor<T>) -> (y: Tensor<T>, yDot: Tensor<T>) {
        precondition(x.count == xDot.count, "activation tangent: x \(x.shape), ẋ \(xDot.shape)")
        guard kind == .gelu, T.self == Float.self else {
            let y = activation(kind, x)
            return (y, activationBackward(kind, input: x, output: y, gradient: xDot))
        }
        var y = Tensor<T>(uninitializedShape: x.shape), yDot = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, dp = xDot.pointer, yp = y.mutablePointer(), ydp = yDot.mutablePointer()
        // The chunks of `activation`: GELU's blocks of 16 start at the same indices.
        Parallel.forEach(range: x.count, grain: Self.elementwiseGrain) { r in
            let i = r.lowerBound
            terrain_gelu_with_tangent_f32(floats(xp) + i, floats(dp) + i, mutableFloats(yp) + i, mutableFloats(ydp) + i,
                                          r.count)
        }
        return (y, yDot)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func activationBackwardTangent<T: TensorScalar>(_ kind: Activation, input x: Tensor<T>, output y: Tensor<T>,
                                                           gradient g: Tensor<T>, gradientTangent gDot: Tensor<T>?,
                                                           inputTangent xDot: Tensor<T>?) -> (gx: Tensor<T>, gxDot: Tensor<T>?) {
        precondition(x.count == g.count && (gDot == nil || gDot!.count == g.count) && (xDot == nil || xDot!.count == g.count),
                     "activation backward tangent: size mismatch")
        let secondOrder = kind.isPiecewiseLinear ? nil : xDot
        guard kind == .gelu, T.self == Float.self else {
            let gx = activationBackward(kind, input: x, output: y, gradient: g)
            let alongGradient = gDot.map { activationBackward(kind, input: x, output: y, gradient: $0) }
            let alongInput = secondOrder.map { activationSecondDerivative(kind, input: x, output: y, times: multiply($0, g)) }
            switch (alongGradient, alongInput) {
            case let (a?, b?): return (gx, add(a, b))
            case let (a, b): return (gx, a ?? b)
            }
        }
        var gx = Tensor<T>(uninitializedShape: x.shape)
        var gxDot: Tensor<T>? = gDot != nil || secondOrder != nil ? Tensor<T>(uninitializedShape: x.shape) : nil
        let xp = x.pointer, gp = g.pointer, gdp = gDot?.pointer, xdp = secondOrder?.pointer
        let gxp = gx.mutablePointer(), gxdp = gxDot?.mutablePointer()
        Parallel.forEach(range: x.count, grain: Self.elementwiseGrain) { r in
            let i = r.lowerBound
            terrain_gelu_backward_tangent_f32(floats(xp) + i, floats(gp) + i, gdp.map { floats($0) + i },
                                              xdp.map { floats($0) + i }, mutableFloats(gxp) + i,
                                              gxdp.map { mutableFloats($0) + i }, r.count)
        }
        return (gx, gxDot)
    }
}
