import TerrainTensor

/// How a random direction is rescaled against the weights θ it perturbs (Li et al. 2018, §4).
///
/// Applied tensor by tensor to tensors with two or more dimensions (d: direction, w: weights):
///
/// | case | rule |
/// |---|---|
/// | `filter` | each filter (a conv filter, a matrix row): d ← d / (‖d‖ + 1e-10) · ‖w‖ |
/// | `layer` | the same over the whole tensor |
/// | `weight` | d ← d ⊙ w |
/// | `dfilter` | each filter scaled to unit norm: d ← d / (‖d‖ + 1e-10) |
/// | `dlayer` | the whole tensor scaled to unit norm |
/// | `none` | unchanged |
///
/// A filter is a slice along dim 0, as in the reference, except for a transposed weight
/// (`ParameterRole.transposedWeight`, an ONNX MatMul's [in, out] copy of a PyTorch [out, in]
/// weight), whose filters are its columns (`ParameterGroup.filterRuns`): the rows of the weight
/// PyTorch holds, so the direction is the transpose of the one the reference gives that weight.
///
/// Tensors with at most one dimension (biases, batch-norm parameters and statistics) get a zero
/// direction when they are left out (`OneDimensionalTensors.leftOut`, the reference's `biasbn`),
/// and otherwise (`.included`) a copy of w
/// itself (they then scale by 1 + α), exactly as the reference code does.
public enum DirectionNormalization: String, Sendable, Codable, CaseIterable {
    case filter, layer, weight, dfilter, dlayer, none
}

extension Direction {
    /// Normalizes in place against the weights `theta` (laid out like the objective's vector).
    public mutating func normalize(against theta: [Double], groups: [ParameterGroup], type: TensorSet,
                                   normalization: DirectionNormalization, oneDimensional: OneDimensionalTensors) {
        precondition(theta.count == values.count, "weights and direction differ in length")
        for group in groups where type.covers(group) {
            if group.shape.count <= 1 {
                for i in group.range { values[i] = oneDimensional == .leftOut ? 0 : theta[i] }
                continue
            }
            switch normalization {
            case .none:
                break
            case .weight:
                for i in group.range { values[i] *= theta[i] }
            case .layer, .dlayer:
                rescale(group.range, theta: theta, toWeightNorm: normalization == .layer)
            case .filter, .dfilter:
                for f in 0..<group.filterCount {
                    rescale(group.filterRuns(f), theta: theta, toWeightNorm: normalization == .filter)
                }
            }
        }
    }

    /// d ← d / (‖d‖ + 1e-10) · (‖w‖ or 1) over one slice.
    private mutating func rescale(_ range: Range<Int>, theta: [Double], toWeightNorm: Bool) {
        rescale([range], theta: theta, toWeightNorm: toWeightNorm)
    }

    /// The same over a slice made of several runs (a filter that is not contiguous), the sums
    /// taken in position order.
    private mutating func rescale(_ runs: [Range<Int>], theta: [Double], toWeightNorm: Bool) {
        var dd = 0.0, ww = 0.0
        for range in runs {
            for i in range {
                dd += values[i] * values[i]
                ww += theta[i] * theta[i]
            }
        }
        let factor = (toWeightNorm ? ww.squareRoot() : 1) / (dd.squareRoot() + 1e-10)
        for range in runs {
            for i in range { values[i] *= factor }
        }
    }

    /// The norm of each filter (`ParameterGroup.filterRuns`) of each covered tensor with two or
    /// more dimensions: what filter normalization makes equal to θ's.
    public func filterNorms(groups: [ParameterGroup], type: TensorSet) -> [Double] {
        var norms: [Double] = []
        for group in groups where type.covers(group) && group.shape.count >= 2 {
            for f in 0..<group.filterCount {
                let runs = group.filterRuns(f)
                norms.append(runs.reduce(0.0) { sum, run in values[run].reduce(sum) { $0 + $1 * $1 } }.squareRoot())
            }
        }
        return norms
    }
}
