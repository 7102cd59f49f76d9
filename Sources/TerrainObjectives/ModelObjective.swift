import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainTraining
import TerrainCompiled
import TerrainLandscape

/// A Terrain model and its data as an `Objective`: evaluation mode (running BN statistics),
/// loss averaged per sample over the whole set, accuracy in percent. Its samples can also be
/// evaluated one by one (`SampleEvaluating`, for sampled surfaces), on the same paths.
public final class ModelObjective<Scalar: TensorScalar>: TwiceDifferentiableObjective, PlaneEvaluating, SampleEvaluating {
    public let model: Module<Scalar>
    public let data: DatasetPair
    public let batchSize: Int
    public let groups: [ParameterGroup]
    private let parameterList: [Parameter<Scalar>]
    /// Builds another model of the same architecture (its values do not matter: a replica's
    /// parameters are always set before it is evaluated).
    private let makeModel: (() throws -> Module<Scalar>)?
    /// How `evaluate` runs the model. `.compiled` (the default) takes the back end's compiled
    /// graph when the model lowers to one (`CompiledEvaluation`) and the layers otherwise;
    /// `TERRAIN_EVALUATION=layers` in the environment makes `.layerByLayer` the default.
    public var evaluationPath: EvaluationPath = EvaluationPath.defaultPath
    /// The arithmetic of the compiled path's products (`InferencePrecision`): `.fp32` (the
    /// default) or `.bf16`. The layer-by-layer path, gradients and Hessian-vector products are
    /// Float whatever it says, and so are points the compiled path declines (NaN or ∞ weights).
    public var precision: EvaluationPrecision = .fp32 {
        didSet { if precision != oldValue { compiled = nil } }
    }
    /// Made at the first compiled evaluation (false: the model does not lower).
    private var compiled: CompiledEvaluation<Scalar>??
    /// Made at the first Hessian-vector product on the compiled path (false: none for this model).
    private var compiledCurvature: CompiledCurvature<Scalar>??
    /// Where the parameters lie when a surface set them (`PlaneEvaluating`), and the plane's
    /// first-layer weights.
    private var planePoint: (plane: ObjectivePlane, alpha: Double, beta: Double)?
    /// (The plane is held, not only named: a freed plane's address could come back as another's.)
    private var firstLayerPlane: (plane: ObjectivePlane, layer: FirstLayerPlane)?
    /// Where batch-norm running statistics are recomputed for each new parameter vector before it
    /// is evaluated (`evaluate`), as for an averaged or interpolated network whose own running
    /// statistics do not belong to its weights (Garipov et al.'s curves, SWA); nil: the running
    /// statistics are the parameters' own, as set. The statistics are
    /// `StochasticWeightAverage.recomputeBatchNormStatistics` over these inputs in unshuffled
    /// batches of `batchSize`. A model without batch norm is not affected.
    public var batchNormData: Dataset? {
        didSet { batchNormStale = true }
    }
    /// Whether the parameters changed since the running statistics were last recomputed.
    private var batchNormStale = true
    /// The most bytes of θ-only results (each layer's values, pre-activations and loss
    /// gradients, per chunk of samples) that compiled Hessian-vector products keep between calls
    /// at one θ, so that later products there skip the forward and backward-data passes
    /// (`CompiledCurvature.hessianVectorProducts`). With a budget, single products also run
    /// through the block program (as blocks of 1), which gives the pair program's products to
    /// Float rounding; 0 (the default): single products run the pair program as always and
    /// nothing is kept. Blocks of several products share their θ-only passes either way.
    public var curvatureStateBudget = 0 {
        didSet { if curvatureStateBudget == 0, case .some(.some(let made)) = compiledCurvature { made.releaseKeptStates() } }
    }

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
        planePoint = nil
        batchNormStale = true
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
        copy.evaluationPath = evaluationPath
        copy.precision = precision
        copy.batchNormData = batchNormData
        copy.curvatureStateBudget = curvatureStateBudget
        guard copy.groups == groups else {
            throw LandscapeError.invalidRequest("the model built for another thread does not have this model's parameters")
        }
        copy.setParameters(parameters())
        return copy
    }

    public func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue {
        recomputeBatchNormStatisticsIfAsked()
        let data = samples(of: set)
        let compiled = compiledEvaluation(sampleShape: data.sampleShape)
        let fast: EvaluationResult?
        if let compiled, let plane = planeFirstLayer(of: compiled) {
            fast = compiled.evaluate(on: data, plane: plane.layer, alpha: plane.point.alpha, beta: plane.point.beta)
        } else {
            fast = compiled?.evaluate(on: data)
        }
        // The compiled graph declines NaN and ∞ (its ReLU would hide them): the layers then give
        // PyTorch's NaN.
        let result = fast ?? Evaluation.evaluate(model, on: data, batchSize: batchSize)
        return ObjectiveValue(loss: result.loss, accuracy: result.accuracy)
    }

    public func sampleCount(_ set: EvaluationSet) -> Int { samples(of: set).count }

    /// Each sample's loss and accuracy at `indices`, on the path `evaluate` takes: the compiled
    /// graph (the plane's rows when the parameters were set on a plane), else the layers, in
    /// batches of `batchSize` (`Evaluation.evaluateSamples`, `TaskLoss.perSample`).
    public func evaluateSamples(_ set: EvaluationSet, at indices: ArraySlice<Int>) throws -> SampleLosses {
        recomputeBatchNormStatisticsIfAsked()
        let data = samples(of: set)
        let compiled = compiledEvaluation(sampleShape: data.sampleShape)
        let fast: SampleResults?
        if let compiled, let plane = planeFirstLayer(of: compiled) {
            fast = compiled.evaluateSamples(on: data, indices: indices, plane: plane.layer, alpha: plane.point.alpha, beta: plane.point.beta)
        } else {
            fast = compiled?.evaluateSamples(on: data, indices: indices)
        }
        let result = fast ?? Evaluation.evaluateSamples(model, on: data, indices: indices, batchSize: batchSize)
        return SampleLosses(losses: result.losses, accuracies: result.accuracies)
    }

    /// The training or the test samples.
    private func samples(of set: EvaluationSet) -> Dataset { set == .train ? data.train : data.test }

    /// The first layer's plane and the point on it when the parameters were set on a plane off its
    /// centre: the plane's centre runs the whole graph, so that it gives the bits of the model's
    /// own evaluation (a stack's frame loss is its surface's centre).
    private func planeFirstLayer(of compiled: CompiledEvaluation<Scalar>)
        -> (layer: FirstLayerPlane, point: (plane: ObjectivePlane, alpha: Double, beta: Double))? {
        guard let point = planePoint, point.alpha != 0 || point.beta != 0,
              let layer = firstLayer(on: point.plane, of: compiled) else { return nil }
        return (layer, point)
    }

    /// Recomputes the running statistics on `batchNormData` when it is set and the parameters
    /// changed since the last time.
    private func recomputeBatchNormStatisticsIfAsked() {
        guard let source = batchNormData, batchNormStale else { return }
        batchNormStale = false
        guard !model.batchNormLayers.isEmpty, source.count > 0 else { return }
        let batches = BatchSchedule(count: source.count, batchSize: batchSize, shuffle: false, seed: 0, epoch: 0)
            .batches.lazy.map { Tensor<Scalar>(converting: source.batch($0).inputs) }
        StochasticWeightAverage<Scalar>.recomputeBatchNormStatistics(model, batches: batches)
        model.setTraining(false)
    }

    public func setParameters(_ values: [Double], on plane: ObjectivePlane, alpha: Double, beta: Double) {
        setParameters(values)
        planePoint = (plane, alpha, beta)
    }

    /// The compiled evaluation's first layer at the plane's centre and along its directions, or
    /// nil when the model's first layer is not linear on a plane.
    private func firstLayer(on plane: ObjectivePlane, of compiled: CompiledEvaluation<Scalar>) -> FirstLayerPlane? {
        if let made = firstLayerPlane, made.plane === plane { return made.layer }
        guard let layer = compiled.planeLayer,
              let weightIndex = parameterList.firstIndex(where: { $0 === layer.weight }) else { return nil }
        let biasIndex = layer.bias.flatMap { bias in parameterList.firstIndex { $0 === bias } }
        func slice(_ vector: [Double]?, _ index: Int?, shape: [Int]) -> Tensor<Float> {
            guard let vector, let index else { return Tensor(zeros: shape) }
            let group = groups[index]
            return Tensor(shape: shape, scalars: vector[group.offset..<(group.offset + group.count)].map { Float($0) })
        }
        let weightShape = layer.weight.shape, biasShape = [layer.outputs]
        let vectors = [plane.center, plane.x, plane.y]
        let made = FirstLayerPlane(weights: vectors.map { slice($0, weightIndex, shape: weightShape) },
                                   biases: vectors.map { slice($0, biasIndex, shape: biasShape) })
        firstLayerPlane = (plane, made)
        return made
    }

    /// Nil when the back end's compiled programs can compute in `precision`; otherwise why not
    /// (`GraphCompilingBackend.unavailability(of:)`).
    public static func unavailability(of precision: EvaluationPrecision, backend: any Backend = Backends.current) -> String? {
        guard precision != .fp32 else { return nil }
        guard let compiling = backend as? any GraphCompilingBackend else { return "this back end has no compiled programs" }
        return compiling.unavailability(of: precision.inference)
    }

    /// What a user should know before computing in `precision` where it runs
    /// (`GraphCompilingBackend.caveat(of:)`); nil when nothing.
    public static func caveat(of precision: EvaluationPrecision, backend: any Backend = Backends.current) -> String? {
        guard precision != .fp32, let compiling = backend as? any GraphCompilingBackend else { return nil }
        return compiling.caveat(of: precision.inference)
    }

    /// Whether `evaluate` runs the back end's compiled graph (the path asks for it and the
    /// model lowers to one) rather than the layers.
    public var evaluatesCompiled: Bool { compiledEvaluation(sampleShape: data.train.sampleShape) != nil }

    /// The compiled evaluation, when the path asks for it and the model lowers.
    private func compiledEvaluation(sampleShape: [Int]) -> CompiledEvaluation<Scalar>? {
        guard evaluationPath == .compiled else { return nil }
        if let made = compiled, made?.network.graph.inputShape == sampleShape || made == nil { return made }
        model.setTraining(false)
        let made = CompiledEvaluation(model: model, sampleShape: sampleShape, precision: precision.inference)
        compiled = .some(made)
        return made
    }

    /// The compiled Hessian-vector product, when the path asks for compiled evaluation and the
    /// model has one (`CompiledCurvature`).
    private func compiledCurvature(sampleShape: [Int]) -> CompiledCurvature<Scalar>? {
        guard evaluationPath == .compiled else { return nil }
        if let made = compiledCurvature, made?.network.graph.inputShape == sampleShape || made == nil { return made }
        let made = CompiledCurvature(model: model, sampleShape: sampleShape)
        compiledCurvature = .some(made)
        return made
    }

    /// The loss over the whole set and its gradient, in evaluation mode (running BN statistics,
    /// no dropout) like `evaluate`: each batch's mean-loss gradient is weighted by its share of
    /// the set, so the result is the gradient of the per-sample mean.
    public func gradient(_ set: EvaluationSet) throws -> (value: ObjectiveValue, gradient: [Double]) {
        let data = samples(of: set)
        guard data.count > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
        model.setRecording(true)
        defer { model.setRecording(false); model.zeroGradients() }
        model.zeroGradients()
        var lossSum = 0.0, correct = 0
        data.forEachBatch(of: batchSize, as: Scalar.self) { rows, inputs, targets in
            let result = TaskLoss.compute(output: model.forward(inputs), targets: targets)
            var g = result.gradient
            Backends.current.scale(&g, by: Scalar(Double(rows.count) / Double(data.count)))
            _ = model.backward(g)
            lossSum += result.loss * Double(rows.count)
            correct += result.correct
        }
        var flat = [Double](repeating: 0, count: groups.scalarCount)
        for (group, p) in zip(groups, parameterList) where p.isTrainable {
            guard let g = p.gradient else { continue }
            let src = g.pointer
            for i in 0..<group.count { flat[group.offset + i] = Double(src[i]) }
        }
        let value = ObjectiveValue(loss: lossSum / Double(data.count),
                                   accuracy: data.accuracy(correct: correct, samples: data.count))
        return (value, flat)
    }

    /// The loss, its gradient and the exact Hessian-vector product H·v over the whole set, in
    /// evaluation mode like `gradient`: one forward and one backward pass per batch, each carrying
    /// its R-operator tangent (`Module.forwardTangent`/`backwardTangent`), with v's trainable
    /// slices as the parameters' tangents.
    ///
    /// Each batch's mean-loss gradient and its tangent are weighted by the batch's share of the
    /// set, so H is the Hessian of the per-sample mean loss over the whole set, whatever the batch
    /// size. (The reference, Li et al.'s `eval_hess_vec_prod`, instead sums the products of each
    /// batch's mean loss: its H is the batch count times this one when all batches are equal, and
    /// a short last batch weighs as much as a full one.) Buffers have zero tangent (v's entries
    /// there are ignored) and get zero in the gradient and the product. The model stays in
    /// evaluation mode; its recording and training modes are restored afterwards, and parameter
    /// tangents, gradients and curvatures are cleared.
    ///
    /// Products without the gradient (`applyingTo:`) take the compiled program on the
    /// `.compiled` path when the model has one (`CompiledCurvature`: the same product to Float
    /// rounding, several times faster); everything else runs the layers.
    public func hessianVectorProduct(_ set: EvaluationSet, _ v: [Double]) throws
        -> (value: ObjectiveValue, gradient: [Double], product: [Double]) {
        let result = try hessianVectorProduct(set, v, needsGradient: true)
        return (result.value, result.gradient ?? [], result.product)
    }

    public func hessianVectorProduct(_ set: EvaluationSet, applyingTo v: [Double]) throws
        -> (value: ObjectiveValue, product: [Double]) {
        let result = try hessianVectorProduct(set, v, needsGradient: false)
        return (result.value, result.product)
    }

    /// Without `needsGradient` the model skips its weight-gradient products (only R{∂L/∂p} is kept).
    private func hessianVectorProduct(_ set: EvaluationSet, _ v: [Double], needsGradient: Bool) throws
        -> (value: ObjectiveValue, gradient: [Double]?, product: [Double]) {
        guard v.count == groups.scalarCount else {
            throw LandscapeError.invalidRequest("a direction of \(v.count) values for \(groups.scalarCount) parameters")
        }
        let data = samples(of: set)
        guard data.count > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
        let wasTraining = model.isTraining, wasRecording = model.isRecording
        model.setTraining(false)
        model.setRecording(true)
        model.setParameterGradients(needsGradient)
        defer {
            model.clearTangents()
            model.zeroGradients()
            model.setParameterGradients(true)
            model.setRecording(wasRecording)
            model.setTraining(wasTraining)
        }
        model.zeroGradients()
        setTangents(v)
        var lossSum = 0.0, correct = 0
        if !needsGradient, curvatureStateBudget > 0, let compiled = compiledCurvature(sampleShape: data.sampleShape),
           let (value, products) = blockProducts([v], compiled: compiled, data: data) {
            return (value, nil, products[0])
        }
        if !needsGradient, let compiled = compiledCurvature(sampleShape: data.sampleShape),
           let (sum, right) = compiled.hessianVectorProduct(on: data) {
            (lossSum, correct) = (sum, right)
        } else {
            data.forEachBatch(of: min(batchSize, Self.curvaturePassSize), as: Scalar.self) { rows, x, targets in
                let (output, outputTangent) = model.forwardTangent(x, nil)
                let (result, gradientTangent) = TaskLoss.computeWithTangent(output: output, tangent: outputTangent, targets: targets)
                let share = Scalar(Double(rows.count) / Double(data.count))
                var g = result.gradient
                Backends.current.scale(&g, by: share)
                var gDot = gradientTangent
                if gDot != nil { Backends.current.scale(&gDot!, by: share) }
                _ = model.backwardTangent(g, gDot)
                lossSum += result.loss * Double(rows.count)
                correct += result.correct
            }
        }
        var gradient = [Double](repeating: 0, count: groups.scalarCount)
        for (group, p) in zip(groups, parameterList) where p.isTrainable {
            if let g = p.gradient {
                let src = g.pointer
                for i in 0..<group.count { gradient[group.offset + i] = Double(src[i]) }
            }
        }
        let value = ObjectiveValue(loss: lossSum / Double(data.count),
                                   accuracy: data.accuracy(correct: correct, samples: data.count))
        return (value, needsGradient ? gradient : nil, curvatureVector())
    }

    /// Sets each trainable parameter's tangent to its slice of v (laid out as `parameters()`).
    private func setTangents(_ v: [Double]) {
        v.withUnsafeBufferPointer { v in
            for (group, p) in zip(groups, parameterList) {
                // An all-zero slice stays nil: its terms are never computed.
                guard p.isTrainable, v[group.range].contains(where: { $0 != 0 }) else { p.tangent = nil; continue }
                var t = Tensor<Scalar>(uninitializedShape: p.shape)
                let dst = t.mutablePointer()
                for i in 0..<group.count { dst[i] = Scalar(v[group.offset + i]) }
                p.tangent = t
            }
        }
    }

    /// The trainable parameters' `curvature` (R{∂L/∂p}) laid out as `parameters()`, zero elsewhere.
    private func curvatureVector() -> [Double] {
        var product = [Double](repeating: 0, count: groups.scalarCount)
        for (group, p) in zip(groups, parameterList) where p.isTrainable {
            if let c = p.curvature {
                let src = c.pointer
                for i in 0..<group.count { product[group.offset + i] = Double(src[i]) }
            }
        }
        return product
    }

    /// H·v for several vectors at once. On the compiled path one block program carries them all
    /// (`CompiledCurvature.hessianVectorProducts`: per chunk of samples the forward and
    /// backward-data passes of θ run once, or not at all when kept from an earlier call at this θ
    /// within `curvatureStateBudget`, and the tangent passes run for every vector, stacked along
    /// the batch): each product equals `hessianVectorProduct(_:applyingTo:)`'s to Float rounding
    /// (the block program's kernels are not the pair program's), and is the same bits whichever
    /// block it is computed in only when the block sizes agree. Layer by layer (the layers carry
    /// one tangent per pass), one product per vector: exactly the single products.
    public func hessianVectorProducts(_ set: EvaluationSet, applyingTo vectors: [[Double]]) throws
        -> (value: ObjectiveValue, products: [[Double]]) {
        if let bad = vectors.first(where: { $0.count != groups.scalarCount }) {
            throw LandscapeError.invalidRequest("a direction of \(bad.count) values for \(groups.scalarCount) parameters")
        }
        let data = samples(of: set)
        guard data.count > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
        if vectors.count > 1, let compiled = compiledCurvature(sampleShape: data.sampleShape) {
            let wasTraining = model.isTraining, wasRecording = model.isRecording
            model.setTraining(false)
            defer {
                model.clearTangents()
                model.setRecording(wasRecording)
                model.setTraining(wasTraining)
            }
            if let result = blockProducts(vectors, compiled: compiled, data: data) { return result }
        }
        var value = ObjectiveValue(loss: .nan)
        let products = try vectors.map { v in
            let result = try hessianVectorProduct(set, v, needsGradient: false)
            value = result.value
            return result.product
        }
        if vectors.isEmpty { value = try evaluate(set) }
        return (value, products)
    }

    /// Bytes of θ-only results the compiled products keep now (at most `curvatureStateBudget`).
    public var keptCurvatureStateBytes: Int {
        if case .some(.some(let made)) = compiledCurvature { return made.keptStateBytes }
        return 0
    }

    /// The block program's products of `vectors` over `data` (nil: the graph has none).
    private func blockProducts(_ vectors: [[Double]], compiled: CompiledCurvature<Scalar>, data: Dataset)
        -> (value: ObjectiveValue, products: [[Double]])? {
        var products = [[Double]](repeating: [], count: vectors.count)
        guard let (sum, right) = compiled.hessianVectorProducts(on: data, probes: vectors.count, stateBudget: curvatureStateBudget,
                                                                selectProbe: { setTangents(vectors[$0]) },
                                                                collect: { products[$0] = curvatureVector() }) else { return nil }
        let value = ObjectiveValue(loss: sum / Double(data.count), accuracy: data.accuracy(correct: right, samples: data.count))
        return (value, products)
    }

    /// The most samples one tangent pass of a Hessian-vector product carries. In evaluation mode
    /// every sample adds its own term (weighted by its share of the set), so the size changes only
    /// rounding, not the product; smaller passes keep a pass's activations and their tangents out
    /// of fresh pages (with 500, 39% of the time went to the kernel clearing new pages). Measured on
    /// ResNet-20, 1,000 images, 2 cores, three times back to back: passes of 500 gave 0.18-0.23
    /// HVPs/s, 125 gave 0.23-0.26 (and 250: 0.21, 64: 0.23, 32: 0.19 once).
    static var curvaturePassSize: Int { 125 }

}

/// How a `ModelObjective` evaluates its model.
public enum EvaluationPath: String, Sendable, CaseIterable {
    /// The back end's compiled graph when the model lowers to one, else layer by layer.
    case compiled
    /// Module by module, as in training (the reference the compiled path is tested against).
    case layerByLayer = "layers"

    static var defaultPath: EvaluationPath {
        getenv("TERRAIN_EVALUATION").flatMap { EvaluationPath(rawValue: String(cString: $0)) } ?? .compiled
    }
}
