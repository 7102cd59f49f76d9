/// Self-attention for evaluation: every head of every sequence read in place from the packed
/// projections and written in place into the merged output, its scores never larger than one
/// head's [T, T] in cache.
///
/// The recorded path (`MultiHeadSelfAttention` while recording) copies Q, K and V into
/// [B, H, T, D], keeps P [B, H, T, T] for the backward pass and copies O back into rows; an
/// evaluation needs none of it. Here one work item is one (sequence, head): its Q·Kᵀ, softmax
/// and P·V are GEMMs whose leading dimensions step over the packed rows, so nothing is copied,
/// and its scores stay in one buffer of T² values. A causal head goes in blocks of
/// `causalRowBlock` queries, each multiplied only with the keys it sees (keys < the block's end),
/// which skips nearly half of both products' arithmetic; the scores a block cannot see are
/// never written nor read, and its probabilities there are 0.
extension CPUBackend {
    /// Queries per block of a causal head.
    static let causalRowBlock = 32

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func packedSelfAttention<T: TensorScalar>(_ projections: Tensor<T>, batch: Int, time: Int, heads: Int,
                                                     scale: T, causal: Bool) -> Tensor<T> {
        precondition(projections.rank == 2 && projections.shape[0] == batch * time && heads > 0
                     && projections.shape[1] % (3 * heads) == 0,
                     "packedSelfAttention: projections \(projections.shape) for \(batch) × \(time) positions and \(heads) heads")
        let embedding = projections.shape[1] / 3, width = embedding / heads, stride = 3 * embedding
        var output = Tensor<T>(uninitializedShape: [batch * time, embedding])
        guard output.count > 0 else { return output }
        let source = projections.pointer, target = output.mutablePointer()
        let block = causal ? Self.causalRowBlock : time
        Parallel.forEach(chunks: batch * heads) { item in
            let sequence = item / heads, head = item % heads
            let queries = source + sequence * time * stride + head * width
            let keys = queries + embedding, values = queries + 2 * embedding
            let scores = UnsafeMutablePointer<T>.allocate(capacity: time * time)
            defer { scores.deallocate() }
            var first = 0
            while first < time {
                let end = min(time, first + block), rows = end - first
                let seen = causal ? end : time
                let blockScores = scores + first * time
                T.gemm(transposeA: false, transposeB: true, m: rows, n: seen, k: width,
                       alpha: 1, a: queries + first * stride, lda: stride, b: keys, ldb: stride,
                       beta: 0, c: blockScores, ldc: time)
                attentionSoftmaxRows(UnsafePointer(blockScores), blockScores, rows: rows, length: time,
                                     firstRow: first, scale: scale, causal: causal)
                T.gemm(transposeA: false, transposeB: false, m: rows, n: width, k: seen,
                       alpha: 1, a: blockScores, lda: time, b: values, ldb: stride,
                       beta: 0, c: target + (sequence * time + first) * embedding + head * width, ldc: embedding)
                first = end
            }
        }
        return output
    }
}
