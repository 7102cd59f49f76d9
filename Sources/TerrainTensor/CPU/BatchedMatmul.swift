/// Batched matrix products: one OpenBLAS GEMM per matrix of the batch (or per row block of it).
extension CPUBackend {
    /// How the operands of `batchedMatmul` line up: the result's batch axes, the number of
    /// products, and each operand's distance between consecutive matrices (0 when shared).
    struct BatchedProductLayout: Equatable {
        var batchShape: [Int]
        var batch: Int
        var strideA: Int
        var strideB: Int
    }

    /// The batch axes of A ([…, rows, columns]) and B are equal, or one of them holds a single
    /// matrix, which every product shares. Traps on any other pair (a programming error).
    static func batchedProductLayout(_ a: [Int], _ b: [Int]) -> BatchedProductLayout {
        precondition(a.count >= 2 && b.count >= 2, "batchedMatmul needs matrices or stacks of them, got \(a) and \(b)")
        let leadA = Array(a.dropLast(2)), leadB = Array(b.dropLast(2))
        let batchA = leadA.reduce(1, *), batchB = leadB.reduce(1, *)
        let matrixA = a[a.count - 2] * a[a.count - 1], matrixB = b[b.count - 2] * b[b.count - 1]
        if leadA == leadB {
            return BatchedProductLayout(batchShape: leadA, batch: batchA, strideA: matrixA, strideB: matrixB)
        }
        if batchB == 1 && (batchA != 1 || leadA.count >= leadB.count) {
            return BatchedProductLayout(batchShape: leadA, batch: batchA, strideA: matrixA, strideB: 0)
        }
        precondition(batchA == 1, "batchedMatmul: batch axes \(leadA) and \(leadB) differ and neither is a single matrix")
        return BatchedProductLayout(batchShape: leadB, batch: batchB, strideA: 0, strideB: matrixB)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                               structure: CausalStructure) -> Tensor<T> {
        let shape = batchedProductShape(a, b, transposeA: transposeA, transposeB: transposeB)
        var c = Tensor<T>(uninitializedShape: shape)
        batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: structure,
                      into: c.mutablePointer(), beta: 0)
        return c
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                               structure: CausalStructure, addingTo c: inout Tensor<T>) {
        let shape = batchedProductShape(a, b, transposeA: transposeA, transposeB: transposeB)
        precondition(c.shape == shape, "batchedMatmul: the sum \(c.shape) is not the product's \(shape)")
        batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: structure,
                      into: c.mutablePointer(), beta: 1)
    }

    /// The product's shape [batch axes…, M, N], the inner dimensions checked.
    private func batchedProductShape<T>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> [Int] {
        let layout = Self.batchedProductLayout(a.shape, b.shape)
        let (ra, ca) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (rb, cb) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ca, ra) : (ra, ca)
        let (kb, n) = transposeB ? (cb, rb) : (rb, cb)
        precondition(k == kb, "batchedMatmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
        return layout.batchShape + [m, n]
    }

    /// C = op(A)·op(B) + β·C (β 0 or 1), matrix by matrix, into C at `cp`.
    private func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                                structure: CausalStructure, into cp: UnsafeMutablePointer<T>, beta: T) {
        let layout = Self.batchedProductLayout(a.shape, b.shape)
        let (ra, ca) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let cb = b.shape[b.rank - 1]
        let m = transposeA ? ca : ra, k = transposeA ? ra : ca
        let n = transposeB ? b.shape[b.rank - 2] : cb
        let count = layout.batch * m * n
        guard count > 0 else { return }
        let ap = a.pointer, bp = b.pointer
        if k == 0 { if beta == 0 { cp.update(repeating: 0, count: count) }; return }
        switch structure {
        case .general: break
        case .lowerTriangularLeft, .upperTriangularLeft:
            precondition(m == k, "batchedMatmul: a triangular op(A) must be square, got [\(m), \(k)]")
        case .lowerTriangularResult:
            precondition(m == n, "batchedMatmul: a triangular result must be square, got [\(m), \(n)]")
        }
        // Work items are (matrix, row block) pairs. A batch of at least `maxGemmChunks` matrices
        // is cut by matrix only; a smaller one also cuts each product's rows (blocks of at least
        // 64, as `matmul` does), so one large product still spreads over the threads. A
        // triangular structure cuts rows in blocks of `causalRowBlock`, each block's share of the
        // inner dimension or of the columns its own. The cut depends on the sizes only, so the
        // bits do not depend on the thread count.
        let rowsPerBlock: Int
        if structure == .general {
            let wantedBlocks = (Self.maxGemmChunks + layout.batch - 1) / layout.batch
            let blocksPerMatrix = max(1, min(wantedBlocks, (m + 63) / 64))
            rowsPerBlock = (m + blocksPerMatrix - 1) / blocksPerMatrix
        } else {
            rowsPerBlock = Self.causalRowBlock
        }
        let blocksPerMatrix = (m + rowsPerBlock - 1) / rowsPerBlock
        let (strideA, strideB, strideC) = (layout.strideA, layout.strideB, m * n)
        Parallel.forEach(chunks: layout.batch * blocksPerMatrix) { item in
            let matrix = item / blocksPerMatrix, block = item % blocksPerMatrix
            let lo = block * rowsPerBlock, hi = min(m, lo + rowsPerBlock)
            guard lo < hi else { return }
            // The inner range first..<first + inner and the columns 0..<columns this block needs.
            var (first, inner, columns) = (0, k, n)
            switch structure {
            case .general: break
            case .lowerTriangularLeft: inner = hi
            case .upperTriangularLeft: (first, inner) = (lo, k - lo)
            case .lowerTriangularResult: columns = hi
            }
            let aMatrix = ap + matrix * strideA, bMatrix = bp + matrix * strideB
            // op(A)[i, p] is A[i, p], or A[p, i] when A is transposed; op(B)[p, j] likewise.
            let aStart = transposeA ? aMatrix + first * ca + lo : aMatrix + lo * ca + first
            let bStart = transposeB ? bMatrix + first : bMatrix + first * cb
            T.gemm(transposeA: transposeA, transposeB: transposeB, m: hi - lo, n: columns, k: inner,
                   alpha: 1, a: aStart, lda: ca, b: bStart, ldb: cb,
                   beta: beta, c: cp + matrix * strideC + lo * n, ldc: n)
        }
    }
}
