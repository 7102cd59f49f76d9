import Foundation
import TerrainTensor
import TerrainIO

/// Token-sequence data for next-token prediction: a byte corpus cut into windows, or arrays of
/// token ids.
///
/// A sample is a window w of T+1 consecutive tokens: its input is w[0..<T] (token ids stored as
/// exact whole Floats in an `[N, T]` tensor, so ids must stay below 2²⁴) and its target
/// w[1...T], the next token at every position (`Targets.tokens`). T is the *context*.
///
/// **Text, split by position.** A text file is read as bytes (vocabulary 256, whatever its
/// encoding: a file that is not UTF-8 is still modelled byte by byte, and `DatasetPair.note` says
/// so). The stream of L bytes is cut into ⌊L/(T+1)⌋ consecutive windows that share no byte (the
/// last L mod (T+1) bytes are dropped); a seeded permutation (the `.split` stream of the data
/// seed, as every split without its own) picks round(testFraction·windows) of them as the test
/// set and leaves the rest to training, each part keeping corpus order. Since no two windows share
/// a byte, nothing the test set holds, as input or as target, is seen in training. (A stride of
/// T+1 rather than T is what keeps neighbouring windows apart: with T, a window's last target
/// would be the next one's first input.)
///
/// **Arrays.** An NPZ archive (or a folder of NPY files) with `tokens` (or `tokens_train` and
/// `tokens_test`): shape `[N, T+1]` holds N windows as above (then `--context`, if given, must
/// be T), shape `[L]` one stream cut like text. Integer types, or floating-point ones holding
/// whole numbers; every id must be ≥ 0. The vocabulary is the optional scalar `vocabulary`
/// (every id must be below it), else the largest id plus one.
public enum TokenSequences {
    /// A byte corpus's vocabulary.
    public static let byteVocabulary = 256
    /// The context of a text corpus when none is given (`DatasetOptions.context`).
    public static let defaultContext = 64
    /// The largest vocabulary: ids are stored as Floats, exact up to 2²⁴.
    public static let maximumVocabulary = 1 << 24
    /// The longest context a data set may ask for.
    public static let maximumContext = 1 << 16

    /// The pair made of a byte stream, windows of `context + 1` bytes split by position (see the
    /// type's comment). `file` names the source in messages; the pair's note says what was read.
    public static func fromBytes(_ bytes: [UInt8], context: Int, name: String, file: String,
                                 testFraction: Double, seed: UInt64) throws -> DatasetPair {
        guard !bytes.isEmpty else {
            throw DatasetError.malformed(file: file, detail: "the file is empty: a text corpus needs at least --context + 1 = \(context + 1) bytes")
        }
        let kind = String(validating: bytes, as: UTF8.self) != nil ? "of UTF-8 text" : "(not UTF-8 text; modelled as bytes)"
        let read = "read \(bytes.count) bytes \(kind)"
        guard bytes.count >= context + 1 else {
            throw DatasetError.malformed(file: file, detail: "\(read): fewer than one window of --context \(context) + 1 = \(context + 1) bytes")
        }
        var pair = windows(of: bytes.map { Int64($0) }, context: context, vocabulary: byteVocabulary, name: name)
            .randomSplit(testFraction: testFraction, seed: SeedMixing.seed(seed, for: .split))
        pair.note = "\(file): \(read), \(pair.train.count + pair.test.count) windows of \(context) + 1 bytes"
        return pair
    }

    /// The windows of `context + 1` tokens of one stream, consecutive and sharing no token.
    static func windows(of stream: [Int64], context: Int, vocabulary: Int, name: String) -> Dataset {
        let width = context + 1
        let count = stream.count / width
        return sequences(rows: count, width: width, vocabulary: vocabulary, name: name) { stream[$0] }
    }

    /// `rows` windows of `width` tokens, token (r, k) being `token(r·width + k)`, as inputs and
    /// next-token targets.
    static func sequences(rows: Int, width: Int, vocabulary: Int, name: String,
                          token: (Int) -> Int64) -> Dataset {
        let context = width - 1
        var inputs = Tensor<Float>(uninitializedShape: [rows, context])
        var targets = [Int32](repeating: 0, count: rows * context)
        let x = inputs.mutablePointer()
        for r in 0..<rows {
            for k in 0..<context {
                x[r * context + k] = Float(token(r * width + k))
                targets[r * context + k] = Int32(token(r * width + k + 1))
            }
        }
        return Dataset(name: name, inputs: inputs, targets: .tokens(targets, length: context, vocabulary: vocabulary))
    }

    /// Whether arrays read from a file hold token sequences (`tokens`, or `tokens_train` and
    /// `tokens_test`) rather than `x`/`y`.
    static func holdsTokens(_ arrays: [String: NumpyArray]) -> Bool {
        let keys = Set(arrays.keys.map { $0.lowercased() })
        return keys.contains("tokens") || keys.contains("tokens_train")
    }

    /// The pair held by token arrays (see the type's comment).
    static func fromArrays(_ arrays: [String: NumpyArray], name: String, file: String,
                           options: DatasetOptions) throws -> DatasetPair {
        var byKey: [String: NumpyArray] = [:]
        for (key, array) in arrays { byKey[key.lowercased()] = array }
        let declared = try byKey["vocabulary"].map { try declaredVocabulary($0, file: file) }
        let parts: [(key: String, array: NumpyArray)]
        if let train = byKey["tokens_train"] {
            guard let test = byKey["tokens_test"] else {
                throw DatasetError.malformed(file: file, detail: "'tokens_train' needs 'tokens_test' beside it (or give one array 'tokens')")
            }
            parts = [("tokens_train", train), ("tokens_test", test)]
        } else {
            parts = [("tokens", byKey["tokens"]!)]
        }
        var ids: [[Int64]] = []
        var largest: Int64 = -1
        for (key, array) in parts {
            let values = try tokenIDs(array, key: key, file: file)
            if let declared, let bad = values.firstIndex(where: { $0 >= declared }) {
                throw DatasetError.malformed(
                    file: file, detail: "token id \(values[bad]) at '\(key)'\(position(bad, in: array.shape)) is outside the vocabulary 0..<\(declared) ('vocabulary')")
            }
            largest = max(largest, values.max() ?? -1)
            ids.append(values)
        }
        let vocabulary = Int(declared ?? largest + 1)
        var sets: [Dataset] = []
        for ((key, array), values) in zip(parts, ids) {
            switch array.shape.count {
            case 1:
                let context = options.context ?? defaultContext
                guard values.count >= context + 1 else {
                    throw DatasetError.malformed(
                        file: file, detail: "'\(key)' holds \(values.count) tokens: fewer than one window of --context \(context) + 1 = \(context + 1)")
                }
                sets.append(windows(of: values, context: context, vocabulary: vocabulary, name: name))
            case 2:
                let (rows, width) = (array.shape[0], array.shape[1])
                guard width >= 2 else {
                    throw DatasetError.malformed(file: file, detail: "'\(key)' has shape \(array.shape): a sequence needs T + 1 ≥ 2 tokens (inputs and next tokens)")
                }
                if let context = options.context, context != width - 1 {
                    throw DatasetError.mismatch(
                        dataset: name, detail: "'\(key)' holds sequences of \(width) = T + 1 tokens (context \(width - 1)), not --context \(context) + 1")
                }
                sets.append(sequences(rows: rows, width: width, vocabulary: vocabulary, name: name) { values[$0] })
            default:
                throw DatasetError.malformed(
                    file: file, detail: "'\(key)' has shape \(array.shape); token ids are [N, T + 1] sequences or one stream [L]")
            }
        }
        if sets.count == 2 {
            guard sets[0].sampleShape == sets[1].sampleShape else {
                throw DatasetError.mismatch(dataset: name, detail: "tokens_train sequences are \(sets[0].sampleShape) long, tokens_test \(sets[1].sampleShape)")
            }
            return DatasetPair(train: sets[0], test: sets[1])
        }
        return sets[0].randomSplit(testFraction: options.testFraction, seed: SeedMixing.seed(options.seed, for: .split))
    }

    /// An array's elements as token ids: whole, non-negative, below `maximumVocabulary`.
    static func tokenIDs(_ array: NumpyArray, key: String, file: String) throws -> [Int64] {
        func outside(_ index: Int, _ value: String) -> DatasetError {
            .malformed(file: file, detail: "token id \(value) at '\(key)'\(position(index, in: array.shape)) is outside 0..<\(maximumVocabulary) (ids must be ≥ 0, and exact as Floats)")
        }
        if let integers = array.integers() {
            if let bad = integers.firstIndex(where: { $0 < 0 || $0 >= Int64(maximumVocabulary) }) { throw outside(bad, "\(integers[bad])") }
            return integers
        }
        let doubles = array.doubles()
        if let bad = doubles.firstIndex(where: { !($0.isFinite && $0.rounded() == $0) }) {
            throw DatasetError.malformed(
                file: file, detail: "'\(key)'\(position(bad, in: array.shape)) is \(doubles[bad]): token ids must be whole numbers")
        }
        if let bad = doubles.firstIndex(where: { $0 < 0 || $0 >= Double(maximumVocabulary) }) { throw outside(bad, "\(doubles[bad])") }
        return doubles.map { Int64($0) }
    }

    /// The scalar `vocabulary` array's value, checked.
    static func declaredVocabulary(_ array: NumpyArray, file: String) throws -> Int64 {
        guard array.count == 1, let value = array.integers()?.first, value >= 1, value <= Int64(maximumVocabulary) else {
            throw DatasetError.malformed(
                file: file, detail: "'vocabulary' must be one integer in 1...\(maximumVocabulary), got shape \(array.shape) \(array.doubles().prefix(3))")
        }
        return value
    }

    /// "[3, 17]": the row-major index `flat` of an array of `shape`, for messages.
    static func position(_ flat: Int, in shape: [Int]) -> String {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return "[\(index.map(String.init).joined(separator: ", "))]"
    }
}
