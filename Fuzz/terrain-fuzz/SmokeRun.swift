import Foundation

/// The fuzz run of the build without libFuzzer (what `make test` runs): every corpus file, then
/// `mutations` seeded mutations of them, through the same readers. It finds fewer bugs than
/// libFuzzer's coverage-guided search but needs no sanitizer build of the library.
struct SmokeRun {
    let target: FuzzTarget
    let corpus: [String]
    let mutations: Int
    let seed: UInt64
    /// Where each input is written before it runs, so that a crash or a hang leaves it behind.
    let lastInputPath: String?

    /// Inputs run, or throws if the corpus cannot be read.
    func run() throws -> (seeds: Int, mutated: Int) {
        let scratch = try ScratchFile()
        defer { scratch.remove() }
        let seeds = try Self.files(in: corpus).map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        for seed in seeds {
            if let lastInputPath { try seed.write(to: URL(fileURLWithPath: lastInputPath)) }
            target.run(seed, scratch: scratch)
        }
        guard !seeds.isEmpty else { return (0, 0) }
        var mutator = Mutator(seed: seed)
        for i in 0..<mutations {
            let input = mutator.mutate(seeds[i % seeds.count])
            if let lastInputPath { try input.write(to: URL(fileURLWithPath: lastInputPath)) }
            target.run(input, scratch: scratch)
        }
        return (seeds.count, mutations)
    }

    /// The files of `paths`: files as given, folders' regular files in name order.
    static func files(in paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw FuzzUsageError("no file or folder at \(path)")
            }
            if !isFolder.boolValue { files.append(path); continue }
            for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where !name.hasPrefix(".") {
                files.append((path as NSString).appendingPathComponent(name))
            }
        }
        return files
    }
}

struct FuzzUsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
