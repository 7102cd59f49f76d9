import TerrainTensor
import TerrainNN
import TerrainData
import TerrainTraining

/// A Terrain model and its data as an `Objective`: evaluation mode (running BN statistics),
/// loss averaged per sample over the whole set, accuracy in percent.
public final class ModelObjective<Scalar: TensorScalar>: DifferentiableObjective {
    public let model: Module<Scalar>
    public let data: DatasetPair
    public let batchSize: Int
    public let groups: [ParameterGroup]
    private let parameterList: [Parameter<Scalar>]
    /// Builds another model of the same architecture (its values do not matter: a replica's
    /// parameters are always set before it is evaluated).
    private let makeModel: (() throws -> Module<Scalar>)?

    /// - Parameter makeModel: builds a fresh model of the same architecture, so that grid points
    ///   can be evaluated on several threads at once (`replica()`); without it, one at a time.
    public init(model: Module<Scalar>, data: DatasetPair, batchSize: Int = 500,
                makeModel: (() throws -> Module<Scalar>)? = nil) {
        self.model = model
        self.data = data
        self.batchSize = batchSize
        self.makeModel = makeModel
        let named = model.namedParameters()
        parameterList = named.map(\.parameter)
        groups = .tiling(named.map { ($0.name, $0.parameter.shape, $0.parameter.role) })
        model.setTraining(false)
        model.setRecording(false)
    }

    public func parameters() -> [Double] {
        var flat = [Double](repeating: 0, count: groups.scalarCount)
        for (group, p) in zip(groups, parameterList) {
            let src = p.value.pointer
            for i in 0..<group.count { flat[group.offset + i] = Double(src[i]) }
        }
        return flat
    }

    public func setParameters(_ values: [Double]) {
        precondition(values.count == groups.scalarCount, "\(values.count) values for \(groups.scalarCount) parameters")
        values.withUnsafeBufferPointer { v in
            for (group, p) in zip(groups, parameterList) {
                let dst = p.value.mutablePointer()
                for i in 0..<group.count { dst[i] = Scalar(v[group.offset + i]) }
            }
        }
    }

    public func replica() throws -> Objective? {
        guard let makeModel else { return nil }
        let copy = ModelObjective(model: try makeModel(), data: data, batchSize: batchSize, makeModel: makeModel)
        guard copy.groups == groups else {
            throw LandscapeError.invalidRequest("the model built for another thread does not have this model's parameters")
        }
        copy.setParameters(parameters())
        return copy
    }

    public func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue {
        let result = Evaluation.evaluate(model, on: set == .train ? data.train : data.test, batchSize: batchSize)
        return ObjectiveValue(loss: result.loss, accuracy: result.accuracy)
    }

    /// The loss over the whole set and its gradient, in evaluation mode (running BN statistics,
    /// no dropout) like `evaluate`: each batch's mean-loss gradient is weighted by its share of
    /// the set, so the result is the gradient of the per-sample mean.
    public func gradient(_ set: EvaluationSet) throws -> (value: ObjectiveValue, gradient: [Double]) {
        let data = set == .train ? self.data.train : self.data.test
        guard data.count > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
        model.setRecording(true)
        defer { model.setRecording(false); model.zeroGradients() }
        model.zeroGradients()
        var lossSum = 0.0, correct = 0
        var start = 0
        while start < data.count {
            let end = min(data.count, start + batchSize)
            let (inputs, targets) = data.batch(start..<end)
            let output = model.forward(Scalar.self == Float.self ? inputs as! Tensor<Scalar> : Tensor<Scalar>(converting: inputs))
            let result = TaskLoss.compute(output: output, targets: targets)
            var g = result.gradient
            Backends.current.scale(&g, by: Scalar(Double(end - start) / Double(data.count)))
            _ = model.backward(g)
            lossSum += result.loss * Double(end - start)
            correct += result.correct
            start = end
        }
        var flat = [Double](repeating: 0, count: groups.scalarCount)
        for (group, p) in zip(groups, parameterList) where p.isTrainable {
            guard let g = p.gradient else { continue }
            let src = g.pointer
            for i in 0..<group.count { flat[group.offset + i] = Double(src[i]) }
        }
        let value = ObjectiveValue(loss: lossSum / Double(data.count),
                                   accuracy: data.classCount == nil ? nil : 100 * Double(correct) / Double(data.count))
        return (value, flat)
    }
}
