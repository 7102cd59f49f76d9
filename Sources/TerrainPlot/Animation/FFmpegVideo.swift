import Foundation

/// MP4 (H.264) and WebM (VP9) through the `ffmpeg` program: raw RGBA frames are piped to its
/// standard input (`-f rawvideo -pix_fmt rgba`), so nothing but the finished video touches the
/// disk. The picture is padded with white to even dimensions (4:2:0 chroma needs them); the
/// last frame is repeated to last `holdLast` seconds.
public enum FFmpegVideo {
    /// The `ffmpeg` on the PATH, or nil.
    public static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/ffmpeg"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The codec arguments of each format: quality-based rate control, widely playable pixels.
    static func codecArguments(_ format: AnimationFormat) -> [String] {
        switch format {
        case .mp4: ["-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]
        case .webm: ["-c:v", "libvpx-vp9", "-crf", "30", "-b:v", "0", "-pix_fmt", "yuv420p", "-f", "webm"]
        case .gif: []
        }
    }

    /// Encodes `frames` into `path` (a temporary name; `naming` is the file the user asked for,
    /// for messages).
    static func encode(_ frames: [RGBAImage], format: AnimationFormat, options: AnimationOptions, to path: String,
                       naming: String) throws {
        guard let ffmpeg = executable else {
            throw PlotError.cannotWrite(naming, "writing .\(format.rawValue) needs ffmpeg, which is not on the PATH: install it (Debian: apt-get install ffmpeg, or `make deps`) or write a .gif")
        }
        let first = frames[0]
        let repeats = Int((options.holdLast * options.framesPerSecond).rounded())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                             "-f", "rawvideo", "-pix_fmt", "rgba", "-s", "\(first.width)x\(first.height)",
                             "-framerate", "\(options.framesPerSecond)", "-i", "pipe:0",
                             "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:0:0:white"] + codecArguments(format) + [path]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        // ffmpeg's messages go to a file: a pipe nobody reads while frames are written could fill and stall it.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-ffmpeg-\(getpid()).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil),
              let logHandle = try? FileHandle(forWritingTo: log) else {
            throw PlotError.cannotWrite(naming, "cannot create a temporary file for ffmpeg's messages in \(log.deletingLastPathComponent().path)")
        }
        defer { try? FileManager.default.removeItem(at: log) }
        process.standardError = logHandle
        // A write to an ffmpeg that has exited must be an error to report, not a fatal SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch {
            throw PlotError.cannotWrite(naming, "cannot start \(ffmpeg): \(error)")
        }
        var writeError: Error?
        do {
            for frame in frames + Array(repeating: frames[frames.count - 1], count: repeats) {
                try input.fileHandleForWriting.write(contentsOf: Data(frame.bytes))
            }
        } catch {
            writeError = error
        }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? logHandle.close()
        let messages = (try? String(contentsOf: log, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard process.terminationStatus == 0, writeError == nil else {
            let why = messages.isEmpty ? writeError.map { "\($0)" } ?? "exit status \(process.terminationStatus)" : messages
            throw PlotError.cannotWrite(naming, "ffmpeg failed: \(why)")
        }
    }
}
