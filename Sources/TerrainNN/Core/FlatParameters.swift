import TerrainTensor

extension TensorSet {
    /// Whether the parameter is covered: every tensor for `states`, trainable ones for `weights`.
    public func includes<T>(_ p: Parameter<T>) -> Bool { includes(trainable: p.isTrainable) }
}

extension Module {
    /// The selected parameters, concatenated in module order, as one vector.
    public func flatParameters(_ selection: TensorSet = .weights) -> Tensor<Scalar> {
        let params = namedParameters().map(\.parameter).filter(selection.includes)
        var flat = Tensor<Scalar>(uninitializedShape: [params.reduce(0) { $0 + $1.value.count }])
        let out = flat.mutablePointer()
        var offset = 0
        for p in params {
            (out + offset).update(from: p.value.pointer, count: p.value.count)
            offset += p.value.count
        }
        return flat
    }

    /// Overwrites the selected parameters from one vector laid out as `flatParameters` lays it.
    public func setFlatParameters(_ flat: Tensor<Scalar>, _ selection: TensorSet = .weights) {
        let params = namedParameters().map(\.parameter).filter(selection.includes)
        let total = params.reduce(0) { $0 + $1.value.count }
        precondition(flat.count == total, "flat vector has \(flat.count) values, the model's \(selection) parameters \(total)")
        var offset = 0
        for p in params {
            p.value.mutablePointer().update(from: flat.pointer + offset, count: p.value.count)
            offset += p.value.count
        }
    }

    /// The gradients of the trainable parameters as one vector (zero where none was computed).
    public func flatGradients() -> Tensor<Scalar> {
        let params = trainableParameters
        var flat = Tensor<Scalar>(zeros: [params.reduce(0) { $0 + $1.value.count }])
        let out = flat.mutablePointer()
        var offset = 0
        for p in params {
            if let g = p.gradient { (out + offset).update(from: g.pointer, count: g.count) }
            offset += p.value.count
        }
        return flat
    }

    /// Copies every parameter and buffer value from a model of the same architecture.
    public func copyParameters(from other: Module) {
        let mine = namedParameters(), theirs = other.namedParameters()
        precondition(mine.count == theirs.count, "models differ: \(mine.count) vs \(theirs.count) tensors")
        for (a, b) in zip(mine, theirs) {
            precondition(a.name == b.name && a.parameter.shape == b.parameter.shape,
                         "models differ at \(a.name) \(a.parameter.shape) vs \(b.name) \(b.parameter.shape)")
            a.parameter.value.assign(b.parameter.value)
        }
    }
}
