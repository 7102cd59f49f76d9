/// A dense, contiguous, row-major array of scalars with a shape.
///
/// `Tensor` is a value type: copies share storage until one of them is written
/// (copy-on-write), so passing activations between layers costs nothing.
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage<Scalar>

    /// Number of scalars: the product of the shape.
    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// A tensor whose contents are undefined: for kernels that overwrite every element.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
    }

    public init(repeating value: Scalar, shape: [Int]) {
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
    }

    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    public init(shape: [Int], scalars: [Scalar]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor of another scalar type with the same shape and converted values.
    public init<Other: TensorScalar>(converting other: Tensor<Other>) {
        self.init(uninitializedShape: other.shape)
        let src = other.storage.pointer, dst = storage.pointer
        for i in 0..<count { dst[i] = Scalar(src[i]) }
    }

    public var scalars: [Scalar] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The only scalar of a one-element tensor.
    public var scalar: Scalar {
        precondition(count == 1, "scalar of a tensor with \(count) elements")
        return storage.pointer[0]
    }

    public subscript(flat index: Int) -> Scalar {
        get { storage.pointer[index] }
        set { makeUnique(); storage.pointer[index] = newValue }
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Read access for kernels. **The pointer is valid only while this tensor's storage is
    /// alive, and Swift does not keep a value alive to the end of its scope: it may destroy it
    /// right after its last use**, and taking the pointer is such a use. A freed buffer goes
    /// back to the pool, whose next tensor of its size gets it, so a stale pointer reads another
    /// tensor's numbers: no crash, silently wrong results.
    ///
    /// Safe: the tensor is a parameter of the function using the pointer (alive for the call),
    /// a stored property of an object alive throughout, or a variable used again after the
    /// pointer's last use (a result filled and then returned). Anything else — a pointer from a
    /// temporary (`f(x).pointer`, `t!.pointer`), from a local whose last use is taking it, or
    /// kept past the tensor's scope — reads inside `withUnsafeBufferPointer`, or inside
    /// `withExtendedLifetime(tensor) { … }` where several tensors' pointers are used together.
    public var pointer: UnsafePointer<Scalar> { UnsafePointer(storage.pointer) }

    /// Write access for kernels after making the storage unique. Valid only while this
    /// tensor's storage is alive: the rules of `pointer` apply (else `withUnsafeMutableBufferPointer`).
    public mutating func mutablePointer() -> UnsafeMutablePointer<Scalar> {
        makeUnique()
        return storage.pointer
    }

    /// Copy the storage if another tensor shares it, so that writes stay private.
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage<Scalar>(uninitializedCount: count)
            copy.pointer.update(from: storage.pointer, count: count)
            storage = copy
        }
    }

    /// The same scalars seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var result = self
        result.reshape(newShape)
        return result
    }

    public mutating func reshape(_ newShape: [Int]) {
        var shape = newShape
        if let inferred = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(self.shape) to \(newShape)")
            shape[inferred] = count / known
        }
        precondition(shape.reduce(1, *) == count, "cannot reshape \(self.shape) to \(newShape)")
        self.shape = shape
    }

    /// Overwrite all scalars with those of `other`, which must have the same element count.
    public mutating func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.shape) into \(shape)")
        if other.storage === storage { return }
        mutablePointer().update(from: other.pointer, count: count)
    }

    public mutating func fill(_ value: Scalar) {
        mutablePointer().update(repeating: value, count: count)
    }

    /// Rows `range` of the first dimension (a batch slice), copied.
    public func slice(rows range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0])
        let rowSize = count / max(shape[0], 1)
        let result = Tensor(uninitializedShape: [range.count] + shape.dropFirst())
        result.storage.pointer.update(from: storage.pointer + range.lowerBound * rowSize, count: range.count * rowSize)
        return result
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Scalar.self)>\(shape) [\(shown)\(count > 8 ? ", …" : "")]"
    }
}

extension Tensor: Equatable {
    /// Exact equality of shapes and of every scalar (bit-for-bit except for ±0 and NaN).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        for i in 0..<lhs.count where lhs.storage.pointer[i] != rhs.storage.pointer[i] { return false }
        return true
    }
}
