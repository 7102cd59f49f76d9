import TerrainTensor

/// Stochastic weight averaging (Izmailov et al., "Averaging Weights Leads to Wider Optima and
/// Better Generalization", UAI 2018): an equal-weight running average of the trainable
/// parameters of models taken along a training trajectory.
///
/// After n models, folding in weights w gives
///
///     avg ← avg + (w − avg) / (n + 1)
///
/// (the first model is copied as is), as `torch.optim.swa_utils.AveragedModel` does by
/// default. Only trainable parameters are averaged; batch-normalization running statistics of
/// the averaged weights must be recomputed with `recomputeBatchNormStatistics(_:batches:)`
/// after `apply(to:)`.
///
/// The average is stored in `Scalar` and matched to models by the order and shapes of their
/// trainable parameters, so any model of the same architecture can be folded in or receive it.
public final class StochasticWeightAverage<Scalar: TensorScalar> {
    private var average: [Tensor<Scalar>] = []
    private var names: [String] = []

    /// Number of models folded into the average.
    public private(set) var averagedModels = 0

    public init() {}

    /// Folds the model's current trainable parameters into the running average.
    public func update(from model: Module<Scalar>) {
        let params = model.namedParameters().filter(\.parameter.isTrainable)
        if averagedModels == 0 {
            names = params.map(\.name)
            average = params.map { p in
                var copy = Tensor<Scalar>(uninitializedShape: p.parameter.shape)
                copy.mutablePointer().update(from: p.parameter.value.pointer, count: copy.count)
                return copy
            }
        } else {
            checkMatches(params, "update")
            for i in params.indices {
                swaFold(average[i].mutablePointer(), params[i].parameter.value.pointer,
                        count: average[i].count, modelsSoFar: averagedModels)
            }
        }
        averagedModels += 1
    }

    /// Copies the averaged weights into `model`'s trainable parameters (buffers untouched).
    public func apply(to model: Module<Scalar>) {
        precondition(averagedModels > 0, "StochasticWeightAverage.apply before any update")
        let params = model.namedParameters().filter(\.parameter.isTrainable)
        checkMatches(params, "apply")
        for (p, avg) in zip(params, average) { p.parameter.value.assign(avg) }
    }

    /// The averaged trainable parameters, in the model's order (empty before any update).
    public var averagedParameters: [(name: String, value: Tensor<Scalar>)] {
        zip(names, average).map { ($0, $1) }
    }

    /// Replaces the average with a saved one (`averagedParameters` and `averagedModels` of an
    /// earlier run), so that a resumed run keeps averaging where it stopped.
    public func restore(_ parameters: [(name: String, value: Tensor<Scalar>)], averagedModels: Int) {
        precondition(averagedModels >= 0 && (averagedModels == 0) == parameters.isEmpty,
                     "StochasticWeightAverage.restore: \(parameters.count) tensors for \(averagedModels) models")
        names = parameters.map(\.name)
        average = parameters.map(\.value)
        self.averagedModels = averagedModels
    }

    /// Forgets the average.
    public func reset() {
        average = []
        names = []
        averagedModels = 0
    }

    private func checkMatches(_ params: [(name: String, parameter: Parameter<Scalar>)], _ operation: String) {
        precondition(params.count == average.count,
                     "StochasticWeightAverage.\(operation): model has \(params.count) trainable tensors, the average \(average.count)")
        for (i, p) in params.enumerated() {
            precondition(p.parameter.shape == average[i].shape,
                         "StochasticWeightAverage.\(operation): \(p.name) has shape \(p.parameter.shape), the average's \(names[i]) \(average[i].shape)")
        }
    }

    /// Recomputes batch-normalization running statistics for the model's current weights (the
    /// averaged ones, after `apply(to:)`), as `torch.optim.swa_utils.update_bn` does.
    ///
    /// Every `BatchNorm` in the tree has its running statistics reset and its momentum set to nil
    /// (a cumulative average over batches); the model then runs forward in training mode over
    /// `batches`, without recording backward state. Afterwards each BatchNorm's momentum, the
    /// model's training mode and its recording mode are restored. The running mean ends as the
    /// average of the per-batch means (the mean over all inputs when batches are equally
    /// sized), and the running variance as the average of the per-batch unbiased variances.
    ///
    /// Does nothing when the model has no BatchNorm. Training mode is restored uniformly, to the
    /// root module's mode before the call.
    public static func recomputeBatchNormStatistics(_ model: Module<Scalar>, batches: some Sequence<Tensor<Scalar>>) {
        let norms = model.batchNormLayers
        guard !norms.isEmpty else { return }
        let momenta = norms.map(\.momentum)
        let wasTraining = model.isTraining, wasRecording = model.isRecording
        for bn in norms {
            bn.resetRunningStatistics()
            bn.momentum = nil
        }
        model.setTraining(true)
        model.setRecording(false)
        for batch in batches { _ = model.forward(batch) }
        for (bn, momentum) in zip(norms, momenta) { bn.momentum = momentum }
        model.setTraining(wasTraining)
        model.setRecording(wasRecording)
    }
}

/// Short name for `StochasticWeightAverage`.
public typealias SWA<Scalar: TensorScalar> = StochasticWeightAverage<Scalar>

extension Module {
    /// Every BatchNorm in the module tree, in module order (this module included).
    public var batchNormLayers: [BatchNorm<Scalar>] {
        var result: [BatchNorm<Scalar>] = []
        func visit(_ m: Module<Scalar>) {
            if let bn = m as? BatchNorm<Scalar> { result.append(bn) }
            for child in m.children { visit(child.module) }
        }
        visit(self)
        return result
    }
}

/// avg ← avg + (w − avg)/(n + 1).
@_specialize(where T == Float) @_specialize(where T == Double)
func swaFold<T: TensorScalar>(_ avg: UnsafeMutablePointer<T>, _ w: UnsafePointer<T>, count: Int, modelsSoFar n: Int) {
    let divisor = T(n + 1)
    for i in 0..<count { avg[i] = avg[i] + (w[i] - avg[i]) / divisor }
}
