import Foundation
import TerrainTensor
import TerrainIO
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining

/// `terrain align A B --out B-aligned.safetensors`: B with its hidden units permuted to match A's
/// by weight matching (`WeightMatching`, Git Re-Basin's algorithm 1), written as a checkpoint with
/// B's metadata, so that every command reads it. The aligned network computes B's function: the
/// permutations (`ModelSpec.permutationSpec`) move whole units, batch norms' running statistics
/// with their channels. `check` proves it on data: B and the aligned B are evaluated in Double,
/// in evaluation mode, and their outputs must agree to `checkTolerance` relative to B's largest
/// output, or the request fails and writes nothing.
public struct AlignRequest {
    /// The reference, whose units stay where they are.
    public var a: ModelSource
    /// The network whose units are permuted.
    public var b: ModelSource
    public var output: String
    public var overwrite: Bool
    /// Seeds the order of weight matching's coordinate descent.
    public var seed: UInt64
    /// Evaluate B and the aligned B on test data before writing (see the type's comment).
    public var check: Bool
    /// The data of the check: B's own data set unless `dataset` names another.
    public var data: EvaluationData
    /// The check's samples: the first ones of the test set (all of it when nil).
    public var checkSamples: Int?

    /// max |y_B − y_aligned| / max |y_B| that the check accepts (Double evaluation: only
    /// summation order differs, so the real gap is ~1e-15).
    public static let checkTolerance = 1e-5

    public init(a: ModelSource, b: ModelSource, output: String, overwrite: Bool = false, seed: UInt64 = 0, check: Bool = true,
                data: EvaluationData = EvaluationData(), checkSamples: Int? = 1000) {
        self.a = a; self.b = b; self.output = output; self.overwrite = overwrite; self.seed = seed; self.check = check
        self.data = data; self.checkSamples = checkSamples
    }

    public struct Summary: Sendable {
        public struct Group: Sendable {
            public var name: String
            public var size: Int
            /// Units that are not where they were (π[i] ≠ i).
            public var moved: Int
        }
        public var architecture: String
        public var groups: [Group]
        /// Σ ⟨A, π(B)⟩ over the matched tensors, at the identity and after matching.
        public var objectiveBefore: Double
        public var objectiveAfter: Double
        /// ‖A − B‖ and ‖A − π(B)‖ over every tensor (running statistics included).
        public var distanceBefore: Double
        public var distanceAfter: Double
        public var passes: Int
        /// The check's samples and max |y_B − y_aligned| / max |y_B| (nil without a check).
        public var checkedSamples: Int?
        public var relativeOutputDifference: Double?
        public var permutations: [[Int]]
    }

    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> Summary {
        // What kind of model each is, before reading either.
        let pathA = try Self.checkpointPath(a, role: "A"), pathB = try Self.checkpointPath(b, role: "B")
        for input in [pathA, pathB] where URL(fileURLWithPath: input).standardizedFileURL == URL(fileURLWithPath: output).standardizedFileURL {
            throw RequestError("--out \(output) would replace the input \(input): name another file")
        }
        try OutputPath.checkFile(output)
        if !overwrite && FileManager.default.fileExists(atPath: output) {
            throw RequestError("\(output) exists: pass --overwrite to replace it")
        }
        let checkpointA = try Self.readCheckpoint(pathA, role: "A"), checkpointB = try Self.readCheckpoint(pathB, role: "B")
        guard checkpointA.spec.architecture.lowercased() == checkpointB.spec.architecture.lowercased() else {
            throw RequestError("\(pathA) and \(pathB) are different architectures (\(checkpointA.spec.architecture) and "
                               + "\(checkpointB.spec.architecture)): alignment permutes one network's units onto another of the same architecture")
        }
        // Both models are built from their descriptions, so the tensors are exactly the model's.
        _ = try checkpointA.makeModel(Float.self, source: pathA)
        _ = try checkpointB.makeModel(Float.self, source: pathB)
        try Self.checkSameShapes(checkpointA, pathA, checkpointB, pathB)
        for (path, checkpoint) in [(pathA, checkpointA), (pathB, checkpointB)] {
            if let name = checkpoint.tensors.keys.sorted().first(where: { name in
                checkpoint.tensors[name]!.withUnsafeBufferPointer { !$0.allSatisfy(\.isFinite) }
            }) {
                throw RequestError("\(path): tensor \(name) holds NaN or infinite values, which weight matching cannot compare")
            }
        }
        let shapes = checkpointB.tensors.mapValues(\.shape)
        let spec: PermutationSpec
        do { spec = try checkpointB.spec.permutationSpec(shapes: shapes) } catch { throw RequestError("\(pathB): \(error)") }

        progress.status("align: weight matching of \(spec.groups.count) permutations of \(pathB) onto \(pathA)")
        let matching = WeightMatching(spec: spec, seed: seed).match(reference: checkpointA.tensors, moving: checkpointB.tensors)
        var aligned = checkpointB
        aligned.tensors = spec.apply(matching.permutations, to: checkpointB.tensors)
        aligned.metadata["terrain.aligned_to"] = pathA

        var summary = Summary(
            architecture: checkpointB.spec.architecture,
            groups: zip(spec.groups, matching.permutations).map { group, permutation in
                Summary.Group(name: group.name, size: group.size, moved: permutation.enumerated().filter { $0.offset != $0.element }.count)
            },
            objectiveBefore: matching.objectiveBefore, objectiveAfter: matching.objectiveAfter,
            distanceBefore: WeightMatching.distance(checkpointA.tensors, checkpointB.tensors),
            distanceAfter: WeightMatching.distance(checkpointA.tensors, aligned.tensors),
            passes: matching.passes, checkedSamples: nil, relativeOutputDifference: nil, permutations: matching.permutations)
        if check {
            let (samples, difference) = try outputDifference(checkpointB, aligned, source: pathB)
            summary.checkedSamples = samples
            summary.relativeOutputDifference = difference
            guard difference <= Self.checkTolerance else {
                throw RequestError(String(format: "the aligned network's outputs differ from B's by %.3g (relative) on %d samples, above %.0e: "
                                          + "the permutation does not preserve the function (a bug); nothing written", difference, samples,
                                          Self.checkTolerance))
            }
        }
        try aligned.write(to: URL(fileURLWithPath: output))
        return summary
    }

    /// A Terrain checkpoint's path; other model sources are refused with the reason.
    static func checkpointPath(_ source: ModelSource, role: String) throws -> String {
        switch source {
        case .checkpoint(let path):
            return path
        case .onnx(let path):
            throw RequestError("\(path) (\(role)) is an ONNX model: alignment needs Terrain checkpoints of the zoo, whose units it knows how "
                               + "to permute (\(ModelSpec.alignableArchitectures))")
        case .stateDict(let path, _):
            throw RequestError("\(path) (\(role)): alignment reads Terrain checkpoints (with their model description), not PyTorch state_dicts")
        case .objective:
            throw RequestError("\(role) is an objective given in Swift: alignment needs Terrain checkpoints")
        }
    }

    static func readCheckpoint(_ path: String, role: String) throws -> Checkpoint {
        let url = URL(fileURLWithPath: path)
        do {
            return try Checkpoint.read(from: url)
        } catch {
            // Checkpoint's own message would ask for --model, which alignment does not take.
            if let metadata = try? Checkpoint.readTensors(from: url).metadata, metadata[Checkpoint.modelKey] == nil {
                throw RequestError("\(path) (\(role)) has no Terrain model description (a PyTorch state_dict?): alignment reads "
                                   + "Terrain checkpoints, whose description names the architecture")
            }
            throw error
        }
    }

    /// The same tensor names and shapes (the same width, hidden sizes, input and outputs).
    static func checkSameShapes(_ a: Checkpoint, _ pathA: String, _ b: Checkpoint, _ pathB: String) throws {
        for name in Set(a.tensors.keys).union(b.tensors.keys).sorted() {
            let shapeA = a.tensors[name]?.shape, shapeB = b.tensors[name]?.shape
            guard shapeA == shapeB else {
                let describe = { (shape: [Int]?) in shape.map { "\($0)" } ?? "missing" }
                throw RequestError("\(pathA) and \(pathB) are \(a.spec.architecture) models of different sizes: tensor \(name) is "
                                   + "\(describe(shapeA)) in A and \(describe(shapeB)) in B")
            }
        }
    }

    /// max |y_B − y_aligned| / max |y_B| over the check's test samples, both in Double, in
    /// evaluation mode (batch norms use their running statistics, so those are checked too).
    func outputDifference(_ original: Checkpoint, _ aligned: Checkpoint, source: String) throws -> (samples: Int, difference: Double) {
        guard let name = data.dataset ?? original.metadata["terrain.dataset"] else {
            throw RequestError("\(source) does not name its dataset: pass --dataset for the check, or --no-check")
        }
        let (pair, _, _) = try CheckpointData.load(name, for: original, source: source, refitNormalization: data.refitNormalization,
                                                   context: data.context)
        try DataFit.check(original.spec, model: "\(source) (\(original.spec.architecture))", fits: pair, dataName: name)
        let set = pair.test.count > 0 ? pair.test : pair.train
        let count = min(set.count, checkSamples ?? set.count)
        guard count > 0 else { throw RequestError("\(name) has no samples for the check: pass --no-check") }
        let models: [Module<Double>] = try [original, aligned].map { checkpoint in
            let model: Module<Double> = try checkpoint.makeModel(Double.self, source: source)
            model.setTraining(false)
            model.setRecording(false)
            return model
        }
        var largest = 0.0, difference = 0.0
        let batch = 100
        for start in stride(from: 0, to: count, by: batch) {
            let inputs = Tensor<Double>(converting: set.batch(start..<min(start + batch, count)).inputs)
            let y = models.map { $0.forward(inputs) }
            // Buffer access inside the closures: a bare pointer would not keep the outputs alive.
            y[0].withUnsafeBufferPointer { p in
                y[1].withUnsafeBufferPointer { q in
                    for i in p.indices {
                        largest = max(largest, abs(p[i]))
                        difference = max(difference, abs(p[i] - q[i]))
                    }
                }
            }
        }
        return (count, largest > 0 ? difference / largest : difference)
    }
}
