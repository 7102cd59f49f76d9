import CCairo

/// A raster of 8-bit RGBA pixels, row-major from the top, not premultiplied: one frame of an
/// animation, as the GIF encoder and ffmpeg (`-pix_fmt rgba`) take it.
public struct RGBAImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 4 bytes per pixel (red, green, blue, alpha); pixel (x, y) starts at 4·(y·width + x).
    public var bytes: [UInt8]

    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(width >= 0 && height >= 0 && bytes.count == 4 * width * height, "\(bytes.count) bytes for \(width)x\(height) pixels")
        self.width = width; self.height = height; self.bytes = bytes
    }

    /// An image of one colour.
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8, a: UInt8) = (255, 255, 255, 255)) {
        self.init(width: width, height: height, bytes: [UInt8]((0..<(width * height)).flatMap { _ in [fill.r, fill.g, fill.b, fill.a] }))
    }

    /// The pixel's 24-bit colour 0xRRGGBB (alpha ignored).
    public func rgb(x: Int, y: Int) -> UInt32 {
        let i = 4 * (y * width + x)
        return UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
    }
}

extension Canvas {
    /// The page rendered to pixels at `scale` (default: the canvas's PNG scale), composited on
    /// white: the pixels `write(to:)` would put in a PNG, for animation frames.
    public func rasterize(scale: Double? = nil) throws -> RGBAImage {
        let scale = scale ?? self.scale
        let width = Int((self.width * scale).rounded(.up)), height = Int((self.height * scale).rounded(.up))
        guard width > 0, height > 0, width <= 32767, height <= 32767 else {
            throw PlotError.invalidData("cannot rasterize a page of \(width)x\(height) pixels")
        }
        // Cairo's RGB24: opaque, 32 bits per pixel, 0xXXRRGGBB in native byte order.
        let target = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
        defer { cairo_surface_destroy(target) }
        guard cairo_surface_status(target) == CAIRO_STATUS_SUCCESS else {
            throw PlotError.invalidData("cannot create a \(width)x\(height) image: \(String(cString: cairo_status_to_string(cairo_surface_status(target))))")
        }
        let cr = cairo_create(target)
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_scale(cr, scale, scale)
        cairo_set_source_surface(cr, surface, 0, 0)
        cairo_paint(cr)
        let status = cairo_status(cr)
        cairo_destroy(cr)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw PlotError.invalidData("cannot render the page: \(String(cString: cairo_status_to_string(status)))")
        }
        cairo_surface_flush(target)
        let stride = Int(cairo_image_surface_get_stride(target))
        guard let data = cairo_image_surface_get_data(target) else { throw PlotError.invalidData("the rendered image has no pixels") }
        var bytes = [UInt8](repeating: 255, count: 4 * width * height)
        bytes.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = (data + y * stride).withMemoryRebound(to: UInt32.self, capacity: width) { $0 }
                for x in 0..<width {
                    let v = row[x], o = 4 * (y * width + x)
                    out[o] = UInt8((v >> 16) & 0xff); out[o + 1] = UInt8((v >> 8) & 0xff); out[o + 2] = UInt8(v & 0xff)
                }
            }
        }
        return RGBAImage(width: width, height: height, bytes: bytes)
    }
}
