import Foundation
import Testing
@testable import TerrainData
import TerrainIO
import TerrainTestSupport

/// Paths and helpers shared by the dataset tests.
enum Fixtures {
    /// Debian's `dataset-fashion-mnist` (installed by `make deps`).
    static let fashionMNISTFolder = "/usr/share/datasets/fashion-mnist"

    /// Writes a CSV in scikit-learn's digits layout (no header; 64 pixel values in 0...16, then
    /// the label) made from real images, as `tests/data/fashion_digits.py` does for the shell
    /// tests: Fashion-MNIST's first `rows` test images, the 2-pixel border cropped and 3x3 blocks
    /// averaged (8x8), scaled to 0...16 and rounded; gzipped when `name` ends in `.gz`.
    @discardableResult
    static func digitsLayoutCSV(in folder: TemporaryFolder, name: String, rows: Int = 1797) throws -> String {
        func bytes(_ name: String, header: Int) throws -> [UInt8] {
            let file = fashionMNISTFolder + "/" + name
            return Array(try Gzip.decompress(Data(contentsOf: URL(fileURLWithPath: file)), file: file).dropFirst(header))
        }
        let pixels = try bytes("t10k-images-idx3-ubyte.gz", header: 16)
        let labels = try bytes("t10k-labels-idx1-ubyte.gz", header: 8)
        var text = ""
        for image in 0..<rows {
            var row: [String] = []
            for blockRow in 0..<8 {
                for blockColumn in 0..<8 {
                    var sum = 0
                    for dy in 0..<3 {
                        for dx in 0..<3 {
                            sum += Int(pixels[image * 784 + (2 + 3 * blockRow + dy) * 28 + 2 + 3 * blockColumn + dx])
                        }
                    }
                    row.append(String(Int((Double(sum) / 9 * 16 / 255).rounded(.toNearestOrEven))))
                }
            }
            row.append(String(labels[image]))
            text += row.joined(separator: ",") + "\n"
        }
        let data = Data(text.utf8)
        return try folder.write(name.hasSuffix(".gz") ? Gzip.compress(data) : data, to: name)
    }

    /// Whether the checks on Debian's Fashion-MNIST run: where it is installed, and always under
    /// `make test`, whose `make deps` installs it (`CrossChecks`).
    static var hasFashionMNIST: Bool {
        CrossChecks.run { FileManager.default.fileExists(atPath: fashionMNISTFolder + "/t10k-images-idx3-ubyte.gz") }
    }

    /// The bytes of an IDX image file: `count` images of `rows`×`columns` with `pixel(image, offset)`.
    static func idxImages(count: Int, rows: Int, columns: Int,
                          pixel: (Int, Int) -> UInt8 = { image, offset in UInt8((image * 7 + offset) % 256) }) -> Data {
        var data = Data()
        data.appendBigEndian(IDX.imagesMagic)
        for dimension in [count, rows, columns] { data.appendBigEndian(UInt32(dimension)) }
        for image in 0..<count {
            data.append(contentsOf: (0..<(rows * columns)).map { pixel(image, $0) })
        }
        return data
    }

    /// The bytes of an IDX label file.
    static func idxLabels(_ labels: [UInt8]) -> Data {
        var data = Data()
        data.appendBigEndian(IDX.labelsMagic)
        data.appendBigEndian(UInt32(labels.count))
        data.append(contentsOf: labels)
        return data
    }
}

/// Expects `body` to throw a `DatasetError` whose description contains every fragment.
func expectDatasetError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () throws -> Void) {
    let error = #expect(throws: DatasetError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    for fragment in fragments {
        #expect(error.description.contains(fragment), "“\(error.description)” lacks “\(fragment)”",
                sourceLocation: sourceLocation)
    }
}
