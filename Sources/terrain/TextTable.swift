/// A table printed as aligned text, as the commands' summaries print them: the first column
/// left-aligned (names), the others right-aligned (numbers), two spaces between columns.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    /// The header line, then one line per row.
    var lines: [String] {
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return ([header] + rows).map(line)
    }
}
