// The loss landscape of any objective written in Swift: a runnable example of Terrain's library.
//
// The objective here is softmax (multinomial logistic) regression on three Gaussian clouds in
// the plane, written as a plain closure over one flat parameter vector. Its two named groups,
// `linear.weight` [3, 2] and `linear.bias` [3], tell the landscape code how to normalize
// directions: per filter (row) for the weight, and biases left out (the `biasbn` rule of
// Li et al.). The example fits the model with its own gradient, then draws a 2D surface around
// the fit with `SurfaceRequest` (the library's `terrain surface`), which writes it as HDF5 (the
// reference's layout) with the program's metadata and resume fingerprint, and its directions
// beside it; then analyses its topology (the library's `terrain analyze`) and draws it as PNG
// figures.
//
//     swift run terrain-example-closure [OUTPUT_FOLDER]
//
// Any `Objective` goes the same way: a closure (`ClosureObjective`), a Terrain model
// (`ModelObjective`), or an imported ONNX graph (`ONNXModel.makeGraph()` in a `ModelObjective`).
import Foundation
import TerrainTensor
import TerrainLandscape
import TerrainPlot
import TerrainReport
import TerrainRequests

/// Three classes of 2-D points, 60 each, around (0, 2), (−2, −1) and (2, −1).
func clouds(seed: UInt64) -> (x: [[Double]], y: [Int]) {
    var generator = SeededGenerator(seed: seed)
    let centres: [[Double]] = [[0, 2], [-2, -1], [2, -1]]
    var x: [[Double]] = [], y: [Int] = []
    for (label, centre) in centres.enumerated() {
        for _ in 0..<60 {
            x.append([centre[0] + generator.nextNormal(), centre[1] + generator.nextNormal()])
            y.append(label)
        }
    }
    return (x, y)
}

let output = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "closure-example"
let (train, test) = (clouds(seed: 1), clouds(seed: 2))
let classes = 3, features = 2

// θ = [W (row-major, 3×2), b (3)]: the groups tile the flat vector in this order.
let groups: [ParameterGroup] = .tiling([("linear.weight", [classes, features], .weight), ("linear.bias", [classes], .bias)])

/// Softmax probabilities of one sample under θ.
func probabilities(_ theta: [Double], _ point: [Double]) -> [Double] {
    let logits = (0..<classes).map { c in theta[c * features] * point[0] + theta[c * features + 1] * point[1] + theta[classes * features + c] }
    let top = logits.max()!
    let e = logits.map { Foundation.exp($0 - top) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
}

/// Mean cross-entropy and accuracy (percent) on one set.
func loss(_ theta: [Double], _ set: EvaluationSet) -> ObjectiveValue {
    let data = set == .train ? train : test
    var total = 0.0, correct = 0
    for (point, label) in zip(data.x, data.y) {
        let p = probabilities(theta, point)
        total -= Foundation.log(max(p[label], 1e-300))
        if p.indices.max(by: { p[$0] < p[$1] }) == label { correct += 1 }
    }
    return ObjectiveValue(loss: total / Double(data.y.count), accuracy: 100 * Double(correct) / Double(data.y.count))
}

/// ∂loss/∂θ = mean over samples of (p − onehot) ⊗ [x, 1].
func gradient(_ theta: [Double], _ set: EvaluationSet) -> [Double] {
    let data = set == .train ? train : test
    var g = [Double](repeating: 0, count: groups.scalarCount)
    for (point, label) in zip(data.x, data.y) {
        let p = probabilities(theta, point)
        for c in 0..<classes {
            let r = (p[c] - (c == label ? 1 : 0)) / Double(data.y.count)
            g[c * features] += r * point[0]
            g[c * features + 1] += r * point[1]
            g[classes * features + c] += r
        }
    }
    return g
}

let objective = ClosureObjective(groups: groups, initial: [0.3, -0.2, -0.1, 0.4, 0.2, 0.1, 0, 0, 0], gradient: gradient) { theta, set in
    loss(theta, set)
}

do {
    // Fit by gradient descent with the objective's own gradient.
    for _ in 0..<300 {
        let (_, g) = try objective.gradient(.train)
        objective.setParameters(zip(objective.parameters(), g).map { $0 - 0.5 * $1 })
    }
    let fit = try objective.evaluate(.train)
    print(String(format: "fitted: train loss %.4f, accuracy %.1f%%; test loss %.4f", fit.loss, fit.accuracy ?? 0,
                 try objective.evaluate(.test).loss))

    // Two random directions (seeds 10 and 11), normalized per filter against θ; the bias group
    // stays still. The request writes logistic.h5 and logistic.directions.h5.
    let axis = Axis(minimum: -1, maximum: 1, count: 21)
    let path = (output as NSString).appendingPathComponent("logistic.h5")
    let request = SurfaceRequest(model: .objective(objective, data: "three clouds"), data: EvaluationData(sets: [.train, .test]),
                                 x: axis, y: axis, directions: .random(RandomDirections(seed: 10)), output: path, overwrite: true)
    let surface = try request.run(progress: .silent)
    print("surface: \(surface.grid.pointCount) points written to \(path)")

    // Its topology (the library's `terrain analyze`): minima, saddles, the basin holding the
    // fit at levels above its minimum, roughness; stored in the file as analysis/train_loss/.
    let topology = SurfaceTopology(quantity: "train_loss", field: GridField(grid: surface.grid, values: surface.values[.trainLoss]!))
    if let level = topology.centreBasin?.levels.first(where: { $0.spec == .rise(0.1) }) {
        print(String(format: "topology: minima %d, saddles %d; the fit's basin at +10%% of the range: area %.3g, widths %.3g × %.3g",
                     topology.points(.minimum).count, topology.points(.saddle).count, level.area, level.widthAlpha, level.widthBeta))
    }
    let analysed = surface.storing(topology)
    try analysed.write(to: path)

    // The figures `terrain plot` would draw for it (the contour lines with the topology marked).
    let figures = try SurfaceFigures.figures(for: analysed, name: "logistic", kinds: [.contour, .filled, .surface3d], style: FigureStyle())
    for named in figures {
        for file in try named.figure.write(to: (output as NSString).appendingPathComponent(named.name), formats: [.png]) {
            print("figure: \(file)")
        }
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
