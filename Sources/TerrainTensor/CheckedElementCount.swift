/// The product of `sizes` (a shape's element count), or nil when one is negative or a partial
/// product overflows `Int`.
///
/// Sizes that come from files, metadata and options are multiplied only through this function,
/// so that a header claiming 2^40 × 2^40 elements is an error with a message instead of an
/// overflow trap. The product is formed left to right and every partial product must fit,
/// because that is how `Tensor` multiplies a shape out: `[2^40, 2^40, 0]` is refused here rather
/// than allowed to crash tensor creation later.
public func checkedElementCount(_ sizes: some Sequence<Int>) -> Int? {
    var product = 1
    for size in sizes {
        guard size >= 0 else { return nil }
        let (result, overflow) = product.multipliedReportingOverflow(by: size)
        if overflow { return nil }
        product = result
    }
    return product
}
