import TerrainLandscape
import TerrainObjectives

/// The model a run folder's landscapes (`trajectory`, `evolve`) are computed on.
extension RunHistory {
    /// The run's ONNX graph when `run.json` names one and no zoo architecture is given (a run
    /// recorded from PyTorch by `terrain.Recorder`); otherwise its final checkpoint (a state_dict
    /// when `architecture` is given).
    func finalModel(architecture: String?) -> ModelSource {
        if architecture == nil, let onnx { return .onnx(onnx) }
        return ModelSource(path: finalPath, architecture: architecture)
    }

    /// The final weights θ_final in the objective's layout. A checkpoint's model was loaded from
    /// `final.safetensors` itself; an ONNX graph holds whatever weights it was exported with, so
    /// the run's last weights are read from `final.safetensors` by name.
    func finalParameters(model: ModelSource, objective: any Objective) throws -> [Double] {
        model.isONNX ? try RunHistory.parameters(of: finalPath, groups: objective.groups) : objective.parameters()
    }
}
