import TerrainTensor

/// Clip: y = min(max(x, lo), hi), NaN passing through (PyTorch's clamp; ReLU6 exports as Clip to
/// [0, 6]). The bounds come from the `min` and `max` attributes before operator set 11 and from the
/// optional inputs 1 and 2 after (one-element real tensors; a missing bound is ∓∞).
///
/// Piecewise linear in (x, lo, hi), so every second derivative vanishes: with the regions
/// inside = {lo < x < hi}, below = {x < lo}, above = {x > hi} (lo ≤ hi),
/// ẏ = 1_inside·ẋ + 1_below·l̇o + 1_above·ḣi; ∂x = 1_inside·g, ∂lo = Σ 1_below·g, ∂hi = Σ 1_above·g,
/// and their tangents are the same masks applied to ġ. When lo > hi, y = hi everywhere (ONNX's
/// rule): only hi gets a gradient. Exporters write the bounds as constants; an initializer as a
/// bound is a parameter like any other, so its derivatives are kept.
struct ClipOperator: GraphOperator {
    /// The bounds of operator sets before 11 (attributes); nil from 11 on (inputs).
    var attributeBounds: (lower: Double, upper: Double)?

    private func bounds<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> (lower: Double, upper: Double) {
        if let attributeBounds { return attributeBounds }
        func bound(_ i: Int, _ missing: Double) throws -> Double {
            guard inputs.has(i) else { return missing }
            let t = try inputs.real(i)
            guard t.count == 1 else { throw OperatorFailure("the bound in input \(i) must hold one value, got shape \(t.shape)") }
            return Double(t[flat: 0])
        }
        return (try bound(1, -.infinity), try bound(2, .infinity))
    }

    /// t·1_region(x), where the region is the open interval (lower, upper).
    private static func masked<S: TensorScalar>(_ x: Tensor<S>, _ t: Tensor<S>, _ lower: Double, _ upper: Double) -> Tensor<S> {
        Backends.current.activationBackward(.clip(min: lower, max: upper), input: x, output: x, gradient: t)
    }

    /// A bound's share of ∂L: Σ over the elements of t·1_region(x), as a tensor of the bound's shape.
    private static func total<S: TensorScalar>(_ t: Tensor<S>, like bound: Tensor<S>) -> Tensor<S> {
        Tensor(shape: bound.shape, scalars: [S(Backends.current.sum(t))])
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        let (lo, hi) = try bounds(inputs)
        guard !lo.isNaN, !hi.isNaN else { throw OperatorFailure("a bound is NaN") }
        let backend = Backends.current
        let y = backend.activation(.clip(min: lo, max: hi), x)
        var yDot: Tensor<S>?
        if lo <= hi {
            yDot = inputs.tangent(0).map { Self.masked(x, $0, lo, hi) }
            if let loDot = inputs.tangent(1) {
                yDot = sumOf(yDot, Self.masked(x, Tensor(repeating: loDot[flat: 0], shape: x.shape), -.infinity, lo))
            }
        }
        if let hiDot = inputs.tangent(2) {
            let filled = Tensor<S>(repeating: hiDot[flat: 0], shape: x.shape)
            yDot = sumOf(yDot, lo <= hi ? Self.masked(x, filled, hi, .infinity) : filled)
        }
        return .real(y, tangent: yDot)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let x = r.x(0)
        guard let (lo, hi) = try? bounds(r.inputs) else { return [nil] }
        var result: [InputGradient<S>?] = []
        if lo <= hi {
            result.append(InputGradient(Self.masked(x, g, lo, hi), gDot.map { Self.masked(x, $0, lo, hi) }))
        } else {
            result.append(InputGradient(Tensor(zeros: x.shape), nil))
        }
        guard attributeBounds == nil else { return result }
        // ∂lo and ∂hi: the sums of g over the elements each bound set.
        if r.inputs.has(1) {
            let bound = r.x(1)
            if lo <= hi {
                result.append(InputGradient(Self.total(Self.masked(x, g, -.infinity, lo), like: bound),
                                            gDot.map { Self.total(Self.masked(x, $0, -.infinity, lo), like: bound) }))
            } else {
                result.append(InputGradient(Tensor(zeros: bound.shape), nil))
            }
        } else {
            result.append(nil)
        }
        if r.inputs.has(2) {
            let bound = r.x(2)
            let share = { (t: Tensor<S>) in lo <= hi ? Self.masked(x, t, hi, .infinity) : t }
            result.append(InputGradient(Self.total(share(g), like: bound), gDot.map { Self.total(share($0), like: bound) }))
        }
        return result
    }
}
