import ArgumentParser
import TerrainRequests

/// A `--memory` value: bytes, written as `MemoryBudget.parse` reads them (2G, 512M, 0).
struct ByteCount: ExpressibleByArgument {
    let bytes: Int

    init?(argument: String) {
        guard let bytes = MemoryBudget.parse(argument) else { return nil }
        self.bytes = bytes
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
