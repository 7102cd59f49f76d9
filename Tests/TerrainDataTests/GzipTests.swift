import Foundation
import Testing
@testable import TerrainData
@testable import TerrainIO

@Suite struct GzipTests {
    let sample = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) })

    @Test func roundTrip() throws {
        let compressed = try Gzip.compress(sample)
        #expect(Gzip.isCompressed(compressed))
        #expect(compressed.count < sample.count)
        #expect(try Gzip.decompress(compressed) == sample)
    }

    @Test func emptyContentRoundTrips() throws {
        #expect(try Gzip.decompress(Gzip.compress(Data())) == Data())
    }

    @Test func concatenatedMembersAreJoined() throws {
        let first = Data("hello, ".utf8), second = Data("world".utf8)
        let joined = try Gzip.compress(first) + Gzip.compress(second)
        #expect(try Gzip.decompress(joined) == first + second)
    }

    @Test func plainDataPassesThrough() throws {
        #expect(try Gzip.decompressIfNeeded(sample, file: "plain") == sample)
    }

    @Test func truncatedStreamThrows() throws {
        let compressed = try Gzip.compress(sample)
        expectDatasetError("cut.gz", "truncated") {
            _ = try Gzip.decompress(compressed.prefix(compressed.count / 2), file: "cut.gz")
        }
    }

    @Test func corruptStreamThrows() throws {
        var compressed = try Gzip.compress(sample)
        for i in 20..<60 { compressed[i] ^= 0x5A }
        expectDatasetError("bad.gz", "corrupt") { _ = try Gzip.decompress(compressed, file: "bad.gz") }
    }

    @Test func headerOnlyThrows() {
        expectDatasetError("stub.gz") { _ = try Gzip.decompress(Data([0x1f, 0x8b]), file: "stub.gz") }
    }
}
