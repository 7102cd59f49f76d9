import TerrainTensor

/// Which permutation acts on which axis of which tensor: the hidden units of a network that can
/// be reordered without changing the function it computes.
///
/// A group is one permutation π of `size` units. Each of its axes is an axis of a named tensor
/// whose length is `size · blockSize`; permuting it moves blocks: entry `i·blockSize + s` of the
/// result is entry `π[i]·blockSize + s` of the original. A block of 1 is a unit's row or column
/// (a linear or convolution weight's output axis 0 or input axis 1, a bias, a batch norm's four
/// vectors); a block of h·w is one channel of a flattened [C, H, W] activation as a linear layer
/// after `Flatten` sees it. A network computes the same function after the permutation when, for
/// every group, the axes that write the units (outputs) and those that read them (inputs) are all
/// listed: `ModelSpec.permutationSpec` gives them for the zoo.
public struct PermutationSpec: Sendable, Equatable {
    public struct Axis: Sendable, Equatable {
        public var tensor: String
        public var axis: Int
        public var blockSize: Int
        /// Whether weight matching compares this tensor (weights, biases, batch-norm scales and
        /// shifts); running statistics are permuted with their channels but not matched.
        public var matched: Bool

        public init(tensor: String, axis: Int, blockSize: Int = 1, matched: Bool = true) {
            self.tensor = tensor; self.axis = axis; self.blockSize = blockSize; self.matched = matched
        }
    }

    public struct Group: Sendable, Equatable {
        /// A readable name: the layer whose outputs are the units ("fc1", "layer2.0.conv1"), or
        /// "stream N" for a residual stream that several blocks add into.
        public var name: String
        public var size: Int
        public var axes: [Axis]

        public init(name: String, size: Int, axes: [Axis]) {
            self.name = name; self.size = size; self.axes = axes
        }
    }

    public var groups: [Group]

    public init(groups: [Group]) { self.groups = groups }

    /// Every permuted tensor's name.
    public var tensorNames: Set<String> { Set(groups.flatMap { $0.axes.map(\.tensor) }) }

    /// Checks the spec against tensor shapes: each axis exists and has length size · blockSize,
    /// and no axis of a tensor belongs to two groups (nor to one group twice).
    public func check(shapes: [String: [Int]]) throws(PermutationError) {
        var claimed: [String: Set<Int>] = [:]
        for group in groups {
            guard group.size > 0 else { throw .shapeMismatch("permutation \(group.name) has no units") }
            var seen: Set<String> = []
            for axis in group.axes {
                guard let shape = shapes[axis.tensor] else {
                    throw .shapeMismatch("tensor \(axis.tensor) (permutation \(group.name)) is missing")
                }
                guard axis.axis >= 0, axis.axis < shape.count, axis.blockSize > 0,
                      shape[axis.axis] == group.size * axis.blockSize else {
                    throw .shapeMismatch("tensor \(axis.tensor) is shaped \(shape): its axis \(axis.axis) does not hold "
                                         + "\(group.size) units of \(axis.blockSize) (permutation \(group.name))")
                }
                guard seen.insert(axis.tensor).inserted, claimed[axis.tensor, default: []].insert(axis.axis).inserted else {
                    throw .shapeMismatch("tensor \(axis.tensor) is permuted twice (permutation \(group.name))")
                }
            }
        }
    }

    /// The tensors with each group's permutation applied (`permutations[g]` for `groups[g]`);
    /// tensors no group names are returned as they are.
    public func apply<T: TensorScalar>(_ permutations: [[Int]], to tensors: [String: Tensor<T>]) -> [String: Tensor<T>] {
        precondition(permutations.count == groups.count, "one permutation per group")
        var result = tensors
        for (group, permutation) in zip(groups, permutations) where permutation != Array(0..<group.size) {
            for axis in group.axes {
                guard let tensor = result[axis.tensor] else { continue }
                result[axis.tensor] = Self.permuted(tensor, axis: axis.axis, blockSize: axis.blockSize, by: permutation)
            }
        }
        return result
    }

    /// The tensor with its axis `axis` permuted in blocks: result[…, i·b + s, …] = x[…, π[i]·b + s, …].
    public static func permuted<T: TensorScalar>(_ x: Tensor<T>, axis: Int, blockSize: Int, by permutation: [Int]) -> Tensor<T> {
        let layout = AxisLayout(shape: x.shape, axis: axis, blockSize: blockSize)
        precondition(layout.units == permutation.count, "a permutation of \(permutation.count) on an axis of \(layout.units) units")
        var result = Tensor<T>(uninitializedShape: x.shape)
        let source = x.pointer, target = result.mutablePointer()
        for o in 0..<layout.outer {
            for (i, from) in permutation.enumerated() {
                (target + (o * layout.units + i) * layout.inner)
                    .update(from: source + (o * layout.units + from) * layout.inner, count: layout.inner)
            }
        }
        return result
    }
}

/// A tensor seen as [outer, units, inner] around one permuted axis: units are the blocks of the
/// axis, inner is a block's length times everything after the axis.
struct AxisLayout {
    var outer: Int
    var units: Int
    var inner: Int

    init(shape: [Int], axis: Int, blockSize: Int) {
        outer = shape[..<axis].reduce(1, *)
        units = shape[axis] / blockSize
        inner = blockSize * shape[(axis + 1)...].reduce(1, *)
    }
}

/// Why two networks cannot be aligned.
public enum PermutationError: Error, CustomStringConvertible, Equatable {
    /// An architecture whose units we do not permute (transformers, DenseNet, ONNX graphs).
    case unsupported(String)
    /// Two networks of different architectures or sizes.
    case differentModels(String)
    /// A tensor that does not have the shape its architecture implies.
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case .unsupported(let text), .differentModels(let text), .shapeMismatch(let text): text
        }
    }
}
