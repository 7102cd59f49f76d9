import Foundation
#if TERRAIN_LIBFUZZER
import CLibFuzzer
#endif

/// `terrain-fuzz`: fuzzes the file readers.
///
///     terrain-fuzz TARGET [libFuzzer options] [CORPUS…]     (built with -sanitize=fuzzer: make fuzz)
///     terrain-fuzz smoke TARGET CORPUS… [-runs=N] [-seed=S] [-last-input=FILE]   (any build: make fuzz-smoke)
///     terrain-fuzz corpus FOLDER                             (rewrites the seed corpus)
///
/// TARGET is one of `FuzzTarget`'s names. Under libFuzzer the target's name is taken off the
/// command line and everything else goes to libFuzzer's driver (`-max_total_time`, `-timeout`,
/// `-rss_limit_mb`, corpus folders, or crash files to reproduce); without a target's name first,
/// `$TERRAIN_FUZZ_TARGET` names it (as in the processes of libFuzzer's `-fork` mode).
@main
struct TerrainFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch arguments.first {
            case "smoke": try smoke(Array(arguments.dropFirst()))
            case "corpus":
                guard arguments.count == 2 else { throw FuzzUsageError("usage: terrain-fuzz corpus FOLDER") }
                try SeedCorpus.write(to: arguments[1])
            default:
                #if TERRAIN_LIBFUZZER
                exit(try libFuzzer(arguments))
                #else
                throw FuzzUsageError("this build has no libFuzzer (build with -sanitize=fuzzer -DTERRAIN_LIBFUZZER: make fuzz); "
                                     + "use `terrain-fuzz smoke TARGET CORPUS…`")
                #endif
            }
        } catch {
            FileHandle.standardError.write(Data("terrain-fuzz: \(error)\n".utf8))
            exit(2)
        }
    }

    static func target(named name: String?) throws -> FuzzTarget {
        guard let name, let target = FuzzTarget(rawValue: name) else {
            throw FuzzUsageError("give a target: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }

    static func smoke(_ arguments: [String]) throws {
        let target = try target(named: arguments.first)
        var corpus: [String] = [], runs = 1000, seed: UInt64 = 1, lastInput: String?
        for argument in arguments.dropFirst() {
            if let value = argument.value(of: "-runs=") {
                guard let n = Int(value), n >= 0 else { throw FuzzUsageError("-runs=\(value): give a count ≥ 0") }
                runs = n
            } else if let value = argument.value(of: "-seed=") {
                guard let s = UInt64(value) else { throw FuzzUsageError("-seed=\(value): give an unsigned integer") }
                seed = s
            } else if let value = argument.value(of: "-last-input=") {
                lastInput = value
            } else {
                corpus.append(argument)
            }
        }
        guard !corpus.isEmpty else { throw FuzzUsageError("give the corpus folder(s) of \(target.rawValue)") }
        let start = Date()
        let (seeds, mutated) = try SmokeRun(target: target, corpus: corpus, mutations: runs, seed: seed,
                                            lastInputPath: lastInput).run()
        guard seeds > 0 else { throw FuzzUsageError("the corpus of \(target.rawValue) is empty") }
        let seconds = Date().timeIntervalSince(start)
        print("\(target.rawValue): \(seeds) seeds and \(mutated) mutations (seed \(seed)) read without a crash in "
              + String(format: "%.1f s", seconds))
    }

    #if TERRAIN_LIBFUZZER
    static let targetVariable = "TERRAIN_FUZZ_TARGET"
    /// The target libFuzzer's callback runs (a C callback captures nothing; set once, before the driver starts).
    nonisolated(unsafe) static var current: FuzzTarget = .idx
    nonisolated(unsafe) static var scratch: ScratchFile?

    static func libFuzzer(_ arguments: [String]) throws -> Int32 {
        // The target: the first argument, else $TERRAIN_FUZZ_TARGET, which is set here for the
        // processes that libFuzzer's -fork mode starts with the remaining arguments.
        var rest = arguments[...]
        if let first = rest.first, FuzzTarget(rawValue: first) != nil {
            current = try target(named: first)
            rest = rest.dropFirst()
        } else {
            current = try target(named: ProcessInfo.processInfo.environment[targetVariable])
        }
        setenv(targetVariable, current.rawValue, 1)
        let scratchFile = try ScratchFile()
        scratch = scratchFile
        defer { scratchFile.remove() }
        // argv for libFuzzer: the program's path, then everything after the target's name.
        let passed = [CommandLine.arguments[0]] + rest
        var pointers: [UnsafeMutablePointer<CChar>?] = passed.map { strdup($0) } + [nil]
        var argc = Int32(passed.count)
        return pointers.withUnsafeMutableBufferPointer { buffer in
            var argv = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { bytes, size in
                let data = size == 0 || bytes == nil ? Data() : Data(bytes: bytes!, count: size)
                TerrainFuzz.current.run(data, scratch: TerrainFuzz.scratch!)
                return 0
            }
        }
    }
    #endif
}

extension String {
    /// The text after `prefix` if the string starts with it.
    func value(of prefix: String) -> String? { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil }
}
