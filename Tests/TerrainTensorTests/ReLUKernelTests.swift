import Testing
import TerrainTensor

/// Float ReLU runs eight lanes at a time with a compare-and-select (CPUBackend's
/// `selectWherePositive`): it must equal the scalar definition element for element, whatever
/// the length (the tail after the last full eight) and for the awkward values (NaN passes).
@Suite("ReLU kernels")
struct ReLUKernelTests {
    @Test(arguments: [0, 1, 7, 8, 9, 16, 37, 100_003])
    func floatReLUMatchesTheScalarDefinition(count: Int) {
        let special: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 1e-38, -1e-38, .leastNonzeroMagnitude]
        var g = SeededGenerator(seed: UInt64(count) + 1)
        let xs = (0..<count).map { i in i % 5 == 0 ? special[(i / 5) % special.count] : Float(g.nextNormal()) }
        let gs = (0..<count).map { _ in Float(g.nextNormal()) }
        let x = Tensor(shape: [count], scalars: xs), gy = Tensor(shape: [count], scalars: gs)
        let backend = CPUBackend()
        let y = backend.activation(.relu, x)
        let gx = backend.activationBackward(.relu, input: x, output: y, gradient: gy)
        let (ys, gxs) = (y.scalars, gx.scalars)
        for i in 0..<count {
            // PyTorch's definition: x <= 0 gives 0, anything else (NaN too) passes.
            #expect(ys[i].bitPattern == (xs[i] <= 0 ? 0 : xs[i]).bitPattern, "forward at \(i): \(xs[i])")
            #expect(gxs[i].bitPattern == (xs[i] <= 0 ? 0 : gs[i]).bitPattern, "backward at \(i): \(xs[i])")
        }
    }
}
