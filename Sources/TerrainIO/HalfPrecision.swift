/// Exact conversion of the two 16-bit floating-point formats found in safetensors files to
/// `Float`.
///
/// Done on the bits rather than through `Float16`, which not every platform Swift runs on has,
/// and which would not help with bfloat16 at all. Both formats widen to `Float` exactly.
enum HalfPrecision {
    /// The value of an IEEE 754 binary16 ("F16") bit pattern: 1 sign bit, 5 exponent bits with
    /// bias 15, 10 fraction bits.
    static func float(fromBinary16 bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32(bits >> 10) & 0x1F
        let fraction = UInt32(bits) & 0x3FF
        switch exponent {
        case 0:
            // Zero or subnormal: fraction × 2^-24, exact in Float's wider range.
            let magnitude = Float(fraction) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity (fraction 0), or NaN: the payload becomes the leading fraction bits and the
            // NaN is made quiet, as hardware conversion (x86 F16C, ARM FCVT) does.
            guard fraction != 0 else { return Float(bitPattern: sign | 0x7F80_0000) }
            return Float(bitPattern: sign | 0x7FC0_0000 | fraction << 13)
        default:
            // Normal: re-bias the exponent from 15 to 127 and widen the fraction from 10 to 23 bits.
            return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | fraction << 13)
        }
    }

    /// The value of a bfloat16 ("BF16") bit pattern, which is the upper half of a binary32 one.
    static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
