import Testing
import Foundation
import TerrainLandscape
import TerrainPlot
import TerrainReport

@Suite("Stack animations")
struct StackAnimationTests {
    /// A stack of `frames` bowls over a 21 x 17 grid: the left half (x < 0) is the same in every
    /// frame, the right half deepens frame by frame.
    func stack(frames: Int = 3, mode: String = "riding") throws -> SurfaceStack {
        let x = (0..<21).map { -1 + 2 * Double($0) / 20 }, y = (0..<17).map { -1 + 2 * Double($0) / 16 }
        var loss: [Double] = [], accuracy: [Double] = []
        for k in 0..<frames {
            for b in y {
                for a in x {
                    let v = a < 0 ? 0.3 + a * a + b * b : 0.3 + (1 + Double(k)) * (a * a + b * b)
                    loss.append(v); accuracy.append(100 / (1 + v))
                }
            }
        }
        var file = SurfaceFile(grid: SurfaceGrid(x: x, y: y), values: [.trainLoss: loss, .trainAccuracy: accuracy], directionFile: "",
                               textAttributes: [SurfaceStack.modeAttribute: mode])
        file.frameCount = frames
        file.extraDatasets = ["frame_epoch": (0..<frames).map(Double.init), "frame_iteration": (0..<frames).map { 10 * Double($0) },
                              "frame_x": (0..<frames).map { mode == "riding" ? 0 : 0.5 - 0.2 * Double($0) },
                              "frame_y": [Double](repeating: 0, count: frames),
                              "frame_train_loss": (0..<frames).map { 1 / (1 + Double($0)) },
                              "frame_train_acc": (0..<frames).map { 50 + Double($0) }]
        file.textDatasets = ["frame_checkpoint": (0..<frames).map { "c\($0)" }]
        if mode == "fixed-pca" {
            file.extraDatasets["path_x"] = (0..<(2 * frames)).map { 0.5 - 0.1 * Double($0) }
            file.extraDatasets["path_y"] = [Double](repeating: 0, count: 2 * frames)
            file.extraDatasets["path_iteration"] = (0..<(2 * frames)).map { 5 * Double($0) }
        }
        return try SurfaceStack(file: file, path: "test.h5")
    }

    /// One colour scale for every frame: where frames hold the same values they are drawn with
    /// the same pixels; the caption and the changing half differ.
    @Test func everyFrameSharesOneScale() throws {
        let s = try stack()
        #expect(s.frames.map(\.label).first == "epoch 0 · iteration 0 · train loss 1, accuracy 50.00 %")
        for view in AnimationView.allCases {
            let animation = try StackAnimation(stack: s, view: view)
            #expect(animation.scale.minimum <= 0.3 && animation.scale.maximum >= 0.3 + 3 * 2)
            let images = try animation.images(scale: 1)
            #expect(images.count == 3)
            #expect(images.allSatisfy { $0.width == Int(animation.pageSize.width) && $0.height == Int(animation.pageSize.height) })
            #expect(images[0] != images[1] && images[1] != images[2])
            if view == .contour {
                // The plot area left of the last cell before x = 0 is the same from frame to frame
                // (up to the anti-aliasing of contour lines that continue into the changing half).
                let chart = animation.chart(frame: 0) as! ContourChart
                let area = chart.axes(in: PlotRect(0, 30, animation.pageSize.width, animation.pageSize.height - 80)).area
                var exact = 0, close = 0, checked = 0
                for py in stride(from: Int(area.minY) + 3, to: Int(area.maxY) - 3, by: 3) {
                    for px in stride(from: Int(area.minX) + 3, to: Int(area.center.x - area.width / 20) - 3, by: 3) {
                        let a = images[0].rgb(x: px, y: py), b = images[2].rgb(x: px, y: py)
                        checked += 1
                        if a == b { exact += 1 }
                        if Self.distance(a, b) <= 6 { close += 1 }
                    }
                }
                #expect(checked > 3000 && close == checked && Double(exact) > 0.97 * Double(checked), "\(exact), \(close) of \(checked)")
            } else {
                let charts = (0..<3).map { animation.chart(frame: $0) as! SurfaceChart3D }
                #expect(charts.allSatisfy { $0.zLimits == charts[0].zLimits && $0.zLimits != nil })
            }
        }
    }

    /// The largest difference of one channel between two 0xRRGGBB colours.
    static func distance(_ a: UInt32, _ b: UInt32) -> Int {
        var worst = 0
        for shift in [UInt32(0), 8, 16] {
            let d = Int((a >> shift) & 0xff) - Int((b >> shift) & 0xff)
            worst = max(worst, abs(d))
        }
        return worst
    }

    /// On a fixed plane each frame shows the path up to its own checkpoint.
    @Test func aFixedPlaneShowsThePathSoFar() throws {
        let animation = try StackAnimation(stack: try stack(mode: "fixed-pca"))
        #expect(animation.title.contains("PCA plane"))
        let paths = (0..<3).map { (animation.chart(frame: $0) as! ContourChart).paths[0].points }
        #expect(paths.map(\.count) == [1, 3, 5])
        #expect(paths[2].last == PlotPoint(0.5 - 0.2 * 2, 0))
        let riding = try StackAnimation(stack: try stack())
        #expect((riding.chart(frame: 1) as! ContourChart).paths[0].points == [PlotPoint(0, 0)])
    }

    @Test func writesAGIF() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-anim-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let animation = try StackAnimation(stack: try stack(frames: 2), quantity: .trainAccuracy)
        try animation.write(to: folder + "/a.gif", scale: 0.5)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/a.gif")))
        #expect(Array(bytes[0..<6]) == Array("GIF89a".utf8))
        #expect(Int(bytes[6]) | Int(bytes[7]) << 8 == 300 && bytes.last == 0x3B)
    }

    @Test func unusableStacksAreRefused() throws {
        #expect(throws: PlotError.self) { try StackAnimation(stack: try stack(), quantity: .testLoss) }
        var file = try stack().file
        file.values[.trainLoss] = file.values[.trainLoss]!.map { _ in .nan }
        #expect(throws: PlotError.self) { try StackAnimation(stack: try SurfaceStack(file: file, path: "x.h5")) }
    }
}
