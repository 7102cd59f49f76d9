import Foundation
import Testing
import TerrainTensor
@testable import TerrainData

@Suite struct NormalizationTests {
    /// Per-channel mean and standard deviation of `[N, C, …]` inputs.
    static func channelStatistics(_ tensor: Tensor<Float>) -> [(mean: Double, std: Double)] {
        let n = tensor.shape[0], c = tensor.shape[1], run = tensor.shape.dropFirst(2).reduce(1, *)
        let values = tensor.scalars
        return (0..<c).map { channel in
            var items: [Double] = []
            for sample in 0..<n {
                let start = (sample * c + channel) * run
                items += values[start..<(start + run)].map(Double.init)
            }
            let mean = items.reduce(0, +) / Double(items.count)
            let variance = items.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(items.count)
            return (mean, variance.squareRoot())
        }
    }

    @Test func imagesArePerChannelStandardized() {
        var generator = SeededGenerator(seed: 11)
        var images = Tensor<Float>.randomUniform(shape: [50, 3, 4, 4], low: 0, high: 1, generator: &generator)
        let pointer = images.mutablePointer()
        for i in 0..<images.count where (i / 16) % 3 == 2 { pointer[i] = pointer[i] * 5 + 10 }  // channel 2 shifted
        var train = Dataset(name: "img", inputs: images, targets: .classes(Array(repeating: 0, count: 50), count: 1))
        let normalization = Normalization(fittedTo: train)
        #expect(normalization.mean.count == 3 && normalization.mean[2] > 10)
        normalization.apply(to: &train)
        for (mean, std) in Self.channelStatistics(train.inputs) {
            #expect(abs(mean) < 1e-5)
            #expect(abs(std - 1) < 1e-4)
        }
    }

    @Test func loadedPairsUseTrainingStatisticsForBoth() throws {
        let pair = try DatasetCatalog.load("blobs", options: .init(seed: 4, syntheticCount: 400))
        let normalization = try #require(pair.normalization)
        #expect(normalization.mean.count == 2)  // vectors: per feature
        for (mean, std) in Self.channelStatistics(pair.train.inputs) {
            #expect(abs(mean) < 1e-5 && abs(std - 1) < 1e-4)
        }
        let raw = try DatasetCatalog.read("blobs", options: .init(seed: 4, syntheticCount: 400))
        #expect(normalization.applied(to: raw.test).inputs == pair.test.inputs)
        #expect(Normalization(fittedTo: raw.train) == normalization)
    }

    @Test func constantChannelsAreOnlyCentred() {
        var data = Dataset(name: "c", inputs: Tensor(repeating: 3, shape: [4, 2]), targets: .classes([0, 0, 0, 0], count: 1))
        let normalization = Normalization(fittedTo: data)
        #expect(normalization.std == [1, 1])
        normalization.apply(to: &data)
        #expect(data.inputs.scalars.allSatisfy { $0 == 0 })
    }

    @Test func codableAndValidated() throws {
        let normalization = Normalization(mean: [0.5, 0.25], std: [2, 4])
        let decoded = try JSONDecoder().decode(Normalization.self, from: JSONEncoder().encode(normalization))
        #expect(decoded == normalization)
        var wrong = Dataset(name: "three", inputs: Tensor(repeating: 1, shape: [2, 3]), targets: .classes([0, 0], count: 1))
        expectDatasetError("three", "2 channels", "have 3") { try normalization.validate(for: wrong) }
        normalization.apply(to: &wrong)
        #expect(wrong.inputs.scalars.allSatisfy { $0 == 1 })  // left unchanged
    }
}
