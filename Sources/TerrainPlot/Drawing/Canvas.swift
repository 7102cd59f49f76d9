import CCairo
import Foundation

/// The file formats a figure is written in.
public enum FigureFormat: String, Sendable, CaseIterable {
    case png, svg, pdf

    /// From a name or a file extension ("png", ".SVG").
    public init(name: String) throws {
        let key = name.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        guard let format = FigureFormat(rawValue: key) else { throw PlotError.unknownFormat(name) }
        self = format
    }
}

/// Where text is anchored relative to its reference point.
public enum TextAnchor: Sendable {
    case left, center, right
}
public enum TextBaseline: Sendable {
    case top, middle, bottom
}

/// One page to draw on, in points (1/72 in; one pixel at `scale` 1), origin top left, y down.
///
/// A thin layer over a Cairo context: paths, strokes, fills, text in DejaVu Sans and raster
/// images. `write(to:)` renders the page to PNG, SVG or PDF; vector formats stay vector.
/// Drawing is recorded once and replayed into the file's surface, so one canvas can be written in
/// several formats.
public final class Canvas {
    public let width: Double
    public let height: Double
    /// Pixels per point in PNG output.
    public let scale: Double
    let surface: OpaquePointer
    let context: OpaquePointer

    public static let fontFamily = "DejaVu Sans"

    public init(width: Double, height: Double, scale: Double = 2) {
        self.width = width
        self.height = height
        self.scale = scale
        var extents = cairo_rectangle_t(x: 0, y: 0, width: width, height: height)
        surface = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents)
        context = cairo_create(surface)
        cairo_select_font_face(context, Self.fontFamily, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
        fill(rectangle: PlotRect(0, 0, width, height), with: .white)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    // MARK: State

    /// Runs `body` with the drawing state (colour, clip, transform, line style) saved and restored.
    public func withSavedState<R>(_ body: () throws -> R) rethrows -> R {
        cairo_save(context)
        defer { cairo_restore(context) }
        return try body()
    }

    /// Restricts drawing to a rectangle until the enclosing `withSavedState` ends.
    public func clip(to rect: PlotRect) {
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
    }

    /// Runs `body` with anti-aliasing off: adjacent cells of a heat map then meet without seams.
    public func withoutAntialiasing(_ body: () -> Void) {
        withSavedState {
            cairo_set_antialias(context, CAIRO_ANTIALIAS_NONE)
            body()
        }
    }

    // MARK: Paths

    public func setColor(_ c: Color) { cairo_set_source_rgba(context, c.red, c.green, c.blue, c.alpha) }

    /// Strokes a polyline (closed: back to its first point).
    public func stroke(_ points: [PlotPoint], color: Color, width: Double = 1, dash: [Double] = [], closed: Bool = false) {
        guard points.count >= 2 else { return }
        path(points, closed: closed)
        setColor(color)
        cairo_set_line_width(context, width)
        cairo_set_dash(context, dash, Int32(dash.count), 0)
        cairo_stroke(context)
        cairo_set_dash(context, nil, 0, 0)
    }

    /// Fills a polygon (even-odd rule: holes in rings that lie inside others).
    public func fill(_ points: [PlotPoint], with color: Color) {
        guard points.count >= 3 else { return }
        path(points, closed: true)
        setColor(color)
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_EVEN_ODD)
        cairo_fill(context)
    }

    /// Fills several rings as one path: a polygon with holes (`evenOdd`), or many polygons of one
    /// orientation that tile a region (`evenOdd: false`, the non-zero rule, so a sliver where two
    /// of them overlap by rounding is not punched out).
    public func fill(rings: [[PlotPoint]], with color: Color, outline: Double = 0, evenOdd: Bool = true) {
        cairo_new_path(context)
        for ring in rings where ring.count >= 3 { path(ring, closed: true, newPath: false) }
        setColor(color)
        cairo_set_fill_rule(context, evenOdd ? CAIRO_FILL_RULE_EVEN_ODD : CAIRO_FILL_RULE_WINDING)
        if outline > 0 {
            // A hairline of the same colour closes the anti-aliasing seams between adjacent polygons.
            cairo_fill_preserve(context)
            cairo_set_line_width(context, outline)
            cairo_stroke(context)
        } else {
            cairo_fill(context)
        }
    }

    public func fill(rectangle r: PlotRect, with color: Color) {
        cairo_rectangle(context, r.x, r.y, r.width, r.height)
        setColor(color)
        cairo_fill(context)
    }

    public func stroke(rectangle r: PlotRect, color: Color, width: Double = 1) {
        cairo_rectangle(context, r.x, r.y, r.width, r.height)
        setColor(color)
        cairo_set_line_width(context, width)
        cairo_stroke(context)
    }

    public func fillCircle(center: PlotPoint, radius: Double, color: Color, outline: Color? = nil, outlineWidth: Double = 1) {
        cairo_new_path(context)
        cairo_arc(context, center.x, center.y, radius, 0, 2 * Double.pi)
        setColor(color)
        if let outline {
            cairo_fill_preserve(context)
            setColor(outline)
            cairo_set_line_width(context, outlineWidth)
            cairo_stroke(context)
        } else {
            cairo_fill(context)
        }
    }

    private func path(_ points: [PlotPoint], closed: Bool, newPath: Bool = true) {
        if newPath { cairo_new_path(context) } else { cairo_new_sub_path(context) }
        cairo_move_to(context, points[0].x, points[0].y)
        for p in points.dropFirst() { cairo_line_to(context, p.x, p.y) }
        if closed { cairo_close_path(context) }
    }

    // MARK: Text

    /// Width and height of `text` at `size` points.
    public func measure(_ text: String, size: Double, bold: Bool = false) -> (width: Double, height: Double) {
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        return (extents.x_advance, size)
    }

    /// Draws `text` at `point`, rotated by `angle` radians (counter-clockwise on the page).
    public func text(_ text: String, at point: PlotPoint, size: Double = 11, color: Color = .text, bold: Bool = false,
                     anchor: TextAnchor = .left, baseline: TextBaseline = .bottom, angle: Double = 0) {
        guard !text.isEmpty else { return }
        withSavedState {
            selectFont(size: size, bold: bold)
            var extents = cairo_text_extents_t()
            cairo_text_extents(context, text, &extents)
            var fontExtents = cairo_font_extents_t()
            cairo_font_extents(context, &fontExtents)
            cairo_translate(context, point.x, point.y)
            cairo_rotate(context, -angle)
            let dx: Double = switch anchor {
            case .left: 0
            case .center: -extents.x_advance / 2
            case .right: -extents.x_advance
            }
            let dy: Double = switch baseline {
            case .top: fontExtents.ascent
            case .middle: (fontExtents.ascent - fontExtents.descent) / 2
            case .bottom: -fontExtents.descent
            }
            cairo_move_to(context, dx, dy)
            setColor(color)
            cairo_show_text(context, text)
        }
    }

    private func selectFont(size: Double, bold: Bool) {
        cairo_select_font_face(context, Self.fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
    }

    // MARK: Images

    /// Draws a raster of `columns` × `rows` colours (row 0 at the top) stretched over `rect`,
    /// without smoothing: one cell per value, as a heat map needs.
    public func image(_ pixels: [Color], columns: Int, rows: Int,
                      in rect: PlotRect) {
        precondition(pixels.count == columns * rows)
        guard columns > 0, rows > 0 else { return }
        let image = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(columns), Int32(rows))!
        defer { cairo_surface_destroy(image) }
        cairo_surface_flush(image)
        let stride = Int(cairo_image_surface_get_stride(image))
        let data = cairo_image_surface_get_data(image)!
        for r in 0..<rows {
            let row = (data + r * stride).withMemoryRebound(to: UInt32.self, capacity: columns) { $0 }
            for c in 0..<columns {
                let p = pixels[r * columns + c]
                // Premultiplied ARGB, native endian.
                func byte(_ v: Double) -> UInt32 { UInt32((min(max(v, 0), 1) * 255).rounded()) }
                let a = byte(p.alpha)
                row[c] = a << 24 | byte(p.red * p.alpha) << 16 | byte(p.green * p.alpha) << 8 | byte(p.blue * p.alpha)
            }
        }
        cairo_surface_mark_dirty(image)
        withSavedState {
            cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
            cairo_clip(context)
            cairo_translate(context, rect.x, rect.y)
            cairo_scale(context, rect.width / Double(columns), rect.height / Double(rows))
            cairo_set_source_surface(context, image, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_NEAREST)
            cairo_paint(context)
        }
    }

    // MARK: Output

    /// Writes the page to `path` in `format` (by default from the extension). The file appears
    /// whole or not at all (`PlotOutput`: written beside it, synced, then renamed).
    public func write(to path: String, format: FigureFormat? = nil) throws {
        let format = try format ?? FigureFormat(name: (path as NSString).pathExtension)
        let bytes = try encoded(format, naming: path)
        try PlotOutput.write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                throw PlotError.cannotWrite(path, "the file could not be created")
            }
        }
    }

    /// The page as the bytes of a PNG, SVG or PDF file, made in memory: what `terrain serve`
    /// sends without touching the disk, and what `write(to:)` writes.
    public func encoded(_ format: FigureFormat) throws -> [UInt8] {
        try encoded(format, naming: "the \(format.rawValue.uppercased()) figure")
    }

    /// Cairo hands the encoded bytes to a C callback, which appends them to `Sink` through the
    /// closure's context pointer (a C function pointer cannot capture).
    private final class Sink { var bytes: [UInt8] = [] }

    private func encoded(_ format: FigureFormat, naming what: String) throws -> [UInt8] {
        let sink = Sink()
        let closure = Unmanaged.passUnretained(sink).toOpaque()
        let append: cairo_write_func_t = { context, data, length in
            guard let context, let data else { return CAIRO_STATUS_WRITE_ERROR }
            Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue().bytes
                .append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }
        try withExtendedLifetime(sink) {
            let target: OpaquePointer
            switch format {
            case .png:
                target = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32((width * scale).rounded(.up)),
                                                    Int32((height * scale).rounded(.up)))
            case .svg:
                target = cairo_svg_surface_create_for_stream(append, closure, width, height)
            case .pdf:
                target = cairo_pdf_surface_create_for_stream(append, closure, width, height)
            }
            defer { cairo_surface_destroy(target) }
            try check(cairo_surface_status(target), what)
            let cr = cairo_create(target)
            if format == .png { cairo_scale(cr, scale, scale) }
            cairo_set_source_surface(cr, surface, 0, 0)
            cairo_paint(cr)
            let drawStatus = cairo_status(cr)
            cairo_destroy(cr)
            try check(drawStatus, what)
            if format == .png {
                try check(cairo_surface_write_to_png_stream(target, append, closure), what)
            } else {
                cairo_surface_finish(target)
                try check(cairo_surface_status(target), what)
            }
        }
        return sink.bytes
    }

    private func check(_ status: cairo_status_t, _ path: String) throws {
        guard status == CAIRO_STATUS_SUCCESS else {
            throw PlotError.cannotWrite(path, String(cString: cairo_status_to_string(status)))
        }
    }
}

/// A PNG read back through Cairo: size and pixels, for tests and checks.
public struct DecodedPNG {
    public let width: Int
    public let height: Int
    /// Non-premultiplied colours, row-major from the top.
    public let pixels: [Color]

    public init(path: String) throws {
        guard let surface = cairo_image_surface_create_from_png(path) else { throw PlotError.invalidData("\(path): not readable") }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw PlotError.invalidData("\(path): \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
        cairo_surface_flush(surface)
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let format = cairo_image_surface_get_format(surface)
        let data = cairo_image_surface_get_data(surface)!
        var pixels: [Color] = []
        pixels.reserveCapacity(width * height)
        for r in 0..<height {
            let row = (data + r * stride).withMemoryRebound(to: UInt32.self, capacity: width) { $0 }
            for c in 0..<width {
                let v = row[c]
                let a = format == CAIRO_FORMAT_RGB24 ? 1.0 : Double(v >> 24) / 255
                let scale = a > 0 ? 1 / (255 * a) : 0
                pixels.append(Color(red: Double((v >> 16) & 0xff) * scale, green: Double((v >> 8) & 0xff) * scale,
                                    blue: Double(v & 0xff) * scale, alpha: a))
            }
        }
        self.pixels = pixels
    }

    public subscript(x: Int, y: Int) -> Color { pixels[y * width + x] }
}
