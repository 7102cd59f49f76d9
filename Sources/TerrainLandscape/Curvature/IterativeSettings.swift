/// The settings every iterative curvature method takes (a step budget and a stopping
/// tolerance), checked once, with one wording of the error: Lanczos, power iteration,
/// Hutchinson's estimator and curvature maps all call these rather than each writing the
/// guards again.
enum IterativeSettings {
    /// Throws unless `count` ≥ 1: "`method` needs at least 1 `step`, not `count`".
    static func requireSteps(_ count: Int, method: String, step: String = "iteration") throws {
        guard count >= 1 else {
            throw LandscapeError.invalidRequest("\(method) needs at least 1 \(step), not \(count)")
        }
    }

    /// Throws unless `tolerance` is finite and ≥ 0 (0: run the whole budget).
    static func requireTolerance(_ tolerance: Double) throws {
        guard tolerance.isFinite, tolerance >= 0 else {
            throw LandscapeError.invalidRequest("the tolerance must be a finite number ≥ 0, not \(tolerance)")
        }
    }

    /// Throws unless `block`, the products asked for at once (`SymmetricOperator.apply(block:)`),
    /// is at least 1.
    static func requireBlock(_ block: Int) throws {
        guard block >= 1 else {
            throw LandscapeError.invalidRequest("a block of probes needs at least 1 vector, not \(block)")
        }
    }
}
