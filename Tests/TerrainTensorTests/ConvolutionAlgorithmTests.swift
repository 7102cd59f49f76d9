import Testing
import TerrainTensor

/// oneDNN's Float convolutions against the im2col + GEMM reference (itself checked against the
/// direct sum in `KernelTests`): forward, backward-data and backward-weights, over geometries,
/// channel counts that are and are not multiples of oneDNN's blocks, and batch sizes with a
/// partial last chunk.
@Suite("Convolution algorithms")
struct ConvolutionAlgorithmTests {
    let fast = CPUBackend(convolution: .oneDNN)
    let reference = CPUBackend(convolution: .im2col)

    struct Case: CustomTestStringConvertible, Sendable {
        let batch, channels, features, height, width, kernel, stride, padding: Int
        let bias: Bool
        var testDescription: String {
            "n\(batch) c\(channels)→\(features) \(height)x\(width) k\(kernel) s\(stride) p\(padding)\(bias ? " +b" : "")"
        }
    }

    static let cases: [Case] = [
        Case(batch: 20, channels: 3, features: 16, height: 32, width: 32, kernel: 3, stride: 1, padding: 1, bias: false),
        Case(batch: 37, channels: 16, features: 16, height: 12, width: 12, kernel: 3, stride: 1, padding: 1, bias: true),
        Case(batch: 9, channels: 16, features: 32, height: 16, width: 16, kernel: 3, stride: 2, padding: 1, bias: false),
        Case(batch: 9, channels: 16, features: 32, height: 16, width: 16, kernel: 1, stride: 2, padding: 0, bias: false),
        Case(batch: 5, channels: 17, features: 9, height: 11, width: 7, kernel: 5, stride: 1, padding: 2, bias: true),
        Case(batch: 1, channels: 8, features: 8, height: 6, width: 6, kernel: 3, stride: 1, padding: 0, bias: true),
        Case(batch: 130, channels: 4, features: 6, height: 5, width: 5, kernel: 1, stride: 1, padding: 0, bias: true),
        Case(batch: 3, channels: 2, features: 3, height: 9, width: 9, kernel: 3, stride: 3, padding: 1, bias: false),
    ]

    func random(_ shape: [Int], seed: UInt64) -> Tensor<Float> {
        var g = SeededGenerator(seed: seed)
        return .randomNormal(shape: shape, generator: &g)
    }

    /// max |a − b| / max |b|: the error relative to the size of the values.
    func relativeError(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Float {
        #expect(a.shape == b.shape)
        var worst: Float = 0, scale: Float = 0
        for (x, y) in zip(a.scalars, b.scalars) {
            worst = max(worst, abs(x - y))
            scale = max(scale, abs(y))
        }
        return worst / max(scale, 1e-30)
    }

    @Test(arguments: cases)
    func oneDNNMatchesReference(_ c: Case) {
        let geometry = Conv2dGeometry(kernel: c.kernel, stride: c.stride, padding: c.padding)
        let x = random([c.batch, c.channels, c.height, c.width], seed: 1)
        let w = random([c.features, c.channels, c.kernel, c.kernel], seed: 2)
        let b = c.bias ? random([c.features], seed: 3) : nil
        let y = fast.conv2d(x, weight: w, bias: b, geometry: geometry)
        let yRef = reference.conv2d(x, weight: w, bias: b, geometry: geometry)
        #expect(relativeError(y, yRef) < 1e-5)

        let gy = random(yRef.shape, seed: 4)
        let g = fast.conv2dBackward(input: x, weight: w, gradient: gy, geometry: geometry, needsInputGradient: true)
        let gRef = reference.conv2dBackward(input: x, weight: w, gradient: gy, geometry: geometry, needsInputGradient: true)
        #expect(relativeError(g.input!, gRef.input!) < 1e-5)
        #expect(relativeError(g.weight, gRef.weight) < 1e-5)
        #expect(g.bias.scalars == gRef.bias.scalars)
        let noInput = fast.conv2dBackward(input: x, weight: w, gradient: gy, geometry: geometry, needsInputGradient: false)
        #expect(noInput.input == nil)
        #expect(noInput.weight.scalars == g.weight.scalars)
    }

    /// Chunks of images have fixed boundaries: the same bits with one thread or several.
    @Test func oneDNNIsDeterministicAcrossThreadCounts() {
        let geometry = Conv2dGeometry(kernel: 3, stride: 1, padding: 1)
        let x = random([45, 16, 10, 10], seed: 5)
        let w = random([16, 16, 3, 3], seed: 6)
        let runs = results(threadCounts: [1, 2, 3]) { () -> ([Float], [Float], [Float]) in
            let y = fast.conv2d(x, weight: w, bias: nil, geometry: geometry)
            let g = fast.conv2dBackward(input: x, weight: w, gradient: y, geometry: geometry, needsInputGradient: true)
            return (y.scalars, g.input!.scalars, g.weight.scalars)
        }
        for r in runs.dropFirst() {
            #expect(r.0 == runs[0].0)
            #expect(r.1 == runs[0].1)
            #expect(r.2 == runs[0].2)
        }
    }
}
