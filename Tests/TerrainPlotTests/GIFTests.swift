import Testing
import Foundation
@testable import TerrainPlot
import TerrainTestSupport

/// GIF encoding checked by decoding with the tests' own strict decoder (`DecodedGIF`); random
/// images from `SplitMix64`, the same on every run.
@Suite("GIF")
struct GIFTests {
    /// Random palette indices (`colors` of them) for a w × h frame.
    func randomIndices(_ w: Int, _ h: Int, colors: Int, generator: inout SplitMix64) -> [UInt8] {
        (0..<(w * h)).map { _ in UInt8(Int(generator.next() % UInt64(colors))) }
    }

    func palette(_ count: Int, generator: inout SplitMix64) -> ColorPalette {
        ColorPalette(colors: (0..<count).map { _ in UInt32(generator.next() & 0xff_ffff) })
    }

    func encode(_ frames: [[UInt8]], _ w: Int, _ h: Int, palette: ColorPalette, delays: [Int]? = nil, loop: Int? = 0) throws -> DecodedGIF {
        var encoder = try GIFEncoder(width: w, height: h, palette: palette, loopCount: loop)
        for (k, f) in frames.enumerated() { try encoder.addFrame(indices: f, delay: delays?[k] ?? 25) }
        return try DecodedGIF(encoder.encoded())
    }

    /// Random indices round-trip exactly, for palettes of every awkward size (2 colours: the
    /// minimum code size of 2; 3, 5, 129: tables padded to a power of two; 256: 8 bits), odd
    /// frame sizes, one frame and many.
    @Test(arguments: [(2, 1, 1, 1), (2, 7, 3, 1), (3, 13, 11, 4), (5, 1, 97, 2), (16, 31, 17, 9), (129, 64, 1, 3), (256, 257, 5, 2), (256, 61, 67, 12)])
    func randomFramesRoundTrip(colors: Int, width: Int, height: Int, frames count: Int) throws {
        var g = SplitMix64(seed: UInt64(colors * 1000 + width * 10 + height))
        let p = palette(colors, generator: &g)
        let frames = (0..<count).map { _ in randomIndices(width, height, colors: colors, generator: &g) }
        let delays = (0..<count).map { 5 + 7 * $0 }
        let decoded = try encode(frames, width, height, palette: p, delays: delays)
        #expect(decoded.width == width && decoded.height == height)
        #expect(decoded.frames.count == count)
        #expect(decoded.loopCount == 0)
        #expect(Array(decoded.palette.prefix(colors)) == p.colors)
        #expect(decoded.palette.count == 1 << max(1, Int(ceil(log2(Double(colors))))))
        for k in 0..<count {
            #expect(decoded.frames[k].indices == frames[k])
            #expect(decoded.frames[k].delay == delays[k])
            #expect(decoded.frames[k].disposal == 1)
            #expect(decoded.frames[k].minimumCodeSize == max(2, Int(ceil(log2(Double(colors))))))
        }
    }

    /// The table fills (4096 codes) and starts over many times: random 8-bit noise over a large
    /// frame, and low-entropy data whose strings grow long before the table is full. Every code
    /// width from m + 1 to 12 is crossed, and the end code is read at the width the decoder expects.
    @Test func theCodeTableFillsAndClears() throws {
        var g = SplitMix64(seed: 77)
        let p = palette(256, generator: &g)
        let noise = randomIndices(300, 200, colors: 256, generator: &g)
        let runs: [UInt8] = (0..<(400 * 300)).map { (i: Int) -> UInt8 in UInt8((i / 37 + i / 1013) % 7) }
        let a = try encode([noise], 300, 200, palette: p)
        #expect(a.frames[0].indices == noise)
        #expect(a.frames[0].clears >= 10)
        let b = try encode([runs], 400, 300, palette: p)
        #expect(b.frames[0].indices == runs)
        #expect(b.loopCount == 0)
        #expect(try encode([runs], 400, 300, palette: p, loop: nil).loopCount == nil)
    }

    /// Every image length from 1 to 5000 pixels of a 4-colour random stream: the end code lands
    /// right before, at and after each widening (codes 8, 16, …, 4096) and each clear.
    @Test func everyStreamLengthAroundTheWidenings() throws {
        var g = SplitMix64(seed: 5)
        let p = palette(4, generator: &g)
        let stream = randomIndices(5000, 1, colors: 4, generator: &g)
        for n in 1...5000 where n < 700 || n % 7 == 0 {
            let frame = Array(stream[0..<n])
            let decoded = try encode([frame], n, 1, palette: p)
            #expect(decoded.frames[0].indices == frame, "length \(n)")
        }
        // Two colours, one long run: strings double in length, the widest case for a small table.
        let run = [UInt8](repeating: 1, count: 100_000)
        #expect(try encode([run], 1000, 100, palette: palette(2, generator: &g)).frames[0].indices == run)
    }

    @Test func oneColourPalette() throws {
        let p = ColorPalette(colors: [0x336699])
        let decoded = try encode([[0, 0, 0, 0, 0, 0]], 3, 2, palette: p)
        #expect(decoded.colors(frame: 0) == [UInt32](repeating: 0x336699, count: 6))
    }

    /// Images of at most 256 colours are encoded without loss under every dithering method; with
    /// more, median cut keeps 256 colours and the error stays small on a smooth gradient.
    @Test func imagesRoundTripThroughThePalette() throws {
        var g = SplitMix64(seed: 3)
        let colors = (0..<200).map { _ in UInt32(g.next() & 0xff_ffff) }
        let frames = (0..<3).map { _ in image(37, 23) { _, _ in colors[Int(g.next() % 200)] } }
        for dithering in Dithering.allCases {
            let p = ColorPalette(for: frames)
            #expect(p.colors.count == Set(frames.flatMap(rgb)).count)
            var encoder = try GIFEncoder(width: 37, height: 23, palette: p)
            for f in frames { try encoder.addFrame(indices: p.indices(of: f, dithering: dithering), delay: 10) }
            let decoded = try DecodedGIF(encoder.encoded())
            for (k, f) in frames.enumerated() {
                #expect(decoded.colors(frame: k) == rgb(f), "\(dithering)")
            }
        }
        // A smooth gradient of 65536 colours: 256 entries, every channel within a few levels.
        let gradient = image(256, 256) { x, y in UInt32(x) << 16 | UInt32(y) << 8 | UInt32((x + y) / 2) }
        let p = ColorPalette(for: [gradient])
        #expect(p.colors.count > 200 && p.colors.count <= 256)
        let mapped = p.indices(of: gradient).map { p.colors[Int($0)] }
        var worst = 0, total = 0
        for (a, b) in zip(mapped, rgb(gradient)) {
            for c in 0..<3 {
                let d = abs(channel(a, c) - channel(b, c))
                worst = max(worst, d)
                total += d
            }
        }
        #expect(worst <= 24)
        #expect(Double(total) / Double(3 * 65536) < 5)
    }

    /// Dithering a mid grey with only black and white keeps its average: half the pixels white.
    @Test func ditheringKeepsTheAverage() throws {
        let grey = image(64, 64) { _, _ in 0x808080 }
        let p = ColorPalette(colors: [0x000000, 0xffffff])
        #expect(Set(p.indices(of: grey, dithering: .none)).count == 1)
        for method in [Dithering.ordered, .floydSteinberg] {
            let white = p.indices(of: grey, dithering: method).filter { $0 == 1 }.count
            #expect(abs(Double(white) / 4096 - 128.0 / 255) < 0.03, "\(method): \(white) white pixels")
        }
        // The Bayer matrix holds each threshold once.
        #expect(ColorPalette.bayer.sorted() == Array(0..<64))
    }

    @Test func medianCutOfAFewColoursIsExact() {
        #expect(ColorPalette.medianCut([0x010203: 5, 0xffffff: 1]) == [0x010203, 0xffffff])
        #expect(ColorPalette.medianCut([:]) == [0])
        let many = Dictionary(uniqueKeysWithValues: (0..<1000).map { (UInt32($0 * 16_000), 1 + $0 % 3) })
        let cut = ColorPalette.medianCut(many, maxColors: 16)
        #expect(cut.count <= 16 && cut.count >= 12)
    }

    @Test func badRequestsAreErrors() throws {
        let p = ColorPalette(colors: [0, 0xffffff])
        #expect(throws: PlotError.self) { try GIFEncoder(width: 0, height: 3, palette: p) }
        #expect(throws: PlotError.self) { try GIFEncoder(width: 70_000, height: 3, palette: p) }
        var e = try GIFEncoder(width: 2, height: 2, palette: p)
        #expect(throws: PlotError.self) { try e.addFrame(indices: [0, 1, 0], delay: 1) }
        #expect(throws: PlotError.self) { try e.addFrame(indices: [0, 1, 0, 2], delay: 1) }
        #expect(throws: PlotError.self) { try e.addFrame(indices: [0, 1, 0, 1], delay: -1) }
        #expect(throws: PlotError.self) { try AnimationWriter.write([], to: "/tmp/x.gif") }
        #expect(throws: PlotError.self) { try AnimationFormat(path: "movie.avi") }
    }

    /// A canvas rasterized and written as a GIF file decodes to the same pixels.
    @Test func aCanvasBecomesAnAnimation() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-gif-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var frames: [RGBAImage] = []
        for k in 0..<3 {
            let canvas = Canvas(width: 41, height: 30, scale: 1)
            canvas.fill(rectangle: PlotRect(Double(5 * k), 5, 10, 10), with: Color(hex: 0xcc2200))
            frames.append(try canvas.rasterize(scale: 2))
        }
        #expect(frames[0].width == 82 && frames[0].height == 60)
        #expect(frames[1].rgb(x: 15, y: 15) == 0xcc2200 && frames[1].rgb(x: 1, y: 1) == 0xffffff)
        var options = AnimationOptions()
        options.framesPerSecond = 5
        options.holdLast = 1.5
        try AnimationWriter.write(frames, to: folder + "/a.gif", options: options)
        let decoded = try DecodedGIF([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/a.gif"))))
        #expect(decoded.frames.map(\.delay) == [20, 20, 170])
        for k in 0..<3 { #expect(decoded.colors(frame: k) == rgb(frames[k])) }
    }

    // MARK: Helpers

    func image(_ w: Int, _ h: Int, _ color: (Int, Int) -> UInt32) -> RGBAImage {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * w * h)
        for y in 0..<h { for x in 0..<w { let c = color(x, y); bytes += [UInt8(c >> 16 & 0xff), UInt8(c >> 8 & 0xff), UInt8(c & 0xff), 255] } }
        return RGBAImage(width: w, height: h, bytes: bytes)
    }

    func channel(_ color: UInt32, _ c: Int) -> Int { Int((color >> UInt32(8 * c)) & 0xff) }

    func rgb(_ image: RGBAImage) -> [UInt32] {
        (0..<(image.width * image.height)).map { image.rgb(x: $0 % image.width, y: $0 / image.width) }
    }

}
