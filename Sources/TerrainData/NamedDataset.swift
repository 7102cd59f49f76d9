import Foundation
import TerrainIO

/// A real dataset known by name, and where to look for it on this machine.
///
/// Locations are tried in order; the first that exists is read. `$TERRAIN_DATA/<name>` comes
/// first on every machine; then comes the system package (`/usr/share/datasets/…`). Nothing is
/// looked for relative to the current directory: what a command reads must not depend on the
/// folder it was started from. When none exists, the error says how to provide the data.
struct NamedDataset: Sendable {
    let name: String
    let aliases: [String]
    /// Candidate paths (folders or files), given the environment.
    let locations: @Sendable (_ environment: [String: String]) -> [String]
    /// What to tell a user who has none of the locations.
    let help: String
    /// Reads the data set from the location found (path, name, options); nil: as any path is
    /// read (`DatasetCatalog.readPath`).
    var reader: (@Sendable (_ path: String, _ name: String, _ options: DatasetOptions) throws -> DatasetPair)? = nil

    static let all: [NamedDataset] = [fashionMNIST, mnist, digits, cifar10, FortuneCorpus.named]

    static let fashionMNIST = NamedDataset(
        name: "fashion-mnist", aliases: ["fashion_mnist", "fashionmnist"],
        locations: { dataRoot($0, "fashion-mnist") + ["/usr/share/datasets/fashion-mnist"] },
        help: "install it with `apt-get install dataset-fashion-mnist` (or `make deps`), "
            + "or pass the path of a folder holding its four IDX files")

    static let mnist = NamedDataset(
        name: "mnist", aliases: [],
        locations: { dataRoot($0, "mnist") + ["/usr/share/datasets/mnist"] },
        help: "pass the path of a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            + "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not), "
            + "or put that folder at $TERRAIN_DATA/mnist")

    static let digits = NamedDataset(
        name: "digits", aliases: [],
        locations: { environment in
            dataRoot(environment, "digits").flatMap { ["\($0)/digits.csv.gz", "\($0)/digits.csv", "\($0).csv.gz", "\($0).csv"] }
        },
        help: "export scikit-learn's digits as CSV (64 pixel columns then the label, no header), e.g. "
            + "`python3 -c \"from sklearn.datasets import load_digits; import numpy as np; d = load_digits(); "
            + "np.savetxt('digits.csv', np.c_[d.data, d.target], fmt='%d', delimiter=',')\"`, "
            + "then pass its path or put it at $TERRAIN_DATA/digits/digits.csv")

    static let cifar10 = NamedDataset(
        name: "cifar10", aliases: ["cifar-10"],
        locations: { dataRoot($0, "cifar10") + dataRoot($0, "cifar-10-batches-bin") },
        help: "download the CIFAR-10 binary version (cifar-10-binary.tar.gz), unpack it, and pass the path "
            + "of its cifar-10-batches-bin folder or put that folder at $TERRAIN_DATA/cifar10")

    /// The dataset called `name` (case-insensitive, aliases included).
    static func find(_ name: String) -> NamedDataset? {
        let key = name.lowercased()
        return all.first { $0.name == key || $0.aliases.contains(key) }
    }

    /// The first existing location, or nil.
    func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        locations(environment).first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Reads the dataset from its first existing location.
    func load(options: DatasetOptions,
              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DatasetPair {
        guard let path = locate(environment: environment) else {
            // A set found only under $TERRAIN_DATA has no place to look without it: say so, not "looked in ;".
            let places = locations(environment)
            let searched = places.isEmpty ? "$TERRAIN_DATA is not set" : "looked in " + places.joined(separator: ", ")
            throw DatasetError.notInstalled(name: name, help: "\(searched); \(help)")
        }
        if let reader { return try reader(path, name, options) }
        return try DatasetCatalog.readPath(path, name: name, options: options)
    }

    /// `$TERRAIN_DATA/<folder>` if the variable is set.
    private static func dataRoot(_ environment: [String: String], _ folder: String) -> [String] {
        guard let root = environment["TERRAIN_DATA"], !root.isEmpty else { return [] }
        return [FileReading.join(root, folder)]
    }
}
