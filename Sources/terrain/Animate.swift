import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainPlot
import TerrainReport

extension AnimationView: ExpressibleByArgument {}

struct Animate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a stack of surfaces (written by `terrain evolve`) as an animation: GIF, or MP4/WebM through ffmpeg.",
        discussion: """
        One frame per checkpoint: the contour view (the checkpoint marked; on a fixed PCA plane, \
        the path so far) or the 3D view, every frame on one colour scale (and z range), with the \
        epoch, iteration, loss and accuracy in its caption. The format follows each --out's \
        extension: .gif is encoded by Terrain (one palette for the animation: exact when the \
        frames have at most 256 colours, median cut otherwise); .mp4 (H.264) and .webm (VP9) \
        need ffmpeg on the PATH. Several --out render the frames once.
        """)

    @Argument(help: "A stack file written by `terrain evolve`.") var stack: String
    @Option(help: "Output file(s): .gif, .mp4 or .webm (default: STACK with .gif).") var out: [String] = []
    @Option(help: "contour or 3d.") var view: AnimationView = .contour
    @Option(help: "Quantity drawn.") var quantity: SurfaceQuantity = .trainLoss
    @Option(help: "Frames per second.") var fps: Double = 4
    @Option(help: "Seconds the last frame stays before the animation starts again.") var hold: Double = 1
    @Option(help: ArgumentHelp("GIF dithering: none, ordered, floyd-steinberg or auto (none for contour, ordered for 3d).", valueName: "method"))
    var dither: String = "auto"
    @Option(help: "GIF: times to play (0: loop for ever).") var loop: Int = 0
    @Option(help: "Pixels per point (a contour frame is 600 x 510 points).") var scale: Double = 1.25
    @Option(help: "Also write every frame as a PNG into this folder (frame-0000.png, …).") var pngFrames: String?
    @OptionGroup var look: FigureStyleOptions

    func validate() throws {
        try OptionCheck.outputs(files: out, folders: [pngFrames].compactMap { $0 })
    }

    func run() throws {
        try failing {
            guard scale.isFinite, scale > 0, scale <= 8 else { throw ValidationError("--scale must be above 0 and at most 8") }
            guard (0...65535).contains(loop) else { throw ValidationError("--loop must be 0 (for ever) to 65535, got \(loop)") }
            guard fps.isFinite, fps > 0, fps <= 100 else { throw ValidationError("--fps must be above 0 and at most 100") }
            guard hold.isFinite, hold >= 0, hold <= 600 else { throw ValidationError("--hold must be 0 to 600 seconds") }
            var options = AnimationOptions()
            options.framesPerSecond = fps
            options.holdLast = hold
            // The NETSCAPE count is of repetitions after the first play (0: for ever); playing once
            // is the absence of the extension.
            options.loopCount = loop == 0 ? 0 : (loop == 1 ? nil : loop - 1)
            switch dither.lowercased() {
            case "auto": options.dithering = view == .contour ? .none : .ordered
            default:
                guard let d = Dithering(rawValue: dither.lowercased()) else {
                    throw ValidationError("--dither takes none, ordered, floyd-steinberg or auto")
                }
                options.dithering = d
            }
            let outputs = out.isEmpty ? [(stack.hasSuffix(".h5") ? String(stack.dropLast(3)) : stack) + ".gif"] : out
            for path in outputs {
                let format = try AnimationFormat(path: path)
                if format.needsFFmpeg && FFmpegVideo.executable == nil {
                    throw PlotError.cannotWrite(path, "writing .\(format.rawValue) needs ffmpeg, which is not on the PATH (Debian: apt-get install ffmpeg, or `make deps`); .gif needs nothing")
                }
            }
            let surfaces = try SurfaceStack.read(from: stack)
            let animation = try StackAnimation(stack: surfaces, quantity: quantity, view: view, style: try look.figureStyle())
            let start = Date()
            var images: [RGBAImage] = []
            for k in 0..<surfaces.count {
                let canvas = try animation.render(frame: k, scale: scale)
                images.append(try canvas.rasterize())
                if let pngFrames {
                    try FileManager.default.createDirectory(atPath: pngFrames, withIntermediateDirectories: true)
                    try canvas.write(to: (pngFrames as NSString).appendingPathComponent(String(format: "frame-%04d.png", k)),
                                     format: .png)
                }
            }
            print(String(format: "%d frames of %dx%d pixels drawn in %.1f s", images.count, images[0].width, images[0].height,
                         Date().timeIntervalSince(start)))
            for path in outputs {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
                let begin = Date()
                try AnimationWriter.write(images, to: path, options: options)
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                print(String(format: "written %@ (%.1f MB) in %.1f s", path, Double(size) / 1e6, Date().timeIntervalSince(begin)))
            }
        }
    }
}
