/// Up to 256 colours (0xRRGGBB) for indexed images such as GIF frames, and the mapping of any
/// colour to its nearest entry.
///
/// `ColorPalette(for:)` builds one palette for a whole animation from the histogram of every
/// frame's colours: when there are at most `maxColors` distinct colours the palette is exactly
/// them (the frames are encoded without loss); otherwise it is found by **median cut**: start
/// with one box around all colours; repeatedly split the box whose (pixel count × longest side)
/// is largest, across its longest channel at the pixel-weighted median; each final box gives its
/// pixel-weighted mean colour. Median cut spends entries where the pixels are, which for figures
/// means the colour map's gradients and the anti-aliased greys of text and lines.
public struct ColorPalette: Sendable, Equatable {
    /// 0xRRGGBB per entry, at most 256.
    public var colors: [UInt32]

    public init(colors: [UInt32]) {
        precondition(!colors.isEmpty && colors.count <= 256, "a palette has 1 to 256 colours, not \(colors.count)")
        self.colors = colors
    }

    /// The palette of a set of images: their exact colours when few enough, else median cut.
    public init(for images: [RGBAImage], maxColors: Int = 256) {
        var histogram: [UInt32: Int] = [:]
        for image in images {
            image.bytes.withUnsafeBufferPointer { b in
                var i = 0
                while i < b.count {
                    histogram[UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]), default: 0] += 1
                    i += 4
                }
            }
        }
        self.init(colors: Self.medianCut(histogram, maxColors: maxColors))
    }

    /// Median cut of a colour histogram (colour → pixel count) into at most `maxColors` colours,
    /// sorted; the distinct colours themselves when there are few enough. An empty histogram
    /// gives black.
    public static func medianCut(_ histogram: [UInt32: Int], maxColors: Int = 256) -> [UInt32] {
        precondition(maxColors >= 1 && maxColors <= 256)
        let entries = histogram.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        guard !entries.isEmpty else { return [0] }
        if entries.count <= maxColors { return entries.map(\.key) }
        var colors = entries.map(\.key), counts = entries.map(\.value)
        /// A box: a range of `colors`, with its extent per channel.
        struct Box { var range: Range<Int>; var population: Int; var longest: Int; var side: Int }
        func box(_ range: Range<Int>) -> Box {
            var lo = [255, 255, 255], hi = [0, 0, 0], population = 0
            for i in range {
                for c in 0..<3 {
                    let v = Int((colors[i] >> UInt32(16 - 8 * c)) & 0xff)
                    lo[c] = min(lo[c], v); hi[c] = max(hi[c], v)
                }
                population += counts[i]
            }
            let sides = (0..<3).map { hi[$0] - lo[$0] }
            let longest = sides.firstIndex(of: sides.max()!)!
            return Box(range: range, population: population, longest: longest, side: sides[longest])
        }
        var boxes = [box(0..<colors.count)]
        while boxes.count < maxColors {
            // The box to split: most pixels times the longest side, among those with two or more colours.
            guard let k = boxes.indices.filter({ boxes[$0].range.count > 1 })
                .max(by: { boxes[$0].population * boxes[$0].side < boxes[$1].population * boxes[$1].side }) else { break }
            let b = boxes[k]
            let shift = UInt32(16 - 8 * b.longest)
            let order = b.range.sorted { ((colors[$0] >> shift) & 0xff, colors[$0]) < ((colors[$1] >> shift) & 0xff, colors[$1]) }
            let sortedColors = order.map { colors[$0] }, sortedCounts = order.map { counts[$0] }
            for (offset, i) in b.range.enumerated() { colors[i] = sortedColors[offset]; counts[i] = sortedCounts[offset] }
            // The weighted median: the first colour at which half the pixels are reached, leaving
            // at least one colour on each side.
            var cumulative = 0, cut = b.range.lowerBound + 1
            for i in b.range {
                cumulative += counts[i]
                if 2 * cumulative >= b.population { cut = i + 1; break }
            }
            cut = min(max(cut, b.range.lowerBound + 1), b.range.upperBound - 1)
            boxes[k] = box(b.range.lowerBound..<cut)
            boxes.append(box(cut..<b.range.upperBound))
        }
        let means = boxes.map { b -> UInt32 in
            var sum = [0.0, 0.0, 0.0]
            for i in b.range {
                for c in 0..<3 { sum[c] += Double((colors[i] >> UInt32(16 - 8 * c)) & 0xff) * Double(counts[i]) }
            }
            let mean = sum.map { UInt32(min(255, max(0, ($0 / Double(b.population)).rounded()))) }
            return mean[0] << 16 | mean[1] << 8 | mean[2]
        }
        return Array(Set(means)).sorted()
    }

    /// The index of the entry nearest to a colour (squared distance in RGB; the first of equals).
    public func nearest(_ color: UInt32) -> Int {
        let r = Int((color >> 16) & 0xff), g = Int((color >> 8) & 0xff), b = Int(color & 0xff)
        var best = 0, bestDistance = Int.max
        for (k, entry) in colors.enumerated() {
            let dr = r - Int((entry >> 16) & 0xff), dg = g - Int((entry >> 8) & 0xff), db = b - Int(entry & 0xff)
            let d = dr * dr + dg * dg + db * db
            if d < bestDistance { best = k; bestDistance = d; if d == 0 { break } }
        }
        return best
    }
}
