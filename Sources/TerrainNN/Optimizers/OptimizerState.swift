import TerrainTensor

/// An optimizer's state (moment estimates, momentum buffers, step counts) keyed by parameter
/// name, what `torch.optim.Optimizer.state_dict()["state"]` holds, so that a training run can be
/// stopped and resumed with the very same updates.
///
/// Keys are `SLOT/NAME` with PyTorch's slot names: `exp_avg/fc1.weight`, `exp_avg_sq/fc1.weight`
/// and `step/fc1.weight` (Adam), `momentum_buffer/fc1.weight` (SGD with momentum). Tensors hold
/// `Scalar` values exactly; counters are whole numbers. A parameter with no entry has no state
/// yet (it has not taken a step).
public struct OptimizerState<Scalar: TensorScalar> {
    public var tensors: [String: Tensor<Scalar>] = [:]
    public var counters: [String: Int] = [:]

    public init(tensors: [String: Tensor<Scalar>] = [:], counters: [String: Int] = [:]) {
        self.tensors = tensors
        self.counters = counters
    }

    public var isEmpty: Bool { tensors.isEmpty && counters.isEmpty }

    static func key(_ slot: String, _ name: String) -> String { "\(slot)/\(name)" }

    /// The tensor of `slot` for parameter `name`, checked against the parameter's shape.
    func tensor(_ slot: String, of name: String, shape: [Int]) throws -> Tensor<Scalar>? {
        guard let t = tensors[Self.key(slot, name)] else { return nil }
        guard t.shape == shape else {
            throw OptimizerStateError("\(slot) of \(name) has shape \(t.shape), the parameter \(shape)")
        }
        return t
    }

    /// Every key must name a slot this optimizer knows and a parameter it is given: state meant
    /// for another model or optimizer is refused instead of silently ignored.
    func checkKeys(slots: Set<String>, counterSlots: Set<String>, names: Set<String>) throws {
        for key in tensors.keys.sorted() {
            let (slot, name) = Self.split(key)
            guard slots.contains(slot), names.contains(name) else { throw OptimizerStateError("unexpected state tensor \(key)") }
        }
        for key in counters.keys.sorted() {
            let (slot, name) = Self.split(key)
            guard counterSlots.contains(slot), name.isEmpty || names.contains(name) else {
                throw OptimizerStateError("unexpected state counter \(key)")
            }
        }
    }

    private static func split(_ key: String) -> (slot: String, name: String) {
        guard let slash = key.firstIndex(of: "/") else { return (key, "") }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }
}

/// Optimizer state that does not fit the parameters or the optimizer it is restored into.
public struct OptimizerStateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = "optimizer state: " + description }
}
