import Foundation

/// The package's root folder, found from this file's place in it
/// (`Tests/TerrainTestSupport/PackageRoot.swift`, three levels down): for the tests that read
/// files of the source tree (`bench/`, the viewer's assets) or the `.venv-torch` that
/// `make test` creates.
public let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
