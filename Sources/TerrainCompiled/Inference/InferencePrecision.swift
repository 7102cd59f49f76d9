/// The arithmetic of a compiled evaluation's products (`GraphCompilingBackend.makeInferenceProgram`).
///
/// `.fp32` (the default) multiplies and adds in Float. `.bf16` rounds the activations and the
/// weights of every convolution and matrix product to bfloat16 (Float's 8-bit exponent and 8
/// significant bits: rounding moves an operand by at most u = 2⁻⁸ of itself) and accumulates
/// their products in Float; biases, the network's output and the loss (softmax, cross-entropy)
/// stay Float. A product of two rounded operands is off by at most 2u + u² relative, so a Float
/// sum of such products by at most about 2⁻⁷ of the sum of its absolute terms: a network's
/// logits move by parts in a thousand, far below a loss landscape's contours but not
/// bit-identical to Float (each bf16 run measures its own error: `PrecisionCheck` in
/// `TerrainRequests`). Only the compiled path has it: the layer-by-layer path is always Float.
public enum InferencePrecision: String, Sendable, Codable, CaseIterable {
    case fp32
    case bf16
}
