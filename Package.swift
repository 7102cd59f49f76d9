// swift-tools-version: 6.1
import PackageDescription

// Layers of the package, each depending only on those before it:
//   TerrainTensor  tensors, the back-end seam, CPU kernels (OpenBLAS)
//   TerrainNN      modules with forward and backward passes, losses, optimizers, schedules
//   TerrainData    datasets: IDX, CIFAR binary, NPY/NPZ, CSV, synthetic sets
//   TerrainIO      file formats: safetensors, HDF5
//   TerrainModels  the model zoo, rebuilt from an architecture description
//   TerrainTraining  the training loop, checkpoints, metrics
//   TerrainLandscape directions, grids, surfaces, trajectories: written against `Objective`
//   TerrainONNX    ONNX models (swift-protobuf's generated messages) as Terrain modules
//   TerrainPlot    figures drawn with Cairo (PNG, SVG, PDF) from plain arrays: no landscape types
//   TerrainReport  which figures fit a landscape file, and the pages that show them (the viewer)
//   TerrainServe   `terrain serve`: a local web server over a folder of runs (Hummingbird);
//                  kept out of the library product so that only the program links SwiftNIO
//   terrain        the command-line program
//
// The trait `MPI` (off by default: `swift build --traits MPI`) adds OpenMPI through the
// system-library target CMPI, so that `mpirun -n N terrain surface …` splits a grid over N
// ranks. Without it nothing needs MPI's headers or libraries. The trait `Server` (on by default)
// gives the program `terrain serve` and with it Hummingbird and SwiftNIO; the distributed build
// (`--traits MPI`) leaves it out, so that build does not compile SwiftNIO.
let package = Package(
    name: "Terrain",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Terrain", targets: ["TerrainTensor", "TerrainNN", "TerrainData", "TerrainIO", "TerrainModels", "TerrainTraining", "TerrainLandscape", "TerrainONNX", "TerrainPlot", "TerrainReport"]),
        .executable(name: "terrain", targets: ["terrain"]),
    ],
    traits: [
        .trait(name: "MPI", description: "Distributed surfaces under mpirun (OpenMPI: libopenmpi-dev, pkg-config ompi-c)."),
        .trait(name: "Server", description: "`terrain serve`: a local web server over a folder of runs (Hummingbird)."),
        .default(enabledTraits: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        // No default traits: neither swift-configuration nor full Foundation is needed here.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // Already in Hummingbird's graph; named here because the server adds a NIO channel
        // handler (the request-head deadline) and its own shutdown service.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.14.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        // oneDNN has no pkg-config file in Debian: the modulemap links libdnnl (and libgomp).
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"]), .brew(["cairo"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
        // Memory sweeps written in C so that they vectorize for the machine they run on.
        .target(name: "CTerrainKernels"),
        .target(name: "TerrainTensor", dependencies: ["CBLAS", "CDNNL", "CTerrainKernels", .product(name: "Numerics", package: "swift-numerics")]),
        .target(name: "TerrainNN", dependencies: ["TerrainTensor"]),
        .target(name: "TerrainData", dependencies: ["TerrainTensor", "CZlib"]),
        // The child process that reads an HDF5 file before TerrainIO does (a crash or a loop in
        // libhdf5 on a damaged file stays in the child); C, so the child runs no Swift runtime.
        .target(name: "CHDF5Check", dependencies: ["CHDF5"]),
        .target(name: "TerrainIO", dependencies: ["TerrainTensor", "CHDF5", "CHDF5Check"]),
        .target(name: "TerrainModels", dependencies: ["TerrainNN"]),
        .target(name: "TerrainTraining", dependencies: ["TerrainNN", "TerrainData", "TerrainIO", "TerrainModels"]),
        .target(name: "TerrainLandscape", dependencies: [
            "TerrainTraining", "TerrainIO",
            .target(name: "CMPI", condition: .when(traits: ["MPI"])),
        ]),
        // The generated ONNX messages (Generated/onnx.pb.swift) are committed; scripts/generate-onnx-swift.sh
        // says how they were made. The build never runs protoc.
        .target(name: "TerrainONNX", dependencies: ["TerrainNN", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "TerrainPlot", dependencies: ["CCairo"]),
        // The viewer's scripts and style are files of their own, compiled into the code as byte
        // arrays (SwiftPM generates `PackageResources`), so `terrain` needs no resource folder.
        .target(name: "TerrainReport", dependencies: ["TerrainLandscape", "TerrainPlot"],
                resources: [.embedInCode("Viewer/Assets/error-capture.js"), .embedInCode("Viewer/Assets/common.js"),
                            .embedInCode("Viewer/Assets/surface-3d.js"), .embedInCode("Viewer/Assets/contour-view.js"),
                            .embedInCode("Viewer/Assets/curve-view.js"), .embedInCode("Viewer/Assets/app.js"),
                            .embedInCode("Viewer/Assets/viewer.css")]),
        .target(name: "TerrainServe", dependencies: [
            "TerrainReport",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "terrain", dependencies: [
            "TerrainTraining", "TerrainLandscape", "TerrainONNX", "TerrainPlot", "TerrainReport",
            .target(name: "TerrainServe", condition: .when(traits: ["Server"])),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // A runnable example of the library: the landscape of an objective written as a Swift closure.
        .executableTarget(name: "terrain-example-closure", dependencies: ["TerrainLandscape", "TerrainReport"],
                          path: "Examples/terrain-example-closure"),
        // The cores' measured fp32 FMA peak, which `make bench` sets throughputs against.
        .target(name: "CFMAPeak", path: "Benchmarks/CFMAPeak"),
        // Fuzzing the file readers (`make fuzz` with libFuzzer, `make fuzz-smoke` without): see Fuzz/README.md.
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(name: "terrain-fuzz", dependencies: ["TerrainData", "TerrainIO", "TerrainModels", "TerrainTraining",
                                                               "TerrainLandscape", "TerrainONNX", "CLibFuzzer"],
                          path: "Fuzz/terrain-fuzz"),
        .executableTarget(name: "terrain-bench", dependencies: ["TerrainTraining", "TerrainLandscape", "TerrainPlot", "TerrainReport", "CFMAPeak"], path: "Benchmarks/terrain-bench"),
        // Helpers shared by the test targets (seeded random numbers, Python and the cross-check
        // rule, temporary folders, a lock): Foundation only, so any test target may use it.
        .target(name: "TerrainTestSupport", path: "Tests/TerrainTestSupport"),
        .testTarget(name: "TerrainTensorTests", dependencies: ["TerrainTensor"]),
        .testTarget(name: "TerrainNNTests", dependencies: ["TerrainNN", "TerrainModels", "TerrainTestSupport"]),
        .testTarget(name: "TerrainDataTests", dependencies: ["TerrainData", "TerrainTestSupport"]),
        .testTarget(name: "TerrainIOTests", dependencies: ["TerrainIO", "TerrainTestSupport"]),
        .testTarget(name: "TerrainTrainingTests", dependencies: ["TerrainTraining", "TerrainTestSupport"]),
        .testTarget(name: "TerrainLandscapeTests", dependencies: ["TerrainLandscape", "TerrainTestSupport"]),
        .testTarget(name: "TerrainONNXTests", dependencies: ["TerrainONNX", "TerrainData", "TerrainLandscape", "TerrainTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "TerrainPlotTests", dependencies: ["TerrainPlot", "TerrainTestSupport"]),
        .testTarget(name: "TerrainReportTests", dependencies: ["TerrainReport", "TerrainTestSupport"]),
        .testTarget(name: "TerrainServeTests", dependencies: ["TerrainServe"]),
    ]
)
