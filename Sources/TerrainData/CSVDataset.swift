import TerrainTensor
import TerrainIO

/// Turns a CSV table into a dataset: every column but the last is an input feature, the last
/// column is the target.
///
/// The target column is read as `ClassLabels.targets(fromColumn:kind:file:)` decides: with
/// `TargetKind.automatic`, class labels when most values are whole numbers (every value must
/// then be a valid label, or the file is refused), a regression with one output otherwise. Feature rows are shaped by `FeatureLayout`: with
/// `.automatic`, 64 features become 1×8×8 images (scikit-learn's digits), 784 become 1×28×28,
/// and other counts stay flat vectors.
enum CSVDataset {
    static func make(from table: CSV.Table, name: String, file: String, layout: FeatureLayout,
                     targets kind: TargetKind = .automatic) throws -> Dataset {
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
        return Dataset(name: name, inputs: inputs, targets: try ClassLabels.targets(fromColumn: lastColumn, kind: kind, file: file))
    }
}
