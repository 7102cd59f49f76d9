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
//   terrain        the command-line program
let package = Package(
    name: "Terrain",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Terrain", targets: ["TerrainTensor", "TerrainNN", "TerrainData", "TerrainIO", "TerrainModels", "TerrainTraining", "TerrainLandscape"]),
        .executable(name: "terrain", targets: ["terrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .target(name: "TerrainTensor", dependencies: ["CBLAS", .product(name: "Numerics", package: "swift-numerics")]),
        .target(name: "TerrainNN", dependencies: ["TerrainTensor"]),
        .target(name: "TerrainData", dependencies: ["TerrainTensor", "CZlib"]),
        .target(name: "TerrainIO", dependencies: ["TerrainTensor", "CHDF5"]),
        .target(name: "TerrainModels", dependencies: ["TerrainNN"]),
        .target(name: "TerrainTraining", dependencies: ["TerrainNN", "TerrainData", "TerrainIO", "TerrainModels"]),
        .target(name: "TerrainLandscape", dependencies: ["TerrainTraining", "TerrainIO"]),
        .executableTarget(name: "terrain", dependencies: [
            "TerrainTraining", "TerrainLandscape",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "terrain-bench", dependencies: ["TerrainTraining"], path: "Benchmarks/terrain-bench"),
        .testTarget(name: "TerrainTensorTests", dependencies: ["TerrainTensor"]),
        .testTarget(name: "TerrainNNTests", dependencies: ["TerrainNN", "TerrainModels"]),
        .testTarget(name: "TerrainDataTests", dependencies: ["TerrainData"]),
        .testTarget(name: "TerrainIOTests", dependencies: ["TerrainIO"]),
        .testTarget(name: "TerrainTrainingTests", dependencies: ["TerrainTraining"]),
        .testTarget(name: "TerrainLandscapeTests", dependencies: ["TerrainLandscape"]),
    ]
)
