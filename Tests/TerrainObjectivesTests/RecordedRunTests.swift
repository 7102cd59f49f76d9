import Testing
import Foundation
import TerrainTensor
import TerrainIO
import TerrainLandscape
import TerrainObjectives
import TerrainTestSupport

/// Runs recorded outside `terrain train` (the Python package's `Recorder`): PyTorch state_dicts as
/// checkpoints, with no model description, and run.json naming the network as an ONNX file.
@Suite("Recorded runs")
struct RecordedRunTests {
    /// A run folder with one checkpoint and a final one, each a state_dict of one tensor `w`
    /// (no `terrain.model` metadata), and run.json with the extra `fields`.
    func recordedRun(_ fields: String, label: String) throws -> String {
        let folder = try temporaryPath("run", label: label)
        try FileManager.default.createDirectory(atPath: folder + "/checkpoints", withIntermediateDirectories: true)
        func write(_ values: [Float], metadata: [String: String], to name: String) throws {
            let entry = SafetensorsEntry(name: "w", tensor: Tensor<Float>(shape: [2], scalars: values))
            try SafetensorsFile(entries: [entry], metadata: metadata).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        try write([1, 2], metadata: ["terrain.epoch": "1", "terrain.train_loss": "0.5"], to: "checkpoints/epoch-0001.safetensors")
        try write([3, 4], metadata: [:], to: "final.safetensors")
        let record = """
            {"checkpoints": [{"epoch": 1, "file": "checkpoints/epoch-0001.safetensors", "iteration": 6},
                             {"epoch": 1, "file": "final.safetensors", "iteration": 6}]\(fields)}
            """
        try Data(record.utf8).write(to: URL(fileURLWithPath: folder + "/run.json"))
        return folder
    }

    @Test func theRunsONNXGraphIsNamedRelativeToItsFolder() throws {
        let folder = try recordedRun(#", "onnx": "model.onnx""#, label: "recorded-onnx")
        try Data().write(to: URL(fileURLWithPath: folder + "/model.onnx"))
        let history = try RunHistory(folder: folder)
        #expect(history.onnx == folder + "/model.onnx")
        #expect(history.entries.map(\.iteration) == [6])
        #expect(try RunHistory(folder: try recordedRun("", label: "recorded-plain")).onnx == nil)
    }

    @Test func aMissingGraphIsRefusedNamingIt() throws {
        let folder = try recordedRun(#", "onnx": "gone.onnx""#, label: "recorded-missing")
        #expect { try RunHistory(folder: folder) } throws: { "\($0)".contains("gone.onnx") }
    }

    /// A frame's checkpoint is read by tensor name, with what training logged, without a model
    /// description (evolve's frames of a PyTorch run).
    @Test func aStateDictFrameLoadsWithItsLoggedMetrics() throws {
        let folder = try recordedRun("", label: "recorded-frame")
        let groups = [ParameterGroup(name: "w", shape: [2], role: .weight, offset: 0)]
        let (parameters, logged) = try RunHistory.load(folder + "/checkpoints/epoch-0001.safetensors", groups: groups)
        #expect(parameters == [1, 2])
        #expect(logged == [.trainLoss: 0.5])
        #expect(try RunHistory.load(folder + "/final.safetensors", groups: groups).logged.isEmpty)
    }
}
