import Foundation

/// Python, for checking Terrain's files and numbers against independent implementations (numpy,
/// h5py, safetensors, PyTorch). Two interpreters: the one for the file checks
/// (`$TERRAIN_TEST_PYTHON`, which `make test` sets to a python with numpy and h5py, else
/// `python3` from the PATH) and PyTorch's (`$TERRAIN_TORCH_PYTHON`, else the `.venv-torch` that
/// `make test` and `make bench` create).
public enum Python {
    /// The interpreter for the file checks: `$TERRAIN_TEST_PYTHON` unless unset or empty, else `python3`.
    public static var interpreter: String {
        ProcessInfo.processInfo.environment["TERRAIN_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    }

    /// PyTorch's interpreter: `$TERRAIN_TORCH_PYTHON`, else `.venv-torch/bin/python` in the package.
    public static let torchInterpreter: String = ProcessInfo.processInfo.environment["TERRAIN_TORCH_PYTHON"]
        ?? packageRoot.appendingPathComponent(".venv-torch/bin/python").path

    /// Whether `interpreter` exists and can import `module` (a comma-separated list imports several).
    public static func canImport(_ module: String) -> Bool {
        (try? run("import \(module)")) != nil
    }

    /// Whether the checks that need `module` run: where it can be imported, and always under
    /// `make test` (`CrossChecks`).
    public static func checksRun(importing module: String) -> Bool {
        CrossChecks.run { canImport(module) }
    }

    /// Whether the comparisons with PyTorch run: where its interpreter is an executable file, and
    /// always under `make test`, which creates it.
    public static let torchChecksRun: Bool = CrossChecks.run {
        FileManager.default.isExecutableFile(atPath: torchInterpreter)
    }

    /// Runs `script` with `arguments` as `sys.argv[1...]`, in `folder` when given (else this
    /// process's folder), and returns its standard output; throws `Command.Failure`, with the
    /// standard error, when the script fails.
    @discardableResult
    public static func run(_ script: String, arguments: [String] = [], in folder: String? = nil,
                           interpreter: String = Python.interpreter) throws -> String {
        try Command.run(interpreter, ["-c", script] + arguments, in: folder)
    }
}
