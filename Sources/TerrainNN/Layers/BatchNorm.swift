import TerrainTensor

/// Batch normalization over axis 1 of [N, C] (BatchNorm1d) or [N, C, H, W] (BatchNorm2d):
/// y = γ·(x − μ)/√(σ² + ε) + β.
///
/// Training mode uses the batch's mean and biased variance and updates the running statistics
/// with `momentum` (the running variance takes the unbiased estimate, as PyTorch does);
/// evaluation mode uses the running statistics, which makes the layer affine per channel.
///
/// Tangents (Hessian-vector products) are defined in evaluation mode only: with s = √(v + ε)
/// and x̂ = (x − μ)/s fixed by the running statistics, y = γ·x̂ + β gives
/// ẏ = γ̇·x̂ + γ·ẋ/s + β̇; dx = γ·g/s, R{dx} = (γ̇·g + γ·ġ)/s; R{dγ} = Σ (ġ·x̂ + g·ẋ/s),
/// R{dβ} = Σ ġ (sums over every axis but the feature axis).
public final class BatchNorm<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>
    public let runningMean: Parameter<Scalar>
    public let runningVariance: Parameter<Scalar>
    public let epsilon: Double
    /// Weight of the newest batch in the running statistics; nil means a cumulative average
    /// over all batches seen since `resetRunningStatistics()` (used to recompute statistics).
    public var momentum: Double?
    /// Batches folded into the running statistics since the last reset.
    public private(set) var batchesTracked = 0

    private var input: Tensor<Scalar>?
    private var batchMean: [Double] = []
    private var batchInvStd: [Double] = []
    private var usedBatchStatistics = false
    private var evalScale: Tensor<Scalar>?
    private var inputTangent: Tensor<Scalar>?

    public init(_ features: Int, epsilon: Double = 1e-5, momentum: Double? = 0.1) {
        weight = Parameter("weight", role: .normWeight, value: Tensor(repeating: 1, shape: [features]))
        bias = Parameter("bias", role: .normBias, value: Tensor(zeros: [features]))
        runningMean = Parameter("running_mean", role: .runningMean, value: Tensor(zeros: [features]))
        runningVariance = Parameter("running_var", role: .runningVariance, value: Tensor(repeating: 1, shape: [features]))
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public var features: Int { weight.shape[0] }

    override public var localParameters: [Parameter<Scalar>] { [weight, bias, runningMean, runningVariance] }

    /// Sets the batch counter, as a checkpoint recorded it (PyTorch's `num_batches_tracked`).
    public func restoreBatchesTracked(_ count: Int) { batchesTracked = max(0, count) }

    public func resetRunningStatistics() {
        runningMean.value.fill(0)
        runningVariance.value.fill(1)
        batchesTracked = 0
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank >= 2 && x.shape[1] == features, "BatchNorm(\(features)) got input \(x.shape)")
        let backend = Backends.current
        let (scale, shift): ([Double], [Double])
        if isTraining {
            let (mean, variance) = backend.featureMoments(x)
            let invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
            updateRunningStatistics(mean: mean, variance: variance, perFeatureCount: x.count / features)
            let gamma = weight.value.scalars, beta = bias.value.scalars
            scale = (0..<features).map { Double(gamma[$0]) * invStd[$0] }
            shift = (0..<features).map { Double(beta[$0]) - mean[$0] * scale[$0] }
            if isRecording { input = x; batchMean = mean; batchInvStd = invStd }
            usedBatchStatistics = true
        } else {
            let gamma = weight.value.scalars, beta = bias.value.scalars
            let mean = runningMean.value.scalars, variance = runningVariance.value.scalars
            scale = (0..<features).map { Double(gamma[$0]) / (Double(variance[$0]) + epsilon).squareRoot() }
            shift = (0..<features).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }
            usedBatchStatistics = false
        }
        let scaleTensor = Tensor<Scalar>(shape: [features], scalars: scale.map { Scalar($0) })
        if isRecording && !isTraining { input = x; evalScale = scaleTensor }
        return backend.featureAffine(x, scale: scaleTensor,
                                     shift: Tensor(shape: [features], scalars: shift.map { Scalar($0) }))
    }

    private func updateRunningStatistics(mean: [Double], variance: [Double], perFeatureCount m: Int) {
        batchesTracked += 1
        let w = momentum ?? 1 / Double(batchesTracked)
        let unbiased = m > 1 ? Double(m) / Double(m - 1) : 1
        let rm = runningMean.value.mutablePointer()
        let rv = runningVariance.value.mutablePointer()
        for f in 0..<features {
            rm[f] = Scalar((1 - w) * Double(rm[f]) + w * mean[f])
            rv[f] = Scalar((1 - w) * Double(rv[f]) + w * variance[f] * unbiased)
        }
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let x = input else { fatalError("BatchNorm.backward without a recorded forward pass") }
        let backend = Backends.current
        if usedBatchStatistics {
            let g = backend.batchNormBackward(input: x, gradient: gy, mean: batchMean, invStd: batchInvStd, gamma: weight.value)
            weight.accumulateGradient(g.gamma)
            bias.accumulateGradient(g.beta)
            return g.input
        }
        // Evaluation mode: y = x·s + t with s = γ/√(v+ε), t = β − μ·s.
        let mean = runningMean.value.scalars, variance = runningVariance.value.scalars
        let invStd = (0..<features).map { 1 / (Double(variance[$0]) + epsilon).squareRoot() }
        let xhat = backend.featureAffine(x, scale: Tensor(shape: [features], scalars: invStd.map { Scalar($0) }),
                                         shift: Tensor(shape: [features], scalars: (0..<features).map { Scalar(-Double(mean[$0]) * invStd[$0]) }))
        weight.accumulateGradient(backend.sumPerFeature(backend.multiply(gy, xhat)))
        bias.accumulateGradient(backend.sumPerFeature(gy))
        return backend.featureAffine(gy, scale: evalScale!, shift: Tensor(zeros: [features]))
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        precondition(!isTraining, "BatchNorm supports Hessian-vector products in evaluation mode only (running "
                     + "statistics); the Hessian is defined in evaluation mode here: call setTraining(false)")
        requireRecordingForTangents()
        let y = forward(x)
        inputTangent = xDot
        guard xDot != nil || weight.tangent != nil || bias.tangent != nil else { return (y, nil) }
        let yDot = Backends.current.batchNormEvaluationTangent(input: x, inputTangent: xDot, statistics: evaluationStatistics(),
                                                               gammaTangent: weight.tangent, betaTangent: bias.tangent)
        return (y, yDot)
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let x = input, !usedBatchStatistics else {
            fatalError("BatchNorm.backwardTangent without an evaluation-mode forwardTangent")
        }
        let r = Backends.current.batchNormEvaluationTangentBackward(
            input: x, inputTangent: inputTangent, gradient: g, gradientTangent: gDot, statistics: evaluationStatistics(),
            gammaTangent: weight.tangent, parameterGradients: computesParameterGradients)
        if let gamma = r.gamma { weight.accumulateGradient(gamma) }
        if let beta = r.beta { bias.accumulateGradient(beta) }
        if let c = r.gammaCurvature { weight.accumulateCurvature(c) }
        if let c = r.betaCurvature { bias.accumulateCurvature(c) }
        return (r.input, r.inputTangent)
    }

    /// μ, 1/√(v+ε) from the running statistics, and the forward pass's own γ/√(v+ε).
    private func evaluationStatistics() -> BatchNormEvaluationStatistics<Scalar> {
        let variance = runningVariance.value.scalars
        let invStd = (0..<features).map { Scalar(1 / (Double(variance[$0]) + epsilon).squareRoot()) }
        return BatchNormEvaluationStatistics(mean: runningMean.value, invStd: Tensor(shape: [features], scalars: invStd),
                                             scale: evalScale!)
    }

    override public func forgetRecordedState() { input = nil; evalScale = nil; inputTangent = nil }
}
