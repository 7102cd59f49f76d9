import Testing
@testable import TerrainRequests

/// `terrain sharpness` names each checkpoint in its table by as much of its path as tells it
/// from the others: two runs' `final.safetensors` by their folders.
@Suite("Sharpness table names")
struct SharpnessNamesTests {
    @Test func filesSharingANameAreCalledByTheirFolders() {
        #expect(SharpnessRequest.distinctNames(["runs/a.safetensors", "runs/b.safetensors"]) == ["a.safetensors", "b.safetensors"])
        #expect(SharpnessRequest.distinctNames(["runs/cnn-b64/final.safetensors", "runs/cnn-b2048/final.safetensors", "x/e1.safetensors"])
                == ["cnn-b64/final.safetensors", "cnn-b2048/final.safetensors", "e1.safetensors"])
        #expect(SharpnessRequest.distinctNames(["a/run/final.safetensors", "b/run/final.safetensors"])
                == ["a/run/final.safetensors", "b/run/final.safetensors"])
        // The same file twice is one name, not a path walk to the root.
        #expect(SharpnessRequest.distinctNames(["r/final.safetensors", "r/final.safetensors"]) == ["final.safetensors", "final.safetensors"])
    }
}
