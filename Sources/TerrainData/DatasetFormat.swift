import Foundation
import TerrainIO

/// The on-disk layouts a dataset path can have, recognised from content where the content
/// carries a signature (gzip, zip, NPY and IDX magic numbers) and from file names only for
/// folders, whose files are then checked as they are read.
public enum DatasetFormat: String, Sendable, CaseIterable {
    /// A folder of MNIST-style IDX files (`train-images-idx3-ubyte[.gz]`, …).
    case idxFolder
    /// A folder of CIFAR-10 binary batches (`data_batch_1.bin` …, `test_batch.bin`).
    case cifar10Folder
    /// A folder of NPY files named after their keys (`x.npy`, `y.npy` or `x_train.npy`, …).
    case npyFolder
    /// An NPZ archive.
    case npz
    /// A numeric CSV table, label last.
    case csv

    /// The format of a folder, judged by the names of the files in it.
    static func detect(folder: String) throws -> DatasetFormat {
        if IDX.folderLooksLikeIDX(folder) { return .idxFolder }
        if CIFAR10.folderLooksLikeCIFAR(folder) { return .cifar10Folder }
        if !NPYFolder.arrayFiles(in: folder).isEmpty { return .npyFolder }
        throw DatasetError.unknownDataset(
            spec: folder,
            help: "the folder holds no dataset this program reads: expected MNIST-style IDX files "
                + "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…), CIFAR-10 batches "
                + "(data_batch_1.bin … data_batch_5.bin, test_batch.bin), or NPY files (x.npy and y.npy, "
                + "or x_train.npy, y_train.npy, x_test.npy, y_test.npy)")
    }

    /// The format of a file's (already decompressed) content.
    static func detect(contents data: Data, file: String) throws -> DatasetFormat {
        if ZipArchive.isZip(data) { return .npz }
        if NPY.isNPY(data) {
            throw DatasetError.unsupported(
                file: file,
                detail: "a single NPY file holds one array and no targets; give an NPZ archive with x and y "
                    + "(or x_train, y_train, x_test, y_test), or a folder holding x.npy and y.npy")
        }
        if looksLikeIDX(data) {
            throw DatasetError.unsupported(
                file: file,
                detail: "a single IDX file holds only images or only labels; give the folder that holds "
                    + "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte")
        }
        if looksLikeText(data) { return .csv }
        let head = data.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
        throw DatasetError.unknownDataset(
            spec: file,
            help: "unrecognised binary content (first bytes \(head)); readable files are NPZ archives and CSV "
                + "tables, optionally gzipped, and folders of IDX, CIFAR-10 or NPY files")
    }

    /// Two zero bytes, an IDX type code and a small rank.
    private static func looksLikeIDX(_ data: Data) -> Bool {
        guard let magic = data.uint32BigEndian(at: 0) else { return false }
        let type = (magic >> 8) & 0xFF, rank = magic & 0xFF
        return magic >> 16 == 0 && [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(type) && (1...4).contains(rank)
    }

    /// No NUL bytes and valid UTF-8 in the first few kilobytes.
    private static func looksLikeText(_ data: Data) -> Bool {
        var sample = Array(data.prefix(4096))
        guard !sample.isEmpty, !sample.contains(0) else { return false }
        // Drop a UTF-8 sequence that the sample may have cut in two.
        if data.count > sample.count {
            while let last = sample.last, last & 0xC0 == 0x80 { sample.removeLast() }
            if let last = sample.last, last >= 0xC0 { sample.removeLast() }
        }
        return String(validating: sample, as: UTF8.self) != nil
    }
}
