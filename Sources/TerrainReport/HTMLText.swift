/// Text for HTML content and attribute values: every page Terrain writes (the viewer, figure
/// indexes, run pages, `terrain serve`'s listing) escapes through this one function.
public func escapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        .replacingOccurrences(of: "'", with: "&#39;")
}

/// The opening of the dashboard's pages (the server's listing, run pages): doctype, title, no
/// favicon request, and the style they share (font, grey page, white sections, links), followed
/// by `style`, the page's own rules. The caller closes `<style>` and `<head>`.
public func dashboardPageHead(title: String, style: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>\(escapeHTML(title))</title>
    <link rel="icon" href="data:,">
    <style>
    body { font: 14px "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 0; padding: 18px 26px 40px; background: #f4f5f7; color: #222; }
    h1 { font-size: 21px; margin: 0 0 4px; font-weight: 600; }
    section { background: #fff; border: 1px solid #d8d8de; border-radius: 8px; padding: 10px 14px; margin-bottom: 12px; }
    a { color: #2f6db5; text-decoration: none; } a:hover { text-decoration: underline; }

    """ + style
}
