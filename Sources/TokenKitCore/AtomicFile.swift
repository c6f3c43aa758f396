#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file that appears at its path only when complete: bytes go to a temporary file in
/// the same directory, which `commit()` renames over the target. If the run fails first, the
/// temporary is removed and nothing half-written is left behind.
public final class AtomicOutput {
    public let path: String
    private let tempPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var done = false
    private var inPlace = false

    public init(path: String) throws {
        self.path = path
        // Devices and pipes (/dev/null, /dev/stdout, a FIFO) are written in place: renaming a
        // temporary file over them would replace the device itself.
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            tempPath = path
            fd = open(path, O_WRONLY)
            if fd < 0 {
                throw TokenKitError.badInput("cannot open output: \(String(cString: strerror(errno)))", file: path)
            }
            inPlace = true
            return
        }
        let dir: String
        if let slash = path.lastIndex(of: "/") { dir = String(path[..<slash]) } else { dir = "." }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        tempPath = (dir.isEmpty ? "" : dir + "/") + ".\(base).\(getpid()).tmp"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 {
            throw TokenKitError.badInput("cannot create output: \(String(cString: strerror(errno)))", file: path)
        }
        buffer.reserveCapacity(1 << 20)
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
        try flush()
        close(fd)
        fd = -1
        if inPlace {
            done = true
            return
        }
        if rename(tempPath, path) != 0 {
            let msg = String(cString: strerror(errno))
            unlink(tempPath)
            throw TokenKitError.badInput("cannot write output: \(msg)", file: path)
        }
        done = true
    }

    deinit {
        if !done {
            if fd >= 0 { close(fd) }
            if !inPlace { unlink(tempPath) }
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
public func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
    let out = try AtomicOutput(path: path)
    try out.write(bytes)
    try out.commit()
}

/// Reads a whole file, or standard input for "-".
public func readFile(_ path: String) throws -> [UInt8] {
    let fd = path == "-" ? 0 : open(path, O_RDONLY)
    if fd < 0 {
        throw TokenKitError.badInput("cannot open: \(String(cString: strerror(errno)))", file: path)
    }
    defer { if fd != 0 { close(fd) } }
    var st = stat()
    var result: [UInt8] = []
    if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
        throw TokenKitError.badInput("is a directory, not a file", file: path)
    }
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

public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}
