/// Text for HTML content and attribute values: every page Terrain writes (the viewer, figure
/// indexes, run pages, `terrain serve`'s listing) escapes through this one function.
public func escapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        .replacingOccurrences(of: "'", with: "&#39;")
}
