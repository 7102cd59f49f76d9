import Foundation

/// The rule for checks that need something from outside the package (a Python module, PyTorch,
/// Debian's Fashion-MNIST): they run where it is present, and always under `make test`
/// (`TERRAIN_REQUIRE_CROSSCHECKS=1`), which installs it, so that a missing tool fails those
/// checks there instead of skipping them.
public enum CrossChecks {
    /// Whether this run requires every cross-check (`make test` sets `TERRAIN_REQUIRE_CROSSCHECKS=1`).
    public static var required: Bool {
        ProcessInfo.processInfo.environment["TERRAIN_REQUIRE_CROSSCHECKS"] == "1"
    }

    /// Whether checks that need what `available` looks for run: always when `required`,
    /// otherwise where `available` says it is present (not evaluated when required).
    public static func run(where available: () -> Bool) -> Bool {
        required || available()
    }
}
