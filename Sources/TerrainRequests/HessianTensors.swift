import TerrainTensor

/// Which tensors a Hessian covers, in the words Hessian files and `--parameters` use (`all`,
/// `matrices`): `OneDimensionalTensors` as the typed metadata stores it. The old spelling
/// `matrices-only` still reads.
public struct HessianTensors: Codable, Equatable, Sendable {
    public var tensors: OneDimensionalTensors

    public init(_ tensors: OneDimensionalTensors) { self.tensors = tensors }

    /// The Hessian's spelling read back (`all`, `matrices` or `matrices-only`); nil otherwise.
    public init?(name: String) {
        guard let tensors = OneDimensionalTensors(hessianName: name) else { return nil }
        self.tensors = tensors
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let choice = HessianTensors(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(name)' is not all or matrices"))
        }
        self = choice
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(tensors.hessianName)
    }
}
