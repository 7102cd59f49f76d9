import TerrainTensor

/// A direction in parameter space, laid out like its objective's flat vector. Entries of groups
/// the direction does not cover (buffers, for a `weights` direction) are zero, so that
/// θ + α·d never moves them.
public struct Direction: Sendable, Equatable {
    public var values: [Double]

    public init(values: [Double]) { self.values = values }
    public init(zeros count: Int) { values = [Double](repeating: 0, count: count) }

    public var norm: Double { dot(self, self).squareRoot() }

    /// Cosine of the angle between two directions (0 when either is zero).
    public static func cosine(_ a: Direction, _ b: Direction) -> Double {
        let n = a.norm * b.norm
        return n == 0 ? 0 : dot(a, b) / n
    }

    /// Refuses directions that span no line or plane: a zero (or non-finite) direction, as
    /// between two equal checkpoints, would give a constant curve, and two parallel ones a plane
    /// that is only a line. `names` say what each direction is ("B − A").
    public static func checkSpan(_ directions: [Direction], names: [String]) throws {
        for (d, name) in zip(directions, names) {
            let norm = d.norm
            guard norm.isFinite, norm > 0 else {
                throw LandscapeError.invalidRequest("the direction \(name) is \(norm.isFinite ? "zero (nothing moves along it: equal models, or no tensor it covers)" : "not finite"): it spans nothing")
            }
        }
        if directions.count == 2, abs(cosine(directions[0], directions[1])) > 1 - 1e-9 {
            throw LandscapeError.invalidRequest("the directions \(names[0]) and \(names[1]) are parallel: they span a line, not a plane")
        }
    }

    /// Removes from `self` its component along `other` (one Gram–Schmidt step).
    public mutating func orthogonalize(against other: Direction) {
        let oo = dot(other, other)
        guard oo > 0 else { return }
        let k = dot(self, other) / oo
        for i in values.indices { values[i] -= k * other.values[i] }
    }
}

/// Σ aᵢbᵢ, summed in fixed-size blocks in order (the same bits on every machine): `VectorMath.dot`.
func dot(_ a: Direction, _ b: Direction) -> Double {
    precondition(a.values.count == b.values.count, "directions of different lengths")
    return VectorMath.dot(a.values, b.values)
}

extension TensorSet {
    /// Whether a direction of this type moves the group: every group for `states`, trainable
    /// ones for `weights`.
    public func covers(_ group: ParameterGroup) -> Bool { includes(trainable: group.isTrainable) }
}
