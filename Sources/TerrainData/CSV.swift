import Foundation
import TerrainIO

/// A reader of numeric comma-separated tables, such as scikit-learn's digits exported with
/// `np.savetxt(..., delimiter=',')`.
///
/// Every cell must be a number (integers, decimals, exponents, `nan`, `inf`; surrounding spaces
/// and double quotes are ignored). A first line with a non-numeric cell is taken as a header and
/// skipped; blank lines are skipped; every other line must have the same number of cells.
/// Line endings may be `\n` or `\r\n`.
public enum CSV {
    /// The numbers of a CSV file, row by row.
    public struct Table: Sendable, Equatable {
        /// The header's cells, or nil if the file has none.
        public let header: [String]?
        public let rowCount: Int
        public let columnCount: Int
        /// `rowCount × columnCount` values, row-major.
        public let values: [Float]

        /// The values of one column, top to bottom.
        public func column(_ index: Int) -> [Float] {
            (0..<rowCount).map { values[$0 * columnCount + index] }
        }
    }

    /// The table in `data` (decompressed first if gzipped).
    ///
    /// - Parameter file: the name used in error messages.
    public static func read(_ data: Data, file: String) throws -> Table {
        let data = try Gzip.decompressIfNeeded(data, file: file)
        return try data.withUnsafeBytes { raw in
            try Parser(bytes: raw.bindMemory(to: UInt8.self), file: file).parse()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let file: String

        private static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        private static let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\"")
        private static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")

        func parse() throws -> Table {
            var values: [Float] = []
            var header: [String]?
            var columnCount: Int?
            var firstDataLine = 0
            var rowCount = 0
            var cells: [Range<Int>] = []
            var lineStart = 0, lineNumber = 0
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count && bytes[lineEnd] != Self.newline { lineEnd += 1 }
                let nextLine = lineEnd + 1
                if lineEnd > lineStart && bytes[lineEnd - 1] == Self.carriageReturn { lineEnd -= 1 }
                lineNumber += 1
                defer { lineStart = nextLine }

                splitCells(lineStart..<lineEnd, into: &cells)
                if cells.count == 1 && cells[0].isEmpty { continue }  // blank line

                if let expected = columnCount, cells.count != expected {
                    throw DatasetError.malformed(
                        file: file,
                        detail: "line \(lineNumber) has \(cells.count) columns but line \(firstDataLine) has \(expected)")
                }
                let rowStart = values.count
                var failure: (column: Int, cell: Range<Int>)?
                for (column, cell) in cells.enumerated() {
                    guard let value = number(in: cell) else { failure = (column, cell); break }
                    values.append(Float(value))
                }
                if let failure {
                    if columnCount == nil && header == nil {
                        header = cells.map(text(of:))
                        values.removeSubrange(rowStart...)
                        continue
                    }
                    let cellText = text(of: failure.cell)
                    throw DatasetError.malformed(
                        file: file,
                        detail: cellText.isEmpty ? "line \(lineNumber), column \(failure.column + 1) is empty"
                            : "line \(lineNumber), column \(failure.column + 1): '\(cellText)' is not a number")
                }
                if columnCount == nil {
                    columnCount = cells.count
                    firstDataLine = lineNumber
                    values.reserveCapacity(cells.count * max(16, bytes.count / max(lineEnd - lineStart + 1, 1)))
                }
                rowCount += 1
            }
            return Table(header: header, rowCount: rowCount, columnCount: columnCount ?? header?.count ?? 0,
                         values: values)
        }

        /// The byte ranges of the cells of a line, without surrounding spaces and quotes.
        private func splitCells(_ line: Range<Int>, into cells: inout [Range<Int>]) {
            cells.removeAll(keepingCapacity: true)
            var start = line.lowerBound
            for i in line where bytes[i] == Self.comma {
                cells.append(trimmed(start..<i))
                start = i + 1
            }
            cells.append(trimmed(start..<line.upperBound))
        }

        private func trimmed(_ cell: Range<Int>) -> Range<Int> {
            var low = cell.lowerBound, high = cell.upperBound
            while low < high && (bytes[low] == Self.space || bytes[low] == Self.tab) { low += 1 }
            while high > low && (bytes[high - 1] == Self.space || bytes[high - 1] == Self.tab) { high -= 1 }
            if high - low >= 2 && bytes[low] == Self.quote && bytes[high - 1] == Self.quote { low += 1; high -= 1 }
            return low..<high
        }

        private func text(of cell: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: bytes[cell]), as: UTF8.self)
        }

        /// The number spelled by a cell. Plain decimals with few digits are converted directly
        /// (exactly, since both the digits and the power of ten are exact doubles); anything
        /// else goes through the standard library's parser.
        private func number(in cell: Range<Int>) -> Double? {
            guard !cell.isEmpty else { return nil }
            var i = cell.lowerBound
            var negative = false
            if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                negative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var mantissa: UInt64 = 0, digits = 0, scale = 0
            while i < cell.upperBound, let digit = decimalDigit(bytes[i]) {
                mantissa = mantissa &* 10 &+ digit; digits += 1; i += 1
            }
            if i < cell.upperBound && bytes[i] == UInt8(ascii: ".") {
                i += 1
                while i < cell.upperBound, let digit = decimalDigit(bytes[i]) {
                    mantissa = mantissa &* 10 &+ digit; digits += 1; scale += 1; i += 1
                }
            }
            guard i == cell.upperBound, digits > 0, digits <= 15, scale < Self.powersOfTen.count else {
                return Double(text(of: cell))
            }
            let magnitude = Double(mantissa) / Self.powersOfTen[scale]
            return negative ? -magnitude : magnitude
        }

        private func decimalDigit(_ byte: UInt8) -> UInt64? {
            byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? UInt64(byte - UInt8(ascii: "0")) : nil
        }

        /// 10⁰ … 10²², all exactly representable as doubles.
        private static let powersOfTen: [Double] = (0...22).map { exponent in
            (0..<exponent).reduce(1.0) { product, _ in product * 10 }
        }
    }
}
