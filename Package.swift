// swift-tools-version: 6.1
import PackageDescription

// Layers of the package, each depending only on those before it. Every target names exactly the
// modules it imports as its dependencies: `make` checks it (scripts/check-target-imports.py) and
// builds with SwiftPM's explicit import check as errors.
//   TerrainTensor  tensors, the back-end seam (tensor operations only), CPU kernels (OpenBLAS,
//                  oneDNN convolutions), parameter roles
//   TerrainIO      file formats: safetensors, HDF5, NPY/NPZ (zip, gzip); atomic writes; progress display
//   TerrainNN      modules with forward and backward passes, losses, optimizers, schedules
//   TerrainData    datasets: IDX, CIFAR binary, NPY folders, CSV, synthetic sets
//   TerrainModels  the model zoo, rebuilt from an architecture description
//   TerrainTraining  the training loop, checkpoints, metrics
//   TerrainCompiled  the compiled fast paths: inference graphs, their lowering, oneDNN programs,
//                  the C sweeps (CTerrainKernels), compiled evaluation and Hessian-vector products
//   TerrainLandscape directions, grids, surfaces, trajectories, curvature: written against
//                  `Objective`, on tensors and files only (no model, no training)
//   TerrainObjectives  models, checkpoints and training runs as objectives (`ModelObjective`,
//                  `RunHistory`, `LandscapeEvolution`)
//   TerrainONNX    ONNX models (swift-protobuf's generated messages) as Terrain modules
//   TerrainPlot    figures drawn with Cairo (PNG, SVG, PDF) from plain arrays: no landscape types
//   TerrainReport  which figures fit a landscape file, and the pages that show them (the viewer)
//   TerrainRequests  one value per command (SurfaceRequest, …): loading, metadata, files; `run()`
//   TerrainServe   `terrain serve`: a local web server over a folder of runs (Hummingbird);
//                  kept out of the library product so that only the program links SwiftNIO
//   terrain        the command-line program
//
// `mpirun -n N terrain surface …` splits a grid over N ranks with Open MPI, whose library
// CMPIRuntime loads at run time: building needs no MPI headers or libraries, and the one binary
// runs alone or distributed. The trait `Server` (on by default) gives the program `terrain serve`
// and with it Hummingbird and SwiftNIO; `--disable-default-traits` builds without them.
let package = Package(
    name: "Terrain",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Terrain", targets: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainModels", "TerrainTraining",
                                            "TerrainCompiled", "TerrainLandscape", "TerrainObjectives", "TerrainONNX", "TerrainPlot", "TerrainReport",
                                            "TerrainRequests"]),
        .executable(name: "terrain", targets: ["terrain"]),
    ],
    traits: [
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
        // Memory sweeps written in C so that they vectorize for the machine they run on.
        .target(name: "CTerrainKernels"),
        // Open MPI's handful of calls, resolved with dlopen when a launcher started the process.
        .target(name: "CMPIRuntime", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "TerrainTensor", dependencies: ["CBLAS", "CDNNL", "CTerrainKernels", .product(name: "Numerics", package: "swift-numerics")]),
        // The child process that reads an HDF5 file before TerrainIO does (a crash or a loop in
        // libhdf5 on a damaged file stays in the child); C, so the child runs no Swift runtime.
        .target(name: "CHDF5Check", dependencies: ["CHDF5"]),
        .target(name: "TerrainIO", dependencies: ["TerrainTensor", "CHDF5", "CHDF5Check", "CZlib"]),
        .target(name: "TerrainNN", dependencies: ["TerrainTensor"]),
        .target(name: "TerrainData", dependencies: ["TerrainTensor", "TerrainIO"]),
        .target(name: "TerrainModels", dependencies: ["TerrainTensor", "TerrainNN"]),
        .target(name: "TerrainTraining", dependencies: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainModels"]),
        .target(name: "TerrainCompiled", dependencies: ["TerrainTensor", "TerrainNN", "TerrainData", "TerrainTraining",
                                                        "CDNNL", "CTerrainKernels"]),
        .target(name: "TerrainLandscape", dependencies: [
            "TerrainTensor", "TerrainIO", "CMPIRuntime",
        ]),
        .target(name: "TerrainObjectives", dependencies: ["TerrainTensor", "TerrainNN", "TerrainData", "TerrainTraining",
                                                          "TerrainCompiled", "TerrainLandscape"]),
        // The generated ONNX messages (Generated/onnx.pb.swift) are committed; scripts/generate-onnx-swift.sh
        // says how they were made. The build never runs protoc.
        .target(name: "TerrainONNX", dependencies: ["TerrainTensor", "TerrainNN", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "TerrainPlot", dependencies: ["CCairo", "TerrainIO"]),
        // The viewer's scripts and style are files of their own, compiled into the code as byte
        // arrays (SwiftPM generates `PackageResources`), so `terrain` needs no resource folder.
        .target(name: "TerrainReport", dependencies: ["TerrainIO", "TerrainLandscape", "TerrainPlot"],
                resources: [.embedInCode("Viewer/Assets/error-capture.js"), .embedInCode("Viewer/Assets/common.js"),
                            .embedInCode("Viewer/Assets/surface-3d.js"), .embedInCode("Viewer/Assets/contour-view.js"),
                            .embedInCode("Viewer/Assets/curve-view.js"), .embedInCode("Viewer/Assets/app.js"),
                            .embedInCode("Viewer/Assets/viewer.css")]),
        // The requests the program is made of, as library values: what to load, compute and write.
        .target(name: "TerrainRequests", dependencies: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainModels", "TerrainTraining",
                                                        "TerrainLandscape", "TerrainObjectives", "TerrainONNX", "TerrainReport"]),
        .target(name: "TerrainServe", dependencies: [
            "TerrainIO", "TerrainLandscape", "TerrainPlot", "TerrainReport",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "terrain", dependencies: [
            "TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainModels", "TerrainTraining",
            "TerrainLandscape", "TerrainObjectives", "TerrainONNX", "TerrainPlot", "TerrainReport", "TerrainRequests",
            .target(name: "TerrainServe", condition: .when(traits: ["Server"])),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // A runnable example of the library: the landscape of an objective written as a Swift closure.
        .executableTarget(name: "terrain-example-closure", dependencies: ["TerrainTensor", "TerrainLandscape", "TerrainPlot", "TerrainReport",
                                                                          "TerrainRequests"],
                          path: "Examples/terrain-example-closure"),
        // Each request of the library in a few lines (one file per request), on a run it trains.
        .executableTarget(name: "terrain-example-requests", dependencies: ["TerrainData", "TerrainModels", "TerrainTraining", "TerrainLandscape",
                                                                           "TerrainRequests"],
                          path: "Examples/terrain-example-requests"),
        // The cores' measured fp32 FMA peak, which `make bench` sets throughputs against.
        .target(name: "CFMAPeak", path: "Benchmarks/CFMAPeak"),
        // Fuzzing the file readers (`make fuzz` with libFuzzer, `make fuzz-smoke` without): see Fuzz/README.md.
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(name: "terrain-fuzz", dependencies: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainModels",
                                                               "TerrainTraining", "TerrainLandscape", "TerrainONNX", "CLibFuzzer"],
                          path: "Fuzz/terrain-fuzz"),
        .executableTarget(name: "terrain-bench", dependencies: ["TerrainTensor", "TerrainNN", "TerrainData", "TerrainModels", "TerrainTraining",
                                                               "TerrainCompiled", "TerrainLandscape", "TerrainObjectives", "TerrainPlot",
                                                               "TerrainReport", "CFMAPeak"], path: "Benchmarks/terrain-bench"),
        // Helpers shared by the test targets (seeded random numbers, Python and the cross-check
        // rule, temporary folders, a lock): Foundation only, so any test target may use it.
        .target(name: "TerrainTestSupport", path: "Tests/TerrainTestSupport"),
        .testTarget(name: "TerrainTensorTests", dependencies: ["TerrainTensor"]),
        .testTarget(name: "TerrainIOTests", dependencies: ["TerrainTensor", "TerrainIO", "TerrainTestSupport"]),
        .testTarget(name: "TerrainNNTests", dependencies: ["TerrainTensor", "TerrainNN", "TerrainModels", "TerrainTestSupport"]),
        .testTarget(name: "TerrainDataTests", dependencies: ["TerrainTensor", "TerrainIO", "TerrainData", "TerrainTestSupport"]),
        .testTarget(name: "TerrainTrainingTests", dependencies: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainModels",
                                                                 "TerrainTraining", "TerrainTestSupport"]),
        // The compiled paths are checked against the layer-by-layer ones through `ModelObjective`.
        .testTarget(name: "TerrainCompiledTests", dependencies: ["TerrainTensor", "TerrainNN", "TerrainData", "TerrainModels", "TerrainTraining",
                                                                 "TerrainCompiled", "TerrainLandscape", "TerrainObjectives"]),
        // Directions are checked on a zoo model's parameter layout (a ResNet's filters, biases, BN).
        .testTarget(name: "TerrainLandscapeTests", dependencies: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainModels", "TerrainLandscape", "TerrainTestSupport"]),
        .testTarget(name: "TerrainObjectivesTests", dependencies: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainModels",
                                                                   "TerrainTraining", "TerrainLandscape", "TerrainObjectives", "TerrainTestSupport"]),
        .testTarget(name: "TerrainONNXTests", dependencies: ["TerrainTensor", "TerrainIO", "TerrainNN", "TerrainData", "TerrainONNX",
                                                             "TerrainLandscape", "TerrainObjectives",
                                                             "TerrainTestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "TerrainPlotTests", dependencies: ["TerrainPlot", "TerrainTestSupport"]),
        .testTarget(name: "TerrainReportTests", dependencies: ["TerrainLandscape", "TerrainPlot", "TerrainReport", "TerrainTestSupport"]),
        .testTarget(name: "TerrainServeTests", dependencies: ["TerrainIO", "TerrainLandscape", "TerrainServe"]),
        .testTarget(name: "TerrainRequestsTests", dependencies: ["TerrainTensor", "TerrainNN", "TerrainData", "TerrainModels", "TerrainTraining",
                                                                 "TerrainLandscape", "TerrainRequests", "TerrainTestSupport"]),
    ]
)
