import Foundation

/// What one client may cost the server: how much a request may load, how long it may take, how
/// long a connection may sit without a complete request, and how many connections and pieces
/// of heavy work there are at once. The defaults suit one person browsing their runs; every
/// limit is an option of `terrain serve`.
public struct ServerLimits: Sendable {
    /// The most grid values one request may load: the largest dataset of each surface it
    /// opens (len(y) × len(x), times the frames of a stack), summed over the surfaces of a
    /// comparison. Checked from the datasets' shapes before any value is read; beyond it the
    /// answer is 413. A 1000 × 1000 surface is a viewer page of about 25 MB and needs a few
    /// hundred MB while it is built; the default allows that, not ten of them.
    public var maxGridPoints = 1_000_000
    /// How long a request's heavy work (reading surfaces, building a viewer page, reading a
    /// file) may take, waiting for a worker included. Past it the answer is 503 and the work is
    /// left to finish on its own thread, so a damaged file that makes the HDF5 library loop
    /// costs one worker, not the server.
    public var requestTimeout: Duration = .seconds(60)
    /// How many pieces of heavy work run at once, each on a thread of its own (never on the
    /// threads that answer requests, so the listing stays fast while surfaces load).
    public var concurrentLoads = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount - 1))
    /// How long a request's head (request line and headers) may take to arrive once it has
    /// started, and how long a new connection may wait before sending one: a client that sends
    /// half a header and stops is disconnected after this.
    public var headerTimeout: Duration = .seconds(10)
    /// How long a connection may stay open with no request in progress (keep-alive).
    public var idleTimeout: Duration = .seconds(60)
    /// The most connections open at once; further ones wait in the kernel's queue until one
    /// closes.
    public var maxConnections = 128
    /// How long the listing waits for HDF5 files it has not described before (in a worker of
    /// its own); files not described by then are listed as not examined yet.
    public var listingProbeWait: Duration = .milliseconds(500)

    public init() {}
}
