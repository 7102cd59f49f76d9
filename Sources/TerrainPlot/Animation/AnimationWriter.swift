import Foundation

/// The files an animation is written as, chosen by extension.
public enum AnimationFormat: String, Sendable, CaseIterable {
    /// Encoded by Terrain itself (`GIFEncoder`), always available.
    case gif
    /// H.264 in MP4 and VP9 in WebM, encoded by `ffmpeg` when it is on the PATH.
    case mp4, webm

    public init(path: String) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        guard let format = AnimationFormat(rawValue: ext) else {
            throw PlotError.unknownFormat("\(ext.isEmpty ? path : ext)' for an animation (gif, mp4 or webm)")
        }
        self = format
    }

    public var needsFFmpeg: Bool { self != .gif }
}

/// How an animation plays and how its colours are reduced.
public struct AnimationOptions: Sendable {
    /// Frames per second (GIF delays are whole hundredths of a second: 100/fps rounded).
    public var framesPerSecond: Double = 4
    /// Seconds the last frame stays before the animation loops.
    public var holdLast: Double = 1
    /// GIF only: how colours the palette lacks are approximated.
    public var dithering: Dithering = .none
    /// GIF only: nil plays once, 0 loops for ever.
    public var loopCount: Int? = 0

    public init() {}
}

/// Writes frames (all of one size) as a GIF, MP4 or WebM file; the file appears whole or not
/// at all (`PlotOutput`: written beside its path, synced, then renamed).
public enum AnimationWriter {
    public static func write(_ frames: [RGBAImage], to path: String, options: AnimationOptions = AnimationOptions()) throws {
        let format = try AnimationFormat(path: path)
        guard let first = frames.first else { throw PlotError.invalidData("an animation needs at least one frame") }
        guard frames.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw PlotError.invalidData("the frames of an animation must all have one size")
        }
        guard options.framesPerSecond.isFinite, options.framesPerSecond > 0, options.framesPerSecond <= 100 else {
            throw PlotError.invalidData("frames per second must be above 0 and at most 100, not \(options.framesPerSecond)")
        }
        guard options.holdLast.isFinite, options.holdLast >= 0, options.holdLast <= 600 else {
            throw PlotError.invalidData("the last frame's hold is 0 to 600 seconds, not \(options.holdLast)")
        }
        try PlotOutput.write(to: path) { temporary in
            switch format {
            case .gif:
                let data = try gif(frames, options: options)
                guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                    throw PlotError.cannotWrite(path, "cannot create the file (check the folder exists and is writable)")
                }
            case .mp4, .webm:
                try FFmpegVideo.encode(frames, format: format, options: options, to: temporary, naming: path)
            }
        }
    }

    /// The GIF file: one palette for every frame (`ColorPalette(for:)`), each frame's delay
    /// 100/fps hundredths of a second, the last one's longer by `holdLast`.
    public static func gif(_ frames: [RGBAImage], options: AnimationOptions = AnimationOptions()) throws -> Data {
        guard let first = frames.first else { throw PlotError.invalidData("an animation needs at least one frame") }
        let palette = ColorPalette(for: frames)
        var encoder = try GIFEncoder(width: first.width, height: first.height, palette: palette, loopCount: options.loopCount)
        let delay = max(1, Int((100 / options.framesPerSecond).rounded()))
        for (k, frame) in frames.enumerated() {
            let hold = k == frames.count - 1 ? Int((100 * options.holdLast).rounded()) : 0
            try encoder.addFrame(indices: palette.indices(of: frame, dithering: options.dithering), delay: min(65535, delay + hold))
        }
        return Data(encoder.encoded())
    }
}
