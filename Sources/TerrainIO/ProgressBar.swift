import Foundation

/// A one-line progress display on standard error: redrawn in place on a terminal (at most ten
/// times a second), or printed every tenth of the way when output goes to a file or a pipe.
public final class ProgressBar {
    private let total: Int
    private let label: String
    /// Work finished before this process started (a resumed run): not counted in the rate.
    private let initial: Int
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    public var enabled = true

    public init(total: Int, label: String, alreadyDone: Int = 0) {
        self.total = max(total, 1)
        self.label = label
        initial = alreadyDone
    }

    /// Shows `done` of `total` with extra fields ("loss 0.412  acc 87.1%  1520 img/s").
    public func update(_ done: Int, _ fields: String) {
        guard enabled else { return }
        let now = Date()
        let fraction = Double(done) / Double(total)
        let elapsed = now.timeIntervalSince(start)
        let eta = done > initial ? elapsed * Double(total - done) / Double(done - initial) : 0
        if isTerminal {
            guard now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
            lastDraw = now
            let width = 24, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = "\r\(label) \(bar) \(done)/\(total)  \(fields)  eta \(Self.clock(eta))\u{1B}[K"
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            let decile = Int(fraction * 10)
            guard decile > lastDecile else { return }
            lastDecile = decile
            FileHandle.standardError.write(Data("\(label) \(done)/\(total)  \(fields)  eta \(Self.clock(eta))\n".utf8))
        }
    }

    /// Ends the line (terminal) so that the next output starts on its own line.
    public func finish() {
        if enabled && isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
