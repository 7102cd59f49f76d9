import Testing
import Foundation
import TerrainTensor
import TerrainLandscape
import TerrainRequests

/// `AlignRequest` refuses what it cannot align before reading anything, saying why (the
/// alignment itself is tested on the zoo in TerrainNNTests' `PermutationAlignmentTests`, and
/// end to end, with checkpoints, in tests/cli.sh).
@Suite("Align request")
struct AlignRequestTests {
    static func refusal(_ request: AlignRequest) -> String {
        do {
            try request.run(progress: .silent)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func onnxModelsAndSwiftObjectivesAreRefused() {
        let onnx = Self.refusal(AlignRequest(a: .checkpoint("a.safetensors"), b: .onnx("b.onnx"), output: "never.safetensors"))
        #expect(onnx.contains("b.onnx (B) is an ONNX model") && onnx.contains("mlp, cnn, vgg9, resnetN"), "\(onnx)")
        let objective = ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0, 0]) { theta, _ in
            ObjectiveValue(loss: theta.reduce(0) { $0 + $1 * $1 })
        }
        let swift = Self.refusal(AlignRequest(a: .objective(objective, data: "none"), b: .checkpoint("b.safetensors"), output: "never.safetensors"))
        #expect(swift.contains("A is an objective given in Swift"), "\(swift)")
        let stateDict = Self.refusal(AlignRequest(a: .stateDict("a.safetensors", architecture: "mlp"), b: .checkpoint("b.safetensors"),
                                                  output: "never.safetensors"))
        #expect(stateDict.contains("not PyTorch state_dicts"), "\(stateDict)")
        #expect(!FileManager.default.fileExists(atPath: "never.safetensors"))
    }
}
