import Foundation
import Testing
import TerrainTensor
import TerrainData
import TerrainModels
import TerrainTraining

/// The checks between a model and token sequences, each naming the value, before any work.
@Suite struct SequenceFitTests {
    /// N sequences of T tokens, ids below `vocabulary`, with `largest` at the last target.
    static func sequences(count: Int = 4, length: Int, vocabulary: Int, largest: Int? = nil) -> Dataset {
        var ids = (0..<(count * length)).map { Int32($0 % vocabulary) }
        if let largest { ids[ids.count - 1] = Int32(largest) }
        let inputs = (0..<(count * length)).map { Float(($0 + 1) % vocabulary) }
        return Dataset(name: "seq", inputs: Tensor(shape: [count, length], scalars: inputs),
                       targets: .tokens(ids, length: length, vocabulary: max(vocabulary, (largest ?? 0) + 1)))
    }

    @Test func sequencesLongerThanTheContextAreRefused() {
        let data = Self.sequences(length: 8, vocabulary: 5)
        #expect { try DataFit.check(model: "m", inputShape: [4], outputs: 5, outputShape: [4, 5], data: data, dataName: "seq") } throws: {
            "\($0)".contains("the data's sequences hold 8 tokens, longer than the model's context of 4 tokens")
        }
    }

    /// A gpt's input shape [C] is its context: any T ≤ C fits (wpe's first T rows), a longer
    /// sequence is refused as before; a model of one fixed length (an ONNX graph's declared
    /// shape) still takes exactly that length.
    @Test func aGptTakesSequencesShorterThanItsContext() throws {
        let spec = ModelSpec(architecture: "gpt", inputShape: [8], outputs: 5, seed: 0, layers: 1, heads: 2, embed: 8)
        #expect(spec.takesShorterSequences)
        for length in [8, 3, 1] {
            let data = Self.sequences(length: length, vocabulary: 5)
            try DataFit.check(spec, model: "gpt", fits: DatasetPair(train: data, test: data), dataName: "seq")
        }
        let long = Self.sequences(length: 9, vocabulary: 5)
        #expect { try DataFit.check(spec, model: "gpt", fits: DatasetPair(train: long, test: long), dataName: "seq") } throws: {
            "\($0)".contains("the data's sequences hold 9 tokens, longer than the model's context of 8 tokens (give --context 8)")
        }
        let short = Self.sequences(length: 3, vocabulary: 5)
        #expect { try DataFit.check(model: "m", inputShape: [8], outputs: 5, outputShape: [3, 5], data: short, dataName: "seq") } throws: {
            "\($0)".contains("the model takes sequences of 8 tokens, the data's hold 3 (give --context 8)")
        }
        try DataFit.check(model: "m", inputShape: [8], outputs: 5, outputShape: [3, 5], acceptsShorterSequences: true, data: short, dataName: "seq")
    }

    @Test func anOutputWithoutTimeAndVocabularyIsRefused() {
        let data = Self.sequences(length: 6, vocabulary: 5)
        // A zoo MLP on the ids gives one vector per sequence, not logits per position.
        let spec = ModelSpec(architecture: "mlp", width: 1, hiddenSizes: [8], activation: nil, inputShape: [6], outputs: 5, seed: 0)
        #expect { try DataFit.check(spec, model: "mlp", fits: DatasetPair(train: data, test: data), dataName: "seq") } throws: {
            "\($0)".contains("the model's output is shaped [batch] + [5]; next-token targets need [batch, time, vocabulary] = [batch, 6, V]")
        }
        #expect { try DataFit.check(model: "m", inputShape: nil, outputs: 30, outputShape: [5, 6], data: data, dataName: "seq") } throws: {
            "\($0)".contains("[batch] + [5, 6]")
        }
    }

    @Test func tokenIDsOutsideTheModelsVocabularyAreRefused() throws {
        let data = Self.sequences(length: 3, vocabulary: 5, largest: 9)
        #expect { try DataFit.check(model: "m", inputShape: [3], outputs: 5, outputShape: [3, 5], data: data, dataName: "seq") } throws: {
            "\($0)".contains("token id 9 (the target at sequence 3, position 2) is outside the model's vocabulary of 5")
        }
        try DataFit.check(model: "m", inputShape: [3], outputs: 10, outputShape: [3, 10], data: data, dataName: "seq")
    }
}
