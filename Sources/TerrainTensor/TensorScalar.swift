import CBLAS
import CDNNL
import Numerics

/// The element types a tensor can hold: `Float` for training and evaluation, `Double` for
/// gradient checks and curvature work.
///
/// Kernels are written once, generically, and pre-specialized for both types, so a generic
/// layer pays one dynamic dispatch per operation, never per element.
public protocol TensorScalar: BinaryFloatingPoint, Real, Sendable, CustomStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// The safetensors / NumPy name of the type ("F32", "F64").
    static var dtypeName: String { get }

    /// C = alpha · op(A) · op(B) + beta · C on row-major matrices (BLAS `?gemm`).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

@inline(__always)
private func cblasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

@inline(__always)
private func dnnlTranspose(_ t: Bool) -> CChar { CChar(UInt8(ascii: t ? "T" : "N")) }

extension Float: TensorScalar {
    public static var dtypeName: String { "F32" }

    /// oneDNN's SGEMM, single-threaded on the calling thread (callers split the rows among
    /// `Parallel`'s threads, by size only, so the bits do not depend on the thread count).
    ///
    /// Why not OpenBLAS: Debian's OpenBLAS 0.3.21 picks its kernels by CPU model and falls back
    /// to its generic SSE3 ("Prescott") kernel on processors newer than its table, as on the
    /// Xeons of today's cloud machines, where it runs 5x slower than oneDNN's, which picks its
    /// kernels by instruction set (measured on one AVX-512 core: 28 against 150 GFLOP/s for the
    /// [1024 x 128] x [128 x 512] products of a small transformer). OpenBLAS remains the fallback
    /// should oneDNN refuse the call.
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        omp_set_num_threads(1)
        let status = dnnl_sgemm(dnnlTranspose(transposeA), dnnlTranspose(transposeB),
                                dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k), alpha, a, dnnl_dim_t(lda),
                                b, dnnl_dim_t(ldb), beta, c, dnnl_dim_t(ldc))
        if status == dnnl_success { return }
        cblas_sgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}

extension Double: TensorScalar {
    public static var dtypeName: String { "F64" }

    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}
