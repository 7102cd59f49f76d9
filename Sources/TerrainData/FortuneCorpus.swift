import Foundation
import TerrainIO

/// `fortunes`: English prose from Debian's `fortunes` package (`/usr/share/games/fortunes`), the
/// named text corpus a character-level language model trains on.
///
/// The corpus is a fixed list of the package's files (`files`, in that order), so that its
/// bytes, and every split of them, are the same on every machine that installs the package.
/// Each file holds fortunes separated by lines holding only `%`: those separator lines are
/// removed, and consecutive fortunes are separated by one empty line. The bytes are then read as
/// any text corpus is (`TokenSequences.fromBytes`: vocabulary 256, windows of `--context` + 1
/// bytes, the default context `TokenSequences.defaultContext`, a seeded split by position).
enum FortuneCorpus {
    /// The package's files the corpus joins, in order: sayings, literature and science
    /// (348 KB in fortunes 1:1.99.1; the offensive collection is a separate package, never read).
    static let files = ["fortunes", "wisdom", "literature", "humorists", "platitudes", "science"]

    static let named = NamedDataset(
        name: "fortunes", aliases: ["fortune"],
        locations: { environment in
            (environment["TERRAIN_DATA"].map { [FileReading.join($0, "fortunes")] } ?? []) + ["/usr/share/games/fortunes"]
        },
        help: "install Debian's fortunes package (`apt-get install fortunes`, or `make deps`), "
            + "or put a folder holding its files \(files.joined(separator: ", ")) at $TERRAIN_DATA/fortunes",
        reader: { folder, name, options in try FortuneCorpus.load(folder: folder, name: name, options: options) })

    /// The corpus in `folder` as token windows.
    static func load(folder: String, name: String, options: DatasetOptions) throws -> DatasetPair {
        var corpus: [UInt8] = []
        for file in files {
            let path = FileReading.join(folder, file)
            guard FileReading.isFile(path) else {
                throw DatasetError.notInstalled(name: name, help: "\(path) is missing; \(named.help)")
            }
            let bytes = try FileReading.read(path)
            corpus += joinedFortunes(Array(bytes), startsCorpus: corpus.isEmpty)
        }
        return try TokenSequences.fromBytes(corpus, context: options.context ?? TokenSequences.defaultContext, name: name,
                                            file: "fortunes (\(folder))", testFraction: options.testFraction, seed: options.seed)
    }

    /// One file's fortunes without their `%` lines, each followed by its own newline, with an
    /// empty line between two fortunes (and before the first unless it `startsCorpus`).
    static func joinedFortunes(_ bytes: [UInt8], startsCorpus: Bool) -> [UInt8] {
        var result: [UInt8] = []
        var fortune: [UInt8] = []
        var isFirst = startsCorpus
        func finish() {
            // Blank lines at a fortune's ends carry nothing but the separator's job.
            while fortune.last == UInt8(ascii: "\n") { fortune.removeLast() }
            while fortune.first == UInt8(ascii: "\n") { fortune.removeFirst() }
            guard !fortune.isEmpty else { return }
            if !isFirst { result.append(UInt8(ascii: "\n")) }
            result += fortune
            result.append(UInt8(ascii: "\n"))
            isFirst = false
            fortune.removeAll()
        }
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.elementsEqual([UInt8(ascii: "%")]) { finish(); continue }
            fortune += line
            fortune.append(UInt8(ascii: "\n"))
        }
        finish()
        return result
    }
}
