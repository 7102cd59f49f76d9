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
    /// pool gives the next request of its size. A private pool: the shared one is used by the tests
    /// running beside this one, and once they leave its capacity full a freed buffer is released
    /// to the system instead (the next case), so which buffer comes back there is not this test's
    /// to know.
    @Test func aFreedBufferIsPoisonedAndComesBackFirst() {
        let pool = BufferPool()
        let byteCount = 80_044  // pooled: at least 64 KiB
        pool.poisoningFreedBuffers {
            let freed = pool.take(byteCount: byteCount)
            freed.initializeMemory(as: Float.self, repeating: 1, count: byteCount / 4)
            pool.give(freed, byteCount: byteCount)
            let next = pool.take(byteCount: byteCount)
            #expect(next == freed)
            let scalars = UnsafeBufferPointer(start: next.assumingMemoryBound(to: Float.self), count: byteCount / 4)
            #expect(scalars.allSatisfy { $0.bitPattern == 0xFFFF_FFFF })
            pool.give(next, byteCount: byteCount)
        }
    }

    /// A pool keeps at most its capacity idle: a buffer freed beyond it goes back to the system.
    /// Without poisoning a kept buffer's bytes are left as they were.
    @Test func aFullPoolReleasesWhatItCannotKeep() {
        let pool = BufferPool(capacityBytes: 100_000)
        let (a, b) = (pool.take(byteCount: 80_000), pool.take(byteCount: 80_000))
        a.initializeMemory(as: UInt8.self, repeating: 7, count: 80_000)
        pool.give(a, byteCount: 80_000)
        pool.give(b, byteCount: 80_000)  // 160,000 idle would pass the capacity: released
        let again = pool.take(byteCount: 80_000)
        #expect(again == a)
        #expect(UnsafeBufferPointer(start: again.assumingMemoryBound(to: UInt8.self), count: 80_000)
            .allSatisfy { $0 == 7 })
        let fresh = pool.take(byteCount: 80_000)
        #expect(fresh != a)
        pool.give(again, byteCount: 80_000)
        pool.give(fresh, byteCount: 80_000)
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
