import Foundation

extension TerrainServer {
    /// The listing as the HTTP server makes it: a walk of the folder with no HDF5 call, each
    /// `.h5` file described from `notes`; files not described before are described by the
    /// `probes` worker, waited for at most `limits.listingProbeWait`. Files it has not reached
    /// by then are listed as not examined yet, and a later listing describes them, so the
    /// listing never waits long for the HDF5 library, however busy or stuck it is.
    func listingWithProbes() async -> ServerReply {
        var listing = FolderListing.scan(folder, describingHDF5: false)
        var unknown: [(folder: Int, item: Int, path: String)] = []
        for (f, entry) in listing.folders.enumerated() {
            for (i, item) in entry.items.enumerated() where item.kind == .hdf5 {
                let path = folder.root + "/" + item.path
                if let note = notes.note(for: path) {
                    listing.folders[f].items[i].isSurface = note.isSurface
                    listing.folders[f].items[i].note = note.note
                } else {
                    unknown.append((f, i, path))
                }
            }
        }
        // A saturated probe worker is stuck on a file: waiting for it would only make the
        // listing slow.
        if !unknown.isEmpty && !probes.isSaturated {
            let paths = unknown.map(\.path)
            let notes = notes
            _ = try? await probes.run("describing the HDF5 files", timeout: limits.listingProbeWait) {
                for path in paths where notes.note(for: path) == nil {
                    // Remembered first, so that a file that never returns is not tried again.
                    notes.remember(.init(isSurface: false, note: "HDF5, not readable in time (damaged?)"), for: path)
                    var item = FolderListing.Item(path: path, kind: .hdf5, size: 0)
                    FolderListing.describeHDF5(&item, at: path)
                    notes.remember(.init(isSurface: item.isSurface, note: item.note), for: path)
                }
            }
        }
        for (f, i, path) in unknown {
            if let note = notes.note(for: path) {
                listing.folders[f].items[i].isSurface = note.isSurface
                listing.folders[f].items[i].note = note.note
            } else {
                listing.folders[f].items[i].note = "HDF5, not examined yet (the server is busy; reload)"
            }
        }
        return listingReply(listing)
    }
}
