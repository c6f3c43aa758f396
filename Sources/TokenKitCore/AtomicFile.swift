#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file that appears at its path only when complete: bytes go to a temporary file in
/// the same directory, which `commit()` renames over the target. If the run fails first, the
/// temporary is removed and nothing half-written is left behind; SIGINT, SIGTERM and SIGHUP
/// remove it too.
///
/// The temporary is made like `mkstemp` (an unpredictable name, O_EXCL, so a planted symlink
/// is never followed). A symlinked target is written through: the file it points to is
/// replaced, the link stays. A replaced file keeps its permission bits.
public final class AtomicOutput {
    public let path: String
    private let tempPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var done = false
    private var inPlace = false
    private let checked: Bool
    /// The file the rename replaces: `path`, or where a symlink at `path` points.
    private let target: String

    /// Whether the output is a device, pipe or other non-regular file, written in place.
    public var isDevice: Bool { inPlace }

    /// `userOutput`: a path the user named for this run's output, refused when it is also one of
    /// the run's inputs or another output (see `RunFiles`); internal files are not checked.
    public init(path: String, userOutput: Bool = false) throws {
        self.path = path
        self.checked = userOutput
        if path == "-" {
            // "-o -" is standard output, for every command.
            tempPath = path
            target = path
            fd = dup(1)
            inPlace = true
            return
        }
        // Devices and pipes (/dev/null, /dev/stdout, a FIFO) are written in place: renaming a
        // temporary file over them would replace the device itself.
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            if (st.st_mode & S_IFMT) == S_IFDIR { throw TokenKitError.badInput("is a directory, not an output file", file: path) }
            tempPath = path
            target = path
            fd = open(path, O_WRONLY)
            if fd < 0 {
                throw TokenKitError.badInput("cannot open output: \(String(cString: strerror(errno)))", file: path)
            }
            inPlace = true
            return
        }
        target = try AtomicOutput.resolveLinks(path)
        if userOutput { try RunFiles.claimOutput(target, path: path) }
        let dir = RunFiles.folder(target)
        let base = target.split(separator: "/").last.map(String.init) ?? target
        var template = Array(((dir == "/" ? "" : dir) + "/.\(base).XXXXXX").utf8CString)
        fd = mkstemp(&template)
        if fd < 0 {
            throw TokenKitError.badInput("cannot create output: \(String(cString: strerror(errno)))", file: path)
        }
        tempPath = String(cString: template)
        TempRegistry.add(tempPath)
        // mkstemp makes 0600; give the file the mode it replaces, or what a new file would get.
        let mode = stat(target, &st) == 0 ? st.st_mode & 0o7777 : 0o666 & ~AtomicOutput.umaskValue
        fchmod(fd, mode)
        buffer.reserveCapacity(1 << 20)
    }

    /// The process umask (read once: reading it means setting it).
    static let umaskValue: mode_t = {
        let m = umask(0o022)
        umask(m)
        return m
    }()

    /// Follows symlinks at `path` (at most 40, as the kernel does) to the file they name.
    static func resolveLinks(_ path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(current, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buf, buf.count - 1)
            if n < 0 { throw TokenKitError.badInput("cannot read the symlink: \(String(cString: strerror(errno)))", file: path) }
            let dest = String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if dest.hasPrefix("/") {
                current = dest
            } else if let slash = current.lastIndex(of: "/") {
                current = String(current[...slash]) + dest
            } else {
                current = dest
            }
        }
        throw TokenKitError.badInput("too many levels of symlinks", file: path)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
    public func write(_ s: String) throws { try write(Array(s.utf8)) }

    public func flush() throws {
        try buffer.withUnsafeBytes { try writeAll(fd, $0, path: path) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Finishes the file and moves it into place.
    public func commit() throws {
        try finishWriting()
        try moveIntoPlace()
    }

    /// Commits several outputs together: every file is finished first, so a failure in any of
    /// them leaves all the old files in place. Only a failing rename, after that, can part them.
    public static func commitAll(_ outputs: [AtomicOutput]) throws {
        for o in outputs { try o.finishWriting() }
        for o in outputs { try o.moveIntoPlace() }
    }

    private func finishWriting() throws {
        if fd < 0 { return }
        try flush()
        let failed = close(fd) != 0
        fd = -1
        if failed, !inPlace { throw TokenKitError.badInput("cannot write output: \(String(cString: strerror(errno)))", file: path) }
    }

    private func moveIntoPlace() throws {
        if done { return }
        if inPlace {
            done = true
            return
        }
        do {
            // An input opened after this output was (encode reads as it writes) is checked now.
            if checked { try RunFiles.checkNotInput(target, path: path) }
        } catch {
            unlink(tempPath)
            TempRegistry.remove(tempPath)
            throw error
        }
        if rename(tempPath, target) != 0 {
            let msg = String(cString: strerror(errno))
            unlink(tempPath)
            TempRegistry.remove(tempPath)
            throw TokenKitError.badInput("cannot write output: \(msg)", file: path)
        }
        TempRegistry.remove(tempPath)
        done = true
    }

    deinit {
        if !done {
            if fd >= 0 { close(fd) }
            if !inPlace {
                unlink(tempPath)
                TempRegistry.remove(tempPath)
            }
        }
    }
}

/// The regular files this run reads and the outputs it writes, so that an output which would
/// replace one of its inputs (`encode -o a.txt a.txt`) or another output (`-o a.json --tiktoken
/// a.json`) is refused instead of silently destroying it.
public enum RunFiles {
    struct FileID: Hashable { var dev: UInt64, ino: UInt64 }
    nonisolated(unsafe) static var inputs = Set<FileID>()
    nonisolated(unsafe) static var outputs = Set<String>()
    nonisolated(unsafe) static var lock: pthread_mutex_t = {
        var m = pthread_mutex_t()
        pthread_mutex_init(&m, nil)
        return m
    }()

    static func id(_ st: stat) -> FileID? {
        (st.st_mode & S_IFMT) == S_IFREG ? FileID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)) : nil
    }

    /// Records an input opened as `fd` (regular files only; stdin redirected from a file counts).
    public static func noteInput(_ fd: Int32) {
        var st = stat()
        if fstat(fd, &st) == 0 { note(st) }
    }

    static func note(_ st: stat) {
        guard let id = id(st) else { return }
        pthread_mutex_lock(&lock)
        inputs.insert(id)
        pthread_mutex_unlock(&lock)
    }

    static func checkNotInput(_ target: String, path: String) throws {
        var st = stat()
        guard stat(target, &st) == 0, let id = id(st) else { return }
        pthread_mutex_lock(&lock)
        let clash = inputs.contains(id)
        pthread_mutex_unlock(&lock)
        if clash { throw TokenKitError.usage("\(path) is also an input of this run; give another output path") }
    }

    /// Checks a command's output paths before any work: each can be created (its folder exists
    /// and is writable, it is not a folder), none is one of `inputs`, and no two are the same.
    /// Training for an hour and then failing to write the result is what this prevents.
    public static func preflight(outputs: [String?], inputs: [String]) throws {
        for i in inputs where i != "-" {
            var st = stat()
            if stat(i, &st) == 0 { note(st) }
        }
        var seen = Set<String>()
        for case let path? in outputs where path != "-" {
            let target = try AtomicOutput.resolveLinks(path)
            var st = stat()
            if stat(target, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                throw TokenKitError.badInput("is a directory, not an output file", file: path)
            }
            try checkNotInput(target, path: path)
            let dir = folder(target)
            if access(dir, W_OK) != 0 {
                throw TokenKitError.badInput("cannot create output: \(String(cString: strerror(errno))) (folder \(dir))", file: path)
            }
            if !seen.insert(key(target)).inserted { throw TokenKitError.usage("\(path) is given as two outputs of this run") }
        }
    }

    /// Refuses an output that is an input already read, or that another output already claims.
    static func claimOutput(_ target: String, path: String) throws {
        try checkNotInput(target, path: path)
        let k = key(target)
        pthread_mutex_lock(&lock)
        let (fresh, _) = outputs.insert(k)
        pthread_mutex_unlock(&lock)
        if !fresh { throw TokenKitError.usage("\(path) is given as two outputs of this run") }
    }

    static func folder(_ target: String) -> String {
        guard let slash = target.lastIndex(of: "/") else { return "." }
        return slash == target.startIndex ? "/" : String(target[..<slash])
    }

    /// One spelling per output file: its folder's real path and its name (`a.json` = `./a.json`).
    static func key(_ target: String) -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let dir = folder(target)
        let base = target.split(separator: "/").last.map(String.init) ?? target
        return (realpath(dir, &buf) != nil ? String(cString: buf) : dir) + "/" + base
    }
}

/// Temporary files not yet committed, removed by a signal handler on SIGINT, SIGTERM or SIGHUP.
/// The handler reads a fixed table of C strings: no allocation, no locks, only `unlink`.
enum TempRegistry {
    static let capacity = 256
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    nonisolated(unsafe) static var lock = pthread_mutex_t()
    static let installed: Void = {
        pthread_mutex_init(&lock, nil)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // A signal the parent set to be ignored (nohup, background jobs) stays ignored.
            var old = sigaction()
            sigaction(sig, nil, &old)
            if let h = old.__sigaction_handler.sa_handler, unsafeBitCast(h, to: Int.self) == 1 { continue }  // SIG_IGN
            // A mask inherited from the parent would hold the signal until the run ends.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, sig)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                for i in 0..<TempRegistry.capacity {
                    if let p = TempRegistry.slots[i] { unlink(p) }
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }()

    static func add(_ path: String) {
        _ = installed
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let i = (0..<capacity).first(where: { slots[$0] == nil }) { slots[i] = strdup(path) }
    }

    static func remove(_ path: String) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        for i in 0..<capacity {
            if let p = slots[i], String(cString: p) == path {
                slots[i] = nil
                free(p)
            }
        }
    }
}

/// Writes all of `bytes` to a file descriptor, retrying short writes.
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var off = 0
    while off < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
        if n < 0 {
            if errno == EINTR { continue }
            throw TokenKitError.badInput("write failed: \(String(cString: strerror(errno)))", file: path)
        }
        off += n
    }
}

/// Writes a whole file atomically.
public func writeFileAtomically(_ path: String, _ bytes: [UInt8], userOutput: Bool = false) throws {
    let out = try AtomicOutput(path: path, userOutput: userOutput)
    try out.write(bytes)
    try out.commit()
}

/// Writes several whole files, all or none (see `AtomicOutput.commitAll`).
public func writeFilesAtomically(_ files: [(path: String, bytes: [UInt8])], userOutput: Bool = false) throws {
    let outs = try files.map { f in
        let o = try AtomicOutput(path: f.path, userOutput: userOutput)
        try o.write(f.bytes)
        return o
    }
    try AtomicOutput.commitAll(outs)
}

/// Refuses a folder opened where a file is read (opening one succeeds; reading it fails obscurely).
public func rejectDirectory(_ fd: Int32, path: String) throws {
    var st = stat()
    if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { throw TokenKitError.badInput("is a directory, not a file", file: path) }
}

/// The error of an input that would not open. A name that was not UTF-8 reaches Swift with
/// U+FFFD in place of its bad bytes, so the file it names cannot be found: say so.
public func openError(_ path: String) -> TokenKitError {
    let reason = String(cString: strerror(errno))
    if errno == ENOENT, path.contains("\u{FFFD}") {
        return TokenKitError.badInput("cannot open: \(reason) (the name holds bytes that are not UTF-8, which tokenkit cannot "
                                      + "pass on: rename the file)", file: path)
    }
    return TokenKitError.badInput("cannot open: \(reason)", file: path)
}

/// Reads a whole file, or standard input for "-".
public func readFile(_ path: String) throws -> [UInt8] {
    let fd = path == "-" ? 0 : open(path, O_RDONLY)
    if fd < 0 { throw openError(path) }
    defer { if fd != 0 { close(fd) } }
    RunFiles.noteInput(fd)
    try rejectDirectory(fd, path: path)
    var st = stat()
    var result: [UInt8] = []
    if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
        result.reserveCapacity(Int(st.st_size))
    }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw TokenKitError.badInput("read failed: \(String(cString: strerror(errno)))", file: path)
        }
        if n == 0 { break }
        result.append(contentsOf: chunk[0..<n])
    }
    return result
}

/// Calls `body` with a regular file's bytes mapped into memory (no copy), or with the bytes
/// `readFile` reads for anything else (stdin, pipes, an empty file).
public func withMappedFile<R>(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    let fd = path == "-" ? -1 : open(path, O_RDONLY)
    var st = stat()
    if fd >= 0 {
        defer { close(fd) }
        RunFiles.noteInput(fd)
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0,
           let base = mmap(nil, Int(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), base != MAP_FAILED {
            defer { munmap(base, Int(st.st_size)) }
            return try body(UnsafeRawBufferPointer(start: base, count: Int(st.st_size)))
        }
    }
    return try readFile(path).withUnsafeBytes { try body($0) }
}

public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}
