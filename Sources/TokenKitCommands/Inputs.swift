import ArgumentParser
import Foundation
import TokenKitCore

/// Input files, where a folder stands for the files under it.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("For folders among the inputs: only files whose name matches this glob (repeat; a glob with / matches the path under the folder). Default: every file not starting with a dot.", valueName: "glob"))
    var include: [String] = []

    /// `files` with each folder replaced by the files under it (recursively, sorted, hidden files
    /// and folders left out); `-` for none.
    func expand(_ files: [String]) throws -> [String] {
        if files.isEmpty { return ["-"] }
        var out: [String] = []
        for path in files {
            var isDir: ObjCBool = false
            guard path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                out.append(path)
                continue
            }
            let found = try InputOptions.files(under: path).filter(matches)
            if found.isEmpty {
                throw TokenKitError.badInput(include.isEmpty ? "no files in this folder" : "no files match --include \(include.joined(separator: ", "))",
                                             file: path)
            }
            let dir = path.hasSuffix("/") ? String(path.dropLast()) : path
            out += found.map { dir + "/" + $0 }
        }
        return out
    }

    func matches(_ relative: String) -> Bool {
        if include.isEmpty { return true }
        let name = relative.split(separator: "/").last.map(String.init) ?? relative
        return include.contains { glob in fnmatch(glob, glob.contains("/") ? relative : name, glob.contains("/") ? FNM_PATHNAME : 0) == 0 }
    }

    /// Regular files under `dir`, as paths relative to it, sorted.
    static func files(under dir: String) throws -> [String] {
        guard let walk = FileManager.default.enumerator(atPath: dir) else {
            throw TokenKitError.badInput("cannot list this folder", file: dir)
        }
        var out: [String] = []
        while let rel = walk.nextObject() as? String {
            let name = rel.split(separator: "/").last.map(String.init) ?? rel
            let type = walk.fileAttributes?[.type] as? FileAttributeType
            if name.hasPrefix(".") {
                if type == .typeDirectory { walk.skipDescendants() }
                continue
            }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue { out.append(rel) }
        }
        return out.sorted()
    }
}
