import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainTraining

/// Blocks of Hessian-vector products through a `CurvatureBlockProgram`, and the θ-only results
/// kept across calls at one θ.
extension CompiledCurvature {
    /// What a block's θ-only results were computed for: the weights and the epilogue's A and C of
    /// every slot (so batch norm's running statistics and biases too), and the data's storage.
    struct StateKey: Equatable {
        var slots: [[Float]]
        var inputs: UnsafeRawPointer
        var count: Int
    }

    /// R{∂L/∂p} of the per-sample mean loss over `data` along K tangents at once, in order: for
    /// each probe k, `selectProbe(k)` sets the model's parameter tangents to probe k's (read
    /// before any work), and after the run `collect(k)` finds probe k's products in the trainable
    /// parameters' `curvature`. Returns the loss sum and the correct predictions; nil, having
    /// done nothing, when the back end has no block program for the graph (the caller then runs
    /// the products one by one).
    ///
    /// Chunks of `samplesPerRun` samples run on the threads in waves of `wave` chunks (a number
    /// that does not depend on the thread count); every product entry adds its chunks in chunk
    /// order in Double, so the bits do not depend on the threads. The first `stateBudget /
    /// stateByteCount` chunks keep their value pass (`CurvatureBlockProgram`) while the
    /// parameters, batch-norm statistics and data stay the same, so later calls at this θ skip it
    /// for them; the other chunks compute it afresh every call. A chunk's products are the same
    /// bits either way. `stateBudget` 0 keeps nothing (and frees what was kept).
    public func hessianVectorProducts(on data: Dataset, probes: Int, stateBudget: Int,
                                      selectProbe: (Int) -> Void, collect: (Int) -> Void) -> (lossSum: Double, correct: Int)? {
        precondition(probes >= 1 && stateBudget >= 0)
        let n = data.count
        guard n > 0 else { return (0, 0) }
        let per = samplesPerRun
        let sizes = Set([min(per, n), n - ((n - 1) / per) * per])
        for size in sizes where blockPrograms[[size, probes]] == nil {
            guard let program = (backend as? any GraphCompilingBackend)?.makeCurvatureBlockProgram(network.graph, batchSize: size, probes: probes)
            else { return nil }
            blockPrograms[[size, probes]] = program
        }
        // Each probe's coefficients and weight tangents; A, C and W are θ's.
        var probeTerms: [[SlotTerms]] = []
        var probeTangents: [[Tensor<Float>]] = []
        for k in 0..<probes {
            selectProbe(k)
            probeTerms.append(network.slots.map(terms))
            probeTangents.append(network.slots.map { layer in
                (layer.weight.tangent as! Tensor<Float>?) ?? Tensor<Float>(zeros: layer.weight.shape)
            })
        }
        let weights = network.slots.map { $0.weight.value as! Tensor<Float> }
        for size in sizes {
            let program = blockPrograms[[size, probes]]!
            for slot in network.slots.indices {
                let t = probeTerms[0][slot]
                weights[slot].withUnsafeBufferPointer { w in
                    withBuffers(probeTangents.map { $0[slot] }) { v in
                        program.setSlot(slot, weight: w, tangents: v, scale: t.scale, shift: t.shift,
                                        scaleTangents: probeTerms.map { $0[slot].scaleTangent },
                                        shiftTangents: probeTerms.map { $0[slot].shiftTangent })
                    }
                }
            }
        }

        let chunks = (n + per - 1) / per
        let program = blockPrograms[[min(per, n), probes]]!
        let key = StateKey(slots: network.slots.indices.map { weights[$0].scalars + probeTerms[0][$0].scale + probeTerms[0][$0].shift },
                           inputs: UnsafeRawPointer(data.inputs.pointer), count: n)
        let kept = stateBudget == 0 ? 0 : min(chunks, stateBudget / max(1, program.stateByteCount))
        if keptStates.key?.inputs != key.inputs || keptStates.key?.count != key.count {
            // Other data: other chunk sizes.
            keptStates = (key, [], data.inputs)
        } else if keptStates.key != key {
            // A new θ: the same storage, to be filled again.
            keptStates.key = key
            for i in keptStates.states.indices { keptStates.states[i].valid = false }
        }
        if keptStates.states.count > kept { keptStates.states.removeLast(keptStates.states.count - kept) }
        while keptStates.states.count < kept {
            keptStates.states.append((blockPrograms[[min(per, n - keptStates.states.count * per), probes]]!.makeState(), false))
        }

        let width = program.productCount
        let outputs = network.graph.shape(of: network.graph.output).reduce(1, *)
        let sampleSize = data.inputs.count / n
        let wave = 8
        var totals = [Double](repeating: 0, count: probes * width)
        var lossSum = 0.0, correct = 0
        var first = 0
        while first < chunks {
            let count = min(wave, chunks - first)
            var partials = [Float](repeating: 0, count: count * probes * width)
            // Each chunk's loss sum and correct predictions (its state may serve another chunk next).
            var losses = [(sum: Double, correct: Int)](repeating: (0, 0), count: count)
            partials.withUnsafeMutableBufferPointer { partials in
                losses.withUnsafeMutableBufferPointer { losses in
                    Parallel.forEach(chunks: count) { j in
                        let c = first + j
                        let start = c * per, size = min(per, n - start)
                        let runner = blockPrograms[[size, probes]]!
                        let state: CurvatureChunkState, fresh: Bool
                        if c < keptStates.states.count {
                            state = keptStates.states[c].state
                            fresh = !keptStates.states[c].valid
                        } else {
                            state = scratchState(for: runner)
                            fresh = true
                        }
                        let targets = data.targets.gathering(start..<(start + size))
                        let share = Float(Double(size) / Double(n))
                        runner.run(input: data.inputs.pointer + start * sampleSize, state: state, fresh: fresh, valueLoss: { y, g in
                            let output = Tensor<Float>(shape: [size, outputs], scalars: Array(UnsafeBufferPointer(start: y, count: size * outputs)))
                            let result = TaskLoss.compute(output: output, targets: targets)
                            result.gradient.withUnsafeBufferPointer { gradient in
                                for i in 0..<(size * outputs) { g[i] = gradient[i] * share }
                            }
                            state.lossSum = result.loss * Double(size)
                            state.correct = result.correct
                        }, tangentLoss: { _, y, yDot, gDot in
                            let output = Tensor<Float>(shape: [size, outputs], scalars: Array(UnsafeBufferPointer(start: y, count: size * outputs)))
                            let tangent = Tensor<Float>(shape: [size, outputs], scalars: Array(UnsafeBufferPointer(start: yDot, count: size * outputs)))
                            let (_, gradientTangent) = TaskLoss.computeWithTangent(output: output, tangent: tangent, targets: targets)
                            gradientTangent!.withUnsafeBufferPointer { gradientDot in
                                for i in 0..<(size * outputs) { gDot[i] = gradientDot[i] * share }
                            }
                        }, products: partials.baseAddress! + j * probes * width)
                        losses[j] = (state.lossSum, state.correct)
                        if c >= keptStates.states.count { returnScratchState(state, for: runner) }
                    }
                }
            }
            for j in 0..<count {
                lossSum += losses[j].sum
                correct += losses[j].correct
                if first + j < keptStates.states.count { keptStates.states[first + j].valid = true }
            }
            // Each entry adds its chunks in chunk order, whichever thread adds it.
            totals.withUnsafeMutableBufferPointer { totals in
                partials.withUnsafeBufferPointer { partials in
                    Parallel.forEach(range: probes * width, grain: 1 << 14) { r in
                        for j in 0..<count {
                            let p = partials.baseAddress! + j * probes * width
                            for i in r { totals[i] += Double(p[i]) }
                        }
                    }
                }
            }
            first += count
        }
        for k in 0..<probes {
            setCurvatures(from: Array(totals[(k * width)..<((k + 1) * width)]), program: { program.productOffset($0) }, terms: probeTerms[k])
            collect(k)
        }
        return (lossSum, correct)
    }

    /// A state for a chunk that is not kept: one per running thread, reused.
    private func scratchState(for program: CurvatureBlockProgram) -> CurvatureChunkState {
        scratchLock.lock()
        defer { scratchLock.unlock() }
        return scratchStates[program.batchSize]?.popLast() ?? program.makeState()
    }

    private func returnScratchState(_ state: CurvatureChunkState, for program: CurvatureBlockProgram) {
        scratchLock.lock()
        defer { scratchLock.unlock() }
        scratchStates[program.batchSize, default: []].append(state)
    }

    /// Frees the kept θ-only results and the scratch states.
    public func releaseKeptStates() {
        keptStates = (nil, [], nil)
        scratchStates = [:]
    }

    /// Bytes the kept θ-only results hold now.
    public var keptStateBytes: Int { keptStates.states.reduce(0) { $0 + $1.state.byteCount } }
}

/// `body` with the buffers of `tensors`, all alive at once.
private func withBuffers<R>(_ tensors: [Tensor<Float>], _ body: ([UnsafeBufferPointer<Float>]) -> R) -> R {
    func nest(_ i: Int, _ done: [UnsafeBufferPointer<Float>]) -> R {
        guard i < tensors.count else { return body(done) }
        return tensors[i].withUnsafeBufferPointer { nest(i + 1, done + [$0]) }
    }
    return nest(0, [])
}
