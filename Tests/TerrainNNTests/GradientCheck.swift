import Testing
import TerrainTensor
import TerrainNN

/// Central finite differences against a module's backward pass, in Double.
///
/// The scalar checked is L = Σ r ⊙ f(x) for a fixed random r, so that dL/df = r exercises every
/// output. Errors are vector-relative: ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖).
struct GradientCheck {
    var step = 1e-6
    /// Compare at most this many coordinates per tensor (spread evenly) to keep tests fast.
    var maxCoordinates = 400
    /// Below this norm a gradient counts as zero (finite-difference noise is ~1e-10 here).
    var zeroGradientNorm = 1e-8

    struct Report { var input: Double; var parameters: [String: Double] }

    /// With `checkInput` false the input gradient is not compared (token ids are discrete: a
    /// step of 1e-6 is not a token) and the report's `input` is 0.
    func run(_ module: Module<Double>, input: Tensor<Double>, seed: UInt64 = 7, checkInput: Bool = true) -> Report {
        var gen = SeededGenerator(seed: seed)
        let y0 = module.forward(input)
        let r = Tensor<Double>.randomNormal(shape: y0.shape, generator: &gen)
        module.zeroGradients()
        _ = module.forward(input)
        let gx = module.backward(r)
        func loss() -> Double {
            let y = module.forward(input)
            return Backends.current.dot(y, r)
        }
        var x = input
        let inputError = !checkInput ? 0 : compare(analytic: gx, count: x.count) { i, delta in
            let old = x[flat: i]
            x[flat: i] = old + delta
            let y = module.forward(x)
            x[flat: i] = old
            return Backends.current.dot(y, r)
        }
        var errors: [String: Double] = [:]
        for (name, p) in module.namedParameters() where p.isTrainable {
            let analytic = p.gradient ?? Tensor(zeros: p.shape)
            errors[name] = compare(analytic: analytic, count: p.value.count) { i, delta in
                let old = p.value[flat: i]
                p.value[flat: i] = old + delta
                let l = loss()
                p.value[flat: i] = old
                return l
            }
        }
        return Report(input: inputError, parameters: errors)
    }

    private func compare(analytic: Tensor<Double>, count: Int, evaluate: (Int, Double) -> Double) -> Double {
        let stride = max(1, count / maxCoordinates)
        var diff = 0.0, normA = 0.0, normN = 0.0
        for i in Swift.stride(from: 0, to: count, by: stride) {
            let numeric = (evaluate(i, step) - evaluate(i, -step)) / (2 * step)
            let a = analytic[flat: i]
            diff += (a - numeric) * (a - numeric); normA += a * a; normN += numeric * numeric
        }
        let scale = max(normA.squareRoot(), normN.squareRoot())
        // A parameter whose true gradient is exactly zero (a bias feeding batch normalization in
        // training mode) has no relative error: both sides are rounding noise. Such a parameter
        // passes only if both are below `zeroGradientNorm` in absolute terms.
        if scale < zeroGradientNorm { return 0 }
        return diff.squareRoot() / scale
    }
}

func expectGradientsMatch(_ module: Module<Double>, input: Tensor<Double>, checkInput: Bool = true, tolerance: Double = 1e-6,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    let report = GradientCheck().run(module, input: input, checkInput: checkInput)
    #expect(report.input < tolerance, "input gradient relative error \(report.input)", sourceLocation: sourceLocation)
    for (name, error) in report.parameters.sorted(by: { $0.key < $1.key }) {
        #expect(error < tolerance, "\(name) gradient relative error \(error)", sourceLocation: sourceLocation)
    }
}

func randomInput(_ shape: [Int], seed: UInt64 = 1) -> Tensor<Double> {
    var g = SeededGenerator(seed: seed)
    return .randomNormal(shape: shape, generator: &g)
}
