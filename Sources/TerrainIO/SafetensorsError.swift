/// The format tag of `SafetensorsError`.
public enum SafetensorsFormat {}

/// A problem with safetensors contents: a malformed file, or entries that cannot be written or
/// converted. `source` is a file path, `"<memory>"`, or a tensor's name.
///
/// Readers of checkpoints get files from anywhere (other programs, interrupted copies, other
/// people), so every defect is reported as a thrown error that names where the bytes came from
/// and what is wrong with them, never as a crash.
public typealias SafetensorsError = FileFormatError<SafetensorsFormat>
