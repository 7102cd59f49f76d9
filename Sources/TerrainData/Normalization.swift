import TerrainTensor
import TerrainIO

/// Per-channel standardization: `x ← (x − mean[c]) / std[c]`.
///
/// The channel axis is axis 1 of the inputs: the colour channel of `[N, C, H, W]` images, and the
/// feature of `[N, F]` vectors (so vectors are standardized per feature). One-dimensional inputs
/// `[N]` use a single global channel. The statistics are computed on the training set only and
/// applied unchanged to the test set, so no information about test samples leaks into training.
public struct Normalization: Sendable, Codable, Equatable {
    /// The mean of each channel.
    public var mean: [Float]
    /// The standard deviation of each channel (population, divide by N); channels that are
    /// constant get 1 so they are centred but not blown up.
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// The mean and standard deviation of each channel of `dataset`'s inputs.
    public init(fittedTo dataset: Dataset) {
        let layout = ChannelLayout(dataset.inputs.shape)
        var sums = [Double](repeating: 0, count: layout.channels)
        var squaredDeviations = [Double](repeating: 0, count: layout.channels)
        let values = dataset.inputs.pointer
        layout.forEachRun { channel, offset in
            var sum = 0.0
            for i in offset..<(offset + layout.runLength) { sum += Double(values[i]) }
            sums[channel] += sum
        }
        let perChannel = Double(max(layout.samples * layout.runLength, 1))
        let means = sums.map { $0 / perChannel }
        layout.forEachRun { channel, offset in
            let mean = means[channel]
            var sum = 0.0
            for i in offset..<(offset + layout.runLength) {
                let deviation = Double(values[i]) - mean
                sum += deviation * deviation
            }
            squaredDeviations[channel] += sum
        }
        mean = means.map { Float($0) }
        std = squaredDeviations.map { total in
            let deviation = (total / perChannel).squareRoot()
            return deviation > 1e-6 ? Float(deviation) : 1
        }
    }

    /// The number of channels the statistics describe.
    public var channelCount: Int { mean.count }

    /// Throws unless the statistics fit `dataset` (same channel count, one std per mean).
    public func validate(for dataset: Dataset) throws {
        let channels = ChannelLayout(dataset.inputs.shape).channels
        guard mean.count == std.count else {
            throw DatasetError.mismatch(dataset: dataset.name,
                                        detail: "normalization has \(mean.count) means but \(std.count) standard deviations")
        }
        guard mean.count == channels else {
            throw DatasetError.mismatch(
                dataset: dataset.name,
                detail: "normalization has \(mean.count) channels but the inputs \(dataset.inputs.shape) have \(channels)")
        }
    }

    /// Standardizes `dataset`'s inputs in place.
    ///
    /// If the statistics do not fit the dataset (see `validate(for:)`), the dataset is left
    /// unchanged; call `validate(for:)` first where such a mismatch is possible, for instance
    /// with statistics loaded from a checkpoint.
    public func apply(to dataset: inout Dataset) {
        guard (try? validate(for: dataset)) != nil else { return }
        let layout = ChannelLayout(dataset.inputs.shape)
        let values = dataset.inputs.mutablePointer()
        let scales = std.map { 1 / $0 }
        layout.forEachRun { channel, offset in
            let mean = mean[channel], scale = scales[channel]
            for i in offset..<(offset + layout.runLength) { values[i] = (values[i] - mean) * scale }
        }
    }

    /// A copy of `dataset` with standardized inputs.
    public func applied(to dataset: Dataset) -> Dataset {
        var copy = dataset
        apply(to: &copy)
        return copy
    }
}

/// How a row-major input tensor splits into channels: `samples × channels` contiguous runs of
/// `runLength` scalars each, the run of sample n and channel c starting at `(n·C + c)·runLength`.
private struct ChannelLayout {
    let samples: Int
    let channels: Int
    let runLength: Int

    init(_ shape: [Int]) {
        samples = shape.first ?? 0
        channels = shape.count >= 2 ? shape[1] : 1
        runLength = shape.count >= 2 ? shape.dropFirst(2).reduce(1, *) : 1
    }

    func forEachRun(_ body: (_ channel: Int, _ offset: Int) -> Void) {
        for sample in 0..<samples {
            for channel in 0..<channels { body(channel, (sample * channels + channel) * runLength) }
        }
    }
}
