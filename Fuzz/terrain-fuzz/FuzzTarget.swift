import Foundation
import TerrainData
import TerrainIO
import TerrainLandscape
import TerrainONNX
import TerrainTraining

/// One reader of untrusted files, fed arbitrary bytes.
///
/// Each target calls the library's own reader the way the program does, and the readers' one
/// obligation is checked by running them: bad input throws; it never traps, crashes, hangs or
/// allocates without bound. A thrown error is a pass, so `run` discards it.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// MNIST-style IDX files (gzipped or not), read both as images and as labels.
    case idx
    /// A CIFAR-10 binary batch.
    case cifar10
    /// A CSV table read as a dataset: format detection, the table, the label column.
    case csv
    /// One NPY array and its conversions.
    case npy
    /// An NPZ archive: the zip reader, each array, and the archive read as a dataset (x, y).
    case npz
    /// A safetensors file: the header's JSON, every tensor's layout and values.
    case safetensors
    /// A checkpoint: safetensors with the model description in its metadata (`terrain.model`).
    case checkpoint
    /// An ONNX model: protobuf decoding, the graph checks, the shape check on zeros.
    case onnx
    /// A loss-surface HDF5 file as `plot`, `view` and `export` read it (libhdf5 underneath).
    case hdf5Surface = "hdf5-surface"

    /// The file name a path-based reader gets, whose extension some readers look at.
    var fileName: String {
        switch self {
        case .idx: "train-images-idx3-ubyte"
        case .cifar10: "data_batch_1.bin"
        case .csv: "data.csv"
        case .npy: "array.npy"
        case .npz: "data.npz"
        case .safetensors: "model.safetensors"
        case .checkpoint: "checkpoint.safetensors"
        case .onnx: "model.onnx"
        case .hdf5Surface: "surface.h5"
        }
    }

    /// Runs the reader on `data`; `scratch` holds the input for the readers that take a path.
    func run(_ data: Data, scratch: ScratchFile) {
        let name = fileName
        switch self {
        case .idx:
            _ = try? IDX.readImages(data, file: name)
            _ = try? IDX.readLabels(data, file: name)
        case .cifar10:
            _ = try? CIFAR10.readBatch(data, file: name)
        case .csv:
            _ = try? CSV.read(data, file: name)
            if let path = scratch.holding(data, named: name) { _ = try? DatasetCatalog.read(path) }
        case .npy:
            if let array = try? NPY.read(data, file: name) {
                _ = array.floats()
                _ = array.integers()
            }
        case .npz:
            if let arrays = try? NPZ.readInOrder(data, file: name) {
                for (_, array) in arrays { _ = array.doubles() }
            }
            if let path = scratch.holding(data, named: name) { _ = try? DatasetCatalog.read(path) }
        case .safetensors:
            if let file = try? SafetensorsFile(data: data, source: name) {
                for entry in file.entries { _ = try? entry.tensor(as: Double.self) }
            }
        case .checkpoint:
            if let path = scratch.holding(data, named: name),
               let checkpoint = try? Checkpoint.read(from: URL(fileURLWithPath: path)) {
                _ = try? checkpoint.makeModel(Float.self)
            }
        case .onnx:
            if let model = try? ONNXModel(data: data, file: name) {
                _ = model.makeGraph(Float.self)
            }
        case .hdf5Surface:
            // Every HDF5 file is read by a child process (TerrainIO's HDF5FileCheck); an input on
            // which libhdf5 loops costs that child's time limit. One second is ample for files of
            // this size and keeps a run's inputs per second up.
            HDF5File.damageCheckSeconds = 1
            if let path = scratch.holding(data, named: name) {
                _ = try? SurfaceFile.read(from: path, allowingStacks: true)
            }
        }
    }
}
