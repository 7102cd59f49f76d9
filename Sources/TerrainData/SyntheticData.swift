import Foundation
import TerrainTensor

/// Small seeded datasets made on the spot, for examples, tests and quick loss-surface studies.
///
/// Each generator returns all `count` samples; the catalog splits them into train and test.
/// The same `(count, noise, seed)` always gives the same samples on every machine.
public enum SyntheticData {
    /// The noisy parabola of the Keras loss-surface tutorial: x uniform in `[-1, 1]`,
    /// y = x² + ε with ε ~ N(0, 0.25), i.e. a noise *variance* of 0.25 and so a default
    /// standard deviation `noise` of 0.5. Inputs `[N, 1]`, regression targets `[N, 1]`.
    public static func parabola(count: Int, noise: Double = 0.5, seed: UInt64) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        var x = [Float](), y = [Float]()
        x.reserveCapacity(count); y.reserveCapacity(count)
        for _ in 0..<max(count, 0) {
            let input = generator.nextUniform() * 2 - 1
            x.append(Float(input))
            y.append(Float(input * input + noise * generator.nextNormal()))
        }
        return Dataset(name: "parabola", inputs: Tensor(shape: [x.count, 1], scalars: x),
                       targets: .values(Tensor(shape: [y.count, 1], scalars: y)))
    }

    /// Two interleaved spirals, one per class, in the plane. A sample of class c at position
    /// t ~ U[0, 1) along its arm lies at radius t and angle 3.5π·t + c·π, plus Gaussian noise of
    /// standard deviation `noise` (default 0.05) on each coordinate. Classes alternate, so both
    /// have the same size (±1). Inputs `[N, 2]`, 2 classes.
    public static func spirals(count: Int, noise: Double = 0.05, seed: UInt64) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        var points = [Float](), labels = [Int32]()
        points.reserveCapacity(2 * count); labels.reserveCapacity(count)
        for i in 0..<max(count, 0) {
            let arm = i % 2
            let t = generator.nextUniform()
            let angle = 3.5 * Double.pi * t + Double(arm) * Double.pi
            points.append(Float(t * cos(angle) + noise * generator.nextNormal()))
            points.append(Float(t * sin(angle) + noise * generator.nextNormal()))
            labels.append(Int32(arm))
        }
        return Dataset(name: "spirals", inputs: Tensor(shape: [labels.count, 2], scalars: points),
                       targets: .classes(labels, count: 2))
    }

    /// Isotropic Gaussian blobs in the plane, one per class: class k is centred at radius 3 and
    /// angle 2πk/classes (at the origin if there is one class), with standard deviation `noise`
    /// (default 1). Classes alternate, so all have the same size (±1). Inputs `[N, 2]`.
    public static func blobs(count: Int, classes: Int = 3, noise: Double = 1, seed: UInt64) -> Dataset {
        let classes = max(classes, 1)
        var generator = SeededGenerator(seed: seed)
        var points = [Float](), labels = [Int32]()
        points.reserveCapacity(2 * count); labels.reserveCapacity(count)
        for i in 0..<max(count, 0) {
            let label = i % classes
            let angle = 2 * Double.pi * Double(label) / Double(classes)
            let radius = classes == 1 ? 0.0 : 3.0
            points.append(Float(radius * cos(angle) + noise * generator.nextNormal()))
            points.append(Float(radius * sin(angle) + noise * generator.nextNormal()))
            labels.append(Int32(label))
        }
        return Dataset(name: "blobs", inputs: Tensor(shape: [labels.count, 2], scalars: points),
                       targets: .classes(labels, count: classes))
    }
}
