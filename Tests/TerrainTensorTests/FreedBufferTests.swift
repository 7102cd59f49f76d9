import Testing
@testable import TerrainTensor

/// A tensor's pointer is valid only while its storage lives, and Swift may destroy a value right
/// after its last use (`Tensor.pointer`). A read through a pointer that outlived its tensor reads
/// a buffer the pool has already handed to the next tensor of its size: silently wrong numbers.
/// With freed buffers poisoned (`BufferPool.poisoningFreedBuffers`), such a read gives NaN, so a
/// kernel that reads a buffer it no longer keeps alive cannot give the bits of a plain run.
@Suite("Freed buffers")
struct FreedBufferTests {
    /// The premise of the other tests: a freed buffer is poisoned, and it is the very buffer the
    /// pool gives the next tensor of its size.
    @Test func aFreedBufferIsPoisonedAndComesBackFirst() {
        // 80,044 bytes: pooled (at least 64 KiB), and a size no other test allocates.
        let shape = [20_011]
        BufferPool.shared.poisoningFreedBuffers {
            var freed: UnsafeRawPointer?
            do {
                let t = Tensor<Float>(repeating: 1, shape: shape)
                freed = UnsafeRawPointer(t.pointer)
                withExtendedLifetime(t) {}
            }
            let next = Tensor<Float>(uninitializedShape: shape)
            next.withUnsafeBufferPointer { buffer in
                #expect(UnsafeRawPointer(buffer.baseAddress!) == freed)
                #expect(buffer.allSatisfy { $0.bitPattern == 0xFFFF_FFFF })
            }
        }
    }

    /// The im2col convolutions (Double always, Float on request) fill a column buffer per image,
    /// read by a GEMM, and backwards a column-gradient buffer per chunk of images, read by
    /// col2im: both are used only through their pointers, so they must be kept alive by hand.
    @Test func im2colConvolutionsGiveTheSameBitsWithFreedBuffersPoisoned() {
        // 12 images of 3 × 32 × 32, 3x3 kernels: columns of 27 × 1,024 scalars (pooled sizes),
        // two chunks of images backwards.
        let geometry = Conv2dGeometry(kernel: 3, stride: 1, padding: 1)
        func passes<T: TensorScalar>(_ type: T.Type) -> [Tensor<T>] {
            var g = SeededGenerator(seed: 17)
            let x = Tensor<T>.randomNormal(shape: [12, 3, 32, 32], generator: &g)
            let w = Tensor<T>.randomNormal(shape: [5, 3, 3, 3], generator: &g)
            let b = Tensor<T>.randomNormal(shape: [5], generator: &g)
            let backend = CPUBackend(convolution: .im2col)
            let y = backend.conv2d(x, weight: w, bias: b, geometry: geometry)
            let gradients = backend.conv2dBackward(input: x, weight: w, gradient: y, geometry: geometry,
                                                   needsInputGradient: true)
            return [y, gradients.input!, gradients.weight, gradients.bias]
        }
        let plain = (passes(Double.self), passes(Float.self))
        let poisoned = BufferPool.shared.poisoningFreedBuffers { (passes(Double.self), passes(Float.self)) }
        #expect(poisoned.0 == plain.0)
        #expect(poisoned.1 == plain.1)
        #expect(plain.0.allSatisfy { $0.scalars.allSatisfy { $0.isFinite } })
    }
}
