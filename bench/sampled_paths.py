"""The sampled surface benchmark's paths and the options each adds to `terrain surface`, shared
by bench/sampled_surface.py (which runs them) and bench/run.py (which checks --sampled-paths
before an hour of other benchmarks). No third-party imports: run.py runs on the system Python."""

PATH_OPTIONS = {"tolerance": [], "adaptive": ["--adaptive"], "adaptive_bf16": ["--adaptive", "--precision", "bf16"]}
# Every path, in the order the benchmark runs them by default.
ALL_PATHS = ",".join(PATH_OPTIONS)


def paths_problem(names, option):
    """What is wrong with a comma-separated `option` value `names` (a name that is not a path), or None."""
    unknown = [name for name in names.split(",") if name not in PATH_OPTIONS]
    if unknown:
        return f"unknown path(s) {', '.join(unknown)} in {option} (known: {', '.join(PATH_OPTIONS)})"
    return None
