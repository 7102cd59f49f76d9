import Testing
import TerrainTensor
import TerrainNN

/// A module's R-operator passes (`forwardTangent`, `backwardTangent`) against central finite
/// differences of its forward and backward passes, in Double.
///
/// The loss is L = Σ r ⊙ y + ½ Σ y ⊙ y for a fixed random r, so g = ∂L/∂y = r + y depends on the
/// point and ġ = ẏ ≠ 0 exercises the R{g} paths as well as the module's own second-order terms.
/// Along a random direction (ẋ, v) of the input and the trainable parameters, with step h:
///
///     ẏ        ≈ (y(x + hẋ, θ + hv) − y(x − hẋ, θ − hv)) / 2h
///     R{∂L/∂x} ≈ (∂L/∂x(+h) − ∂L/∂x(−h)) / 2h,   R{∂L/∂θ} (the curvature) the same way
///
/// The truncation error is O(h²) ≈ 1e-10 at h = 1e-5, far below the 1e-6 asked. Errors are
/// vector-relative like `GradientCheck`'s. With `inputTangent` false, ẋ is zero (nil), as for a
/// network's first layer.
struct TangentCheck {
    var step = 1e-5

    struct Report {
        var outputTangent: Double
        var inputCurvature: Double
        var parameters: [String: Double]
    }

    func run(_ module: Module<Double>, input: Tensor<Double>, inputTangent: Bool = true, seed: UInt64 = 11) -> Report {
        let backend = Backends.current
        var gen = SeededGenerator(seed: seed)
        let trainable = module.namedParameters().filter { $0.parameter.isTrainable }
        let r = Tensor<Double>.randomNormal(shape: module.forward(input).shape, generator: &gen)
        let xDot: Tensor<Double>? = inputTangent ? .randomNormal(shape: input.shape, generator: &gen) : nil
        let v = trainable.map { Tensor<Double>.randomNormal(shape: $0.parameter.shape, generator: &gen) }

        func outputGradient(_ y: Tensor<Double>) -> Tensor<Double> { backend.add(r, y) }

        // The R-operator.
        module.zeroGradients()
        for (p, direction) in zip(trainable, v) { p.parameter.tangent = direction }
        let (y, yDot) = module.forwardTangent(input, xDot)
        let (_, gxDot) = module.backwardTangent(outputGradient(y), yDot)
        let curvatures = trainable.map { $0.parameter.curvature ?? Tensor(zeros: $0.parameter.shape) }
        module.clearTangents()
        module.zeroGradients()

        // Output, input gradient and parameter gradients at (x + sĥ, θ + sv), θ restored after.
        func evaluate(at s: Double) -> (y: Tensor<Double>, gx: Tensor<Double>, gradients: [Tensor<Double>]) {
            let saved = trainable.map(\.parameter.value)
            defer { for (p, value) in zip(trainable, saved) { p.parameter.value = value } }
            for (p, direction) in zip(trainable, v) { backend.axpy(s, direction, into: &p.parameter.value) }
            var x = input
            if let xDot { backend.axpy(s, xDot, into: &x) }
            module.zeroGradients()
            let y = module.forward(x)
            let gx = module.backward(outputGradient(y))
            let gradients = trainable.map { $0.parameter.gradient ?? Tensor(zeros: $0.parameter.shape) }
            module.zeroGradients()
            return (y, gx, gradients)
        }
        let plus = evaluate(at: step), minus = evaluate(at: -step)
        func difference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Tensor<Double> {
            var d = backend.broadcast(.subtract, a, b)
            backend.scale(&d, by: 1 / (2 * step))
            return d
        }
        var errors: [String: Double] = [:]
        for (index, p) in trainable.enumerated() {
            errors[p.name] = relativeError(curvatures[index], difference(plus.gradients[index], minus.gradients[index]))
        }
        return Report(outputTangent: relativeError(yDot ?? Tensor(zeros: y.shape), difference(plus.y, minus.y)),
                      inputCurvature: relativeError(gxDot ?? Tensor(zeros: input.shape), difference(plus.gx, minus.gx)),
                      parameters: errors)
    }

    /// ‖a − n‖ / max(‖a‖, ‖n‖), or 0 when both are rounding noise (below 1e-8).
    private func relativeError(_ analytic: Tensor<Double>, _ numeric: Tensor<Double>) -> Double {
        precondition(analytic.shape == numeric.shape, "tangent check: \(analytic.shape) against \(numeric.shape)")
        var diff = 0.0, normA = 0.0, normN = 0.0
        for i in 0..<analytic.count {
            let a = analytic[flat: i], n = numeric[flat: i]
            diff += (a - n) * (a - n); normA += a * a; normN += n * n
        }
        let scale = max(normA.squareRoot(), normN.squareRoot())
        return scale < 1e-8 ? 0 : diff.squareRoot() / scale
    }
}

/// Expects every R-operator output of `module` to match finite differences (`TangentCheck`), with
/// and without an input tangent.
func expectTangentsMatch(_ module: Module<Double>, input: Tensor<Double>, tolerance: Double = 1e-6,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    for inputTangent in [true, false] {
        let report = TangentCheck().run(module, input: input, inputTangent: inputTangent)
        let label = inputTangent ? "with ẋ" : "without ẋ"
        #expect(report.outputTangent < tolerance, "ẏ relative error \(report.outputTangent) \(label)", sourceLocation: sourceLocation)
        #expect(report.inputCurvature < tolerance, "R{∂L/∂x} relative error \(report.inputCurvature) \(label)",
                sourceLocation: sourceLocation)
        for (name, error) in report.parameters.sorted(by: { $0.key < $1.key }) {
            #expect(error < tolerance, "\(name) curvature relative error \(error) \(label)", sourceLocation: sourceLocation)
        }
    }
}
