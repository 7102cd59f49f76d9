import Foundation
import TerrainLandscape

/// One panel of the viewer: a surface, or a stack of frames (an evolve stack: one surface per
/// checkpoint) that the frame slider and the play button step through.
public struct ViewerSurface: Sendable {
    public var name: String
    public var xLabel: String
    public var yLabel: String
    /// At least one.
    public var frames: [ViewerFrame]
    /// Panels of one scale group share a colour scale per quantity; each group has its own.
    /// A surface file's group is its data set (`dataSet(of:)`): a CNN's losses on images and a
    /// GPT's on text side by side are not comparable, and on one scale the smaller range
    /// would be one flat colour.
    public var scaleGroup: String

    public init(name: String, xLabel: String = "α", yLabel: String = "β", frames: [ViewerFrame], scaleGroup: String = "") {
        self.name = name; self.xLabel = xLabel; self.yLabel = yLabel; self.frames = frames; self.scaleGroup = scaleGroup
    }

    /// The data set a surface was computed on, from its `terrain.data` description
    /// ("fortunes context 32 train 128 test 128 subset 128 seed 0" → "fortunes"; a data file's
    /// name without its folder, "runs/story.txt train 176 test 44" → "story.txt", short enough
    /// for a colour bar's title); "" when the file does not say.
    public static func dataSet(of file: SurfaceFile) -> String {
        guard let description = file.textAttributes["terrain.data"] else { return "" }
        let ends = [description.range(of: " context ")?.lowerBound, description.range(of: " train ", options: .backwards)?.lowerBound]
        let name = ends.compactMap { $0 }.min().map { String(description[..<$0]) } ?? description
        return (name as NSString).lastPathComponent
    }

    /// A single surface file: one frame, axis titles as the static figures have them (PC
    /// percentages for a trajectory's plane, parameter names for a parameter plane).
    public init(file: SurfaceFile, name: String) {
        let labels = SurfaceFigures.principalComponentLabels(file)
        self.init(name: name, xLabel: labels?.x ?? SurfaceFigures.axisLabel(file, "x"),
                  yLabel: labels?.y ?? SurfaceFigures.axisLabel(file, "y"),
                  frames: [ViewerFrame(file: file, name: name, label: ViewerFrame.describe(file, name: nil))],
                  scaleGroup: Self.dataSet(of: file))
    }

    /// A panel for any surface file: an evolve stack (`SurfaceStack`: one frame per checkpoint,
    /// captioned with its epoch, loss and accuracy) or a single surface.
    public static func panel(file: SurfaceFile, name: String) throws -> ViewerSurface {
        guard file.frameCount != nil else { return ViewerSurface(file: file, name: name) }
        let stack = try SurfaceStack(file: file, path: name)
        var surface = ViewerSurface(file: stack.surface(at: 0), name: name)
        surface.scaleGroup = dataSet(of: file)
        surface.frames = stack.frames.indices.map { k in
            ViewerFrame(file: stack.surface(at: k), name: name, label: stack.frames[k].label)
        }
        return surface
    }

    /// A stack: one frame per file, in the order given, with the axis titles of the first.
    /// `labels` (one per file) replace `ViewerFrame.describe`'s.
    public static func stack(name: String, files: [(name: String, file: SurfaceFile)], labels: [String]? = nil) throws -> ViewerSurface {
        guard let first = files.first else { throw LandscapeError.invalidRequest("a stack needs at least one surface") }
        if let stacked = files.first(where: { $0.file.frameCount != nil }) {
            throw LandscapeError.invalidRequest("\(stacked.name) is already a stack of frames (terrain evolve): view it without --frames")
        }
        guard files.allSatisfy({ $0.file.grid.isTwoDimensional == first.file.grid.isTwoDimensional }) else {
            throw LandscapeError.invalidRequest("the frames of a stack are all 1D or all 2D: \(files.map(\.name).joined(separator: ", ")) mix them")
        }
        if let labels, labels.count != files.count {
            throw LandscapeError.invalidRequest("\(labels.count) frame labels for \(files.count) frames")
        }
        var surface = ViewerSurface(file: first.file, name: name)
        surface.frames = files.enumerated().map { k, entry in ViewerFrame(file: entry.file, name: entry.name, label: labels?[k]) }
        return surface
    }
}
