import Foundation
import TerrainData
import TerrainIO
import TerrainLandscape
import TerrainModels
import TerrainNN
import TerrainTensor
import TerrainTraining

/// The seed corpus: small valid files of every format, written by the library's own writers
/// where it has them (NPY, NPZ, safetensors, checkpoints, surfaces) and byte by byte where it
/// does not (IDX, CIFAR-10, CSV). `terrain-fuzz corpus Fuzz/corpus` rewrites `Fuzz/corpus/`;
/// the ONNX seeds are the ONNX tests' fixtures, copied there once.
enum SeedCorpus {
    static func write(to root: String) throws {
        func put(_ target: FuzzTarget, _ name: String, _ data: Data) throws {
            let folder = (root as NSString).appendingPathComponent(target.rawValue)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
        }
        let temporary = try ScratchFile()
        defer { temporary.remove() }

        // IDX: three 4x5 images, their labels, and the images gzipped.
        var images = Data([0, 0, 8, 3])
        for size: UInt32 in [3, 4, 5] { images.append(contentsOf: withUnsafeBytes(of: size.bigEndian) { Array($0) }) }
        images.append(contentsOf: (0..<60).map { UInt8($0 * 4) })
        try put(.idx, "images-idx3", images)
        try put(.idx, "labels-idx1", Data([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]))
        try put(.idx, "images-idx3.gz", try Gzip.compress(images))

        // CIFAR-10: two records (label byte, then 3x32x32 pixels).
        var batch = Data()
        for label: UInt8 in [3, 9] {
            batch.append(label)
            batch.append(contentsOf: (0..<CIFAR10.pixelsPerImage).map { UInt8(truncatingIfNeeded: $0 &* Int(label)) })
        }
        try put(.cifar10, "two-records.bin", batch)

        // CSV: a labelled table with a header, a regression table, and the first gzipped.
        let classes = "f1,f2,f3,label\n0.5,1,2,0\n-1.25,3e-2,4,1\n7,8,9,2\n0,0,0,1\n"
        try put(.csv, "classes.csv", Data(classes.utf8))
        try put(.csv, "regression.csv", Data("1,2,0.75\r\n3,4,-2.5\r\n\"5\",6,1e3\r\n".utf8))
        try put(.csv, "classes.csv.gz", try Gzip.compress(Data(classes.utf8)))

        // NPY: floats, doubles, integer labels, bytes; NPZ: a dataset in both key spellings.
        let x = NumpyArray([0.5, -1, 2, 3.25, 4, 5], shape: [2, 3])
        let y = NumpyArray([Int64(1), 0], shape: [2])
        try put(.npy, "float32.npy", NPY.write(x))
        try put(.npy, "float64.npy", NPY.write(NumpyArray([1.5, 2.5, -3.5], shape: [3])))
        try put(.npy, "int64.npy", NPY.write(y))
        try put(.npy, "uint8.npy", NPY.write(NumpyArray([UInt8(1), 2, 3, 4], shape: [2, 2])))
        try put(.npz, "xy.npz", NPZ.write(arrays: [("x", x), ("y", y)]))
        try put(.npz, "split.npz", NPZ.write(arrays: [("x_train", x), ("y_train", y), ("x_test", x), ("y_test", y)]))

        // Safetensors: three dtypes and metadata.
        let entries = [
            SafetensorsEntry(name: "weight", tensor: Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])),
            SafetensorsEntry(name: "bias", tensor: Tensor<Double>(shape: [2], scalars: [0.5, -0.5])),
            SafetensorsEntry(name: "bn.num_batches_tracked", dtype: .i64, shape: [],
                             data: withUnsafeBytes(of: Int64(7).littleEndian) { Data($0) }),
        ]
        try put(.safetensors, "three.safetensors", try SafetensorsFile(entries: entries, metadata: ["format": "pt"]).serialized())

        // Checkpoints: a linear model and a small MLP, each with its description in the metadata.
        for (name, spec) in [("linear", ModelSpec(architecture: "linear", inputShape: [3], outputs: 2)),
                             ("mlp", ModelSpec(architecture: "mlp", hiddenSizes: [4], inputShape: [3], outputs: 2))] {
            let model: Module<Float> = try spec.build()
            let path = (temporary.folder as NSString).appendingPathComponent("\(name).safetensors")
            try Checkpoint(model: model, spec: spec).write(to: URL(fileURLWithPath: path))
            try put(.checkpoint, "\(name).safetensors", try Data(contentsOf: URL(fileURLWithPath: path)))
        }

        // A 3x2 surface with two quantities, text and number attributes, and a 1-D surface.
        var surface = SurfaceFile(grid: SurfaceGrid(x: [-1, 0, 1], y: [-1, 1]),
                                  values: [.trainLoss: [1, 0.5, 1, 2, 0.25, 2], .trainAccuracy: [50, 60, 50, 40, 70, 40]],
                                  directionFile: "d.h5", textAttributes: ["model": "mlp"], numberAttributes: ["seed": 3])
        surface.extraDatasets["path_x"] = [0, 0.5]
        for (name, file) in [("plane.h5", surface),
                             ("line.h5", SurfaceFile(grid: SurfaceGrid(x: [-1, 1]), values: [.testLoss: [1, 2]], directionFile: "d.h5"))] {
            let path = (temporary.folder as NSString).appendingPathComponent(name)
            try file.write(to: path)
            try put(.hdf5Surface, name, try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }
}
