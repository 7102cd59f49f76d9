import Foundation
import TerrainTensor

/// The NPY file format of NumPy (`np.save`), versions 1.0, 2.0 and 3.0.
///
/// A file is the magic `\x93NUMPY`, a version, a header length, a Python dict literal giving
/// `descr` (the element type), `fortran_order` and `shape`, then the raw elements. The reader
/// accepts little- and big-endian types (big-endian bytes are swapped on reading) in C order;
/// Fortran-ordered arrays, objects, strings and structured types are reported as unsupported.
/// The writer produces version 1.0 (2.0 for headers too long for it), little-endian, C order,
/// with the header padded so the data starts at a multiple of 64 bytes, as NumPy does.
public enum NPY {
    /// The six bytes every NPY file starts with.
    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Whether `data` starts with the NPY magic.
    public static func isNPY(_ data: Data) -> Bool { data.starts(withBytes: magic) }

    /// The array stored in an NPY file.
    ///
    /// - Parameter file: the name used in error messages.
    public static func read(_ data: Data, file: String) throws -> NumpyArray {
        guard data.count >= magic.count else {
            throw DatasetError.truncated(file: file, detail: "\(data.count) bytes, too few for an NPY header")
        }
        guard isNPY(data) else {
            throw DatasetError.wrongMagic(file: file, detail: "an NPY file starts with \\x93NUMPY")
        }
        guard let major = data.uint8(at: 6), data.uint8(at: 7) != nil else {
            throw DatasetError.truncated(file: file, detail: "the NPY version is missing")
        }
        let lengthField: Int
        switch major {
        case 1: lengthField = 2
        case 2, 3: lengthField = 4
        default: throw DatasetError.unsupported(file: file, detail: "NPY format version \(major); versions 1 to 3 are read")
        }
        let headerLength = lengthField == 2 ? data.uint16LittleEndian(at: 8).map(Int.init)
            : data.uint32LittleEndian(at: 8).map(Int.init)
        let headerStart = 8 + lengthField
        guard let headerLength, let headerBytes = data.bytes(at: headerStart, count: headerLength) else {
            throw DatasetError.truncated(file: file, detail: "the file ends inside the NPY header")
        }
        guard let headerText = String(data: headerBytes, encoding: .utf8) else {
            throw DatasetError.malformed(file: file, detail: "the NPY header is not text")
        }
        let (dtype, bigEndian, shape) = try parseHeader(headerText, file: file)

        let dataStart = headerStart + headerLength
        let available = data.count - dataStart
        guard let count = checkedElementCount(shape), let byteCount = checkedElementCount([count, dtype.byteSize]),
              byteCount <= available else {
            let needed = checkedElementCount(shape).flatMap { checkedElementCount([$0, dtype.byteSize]) }
            throw DatasetError.truncated(
                file: file,
                detail: "header says shape \(shape) of \(dtype.descr) (\(needed.map { "\($0) bytes" } ?? "too many bytes")) "
                    + "but only \(available) bytes follow")
        }
        var bytes = Data(data.bytes(at: dataStart, count: byteCount) ?? Data())
        if bigEndian { swapByteOrder(&bytes, elementSize: dtype.byteSize) }
        return try NumpyArray(shape: shape, dtype: dtype, bytes: bytes)
    }

    /// An NPY file holding `array`.
    public static func write(_ array: NumpyArray) -> Data {
        let shapeText = array.shape.count == 1 ? "(\(array.shape[0]),)"
            : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(array.dtype.descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let useVersion2 = header.utf8.count + 1 + 10 > Int(UInt16.max)
        let prefixSize = useVersion2 ? 12 : 10
        let padding = (64 - (prefixSize + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"

        var data = Data(magic)
        data.append(contentsOf: [useVersion2 ? 2 : 1, 0])
        if useVersion2 {
            data.appendLittleEndian(UInt32(header.utf8.count))
        } else {
            data.appendLittleEndian(UInt16(header.utf8.count))
        }
        data.append(contentsOf: Array(header.utf8))
        data.append(array.bytes)
        return data
    }

    /// An NPY file holding the tensor (`<f4` for `Float`, `<f8` for `Double`).
    public static func write<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) -> Data {
        write(NumpyArray(tensor))
    }

    /// An NPY file holding `values` with `shape` as `<f4`.
    public static func write(_ values: [Float], shape: [Int]) -> Data { write(NumpyArray(values, shape: shape)) }

    /// An NPY file holding `values` with `shape` as `<f8`.
    public static func write(_ values: [Double], shape: [Int]) -> Data { write(NumpyArray(values, shape: shape)) }

    /// The element type, its byte order and the shape from an NPY header dict.
    private static func parseHeader(_ text: String, file: String) throws
        -> (dtype: NumpyDType, bigEndian: Bool, shape: [Int])
    {
        guard case let .dictionary(entries)? = PythonLiteral.parse(text) else {
            throw DatasetError.malformed(
                file: file, detail: "the NPY header is not a Python dict: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard case let .string(descr)? = entries["descr"] else {
            if entries["descr"] != nil {
                throw DatasetError.unsupported(file: file, detail: "structured NumPy types; only plain numeric arrays are read")
            }
            throw DatasetError.malformed(file: file, detail: "the NPY header has no 'descr'")
        }
        guard let (dtype, bigEndian) = NumpyDType.parse(descr) else {
            throw DatasetError.unsupported(
                file: file,
                detail: "element type '\(descr)'; floats (f2, f4, f8), integers (i1–i8, u1–u8) and booleans (b1) are read")
        }
        guard case let .boolean(fortranOrder)? = entries["fortran_order"] else {
            throw DatasetError.malformed(file: file, detail: "the NPY header has no boolean 'fortran_order'")
        }
        guard case let .tuple(dimensions)? = entries["shape"] else {
            throw DatasetError.malformed(file: file, detail: "the NPY header has no 'shape' tuple")
        }
        var shape: [Int] = []
        for dimension in dimensions {
            guard case let .integer(size) = dimension, size >= 0 else {
                throw DatasetError.malformed(file: file, detail: "the NPY shape holds something other than sizes: \(dimensions)")
            }
            shape.append(size)
        }
        if fortranOrder && shape.filter({ $0 > 1 }).count > 1 {
            throw DatasetError.unsupported(
                file: file,
                detail: "fortran_order is True (column-major data); save a C-ordered array, e.g. np.save(f, np.ascontiguousarray(a))")
        }
        return (dtype, bigEndian, shape)
    }

    /// Reverses the bytes of each element in place.
    private static func swapByteOrder(_ bytes: inout Data, elementSize: Int) {
        bytes.withUnsafeMutableBytes { raw in
            var start = 0
            while start + elementSize <= raw.count {
                var low = start, high = start + elementSize - 1
                while low < high { raw.swapAt(low, high); low += 1; high -= 1 }
                start += elementSize
            }
        }
    }
}
