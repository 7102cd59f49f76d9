import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainTestSupport

/// `MultiHeadSelfAttention`: its backward and R-operator passes against central finite
/// differences (Double), causality, PyTorch's parameter names, and its forward pass against
/// PyTorch's `nn.MultiheadAttention(batch_first=True)` with the same weights.
@Suite("Multi-head self-attention")
struct AttentionTests {
    /// An attention layer whose biases are random too (PyTorch starts them at 0, which would
    /// leave their gradients' dependence on the bias untested).
    static func attention(embedding: Int = 6, heads: Int = 2, mask: AttentionMask, seed: UInt64 = 5) -> MultiHeadSelfAttention<Double> {
        var g = SeededGenerator(seed: seed)
        let layer = MultiHeadSelfAttention<Double>(embedding: embedding, heads: heads, mask: mask, generator: &g)
        layer.inProjectionBias.value = .randomNormal(shape: [3 * embedding], std: 0.5, generator: &g)
        layer.outProjection.bias!.value = .randomNormal(shape: [embedding], std: 0.5, generator: &g)
        return layer
    }

    @Test(arguments: AttentionMask.allCases)
    func gradientsMatchFiniteDifferences(mask: AttentionMask) {
        expectGradientsMatch(Self.attention(mask: mask), input: randomInput([3, 5, 6]))
        // One head, and a single position (the causal mask then leaves one key).
        expectGradientsMatch(Self.attention(embedding: 4, heads: 1, mask: mask), input: randomInput([2, 3, 4], seed: 2))
        expectGradientsMatch(Self.attention(embedding: 4, heads: 4, mask: mask), input: randomInput([2, 1, 4], seed: 3))
    }

    @Test(arguments: AttentionMask.allCases)
    func hessianVectorProductsMatchFiniteDifferences(mask: AttentionMask) {
        expectTangentsMatch(Self.attention(mask: mask), input: randomInput([3, 5, 6]))
        expectTangentsMatch(Self.attention(embedding: 8, heads: 4, mask: mask, seed: 6), input: randomInput([2, 4, 8], seed: 4))
    }

    @Test func causalOutputsIgnoreLaterPositions() {
        let layer = Self.attention(mask: .causal)
        var x = randomInput([2, 5, 6])
        let y = layer.forward(x)
        for e in 0..<6 { x[flat: 4 * 6 + e] += 1 }   // the last position of the first sequence
        let changed = layer.forward(x)
        for i in 0..<(4 * 6) { #expect(changed[flat: i] == y[flat: i]) }
        #expect((24..<30).contains { changed[flat: $0] != y[flat: $0] })
        #expect(Array(changed.scalars[30...]) == Array(y.scalars[30...]))
        // Bidirectional attention sees it everywhere.
        let both = Self.attention(mask: .bidirectional)
        let before = both.forward(randomInput([2, 5, 6]))
        var x2 = randomInput([2, 5, 6])
        for e in 0..<6 { x2[flat: 4 * 6 + e] += 1 }
        #expect(both.forward(x2)[flat: 0] != before[flat: 0])
    }

    @Test func parametersAreNamedAsPyTorchNamesThem() {
        let layer = Self.attention(embedding: 8, heads: 2, mask: .causal)
        let named = layer.namedParameters().map { "\($0.name) \($0.parameter.shape) \($0.parameter.role)" }
        #expect(named == ["in_proj_weight [24, 8] weight", "in_proj_bias [24] bias",
                          "out_proj.weight [8, 8] weight", "out_proj.bias [8] bias"])
        var g = SeededGenerator(seed: 1)
        let fresh = MultiHeadSelfAttention<Float>(embedding: 8, heads: 2, mask: .bidirectional, generator: &g)
        #expect(fresh.inProjectionBias.value.scalars.allSatisfy { $0 == 0 })
        #expect(fresh.outProjection.bias!.value.scalars.allSatisfy { $0 == 0 })
        let bound = Float((6.0 / 32).squareRoot())
        #expect(fresh.inProjectionWeight.value.scalars.allSatisfy { abs($0) <= bound })
    }

    /// PyTorch loads Terrain's parameters with `strict=True` and gives the same outputs: to 1e-12
    /// in float64 and 1e-5 in float32 (Terrain's Float layer against PyTorch's float32 module).
    @Test(.enabled(if: Python.torchChecksRun), arguments: AttentionMask.allCases)
    func forwardMatchesPyTorch(mask: AttentionMask) throws {
        let (embedding, heads, batch, time) = (8, 2, 3, 6)
        let layer = Self.attention(embedding: embedding, heads: heads, mask: mask, seed: 9)
        let x = randomInput([batch, time, embedding], seed: 10)
        let state = layer.namedParameters().map { name, p in
            "'\(name)': (\(p.shape), [\(p.value.scalars.map { "\($0)" }.joined(separator: ","))])"
        }.joined(separator: ",\n")
        let script = """
        import torch
        E, H, B, T, causal = \(embedding), \(heads), \(batch), \(time), \(mask == .causal ? "True" : "False")
        state = {\(state)}
        x = torch.tensor([\(x.scalars.map { "\($0)" }.joined(separator: ","))], dtype=torch.float64).reshape(B, T, E)
        for dtype in (torch.float64, torch.float32):
            m = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=dtype)
            m.load_state_dict({k: torch.tensor(v, dtype=dtype).reshape(s) for k, (s, v) in state.items()}, strict=True)
            mask = torch.triu(torch.full((T, T), float('-inf'), dtype=dtype), diagonal=1) if causal else None
            with torch.no_grad():
                y, _ = m(x.to(dtype), x.to(dtype), x.to(dtype), attn_mask=mask, need_weights=False)
            print(' '.join(repr(v) for v in y.flatten().tolist()))
        """
        let lines = try Python.run(script, interpreter: Python.torchInterpreter).split(separator: "\n")
        try #require(lines.count == 2)
        let torchDouble = lines[0].split(separator: " ").compactMap { Double($0) }
        let torchFloat = lines[1].split(separator: " ").compactMap { Double($0) }
        var g = SeededGenerator(seed: 0)
        let single = MultiHeadSelfAttention<Float>(embedding: embedding, heads: heads, mask: mask, generator: &g)
        for ((_, p), (_, q)) in zip(single.namedParameters(), layer.namedParameters()) { p.value = Tensor(converting: q.value) }
        // Both paths: recording (batched heads, P kept) and evaluation (`packedSelfAttention`).
        for recording in [true, false] {
            layer.setRecording(recording); single.setRecording(recording)
            let ours = layer.forward(x)
            try #require(torchDouble.count == ours.count && torchFloat.count == ours.count)
            for i in 0..<ours.count { #expect(abs(ours[flat: i] - torchDouble[i]) < 1e-12, "float64 output \(i), recording \(recording)") }
            let oursFloat = single.forward(Tensor(converting: x))
            for i in 0..<ours.count {
                #expect(abs(Double(oursFloat[flat: i]) - torchFloat[i]) < 1e-5, "float32 output \(i), recording \(recording)")
            }
        }
    }

    /// An evaluation's attention (recording off: heads read in place, causal products cut to the
    /// keys each block of 32 queries sees) against the recorded path, over lengths around the
    /// blocks' edges, in Double and Float, with any number of threads.
    @Test(arguments: AttentionMask.allCases)
    func evaluationPathAgreesWithTheRecordedPath(mask: AttentionMask) {
        for time in [1, 5, 31, 32, 33, 64, 70] {
            let layer = Self.attention(embedding: 16, heads: 4, mask: mask, seed: UInt64(time))
            let x = randomInput([3, time, 16], seed: UInt64(100 + time))
            var g = SeededGenerator(seed: 0)
            let single = MultiHeadSelfAttention<Float>(embedding: 16, heads: 4, mask: mask, generator: &g)
            for ((_, p), (_, q)) in zip(single.namedParameters(), layer.namedParameters()) { p.value = Tensor(converting: q.value) }
            let recorded = layer.forward(x), recordedFloat = single.forward(Tensor(converting: x))
            layer.setRecording(false); single.setRecording(false)
            let evaluated = layer.forward(x)
            let saved = Parallel.threadCount
            let runs = [1, 3].map { threads -> [Float] in
                Parallel.threadCount = threads
                return single.forward(Tensor(converting: x)).scalars
            }
            let (one, three) = (runs[0], runs[1])
            Parallel.threadCount = saved
            #expect(one.map(\.bitPattern) == three.map(\.bitPattern), "T = \(time): the evaluation path's bits depend on the thread count")
            let scale = recorded.scalars.map(abs).max()!
            for i in 0..<recorded.count {
                #expect(abs(evaluated[flat: i] - recorded[flat: i]) <= 1e-14 * scale, "T = \(time), Double output \(i)")
                #expect(abs(Double(one[i]) - Double(recordedFloat[flat: i])) <= 1e-6 * scale, "T = \(time), Float output \(i)")
            }
        }
    }
}

@Suite("The tangent check itself")
struct TangentCheckTests {
    /// An attention layer whose R{∂L/∂x} is off by 1%: the checker must notice.
    @Test func noticesAWrongInputCurvature() {
        let skewed = SkewedModule(AttentionTests.attention(mask: .causal), skewing: .inputCurvature)
        let report = TangentCheck().run(skewed, input: randomInput([2, 4, 6]))
        #expect(report.inputCurvature > 1e-3)
        #expect(report.outputTangent < 1e-6)
    }
}
