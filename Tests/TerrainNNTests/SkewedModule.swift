import TerrainTensor
import TerrainNN

/// A module that hands everything to `inner` but scales one of its results by 1.01: the wrong
/// layer with which the checkers' own tests show that `GradientCheck` and `TangentCheck` notice a
/// 1% error.
final class SkewedModule: Module<Double> {
    enum Skew {
        /// ∂L/∂x of the backward pass.
        case inputGradient
        /// R{∂L/∂x} of the backward tangent pass (when the pass has one).
        case inputCurvature
    }

    let inner: Module<Double>
    let skew: Skew

    init(_ inner: Module<Double>, skewing skew: Skew) {
        self.inner = inner
        self.skew = skew
    }

    override var children: [(name: String, module: Module<Double>)] { [("inner", inner)] }

    override func forward(_ x: Tensor<Double>) -> Tensor<Double> { inner.forward(x) }

    override func backward(_ g: Tensor<Double>) -> Tensor<Double> {
        var gx = inner.backward(g)
        if skew == .inputGradient { Backends.current.scale(&gx, by: 1.01) }
        return gx
    }

    override func forwardTangent(_ x: Tensor<Double>, _ xDot: Tensor<Double>?) -> (y: Tensor<Double>, yDot: Tensor<Double>?) {
        inner.forwardTangent(x, xDot)
    }

    override func backwardTangent(_ g: Tensor<Double>, _ gDot: Tensor<Double>?) -> (gx: Tensor<Double>, gxDot: Tensor<Double>?) {
        var (gx, gxDot) = inner.backwardTangent(g, gDot)
        if skew == .inputCurvature, gxDot != nil { Backends.current.scale(&gxDot!, by: 1.01) }
        return (gx, gxDot)
    }
}
