import Foundation
import TerrainTensor
import TerrainIO

/// The IDX format of MNIST and Fashion-MNIST.
///
/// An IDX file is a big-endian header — two zero bytes, a type byte (0x08 for unsigned bytes),
/// the number of dimensions, then each dimension as a 32-bit integer — followed by the values in
/// row-major order. Image files have magic 0x00000803 (`N, rows, columns`), label files
/// 0x00000801 (`N`). Files may be gzipped; that is recognised from their first bytes.
public enum IDX {
    /// The magic number of an unsigned-byte, three-dimensional file (images).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// The magic number of an unsigned-byte, one-dimensional file (labels).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Images as `[N, 1, rows, columns]` with pixels scaled to `[0, 1]` (byte / 255).
    ///
    /// - Parameter file: the name used in error messages.
    public static func readImages(_ data: Data, file: String) throws -> Tensor<Float> {
        let data = try Gzip.decompressIfNeeded(data, file: file)
        let dimensions = try header(of: data, file: file, magic: imagesMagic, what: "images")
        let (count, rows, columns) = (dimensions[0], dimensions[1], dimensions[2])
        let headerSize = 16
        let available = data.count - headerSize
        guard let needed = checkedElementCount([count, rows, columns]), needed <= available else {
            let size = checkedElementCount([count, rows, columns]).map { "\($0) bytes" } ?? "more bytes than can be addressed"
            throw DatasetError.truncated(
                file: file,
                detail: "header says \(count) images of \(rows)x\(columns) (\(size)) but only \(available) bytes follow")
        }
        guard needed == available else {
            throw DatasetError.malformed(
                file: file,
                detail: "header says \(count) images of \(rows)x\(columns) (\(needed) bytes) but \(available) bytes follow")
        }
        var images = Tensor<Float>(uninitializedShape: [count, 1, rows, columns])
        images.withUnsafeMutableBufferPointer { pixels in
            data.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                unitIntervalTable.withUnsafeBufferPointer { table in
                    for i in 0..<needed { pixels[i] = table[Int(bytes[headerSize + i])] }
                }
            }
        }
        return images
    }

    /// Labels, one per image.
    public static func readLabels(_ data: Data, file: String) throws -> [Int32] {
        let data = try Gzip.decompressIfNeeded(data, file: file)
        let count = try header(of: data, file: file, magic: labelsMagic, what: "labels")[0]
        let headerSize = 8
        let available = data.count - headerSize
        guard count <= available else {
            throw DatasetError.truncated(file: file, detail: "header says \(count) labels but only \(available) bytes follow")
        }
        guard count == available else {
            throw DatasetError.malformed(file: file, detail: "header says \(count) labels but \(available) bytes follow")
        }
        return data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return (0..<count).map { Int32(bytes[headerSize + $0]) }
        }
    }

    /// The training and test sets in `folder`, stored as the MNIST files
    /// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
    /// `t10k-labels-idx1-ubyte`, each optionally gzipped (`.gz`); the variant spelling
    /// `train-images.idx3-ubyte` is also accepted. Inputs are not normalized.
    public static func loadFolder(_ folder: String, name: String) throws -> DatasetPair {
        let train = try loadPart(in: folder, prefix: "train", name: name)
        let test = try loadPart(in: folder, prefix: "t10k", name: name)
        guard train.images.shape.dropFirst() == test.images.shape.dropFirst() else {
            throw DatasetError.mismatch(
                dataset: name,
                detail: "training images are \(train.images.shape[2])x\(train.images.shape[3]) "
                    + "but test images are \(test.images.shape[2])x\(test.images.shape[3])")
        }
        let classCount = try ClassLabels.classCount(of: [(train.labels, train.labelsFile), (test.labels, test.labelsFile)])
        return DatasetPair(
            train: Dataset(name: name, inputs: train.images, targets: .classes(train.labels, count: classCount)),
            test: Dataset(name: name, inputs: test.images, targets: .classes(test.labels, count: classCount)))
    }

    /// Whether `folder` holds the files of an IDX dataset (judged by name; content is checked on reading).
    static func folderLooksLikeIDX(_ folder: String) -> Bool {
        FileReading.firstExisting(in: folder, named: candidateNames("train-images-idx3-ubyte")) != nil
    }

    private static func loadPart(in folder: String, prefix: String, name: String)
        throws -> (images: Tensor<Float>, labels: [Int32], labelsFile: String)
    {
        let imagesPath = try locate("\(prefix)-images-idx3-ubyte", in: folder)
        let labelsPath = try locate("\(prefix)-labels-idx1-ubyte", in: folder)
        let imagesFile = FileReading.displayName(imagesPath), labelsFile = FileReading.displayName(labelsPath)
        let images = try readImages(FileReading.read(imagesPath), file: imagesFile)
        let labels = try readLabels(FileReading.read(labelsPath), file: labelsFile)
        guard images.shape[0] == labels.count else {
            throw DatasetError.mismatch(
                dataset: name,
                detail: "\(imagesFile) has \(images.shape[0]) images but \(labelsFile) has \(labels.count) labels")
        }
        return (images, labels, labelsFile)
    }

    private static func candidateNames(_ stem: String) -> [String] {
        let dotted = stem.replacingOccurrences(of: "-idx", with: ".idx")
        return [stem, stem + ".gz", dotted, dotted + ".gz"]
    }

    private static func locate(_ stem: String, in folder: String) throws -> String {
        guard let path = FileReading.firstExisting(in: folder, named: candidateNames(stem)) else {
            throw DatasetError.notFound(path: FileReading.join(folder, stem),
                                        help: "expected \(stem) or \(stem).gz in \(folder)")
        }
        return path
    }

    /// The dimensions from a header, after checking its magic number and that it is complete.
    private static func header(of data: Data, file: String, magic: UInt32, what: String) throws -> [Int] {
        guard let found = data.uint32BigEndian(at: 0) else {
            throw DatasetError.truncated(file: file, detail: "the file has \(data.count) bytes, too few for an IDX header")
        }
        guard found == magic else {
            let hint: String
            switch found {
            case imagesMagic: hint = ", the magic of an IDX image file"
            case labelsMagic: hint = ", the magic of an IDX label file"
            default: hint = found >> 16 == 0 ? ", an IDX file of another type or rank" : ", not an IDX file"
            }
            throw DatasetError.wrongMagic(
                file: file,
                detail: "expected \(hex(magic)) (IDX \(what)), found \(hex(found))\(hint)")
        }
        let rank = Int(found & 0xFF)
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else {
            throw DatasetError.truncated(
                file: file, detail: "an IDX header of rank \(rank) needs \(headerSize) bytes but the file has \(data.count)")
        }
        return (0..<rank).map { Int(data.uint32BigEndian(at: 4 + 4 * $0) ?? 0) }
    }

    /// `0x` and eight hexadecimal digits.
    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// byte / 255 for every byte value, so the conversion loop is a table lookup.
    private static let unitIntervalTable: [Float] = (0..<256).map { Float($0) / 255 }
}
