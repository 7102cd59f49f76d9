/// The format tag of `HDF5Error`.
public enum HDF5Format {}

/// A problem with an HDF5 file: it cannot be opened or created, it is not HDF5 or is damaged,
/// an object is missing or has the wrong kind, type or shape, or values do not fit a shape.
///
/// Surface and direction files come from other programs and interrupted runs, so every defect is
/// reported as a thrown error naming the file (`source`, as given to `HDF5File.init`) and what is
/// wrong, never as a crash. Where the HDF5 library gave a reason, the problem ends with it in
/// parentheses.
public typealias HDF5Error = FileFormatError<HDF5Format>
