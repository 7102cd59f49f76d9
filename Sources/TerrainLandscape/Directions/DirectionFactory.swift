import TerrainTensor

/// The ways a direction is made.
extension Direction {
    /// Independent standard normal entries for every covered group, drawn in group order from
    /// one seeded generator: the same seed and groups give the same direction on any machine.
    public static func random(groups: [ParameterGroup], type: TensorSet, seed: UInt64) -> Direction {
        var d = Direction(zeros: groups.scalarCount)
        var generator = SeededGenerator(seed: seed)
        for group in groups where type.covers(group) {
            for i in group.range { d.values[i] = generator.nextNormal() }
        }
        return d
    }

    /// target − origin over the covered groups: 1D interpolation θ(α) = origin + α·d moves from
    /// origin (α = 0) to target (α = 1); with `states`, batch-norm statistics move too.
    public static func between(_ origin: [Double], _ target: [Double], groups: [ParameterGroup],
                               type: TensorSet) -> Direction {
        precondition(origin.count == target.count && origin.count == groups.scalarCount, "models of different sizes")
        var d = Direction(zeros: origin.count)
        for group in groups where type.covers(group) {
            for i in group.range { d.values[i] = target[i] - origin[i] }
        }
        return d
    }

    /// The unit vector along one named parameter (one scalar of it: `element` in flat order):
    /// for models small enough to draw exactly, such as the neuron y = w·x + b.
    public static func axis(_ name: String, element: Int = 0, groups: [ParameterGroup]) throws -> Direction {
        guard let group = groups.first(where: { $0.name == name }) else {
            throw LandscapeError.unknownParameter(name, groups.map(\.name))
        }
        guard element >= 0 && element < group.count else {
            throw LandscapeError.invalidRequest("\(name) has \(group.count) elements; element \(element) does not exist")
        }
        var d = Direction(zeros: groups.scalarCount)
        d.values[group.offset + element] = 1
        return d
    }
}
