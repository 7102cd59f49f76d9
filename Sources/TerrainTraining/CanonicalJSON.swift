import Foundation

/// JSON with sorted keys: the same value always gives the same bytes. Swift seeds its hashing
/// per process, so unsorted keys would make otherwise identical checkpoints differ.
func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
}
