import Testing
import TerrainTensor

/// The passes that a Hessian-vector product runs fused: an activation's forward pass with its
/// tangent and its backward pass with its R-operator (`activationWithTangent`,
/// `activationBackwardTangent`) must give the single passes' bits; layer normalization's Float
/// row kernels (backward, tangent, tangent backward) must agree with the same passes in Double.
@Suite("Fused activation passes and layer normalization's Float kernels")
struct FusedPassTests {
    let backend = CPUBackend()

    /// Normal values at three scales and a few far out (GELU's blocks of 16 take the erfc path
    /// where one value passes |x| = 3), over more elements than one parallel chunk, with a tail.
    static func values<T: TensorScalar>(_ count: Int, seed: UInt64, as _: T.Type = T.self) -> Tensor<T> {
        var g = SeededGenerator(seed: seed)
        let scalars = (0..<count).map { i -> T in
            let scale: Double = i % 97 == 0 ? 12 : (i % 3 == 0 ? 2 : 0.7)
            return T(scale * g.nextNormal())
        }
        return Tensor(shape: [count], scalars: scalars)
    }

    static let kinds: [Activation] = [.gelu, .geluTanh, .tanh, .softplus, .relu, .hardSwish]

    func expectFusedEqualsSinglePasses<T: TensorScalar>(_ kind: Activation, _: T.Type) {
        let n = 3 * 65_536 + 37
        let x: Tensor<T> = Self.values(n, seed: 1), xDot: Tensor<T> = Self.values(n, seed: 2)
        let g: Tensor<T> = Self.values(n, seed: 3), gDot: Tensor<T> = Self.values(n, seed: 4)
        let y = backend.activation(kind, x)
        let (fusedY, fusedYDot) = backend.activationWithTangent(kind, x, tangent: xDot)
        #expect(haveSameBits(fusedY.scalars, y.scalars), "\(kind) \(T.self): y")
        #expect(haveSameBits(fusedYDot.scalars, backend.activationBackward(kind, input: x, output: y, gradient: xDot).scalars),
                "\(kind) \(T.self): ẏ")

        let gx = backend.activationBackward(kind, input: x, output: y, gradient: g)
        let alongGradient = backend.activationBackward(kind, input: x, output: y, gradient: gDot)
        let alongInput = backend.activationSecondDerivative(kind, input: x, output: y, times: backend.multiply(xDot, g))
        for (gradientTangent, inputTangent) in [(gDot, xDot), (gDot, nil), (nil, xDot), (nil, nil)] as [(Tensor<T>?, Tensor<T>?)] {
            let fused = backend.activationBackwardTangent(kind, input: x, output: y, gradient: g,
                                                          gradientTangent: gradientTangent, inputTangent: inputTangent)
            let label = "\(kind) \(T.self), ġ \(gradientTangent != nil), ẋ \(inputTangent != nil)"
            #expect(haveSameBits(fused.gx.scalars, gx.scalars), "\(label): ∂L/∂x")
            let second = kind.isPiecewiseLinear ? nil : inputTangent.map { _ in alongInput }
            let expected: Tensor<T>? = switch (gradientTangent.map { _ in alongGradient }, second) {
            case let (a?, b?): backend.add(a, b)
            case let (a, b): a ?? b
            }
            #expect((fused.gxDot == nil) == (expected == nil), "\(label): R{∂L/∂x} present")
            if let got = fused.gxDot, let expected {
                #expect(haveSameBits(got.scalars, expected.scalars), "\(label): R{∂L/∂x}")
            }
        }
    }

    @Test(arguments: kinds)
    func fusedActivationPassesGiveTheSinglePassesBits(kind: Activation) {
        expectFusedEqualsSinglePasses(kind, Float.self)
        expectFusedEqualsSinglePasses(kind, Double.self)
    }

    @Test func fusedGELUDoesNotDependOnTheThreadCount() {
        let n = 5 * 65_536 + 3
        let x: Tensor<Float> = Self.values(n, seed: 5), xDot: Tensor<Float> = Self.values(n, seed: 6)
        let g: Tensor<Float> = Self.values(n, seed: 7)
        let (one, three) = resultsWithOneAndThreeThreads { () -> [[UInt32]] in
            let (y, yDot) = backend.activationWithTangent(.gelu, x, tangent: xDot)
            let r = backend.activationBackwardTangent(.gelu, input: x, output: y, gradient: g, gradientTangent: xDot,
                                                      inputTangent: xDot)
            return [y, yDot, r.gx, r.gxDot!].map { $0.scalars.bitPatterns }
        }
        #expect(one == three)
    }

    // MARK: Linear layers

    /// `linear` adds the bias to each block of rows after its product: the bits of `matmul` then
    /// `addFeatureBias`, with and without a bias, over several row blocks and an empty inner
    /// dimension.
    func expectLinearEqualsProductThenBias<T: TensorScalar>(_: T.Type) {
        for (rows, inputs, outputs) in [(700, 33, 17), (5, 4, 3), (9, 0, 4)] {
            var g = SeededGenerator(seed: UInt64(rows))
            let x: Tensor<T> = .randomNormal(shape: [rows, inputs], generator: &g)
            let w: Tensor<T> = .randomNormal(shape: [outputs, inputs], generator: &g)
            let b: Tensor<T> = .randomNormal(shape: [outputs], generator: &g)
            var expected = backend.matmul(x, w, transposeA: false, transposeB: true)
            #expect(haveSameBits(backend.linear(x, weight: w, bias: nil).scalars, expected.scalars), "\(T.self) \(rows)×\(inputs)")
            backend.addFeatureBias(&expected, b)
            #expect(haveSameBits(backend.linear(x, weight: w, bias: b).scalars, expected.scalars), "\(T.self) \(rows)×\(inputs), bias")
        }
    }

    @Test func linearGivesTheProductAndBiasBits() {
        expectLinearEqualsProductThenBias(Float.self)
        expectLinearEqualsProductThenBias(Double.self)
    }

    // MARK: Layer normalization

    /// Everything the three passes return, as Double arrays in a fixed order.
    func layerNormPasses<T: TensorScalar>(x: Tensor<T>, xDot: Tensor<T>, g: Tensor<T>, gDot: Tensor<T>,
                                          gamma: Tensor<T>, gammaDot: Tensor<T>, betaDot: Tensor<T>,
                                          beta: Tensor<T>) -> [String: [Double]] {
        let (_, st) = backend.layerNorm(x, gamma: gamma, beta: beta, epsilon: 1e-5)
        let back = backend.layerNormBackward(input: x, gradient: g, statistics: st, gamma: gamma, parameterGradients: true)
        let tangent = backend.layerNormTangent(input: x, inputTangent: xDot, statistics: st, gamma: gamma,
                                               gammaTangent: gammaDot, betaTangent: betaDot)
        let both = backend.layerNormTangentBackward(input: x, inputTangent: xDot, gradient: g, gradientTangent: gDot,
                                                    statistics: st, gamma: gamma, gammaTangent: gammaDot,
                                                    parameterGradients: true)
        let noTangents = backend.layerNormTangentBackward(input: x, inputTangent: nil, gradient: g, gradientTangent: nil,
                                                          statistics: st, gamma: gamma, gammaTangent: nil,
                                                          parameterGradients: true)
        func d(_ t: Tensor<T>?) -> [Double] { t.map { $0.scalars.map { Double($0) } } ?? [] }
        return ["backward ∂x": d(back.input), "backward ∂γ": d(back.gamma), "backward ∂β": d(back.beta),
                "tangent ẏ": d(tangent),
                "tangent backward ∂x": d(both.input), "tangent backward R{∂x}": d(both.inputTangent),
                "tangent backward ∂γ": d(both.gamma), "tangent backward ∂β": d(both.beta),
                "tangent backward R{∂γ}": d(both.gammaCurvature), "tangent backward R{∂β}": d(both.betaCurvature),
                "no tangents ∂x": d(noTangents.input), "no tangents R{∂x}": d(noTangents.inputTangent)]
    }

    @Test(arguments: [[4, 7, 128], [3, 50], [2, 5, 16], [1, 3, 1000]])
    func layerNormFloatKernelsAgreeWithDouble(shape: [Int]) {
        let n = shape.reduce(1, *), width = shape.last!
        func tensor(_ seed: UInt64, _ count: Int, _ s: [Int], offset: Double = 0) -> Tensor<Double> {
            let v: Tensor<Double> = Self.values(count, seed: seed)
            return Tensor(shape: s, scalars: v.scalars.map { $0 + offset })
        }
        // An offset mean, as residual streams have: the centring must not cancel.
        let x = tensor(11, n, shape, offset: 3), xDot = tensor(12, n, shape), g = tensor(13, n, shape)
        let gDot = tensor(14, n, shape), gamma = tensor(15, width, [width], offset: 1)
        let gammaDot = tensor(16, width, [width]), betaDot = tensor(17, width, [width]), beta = tensor(18, width, [width])
        let float: (Tensor<Double>) -> Tensor<Float> = { Tensor(converting: $0) }
        let f = layerNormPasses(x: float(x), xDot: float(xDot), g: float(g), gDot: float(gDot), gamma: float(gamma),
                                gammaDot: float(gammaDot), betaDot: float(betaDot), beta: float(beta))
        // The Double reference starts from the same (Float-representable) inputs.
        let back: (Tensor<Float>) -> Tensor<Double> = { Tensor(converting: $0) }
        let d = layerNormPasses(x: back(float(x)), xDot: back(float(xDot)), g: back(float(g)), gDot: back(float(gDot)),
                                gamma: back(float(gamma)), gammaDot: back(float(gammaDot)),
                                betaDot: back(float(betaDot)), beta: back(float(beta)))
        #expect(Set(f.keys) == Set(d.keys))
        for (name, expected) in d {
            let got = f[name]!
            #expect(got.count == expected.count, "\(name): \(got.count) values, \(expected.count) expected")
            guard got.count == expected.count, !expected.isEmpty else { continue }
            // Norm-wise: each pass subtracts row means, so single elements may cancel.
            let scale = expected.map(abs).max()!
            let worst = zip(got, expected).map { abs($0 - $1) }.max()!
            #expect(worst <= 2e-6 * scale * Double(max(1, width / 128)).squareRoot() + 1e-30,
                    "\(shape) \(name): largest difference \(worst) against a largest value of \(scale)")
        }
    }

    @Test func layerNormFloatKernelsDoNotDependOnTheThreadCount() {
        let shape = [64, 33, 128], n = 64 * 33 * 128
        let x: Tensor<Float> = Tensor(shape: shape, scalars: Self.values(n, seed: 21, as: Float.self).scalars)
        let xDot: Tensor<Float> = Tensor(shape: shape, scalars: Self.values(n, seed: 22, as: Float.self).scalars)
        let g: Tensor<Float> = Tensor(shape: shape, scalars: Self.values(n, seed: 23, as: Float.self).scalars)
        let gamma: Tensor<Float> = Self.values(128, seed: 24), beta: Tensor<Float> = Self.values(128, seed: 25)
        let (one, three) = resultsWithOneAndThreeThreads { () -> [[UInt64]] in
            layerNormPasses(x: x, xDot: xDot, g: g, gDot: xDot, gamma: gamma, gammaDot: beta, betaDot: gamma, beta: beta)
                .sorted { $0.key < $1.key }.map { $0.value.bitPatterns }
        }
        #expect(one == three)
    }
}
