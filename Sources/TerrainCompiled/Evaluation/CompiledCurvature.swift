import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainTraining

/// Exact Hessian-vector products through the back end's compiled graph of the model
/// (`LoweredNetwork`, `GraphCompilingBackend.makeCurvatureProgram`): the R-operator pass of `Module`'s
/// `forwardTangent`/`backwardTangent`, with values and tangents kept in the kernels' layout.
///
/// Batch norm (evaluation mode) is not folded into the weights here: it stays a per-channel map
/// a·y + c after its layer, with a = γ/√(σ² + ε) and c = β − μ·a, linear in γ and β. The program
/// returns the weights' products and three sums per channel, from which R{∂L/∂a}, R{∂L/∂c} and
/// R{∂L/∂b} follow (see `CurvatureProgram`), and then R{∂L/∂γ} = (R{∂L/∂a} − μ·R{∂L/∂c})/√(σ² + ε)
/// and R{∂L/∂β} = R{∂L/∂c}. The products equal
/// `Module.backwardTangent`'s up to rounding (the tests hold them to it). Chunks of
/// `samplesPerRun` samples run on the threads; their products are summed in chunk order in
/// Double, so the result is the same bits for every thread count.
public final class CompiledCurvature<Scalar: TensorScalar> {
    public let network: LoweredNetwork<Scalar>
    public let samplesPerRun: Int
    let backend: any Backend
    private var programs: [Int: CurvatureProgram] = [:]
    /// Block programs by [samples per run, probes] (`CompiledCurvature+Block.swift`).
    var blockPrograms: [[Int]: CurvatureBlockProgram] = [:]
    /// The θ-only results kept across block products at one θ: what they were computed for, one
    /// state per leading chunk (valid: filled for `key`), and the data whose storage `key` names
    /// (held, so that its address cannot come back as another tensor's).
    var keptStates: (key: StateKey?, states: [(state: CurvatureChunkState, valid: Bool)], inputs: Tensor<Float>?) = (nil, [], nil)
    /// States of chunks that are not kept, by samples per run, for reuse.
    var scratchStates: [Int: [CurvatureChunkState]] = [:]
    let scratchLock = NSLock()

    /// Nil when the model is not Float, does not lower, has trainable parameters outside its
    /// weight slots, or the back end has no curvature program for it.
    public init?(model: Module<Scalar>, sampleShape: [Int], samplesPerRun: Int = 16, backend: any Backend = Backends.current) {
        guard Scalar.self == Float.self, samplesPerRun > 0,
              let network = LoweredNetwork.lower(model, sampleShape: sampleShape) else { return nil }
        var covered = Set<ObjectIdentifier>()
        for layer in network.slots {
            covered.insert(ObjectIdentifier(layer.weight))
            if let b = layer.bias { covered.insert(ObjectIdentifier(b)) }
            if let norm = layer.norm { covered.insert(ObjectIdentifier(norm.weight)); covered.insert(ObjectIdentifier(norm.bias)) }
        }
        guard model.namedParameters().allSatisfy({ !$0.parameter.isTrainable || covered.contains(ObjectIdentifier($0.parameter)) }),
              let program = (backend as? any GraphCompilingBackend)?.makeCurvatureProgram(network.graph, batchSize: samplesPerRun) else { return nil }
        self.network = network
        self.samplesPerRun = samplesPerRun
        self.backend = backend
        programs[samplesPerRun] = program
    }

    /// The epilogue coefficients of a slot (A, C, Ȧ, Ċ) and what the products need back.
    ///
    /// With a layer bias b and a batch norm a·y + c after it (a = γ/√(σ² + ε), c = β − μ·a):
    /// A = a, C = a·b + c, Ȧ = ȧ, Ċ = a·ḃ + ȧ·b + ċ (ȧ = γ̇/√(σ² + ε), ċ = β̇ − μ·ȧ); without a
    /// batch norm A = 1, C = b, Ȧ = 0, Ċ = ḃ.
    struct SlotTerms {
        var scale: [Float], shift: [Float], scaleTangent: [Float], shiftTangent: [Float]
        /// Per output: b, ḃ, and for batch norm μ and 1/√(σ² + ε).
        var bias: [Double], biasTangent: [Double]
        var mean: [Double]?, inverseDeviation: [Double]?
    }

    func terms(_ layer: FoldedLayer<Scalar>) -> SlotTerms {
        let f = layer.outputs
        func doubles(_ t: Tensor<Scalar>?) -> [Double] { t.map { $0.scalars.map { Double($0) } } ?? [Double](repeating: 0, count: f) }
        let b = doubles(layer.bias?.value), bDot = doubles(layer.bias?.tangent)
        guard let norm = layer.norm else {
            return SlotTerms(scale: [Float](repeating: 1, count: f), shift: b.map(Float.init),
                             scaleTangent: [Float](repeating: 0, count: f), shiftTangent: bDot.map(Float.init),
                             bias: b, biasTangent: bDot, mean: nil, inverseDeviation: nil)
        }
        let gamma = doubles(norm.weight.value), beta = doubles(norm.bias.value)
        let gammaDot = doubles(norm.weight.tangent), betaDot = doubles(norm.bias.tangent)
        let mean = doubles(norm.runningMean.value), variance = doubles(norm.runningVariance.value)
        var t = SlotTerms(scale: [], shift: [], scaleTangent: [], shiftTangent: [], bias: b, biasTangent: bDot,
                          mean: mean, inverseDeviation: [])
        for o in 0..<f {
            let r = 1 / (variance[o] + norm.epsilon).squareRoot()
            let a = gamma[o] * r, c = beta[o] - mean[o] * a
            let aDot = gammaDot[o] * r, cDot = betaDot[o] - mean[o] * aDot
            t.inverseDeviation!.append(r)
            t.scale.append(Float(a))
            t.shift.append(Float(a * b[o] + c))
            t.scaleTangent.append(Float(aDot))
            t.shiftTangent.append(Float(a * bDot[o] + aDot * b[o] + cDot))
        }
        return t
    }

    /// R{∂L/∂p} of the per-sample mean loss over `data` along the parameters' `tangent`s (nil:
    /// zero), written to each trainable parameter's `curvature`; returns the loss sum and the
    /// number of correct predictions. The model's current parameters and tangents are read.
    /// Nil, having done nothing, when the back end cannot compile the graph for the set's last,
    /// shorter chunk (the caller then runs the layers).
    public func hessianVectorProduct(on data: Dataset) -> (lossSum: Double, correct: Int)? {
        let n = data.count
        guard n > 0 else { return (0, 0) }
        let per = samplesPerRun
        for size in Set([min(per, n), n - ((n - 1) / per) * per]) where programs[size] == nil {
            guard let program = (backend as? any GraphCompilingBackend)?.makeCurvatureProgram(network.graph, batchSize: size) else { return nil }
            programs[size] = program
        }
        let slotTerms = network.slots.map(terms)
        for (slot, layer) in network.slots.enumerated() {
            let w = layer.weight.value as! Tensor<Float>
            let v = (layer.weight.tangent as! Tensor<Float>?) ?? Tensor<Float>(zeros: w.shape)
            let t = slotTerms[slot]
            for program in programs.values {
                w.withUnsafeBufferPointer { w in
                    v.withUnsafeBufferPointer { v in
                        program.setSlot(slot, weight: w, tangent: v, scale: t.scale, shift: t.shift,
                                        scaleTangent: t.scaleTangent, shiftTangent: t.shiftTangent)
                    }
                }
            }
        }
        let chunks = (n + per - 1) / per
        let width = programs[per]!.productCount
        let outputs = network.graph.shape(of: network.graph.output).reduce(1, *)
        let sampleSize = data.inputs.count / n
        var partials = [Float](repeating: 0, count: chunks * width)
        var lossSums = [Double](repeating: 0, count: chunks)
        var corrects = [Int](repeating: 0, count: chunks)
        partials.withUnsafeMutableBufferPointer { partials in
            lossSums.withUnsafeMutableBufferPointer { lossSums in
                corrects.withUnsafeMutableBufferPointer { corrects in
                    Parallel.forEach(chunks: chunks) { c in
                        let first = c * per, count = min(per, n - first)
                        let targets = data.targets.gathering(first..<(first + count))
                        programs[count]!.run(input: data.inputs.pointer + first * sampleSize, loss: { y, yDot, g, gDot in
                            let output = Tensor<Float>(shape: [count, outputs], scalars: Array(UnsafeBufferPointer(start: y, count: count * outputs)))
                            let tangent = Tensor<Float>(shape: [count, outputs], scalars: Array(UnsafeBufferPointer(start: yDot, count: count * outputs)))
                            let (result, gradientTangent) = TaskLoss.computeWithTangent(output: output, tangent: tangent, targets: targets)
                            // Each chunk's mean-loss gradient weighs by its share of the set.
                            let share = Float(Double(count) / Double(n))
                            // Read inside the closures: `gradientTangent` is not used after its
                            // pointer is taken, so a bare `.pointer` could outlive its storage.
                            result.gradient.withUnsafeBufferPointer { gradient in
                                gradientTangent!.withUnsafeBufferPointer { gradientDot in
                                    for i in 0..<(count * outputs) {
                                        g[i] = gradient[i] * share
                                        gDot[i] = gradientDot[i] * share
                                    }
                                }
                            }
                            lossSums[c] = result.loss * Double(count)
                            corrects[c] = result.correct
                        }, products: partials.baseAddress! + c * width)
                    }
                }
            }
        }
        // Each entry sums its chunks in chunk order, whichever thread sums it.
        var total = [Double](repeating: 0, count: width)
        total.withUnsafeMutableBufferPointer { total in
            partials.withUnsafeBufferPointer { partials in
                Parallel.forEach(range: width, grain: 1 << 14) { r in
                    for c in 0..<chunks {
                        let p = partials.baseAddress! + c * width
                        for i in r { total[i] += Double(p[i]) }
                    }
                }
            }
        }
        let program = programs[per]!
        setCurvatures(from: total, program: { program.productOffset($0) }, terms: slotTerms)
        return (lossSums.reduce(0, +), corrects.reduce(0, +))
    }

    /// Writes each slot's products from a run's summed `total` (a program's layout, `offset` of
    /// each slot) into the parameters' `curvature`: R{∂L/∂W} directly, the bias's and batch
    /// norm's from the sums S₁, S₂, S₃ and the slot's terms.
    func setCurvatures(from total: [Double], program offset: (Int) -> Int, terms slotTerms: [SlotTerms]) {
        for (slot, layer) in network.slots.enumerated() {
            let t = slotTerms[slot]
            let base = offset(slot)
            let weightCount = layer.weight.value.count
            let f = layer.outputs
            layer.weight.curvature = Self.tensor(total[base..<(base + weightCount)], shape: layer.weight.shape)
            let s1 = Array(total[(base + weightCount)..<(base + weightCount + f)])
            let s2 = Array(total[(base + weightCount + f)..<(base + weightCount + 2 * f)])
            let s3 = Array(total[(base + weightCount + 2 * f)..<(base + weightCount + 3 * f)])
            if let bias = layer.bias {
                // R{∂L/∂b} = A·S₂ + Ȧ·S₃.
                var rb = [Double](repeating: 0, count: f)
                for o in 0..<f { rb[o] = Double(t.scale[o]) * s2[o] + Double(t.scaleTangent[o]) * s3[o] }
                bias.curvature = Self.tensor(rb[...], shape: bias.shape)
            }
            if let norm = layer.norm, let mean = t.mean, let r = t.inverseDeviation {
                // R{∂L/∂a} = S₁ + b·S₂ + ḃ·S₃, R{∂L/∂c} = S₂.
                var rGamma = [Double](repeating: 0, count: f)
                for o in 0..<f {
                    let ra = s1[o] + t.bias[o] * s2[o] + t.biasTangent[o] * s3[o]
                    rGamma[o] = (ra - mean[o] * s2[o]) * r[o]
                }
                norm.weight.curvature = Self.tensor(rGamma[...], shape: norm.weight.shape)
                norm.bias.curvature = Self.tensor(s2[...], shape: norm.bias.shape)
            }
        }
    }

    private static func tensor(_ values: ArraySlice<Double>, shape: [Int]) -> Tensor<Scalar> {
        Tensor<Scalar>(shape: shape, scalars: values.map { Scalar($0) })
    }
}
