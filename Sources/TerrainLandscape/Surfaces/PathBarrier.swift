/// The barrier of a path between two models: the most its loss rises above the straight
/// interpolation of the end losses, max over t of L(t) − ((1 − t)·L(0) + t·L(1)) (Frankle et
/// al.'s and Garipov et al.'s measure; 0 when the path is never above the chord). `t` and `losses`
/// are the points along the path, t from 0 to 1; points that are not numbers (not computed) are
/// skipped, and an infinite loss gives an infinite barrier.
public enum PathBarrier {
    /// The barrier and the t where it is reached; nil when fewer than two points are numbers or
    /// the end points are not.
    public static func of(t: [Double], losses: [Double]) -> (barrier: Double, at: Double)? {
        precondition(t.count == losses.count, "\(t.count) positions for \(losses.count) losses")
        guard t.count >= 2, let first = losses.first, let last = losses.last, first.isFinite, last.isFinite else { return nil }
        let t0 = t[0], t1 = t[t.count - 1]
        guard t1 > t0 else { return nil }
        var best: (barrier: Double, at: Double)?
        for (position, loss) in zip(t, losses) where !loss.isNaN {
            let s = (position - t0) / (t1 - t0)
            let rise = loss - ((1 - s) * first + s * last)
            if best == nil || rise > best!.barrier { best = (rise, position) }
        }
        return best
    }
}
