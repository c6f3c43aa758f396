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

    /// Regular files under `dir` (links to files followed, links to folders not, so no loops),
    /// as paths relative to it, sorted. Read with readdir, not FileManager, whose listing
    /// silently leaves out names that are not UTF-8: such a name is an error here, not a file
    /// quietly lost.
    static func files(under dir: String) throws -> [String] {
        var out: [String] = []
        func walk(_ rel: String) throws {
            let path = rel.isEmpty ? dir : dir + "/" + rel
            guard let d = opendir(path) else { throw TokenKitError.badInput("cannot list this folder: \(String(cString: strerror(errno)))", file: path) }
            defer { closedir(d) }
            while let entry = readdir(d) {
                let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                guard bytes.first != UInt8(ascii: ".") else { continue }  // ".", ".." and hidden files
                guard let name = String(validating: bytes, as: UTF8.self) else {
                    throw TokenKitError.badInput("a file name here is not UTF-8 (\(String(decoding: bytes, as: UTF8.self).debugDescription)), "
                                                 + "which tokenkit cannot pass on: rename it", file: path)
                }
                let child = rel.isEmpty ? name : rel + "/" + name
                var st = stat()
                guard lstat(dir + "/" + child, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    try walk(child)
                } else if (st.st_mode & S_IFMT) == S_IFREG || (st.st_mode & S_IFMT) == S_IFLNK && stat(dir + "/" + child, &st) == 0
                            && (st.st_mode & S_IFMT) == S_IFREG {
                    out.append(child)
                }
            }
        }
        try walk("")
        return out.sorted()
    }
}
