import TerrainTensor
import TerrainIO

/// How the targets of a table or array are read: the one decision between a classification
/// and a regression, made explicit.
public enum TargetKind: String, Sendable, Codable, CaseIterable {
    /// CSV: labels when most of the last column's values are whole numbers (and then every value
    /// must be a valid label), real values otherwise. Arrays: integer dtypes are labels,
    /// floating-point dtypes real values.
    case automatic = "auto"
    /// Class labels: whole numbers in `0..<ClassLabels.maximumClassCount`.
    case classes
    /// Regression targets, whatever the values look like.
    case regression
}

/// The checks every set of class labels read from a file passes (CSV, NPY/NPZ, IDX).
///
/// A label is a whole number in `0..<maximumClassCount`, and the class count is the largest
/// label plus one. Counting classes from the largest label lets one damaged label invent
/// hundreds of empty classes (one IDX byte of 255 among digits makes 256 outputs), so a set whose
/// labels leave more than half of the classes `0..<count` without a single sample is refused,
/// naming the largest label and where it is.
public enum ClassLabels {
    /// Labels at or above this are refused.
    public static let maximumClassCount = 10_000

    /// Whether `value` can be a class label: a whole number in `0..<maximumClassCount`.
    static func isLabel(_ value: Float) -> Bool {
        value >= 0 && value < Float(maximumClassCount) && value.rounded(.towardZero) == value
    }

    /// The class count of the labels of `parts` together (a train and a test file, say), or a
    /// `DatasetError` when a label is out of range or most classes would be empty.
    static func classCount(of parts: [(labels: [Int32], file: String)]) throws -> Int {
        var present = Set<Int32>()
        for part in parts {
            if let bad = part.labels.firstIndex(where: { $0 < 0 || Int($0) >= maximumClassCount }) {
                throw DatasetError.malformed(file: part.file, detail: "label \(part.labels[bad]) of sample \(bad) is outside 0..<\(maximumClassCount)")
            }
            present.formUnion(part.labels)
        }
        guard let largest = present.max() else { return 0 }
        let count = Int(largest) + 1
        let empty = count - present.count
        if empty * 2 > count {
            let (file, index) = parts.lazy.compactMap { part in part.labels.firstIndex(of: largest).map { (part.file, $0) } }.first!
            throw DatasetError.malformed(
                file: file,
                detail: "label \(largest) of sample \(index) makes \(count) classes, \(empty) of them without a single sample; "
                    + "class labels must be 0, 1, … with most classes present (is that label damaged?)")
        }
        return count
    }

    /// The targets of a column of numbers (a CSV's last column, a float array asked to be
    /// classes), decided by `kind`.
    /// With `.automatic` the column is labels when most values are whole numbers, and then
    /// every value must be a valid label: a −1, 1e9 or 9999.5 among labels is an error naming
    /// its row, never a silent switch to regression. Rows are counted from 1.
    static func targets(fromColumn column: [Float], kind: TargetKind, file: String) throws -> Targets {
        let wholeNumbers = column.lazy.filter { $0.isFinite && $0.rounded(.towardZero) == $0 }.count
        let asLabels: Bool
        switch kind {
        case .regression: asLabels = false
        case .classes: asLabels = true
        case .automatic: asLabels = wholeNumbers * 2 > column.count
        }
        guard asLabels else { return .values(Tensor(shape: [column.count, 1], scalars: column)) }
        if let bad = column.firstIndex(where: { !isLabel($0) }) {
            let why = kind == .classes ? "the targets were asked to be classes"
                : "\(wholeNumbers) of its \(column.count) values are whole numbers, so it holds class labels"
            throw DatasetError.malformed(
                file: file,
                detail: "the targets' row \(bad + 1) is \(column[bad]); \(why), which must be whole numbers in "
                    + "0..<\(maximumClassCount) (for real-valued targets ask for regression: --targets regression)")
        }
        let labels = column.map { Int32($0) }
        return .classes(labels, count: try classCount(of: [(labels, file)]))
    }
}
