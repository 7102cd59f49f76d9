import TerrainTensor

/// Updates parameters from their gradients.
///
/// An optimizer reads `parameter.gradient` (filled by backward passes) and changes
/// `parameter.value` in place. It touches only trainable parameters that have a gradient:
/// buffers (running statistics) and parameters whose gradient is nil are skipped, and a
/// parameter listed twice is updated once.
///
/// Per-parameter state (momentum buffers, moment estimates) is keyed by the parameter's
/// identity, so callers may pass a freshly built array each step (`model.namedParameters()`,
/// `model.trainableParameters`, or any subset). State of a parameter that has been deallocated
/// is never reused for another parameter.
///
/// Hyperparameters are `Double`; per-element arithmetic runs in `Scalar`, in the order PyTorch's
/// single-tensor CPU implementations use. For `Double`, each a + b·c that PyTorch's compiled
/// kernels fuse is a fused multiply-add too, so results match `torch.optim` (float64, CPU) bit
/// for bit (checked against torch 2.13 on x86-64); `Float` keeps separate multiplies and adds (a fused multiply-add is a library call
/// on baseline x86-64, about 5× slower), agreeing with `torch.optim` (float32) to rounding,
/// about 1e-7 relative.
///
/// `state(of:)` and `restore(_:into:)` save and load the per-parameter state by parameter name
/// (`OptimizerState`, PyTorch's `state_dict()["state"]`), so a resumed run continues with the
/// same momentum buffers, moment estimates and step counts.
public protocol Optimizer<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar

    /// The step size, changed between steps by learning-rate schedules.
    var learningRate: Double { get set }

    /// Applies one update to every trainable parameter that has a gradient, from `parameter.gradient`.
    func step(_ parameters: [Parameter<Scalar>])

    /// The state of the given parameters, keyed by their names.
    func state(of parameters: [(name: String, parameter: Parameter<Scalar>)]) -> OptimizerState<Scalar>

    /// Replaces the state of the given parameters with `state` (parameters without an entry
    /// start fresh). Throws when `state` names a slot or parameter that does not fit.
    func restore(_ state: OptimizerState<Scalar>, into parameters: [(name: String, parameter: Parameter<Scalar>)]) throws
}

extension Optimizer {
    /// A stateless optimizer has nothing to save.
    public func state(of parameters: [(name: String, parameter: Parameter<Scalar>)]) -> OptimizerState<Scalar> {
        OptimizerState()
    }

    /// A stateless optimizer accepts only empty state.
    public func restore(_ state: OptimizerState<Scalar>, into parameters: [(name: String, parameter: Parameter<Scalar>)]) throws {
        guard state.isEmpty else { throw OptimizerStateError("\(Self.self) keeps no state, but state was given") }
    }
}

extension Optimizer {
    /// One update of every trainable parameter of `model` that has a gradient.
    public func step(_ model: Module<Scalar>) {
        step(model.trainableParameters)
    }
}

/// The parameters an optimizer step updates, each with its gradient: trainable, with a gradient,
/// and each parameter once.
func parametersToUpdate<Scalar>(_ parameters: [Parameter<Scalar>]) -> [(parameter: Parameter<Scalar>, gradient: Tensor<Scalar>)] {
    var seen = Set<ObjectIdentifier>()
    var result: [(parameter: Parameter<Scalar>, gradient: Tensor<Scalar>)] = []
    result.reserveCapacity(parameters.count)
    for p in parameters where p.isTrainable {
        guard let g = p.gradient, seen.insert(ObjectIdentifier(p)).inserted else { continue }
        precondition(g.count == p.value.count,
                     "gradient of \(p.name) has \(g.count) values, the parameter \(p.value.count)")
        result.append((p, g))
    }
    return result
}

/// Optimizer state per parameter, keyed by identity.
///
/// Each entry keeps a weak reference to its parameter: if the parameter is deallocated and a new
/// one happens to get the same address, the stale state is dropped instead of being reused.
struct ParameterStateTable<Scalar: TensorScalar, State: AnyObject> {
    private struct Entry {
        weak var parameter: Parameter<Scalar>?
        let state: State
    }

    private var entries: [ObjectIdentifier: Entry] = [:]

    /// The state of `parameter`, created by `make` on first use.
    mutating func state(for parameter: Parameter<Scalar>, make: () -> State) -> State {
        let key = ObjectIdentifier(parameter)
        if let entry = entries[key], entry.parameter === parameter { return entry.state }
        let state = make()
        entries[key] = Entry(parameter: parameter, state: state)
        return state
    }

    /// The state of `parameter` if it has any.
    func existingState(for parameter: Parameter<Scalar>) -> State? {
        guard let entry = entries[ObjectIdentifier(parameter)], entry.parameter === parameter else { return nil }
        return entry.state
    }

    /// Replaces the state of `parameter` (restoring saved state).
    mutating func set(_ state: State, for parameter: Parameter<Scalar>) {
        entries[ObjectIdentifier(parameter)] = Entry(parameter: parameter, state: state)
    }

    mutating func removeAll() { entries.removeAll() }
}

/// Whether optimizer kernels fuse multiply-adds for this scalar type: for `Double` (exact
/// agreement with PyTorch in reference checks), not for `Float` (speed in training).
@inline(__always)
func fusesMultiplyAdd<T: TensorScalar>(_: T.Type) -> Bool { T.self == Double.self }

/// c + a·b, rounded once when `fused`.
@inline(__always)
func multiplyAdd<T: TensorScalar>(_ c: T, _ a: T, _ b: T, fused: Bool) -> T {
    fused ? c.addingProduct(a, b) : c + a * b
}
