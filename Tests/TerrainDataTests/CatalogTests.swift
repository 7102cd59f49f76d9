import Foundation
import Testing
import TerrainTensor
@testable import TerrainData
import TerrainIO
import TerrainTestSupport

@Suite struct CatalogTests {
    @Test func invalidOptionsThrow() {
        expectDatasetError("testFraction") { _ = try DatasetCatalog.load("blobs", options: .init(testFraction: 1)) }
        expectDatasetError("trainSubset") { _ = try DatasetCatalog.load("blobs", options: .init(trainSubset: 0)) }
        expectDatasetError("blobClasses") { _ = try DatasetCatalog.load("blobs", options: .init(blobClasses: 0)) }
    }

    @Test func subsetsAreApplied() throws {
        let pair = try DatasetCatalog.load("spirals", options: .init(trainSubset: 30, testSubset: 7))
        #expect(pair.train.count == 30 && pair.test.count == 7)
    }

    @Test func unknownSpecsExplainThemselves() {
        expectDatasetError("'no-such-set'", "mnist", "blobs") { _ = try DatasetCatalog.load("no-such-set") }
        expectDatasetError("'./missing/folder'", "no file or folder") { _ = try DatasetCatalog.load("./missing/folder") }
        expectDatasetError("give a name") { _ = try DatasetCatalog.load("  ") }
    }

    @Test func formatIsDetectedFromContent() throws {
        let folder = try TemporaryFolder()
        // An NPZ archive and a CSV table under misleading names.
        let npz = NPZ.write(arrays: [("x", NumpyArray([Float](repeating: 1, count: 10), shape: [5, 2])),
                                     ("y", NumpyArray([Int64](arrayLiteral: 0, 1, 0, 1, 0), shape: [5]))])
        let fromNPZ = try DatasetCatalog.load(try folder.write(npz, to: "data.csv"), options: .init(normalize: false))
        #expect(fromNPZ.train.count + fromNPZ.test.count == 5)
        let csv = try Gzip.compress(Data("1,2,0\n3,4,1\n5,6,0\n".utf8))
        let fromCSV = try DatasetCatalog.load(try folder.write(csv, to: "data.npz"), options: .init(normalize: false))
        #expect(fromCSV.train.sampleShape == [2])

        let single = try folder.write(NPY.write([Float](arrayLiteral: 1, 2), shape: [2]), to: "one.npy")
        expectDatasetError("one.npy", "single NPY file") { _ = try DatasetCatalog.load(single) }
        let idx = try folder.write(Fixtures.idxLabels([1, 2]), to: "labels.bin")
        expectDatasetError("labels.bin", "single IDX file") { _ = try DatasetCatalog.load(idx) }
        let binary = try folder.write(Data([0xde, 0xad, 0, 0xef]), to: "blob.dat")
        expectDatasetError("blob.dat", "unrecognised binary content") { _ = try DatasetCatalog.load(binary) }
        let empty = try folder.write(Data(), to: "nothing")
        expectDatasetError("nothing") { _ = try DatasetCatalog.load(empty) }
        try FileManager.default.createDirectory(atPath: folder.file("empty-folder"), withIntermediateDirectories: true)
        expectDatasetError("empty-folder", "IDX files") { _ = try DatasetCatalog.load(folder.file("empty-folder")) }
    }

    @Test func namedDatasetsSearchTerrainDataFirstAndExplainWhenMissing() throws {
        let folder = try TemporaryFolder()
        try folder.write(Fixtures.idxImages(count: 2, rows: 3, columns: 3), to: "mnist/train-images-idx3-ubyte")
        let located = NamedDataset.mnist.locate(environment: ["TERRAIN_DATA": folder.path])
        #expect(located == folder.path + "/mnist")

        let absent = NamedDataset(name: "absent", aliases: [], locations: { _ in ["/nonexistent/absent"] },
                                  help: "run `make deps`")
        expectDatasetError("'absent' is not installed", "/nonexistent/absent", "make deps") {
            _ = try absent.load(options: .init())
        }
        // A set that lives only under $TERRAIN_DATA says the variable is unset, not "looked in ;".
        expectDatasetError("'digits' is not installed", "$TERRAIN_DATA is not set", "load_digits") {
            _ = try NamedDataset.digits.load(options: .init(), environment: [:])
        }
        #expect(NamedDataset.fashionMNIST.help.contains("apt-get install dataset-fashion-mnist"))
        #expect(NamedDataset.find("Fashion_MNIST")?.name == "fashion-mnist")
    }
}
