import TerrainTensor

extension ModelSpec {
    /// For a gpt, that every input is a token id it has a row for: a whole number in
    /// 0..<`outputs` (the vocabulary). Throws naming the first one that is not, with its place,
    /// before any work (the embedding only preconditions). Other models take any values.
    public func checkTokenIDs(_ inputs: Tensor<Float>) throws {
        guard architecture.lowercased() == "gpt" else { return }
        let length = max(1, inputs.shape.last ?? 1)
        try inputs.withUnsafeBufferPointer { ids in
            for (i, id) in ids.enumerated() where !(id >= 0 && id < Float(outputs) && id.rounded() == id) {
                // Whole ids print as integers (300, not 300.0); others as they are (2.5, nan).
                let shown = id.isFinite && id.rounded() == id && abs(id) < 1e9 ? String(Int(id)) : "\(id)"
                throw ModelError.incompatibleInput(
                    "gpt: token id \(shown) at sequence \(i / length), position \(i % length) is outside the vocabulary 0..<\(outputs)")
            }
        }
    }
}
