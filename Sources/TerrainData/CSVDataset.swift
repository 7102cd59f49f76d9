import TerrainTensor

/// Turns a CSV table into a dataset: every column but the last is an input feature, the last
/// column is the target.
///
/// The target column holds class labels when all its values are whole numbers in
/// `0..<maximumClassCount` (the class count is then the largest label plus one); otherwise the
/// dataset is a regression with one output. Feature rows are shaped by `FeatureLayout`: with
/// `.automatic`, 64 features become 1×8×8 images (scikit-learn's digits), 784 become 1×28×28,
/// and other counts stay flat vectors.
enum CSVDataset {
    /// Labels at or above this make the target column a regression target instead.
    static let maximumClassCount = 10_000

    static func make(from table: CSV.Table, name: String, file: String, layout: FeatureLayout) throws -> Dataset {
        guard table.rowCount > 0 else {
            throw DatasetError.malformed(file: file, detail: "the file holds no rows of numbers")
        }
        guard table.columnCount >= 2 else {
            throw DatasetError.malformed(
                file: file, detail: "\(table.columnCount) column; a dataset needs feature columns and a last label column")
        }
        let featureCount = table.columnCount - 1
        guard let sampleShape = layout.sampleShape(featureCount: featureCount) else {
            throw DatasetError.mismatch(dataset: name, detail: "the layout \(layout) does not hold \(featureCount) features")
        }
        var inputs = Tensor<Float>(uninitializedShape: [table.rowCount] + sampleShape)
        inputs.withUnsafeMutableBufferPointer { destination in
            table.values.withUnsafeBufferPointer { source in
                for row in 0..<table.rowCount {
                    let from = source.baseAddress! + row * table.columnCount
                    (destination.baseAddress! + row * featureCount).update(from: from, count: featureCount)
                }
            }
        }
        let lastColumn = table.column(featureCount)
        return Dataset(name: name, inputs: inputs, targets: targets(from: lastColumn))
    }

    /// Class labels if every value is a whole number in range, else one-column regression values.
    static func targets(from column: [Float]) -> Targets {
        let isLabel = { (value: Float) in
            value >= 0 && value < Float(maximumClassCount) && value.rounded(.towardZero) == value
        }
        if column.allSatisfy(isLabel) {
            let labels = column.map { Int32($0) }
            return .classes(labels, count: Int(labels.max() ?? 0) + 1)
        }
        return .values(Tensor(shape: [column.count, 1], scalars: column))
    }
}
