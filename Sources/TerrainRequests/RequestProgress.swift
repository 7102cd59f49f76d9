import Foundation
import TerrainLandscape

/// How a running request reports: a progress bar on standard error, and the lines a user reads
/// (what is about to be computed, which normalization the data got, resumed or damaged points).
/// Under `mpirun` only rank 0 reports.
public struct RequestProgress {
    /// Draw the progress bar (on standard error, only when it is a terminal).
    public var showsBar: Bool
    /// Receives each line, without its newline.
    public var log: (String) -> Void
    /// Receives notes about the work under way that are no part of its report (which model of
    /// several is being measured, a file written): standard error in the program.
    public var status: (String) -> Void

    public init(showsBar: Bool = true, log: @escaping (String) -> Void = { print($0) },
                status: @escaping (String) -> Void = RequestProgress.standardError) {
        self.showsBar = showsBar
        self.log = log
        self.status = status
    }

    /// The program's way: a bar and notes unless `quiet`, lines on standard output.
    public static func standard(quiet: Bool = false) -> RequestProgress {
        let status: (String) -> Void = quiet ? { _ in } : { RequestProgress.standardError($0) }
        return RequestProgress(showsBar: !quiet, status: status)
    }

    /// Nothing at all.
    public static var silent: RequestProgress { RequestProgress(showsBar: false, log: { _ in }, status: { _ in }) }

    /// Writes a line to standard error.
    public static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A line from the rank that writes the files.
    func note(_ line: String) {
        if Distributed.world.isWriter { log(line) }
    }
}
