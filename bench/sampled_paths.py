"""The sampled surface benchmark's paths and the options each adds to `terrain surface`, shared
by bench/sampled_surface.py (which runs them) and bench/run.py (which checks --sampled-paths
before an hour of other benchmarks). No third-party imports: run.py runs on the system Python."""

PATH_OPTIONS = {"tolerance": [], "adaptive": ["--adaptive"], "adaptive_bf16": ["--adaptive", "--precision", "bf16"]}


def unknown_paths(names):
    """The names in a comma-separated --paths value that are not paths, with the known ones for a message."""
    unknown = [name for name in names.split(",") if name not in PATH_OPTIONS]
    return unknown, ", ".join(PATH_OPTIONS)
