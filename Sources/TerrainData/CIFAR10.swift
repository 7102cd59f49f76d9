import Foundation
import TerrainTensor
import TerrainIO

/// The CIFAR-10 binary format.
///
/// Each file is a sequence of 3073-byte records: one label byte (0–9) then 3072 pixel bytes,
/// the 1024 red values of the 32×32 image row by row, then the green, then the blue. The
/// distribution has five training files `data_batch_1.bin` … `data_batch_5.bin` and one
/// `test_batch.bin`, usually inside a folder `cifar-10-batches-bin`.
public enum CIFAR10 {
    /// Bytes per record: one label and 3×32×32 pixels.
    public static let recordSize = 1 + pixelsPerImage
    /// Pixels per image, all channels.
    public static let pixelsPerImage = 3 * 32 * 32
    /// The names of the ten classes, by label.
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]

    /// Images `[N, 3, 32, 32]` scaled to `[0, 1]` and their labels, from one batch file.
    public static func readBatch(_ data: Data, file: String) throws -> (images: Tensor<Float>, labels: [Int32]) {
        let data = try Gzip.decompressIfNeeded(data, file: file)
        guard !data.isEmpty else {
            throw DatasetError.truncated(file: file, detail: "the file is empty; CIFAR-10 records are \(recordSize) bytes")
        }
        guard data.count % recordSize == 0 else {
            throw DatasetError.malformed(
                file: file,
                detail: "size \(data.count) bytes is not a multiple of the \(recordSize)-byte CIFAR-10 record "
                    + "(1 label byte + 3x32x32 pixels): \(data.count / recordSize) whole records and "
                    + "\(data.count % recordSize) bytes left over")
        }
        let count = data.count / recordSize
        var images = Tensor<Float>(uninitializedShape: [count, 3, 32, 32])
        var labels = [Int32](repeating: 0, count: count)
        var badRecord: (index: Int, label: UInt8)?
        images.withUnsafeMutableBufferPointer { pixels in
            data.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                for record in 0..<count {
                    let start = record * recordSize
                    let label = bytes[start]
                    if label >= classNames.count && badRecord == nil { badRecord = (record, label) }
                    labels[record] = Int32(label)
                    let row = record * pixelsPerImage
                    for i in 0..<pixelsPerImage { pixels[row + i] = Float(bytes[start + 1 + i]) / 255 }
                }
            }
        }
        if let (index, label) = badRecord {
            throw DatasetError.malformed(
                file: file, detail: "record \(index) has label \(label), outside the CIFAR-10 classes 0..<10")
        }
        return (images, labels)
    }

    /// The training set (every `data_batch_N.bin` present, in order of N) and the test set
    /// (`test_batch.bin`) in `folder` or in its `cifar-10-batches-bin` subfolder; files may be
    /// gzipped. Inputs are not normalized.
    public static func loadFolder(_ folder: String, name: String) throws -> DatasetPair {
        let folder = batchFolder(folder)
        let trainFiles = trainingFiles(in: folder)
        guard !trainFiles.isEmpty else {
            throw DatasetError.notFound(path: FileReading.join(folder, "data_batch_1.bin"),
                                        help: "a CIFAR-10 folder holds data_batch_1.bin … data_batch_5.bin and test_batch.bin")
        }
        guard let testFile = FileReading.firstExisting(in: folder, named: ["test_batch.bin", "test_batch.bin.gz"]) else {
            throw DatasetError.notFound(path: FileReading.join(folder, "test_batch.bin"),
                                        help: "a CIFAR-10 folder holds data_batch_1.bin … data_batch_5.bin and test_batch.bin")
        }
        var trainParts: [(images: Tensor<Float>, labels: [Int32])] = []
        for path in trainFiles {
            trainParts.append(try readBatch(FileReading.read(path), file: FileReading.displayName(path)))
        }
        let test = try readBatch(FileReading.read(testFile), file: FileReading.displayName(testFile))
        let trainImages = concatenateRows(trainParts.map(\.images))
        let trainLabels = trainParts.flatMap(\.labels)
        return DatasetPair(
            train: Dataset(name: name, inputs: trainImages, targets: .classes(trainLabels, count: classNames.count)),
            test: Dataset(name: name, inputs: test.images, targets: .classes(test.labels, count: classNames.count)))
    }

    /// Whether `folder` (or its `cifar-10-batches-bin` subfolder) holds CIFAR-10 batch files.
    static func folderLooksLikeCIFAR(_ folder: String) -> Bool {
        !trainingFiles(in: batchFolder(folder)).isEmpty
    }

    private static func batchFolder(_ folder: String) -> String {
        let nested = FileReading.join(folder, "cifar-10-batches-bin")
        return FileReading.isFolder(nested) ? nested : folder
    }

    /// `data_batch_N.bin` (or `.bin.gz`) files in `folder`, sorted by N.
    private static func trainingFiles(in folder: String) -> [String] {
        FileReading.contents(of: folder)
            .compactMap { name -> (Int, String)? in
                guard name.hasPrefix("data_batch_") else { return nil }
                let rest = name.dropFirst("data_batch_".count)
                let number = rest.hasSuffix(".bin") ? rest.dropLast(4)
                    : rest.hasSuffix(".bin.gz") ? rest.dropLast(7) : nil
                return number.flatMap { Int($0) }.map { ($0, FileReading.join(folder, name)) }
            }
            .sorted { $0.0 < $1.0 }
            .map(\.1)
    }
}

/// The tensors stacked along their first dimension (all must share the remaining dimensions).
func concatenateRows(_ parts: [Tensor<Float>]) -> Tensor<Float> {
    guard let first = parts.first else { return Tensor(zeros: [0]) }
    if parts.count == 1 { return first }
    let rows = parts.reduce(0) { $0 + ($1.shape.first ?? 0) }
    var result = Tensor<Float>(uninitializedShape: [rows] + first.shape.dropFirst())
    let destination = result.mutablePointer()
    var offset = 0
    for part in parts {
        (destination + offset).update(from: part.pointer, count: part.count)
        offset += part.count
    }
    return result
}
