import Foundation
import TerrainIO

/// Loads a dataset from a name or a path, and prepares it for training.
///
/// Names: `fashion-mnist`, `mnist`, `digits`, `cifar10`, `fortunes` (real data found on this
/// machine, see `NamedDataset`, `FortuneCorpus`) and `parabola`, `spirals`, `blobs` (synthetic,
/// see `SyntheticData`). Anything else is a path: a folder of IDX, CIFAR-10 or NPY files, or a
/// file holding an NPZ archive or a CSV table (gzipped or not), told apart by content (see
/// `DatasetFormat`). With `options.context` (`--context`), a file that is not an NPZ archive is
/// a text corpus read as bytes; arrays named `tokens` are token sequences (`TokenSequences`).
/// A spec that contains `/` or starts with `.` or `~` is always taken as a path, so
/// `./mnist` reads a local folder even though `mnist` is also a name.
///
/// After reading, `load` normalizes with statistics of the full training set (never token ids,
/// which index a vocabulary) and then keeps the requested random subsets, all seeded by
/// `options.seed`.
public enum DatasetCatalog {
    /// The names `load` understands without a path.
    public static var names: [String] { NamedDataset.all.map(\.name) + SyntheticSet.allCases.map(\.rawValue) }

    /// Loads, normalizes and subsets the dataset that `spec` names or points to.
    public static func load(_ spec: String, options: DatasetOptions = .init()) throws -> DatasetPair {
        try options.validate()
        let raw = try read(spec, options: options)
        // A set of no samples would train and evaluate "fine" on nothing (a loss of 0).
        guard raw.train.count > 0 else {
            throw DatasetError.malformed(file: spec, detail: "it holds no training samples")
        }
        return prepare(raw, options: options)
    }

    /// The dataset that `spec` names or points to, as stored: no normalization, no subsets.
    public static func read(_ spec: String, options: DatasetOptions = .init()) throws -> DatasetPair {
        try options.validate()
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw DatasetError.unknownDataset(spec: spec, help: "give a name (\(names.joined(separator: ", "))) or a path")
        }
        let looksLikePath = trimmed.contains("/") || trimmed.hasPrefix(".") || trimmed.hasPrefix("~")
        if !looksLikePath {
            if let synthetic = SyntheticSet(name: trimmed) { return synthetic.make(options: options) }
            if let named = NamedDataset.find(trimmed) { return try named.load(options: options) }
        }
        let path = NSString(string: trimmed).expandingTildeInPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError.unknownDataset(
                spec: spec,
                help: "no file or folder at that path, and not one of the names \(names.joined(separator: ", "))")
        }
        return try readPath(path, name: datasetName(forPath: path), options: options)
    }

    /// A raw pair normalized (if asked) with its training set's statistics and cut to the
    /// requested subsets. The statistics come from the whole training set, before subsetting,
    /// so they do not depend on the subset size.
    public static func prepare(_ raw: DatasetPair, options: DatasetOptions) -> DatasetPair {
        var pair = raw
        let normalization = options.normalize && !pair.train.targets.isTokens ? Normalization(fittedTo: pair.train) : nil
        if let size = options.trainSubset {
            pair.train = pair.train.randomSubset(size: size, seed: SeedMixing.seed(options.seed, for: .trainSubset))
        }
        if let size = options.testSubset {
            pair.test = pair.test.randomSubset(size: size, seed: SeedMixing.seed(options.seed, for: .testSubset))
        }
        if let normalization {
            normalization.apply(to: &pair.train)
            normalization.apply(to: &pair.test)
        }
        pair.normalization = normalization
        return pair
    }

    /// Reads the dataset at an existing path.
    static func readPath(_ path: String, name: String, options: DatasetOptions) throws -> DatasetPair {
        if FileReading.isFolder(path) {
            switch try DatasetFormat.detect(folder: path) {
            case .idxFolder: return try IDX.loadFolder(path, name: name)
            case .cifar10Folder: return try CIFAR10.loadFolder(path, name: name)
            default:
                return try arrays(NPYFolder.read(path), name: name, file: path, options: options)
            }
        }
        let file = FileReading.displayName(path)
        let contents = try FileReading.readDecompressing(path)
        // `--context` makes any file but an array file a text corpus (bytes, whatever the encoding).
        if let context = options.context, !ZipArchive.isZip(contents), !NPY.isNPY(contents) {
            return try TokenSequences.fromBytes(Array(contents), context: context, name: name, file: file,
                                                testFraction: options.testFraction, seed: options.seed)
        }
        switch try DatasetFormat.detect(contents: contents, file: file) {
        case .npz:
            return try arrays(NPZ.read(contents, file: file), name: name, file: file, options: options)
        default:
            let table = try CSV.read(contents, file: file)
            let all = try CSVDataset.make(from: table, name: name, file: file, layout: options.featureLayout, targets: options.targets)
            return all.randomSplit(testFraction: options.testFraction, seed: SeedMixing.seed(options.seed, for: .split))
        }
    }

    /// Token sequences (`tokens` arrays) or samples with targets (`x`/`y`).
    static func arrays(_ arrays: [String: NumpyArray], name: String, file: String, options: DatasetOptions) throws -> DatasetPair {
        if TokenSequences.holdsTokens(arrays) {
            return try TokenSequences.fromArrays(arrays, name: name, file: file, options: options)
        }
        if let context = options.context {
            throw DatasetError.malformed(
                file: file, detail: "--context \(context) asks for token sequences, and the archive holds no array 'tokens' (or 'tokens_train' and 'tokens_test')")
        }
        return try ArrayDataset.make(from: arrays, name: name, file: file, options: options)
    }

    /// The last path component without data-file extensions: `digits.csv.gz` → `digits`.
    static func datasetName(forPath path: String) -> String {
        var name = URL(fileURLWithPath: path).lastPathComponent
        for suffix in [".gz", ".csv", ".npz", ".npy"] where name.lowercased().hasSuffix(suffix) {
            name = String(name.dropLast(suffix.count))
        }
        return name.isEmpty ? "dataset" : name
    }
}

/// The synthetic sets, by name.
enum SyntheticSet: String, CaseIterable {
    case parabola, spirals, blobs

    init?(name: String) { self.init(rawValue: name.lowercased()) }

    func make(options: DatasetOptions) -> DatasetPair {
        let seed = SeedMixing.seed(options.seed, for: .synthetic)
        let count = options.syntheticCount
        let all: Dataset = switch self {
        case .parabola: SyntheticData.parabola(count: count, noise: options.syntheticNoise ?? 0.5, seed: seed)
        case .spirals: SyntheticData.spirals(count: count, noise: options.syntheticNoise ?? 0.05, seed: seed)
        case .blobs: SyntheticData.blobs(count: count, classes: options.blobClasses,
                                         noise: options.syntheticNoise ?? 1, seed: seed)
        }
        return all.randomSplit(testFraction: options.testFraction, seed: SeedMixing.seed(options.seed, for: .split))
    }
}
