import Testing
@testable import TerrainRequests

/// `--memory`'s byte counts and its default, a share of MemAvailable.
@Suite("Memory budget")
struct MemoryBudgetTests {
    @Test func byteCountsParse() {
        #expect(MemoryBudget.parse("0") == 0)
        #expect(MemoryBudget.parse("123") == 123)
        #expect(MemoryBudget.parse("64K") == 64 << 10)
        #expect(MemoryBudget.parse("512m") == 512 << 20)
        #expect(MemoryBudget.parse("2G") == 2 << 30)
        #expect(MemoryBudget.parse("2GB") == 2 << 30)
        #expect(MemoryBudget.parse("2GiB") == 2 << 30)
        #expect(MemoryBudget.parse("1.5G") == 3 << 29)
        #expect(MemoryBudget.parse("1T") == 1 << 40)
        for bad in ["", "G", "lots", "-1", "-1G", "1.5", "nanG", "99999999999999999999", "9999999999T", "１G"] {
            #expect(MemoryBudget.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func availableMemoryIsReadFromMeminfo() {
        let text = "MemTotal:       24731408 kB\nMemFree:         1000 kB\nMemAvailable:   23124208 kB\n"
        #expect(MemoryBudget.availableKilobytes(meminfo: text) == 23_124_208)
        #expect(MemoryBudget.availableKilobytes(meminfo: "MemTotal: 5 kB\n") == nil)
        #expect(MemoryBudget.defaultBytes >= 0)
    }
}
