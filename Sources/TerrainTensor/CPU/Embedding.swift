/// Table lookups by index (token embeddings) and their adjoint, the scatter-add of gradients.
///
/// Indices arrive as scalars of the tensor's type (token ids are exact integers in a Float
/// tensor, below 2^24); the caller has checked them against the table, so an index that is not
/// an integer in 0..<rows is a programming error here.
extension CPUBackend {
    /// The row of the table that `value` names.
    @inline(__always)
    func tableRow<T: TensorScalar>(_ value: T, rows: Int) -> Int {
        let index = Int(exactly: value)
        precondition(index != nil && index! >= 0 && index! < rows, "index \(value) is not a row of a table of \(rows)")
        return index!
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func gatherRows<T: TensorScalar>(_ table: Tensor<T>, indices: Tensor<T>) -> Tensor<T> {
        precondition(table.rank == 2, "gatherRows needs a table [rows, width], got \(table.shape)")
        let (rows, width) = (table.shape[0], table.shape[1])
        var y = Tensor<T>(uninitializedShape: indices.shape + [width])
        let tp = table.pointer, ip = indices.pointer, yp = y.mutablePointer()
        Parallel.forEach(range: indices.count, grain: max(1, Self.elementwiseGrain / max(1, width))) { range in
            for i in range {
                (yp + i * width).update(from: tp + tableRow(ip[i], rows: rows) * width, count: width)
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func scatterAddRows<T: TensorScalar>(_ values: Tensor<T>, indices: Tensor<T>, rows: Int) -> Tensor<T> {
        let width = values.shape.last ?? 0
        precondition(values.shape == indices.shape + [width], "scatterAddRows: values \(values.shape) for indices \(indices.shape)")
        var table = Tensor<T>(zeros: [rows, width])
        let vp = values.pointer, ip = indices.pointer, tp = table.mutablePointer()
        let n = indices.count
        for i in 0..<n { _ = tableRow(ip[i], rows: rows) }
        // Columns are spread over threads; each column adds its values in index order, so the
        // sums do not depend on the thread count even where an index repeats.
        Parallel.forEach(range: width, grain: max(1, Self.elementwiseGrain / max(1, n))) { columns in
            for i in 0..<n {
                let dst = tp + Int(ip[i]) * width, src = vp + i * width
                for j in columns { dst[j] += src[j] }
            }
        }
        return table
    }
}
