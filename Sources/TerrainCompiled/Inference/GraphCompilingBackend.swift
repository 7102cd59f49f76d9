import TerrainTensor

/// A back end that compiles whole networks: an `InferenceGraph` into the programs that the
/// compiled evaluation (`InferenceProgram`) and the compiled Hessian-vector products
/// (`CurvatureProgram`) run.
///
/// `Backend` holds tensor operations only; a back end that also compiles graphs says so by
/// conforming here. One that does not (or returns nil for a graph) has its networks evaluated
/// layer by layer through `Backend`'s operations. `CPUBackend` conforms through oneDNN
/// (`CPU/OneDNNInference.swift`, `CPU/OneDNNCurvature.swift`).
public protocol GraphCompilingBackend: Backend {
    /// A compiled evaluation-mode forward pass of `graph` for runs of `batchSize` samples with
    /// products in `precision`, or nil when this back end runs this graph only layer by layer
    /// (the caller then does) or lacks that precision.
    func makeInferenceProgram(_ graph: InferenceGraph, batchSize: Int, precision: InferencePrecision) -> InferenceProgram?
    /// Nil when this back end's compiled programs can compute in `precision`; otherwise why not,
    /// as a sentence for the user (a CPU without bf16 instructions).
    func unavailability(of precision: InferencePrecision) -> String?
    /// What a user should know before computing in `precision` here, where it runs (bf16 on a
    /// CPU whose bf16 may be no faster than fp32); nil when nothing.
    func caveat(of precision: InferencePrecision) -> String?
    /// `graph` compiled for Hessian-vector products (see `CurvatureProgram`) in runs of
    /// `batchSize` samples, or nil where this back end has no such program for it.
    func makeCurvatureProgram(_ graph: InferenceGraph, batchSize: Int) -> CurvatureProgram?
    /// `graph` compiled for blocks of `probes` Hessian-vector products at once (see
    /// `CurvatureBlockProgram`) in runs of `batchSize` samples, or nil.
    func makeCurvatureBlockProgram(_ graph: InferenceGraph, batchSize: Int, probes: Int) -> CurvatureBlockProgram?
}

extension GraphCompilingBackend {
    public func caveat(of precision: InferencePrecision) -> String? { nil }
}

extension CPUBackend: GraphCompilingBackend {}
