import Foundation
import TerrainPlot

/// The JSON a viewer page embeds (`<script type="application/json" id="terrain-data">`).
///
/// Grids are little-endian float32 arrays in base64: compact (a 51×51 grid of four quantities is
/// 55 kB), and float32 has NaN and ±∞, which JSON numbers cannot carry. A finite value beyond
/// float32's range (above 3.4e38) becomes ±∞, i.e. is drawn as diverged. Coordinates and paths,
/// always finite, are plain JSON numbers. Colour maps are the anchors of `TerrainPlot.ColorMap`
/// as [r, g, b] in 0…1, interpolated in the page exactly as `ColorMap.color(at:)` does.
struct ViewerPayload: Encodable {
    struct Frame: Encodable {
        var label: String
        var x: [Double]
        var y: [Double]
        /// Quantity names in display order; `values[name]` is the base64 float32 grid.
        var order: [String]
        var values: [String: String]
        var path: Path?
        /// `terrain analyze`'s findings by quantity; absent when the file holds none.
        var topology: [String: Topology]?
        /// A 1D ensemble's mean ± std band by quantity (base64 float32 bounds); absent otherwise.
        var bands: [String: Band]?
    }
    struct Band: Encodable {
        var lower: String
        var upper: String
    }
    struct Topology: Encodable {
        var minima: [[Double]]
        var saddles: [[Double]]
        var maxima: [[Double]]
        var outlines: [[[Double]]]
    }
    struct Path: Encodable {
        var x: [Double]
        var y: [Double]
        var iterations: [Double]?
        var drops: [Int]
    }
    struct Surface: Encodable {
        var name: String
        var xLabel: String
        var yLabel: String
        var frames: [Frame]
        /// Surfaces of one group share a colour scale (`ViewerSurface.scaleGroup`).
        var scaleGroup: String
    }
    struct Initial: Encodable {
        var quantity: String?
        var colorMap: String
        var logarithmic: Bool?
        var frame: Int
    }

    var title: String
    var colorMaps: [String: [[Double]]]
    var colorMapOrder: [String]
    var missingColor: [Double]
    var divergedColor: [Double]
    /// Points whose loss was computed and is NaN (stored with the sign bit set).
    var invalidColor: [Double]
    var initial: Initial
    var surfaces: [Surface]

    init(_ document: ViewerDocument) {
        func rgb(_ c: Color) -> [Double] { [c.red, c.green, c.blue].map { ($0 * 1e4).rounded() / 1e4 } }
        title = document.title
        colorMaps = Dictionary(uniqueKeysWithValues: ColorMap.all.map { ($0.name, $0.anchors.map(rgb)) })
        colorMapOrder = ColorMap.all.map(\.name)
        missingColor = rgb(.missing)
        divergedColor = rgb(ContourChart.divergedColor)
        invalidColor = rgb(.invalid)
        initial = Initial(quantity: document.quantity, colorMap: document.colorMap.name, logarithmic: document.logarithmic, frame: document.frame)
        surfaces = document.surfaces.map { s in
            Surface(name: s.name, xLabel: s.xLabel, yLabel: s.yLabel, frames: s.frames.map { f in
                Frame(label: f.label, x: f.x, y: f.y, order: f.quantities.map(\.name),
                      values: Dictionary(f.quantities.map { ($0.name, Self.base64Float32($0.values)) }, uniquingKeysWith: { a, _ in a }),
                      path: f.path.map { Path(x: $0.x, y: $0.y, iterations: $0.iterations, drops: $0.drops) },
                      topology: f.topology.isEmpty ? nil : f.topology.mapValues {
                          Topology(minima: $0.minima, saddles: $0.saddles, maxima: $0.maxima, outlines: $0.outlines)
                      },
                      bands: f.bands.isEmpty ? nil : f.bands.mapValues {
                          Band(lower: Self.base64Float32($0.lower), upper: Self.base64Float32($0.upper))
                      })
            }, scaleGroup: s.scaleGroup)
        }
    }

    /// Little-endian IEEE float32, base64: what the page's `decodeFloat32` reads. A NaN keeps
    /// its sign bit (set: computed and NaN; clear: not computed), which the page reads back.
    static func base64Float32(_ values: [Double]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for v in values {
            let single: Float = v.isNaN ? (v.sign == .minus ? -Float.nan : Float.nan) : Float(v)
            let bits = single.bitPattern.littleEndian
            bytes += [UInt8(bits & 0xff), UInt8((bits >> 8) & 0xff), UInt8((bits >> 16) & 0xff), UInt8(bits >> 24)]
        }
        return Data(bytes).base64EncodedString()
    }

    /// JSON safe to place inside a `<script>` element: `<` is written as `\u003c`, so no
    /// `</script>` or `<!--` in a name can end the element early.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .throw
        let text = String(decoding: try encoder.encode(self), as: UTF8.self)
        return text.replacingOccurrences(of: "<", with: "\\u003c")
    }
}
