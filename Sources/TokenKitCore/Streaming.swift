import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Reads an input in chunks that end at safe boundaries, so that long inputs stream in bounded
/// memory and chunks can be encoded in parallel with the same ids as the whole text.
///
/// A safe boundary (whole-text mode) is a line start where the line before ends in a visible
/// ASCII character and the new line starts with an ASCII letter: every split pattern tokenkit
/// knows ends a piece at that newline and starts a new one at the letter, and Unicode
/// normalization cannot reach across it. In `--lines` mode any newline is a boundary.
public struct ChunkReader {
    public let path: String
    let fd: Int32
    let chunkSize: Int
    let lines: Bool
    let whole: Bool
    var pending: [UInt8] = []
    var eof = false
    /// Offset of `pending[0]` in the input.
    var offset = 0
    public private(set) var bytesRead = 0
    /// Added tokens that hold a newline: a boundary must not fall inside one of them.
    var spanning: [[UInt8]] = []

    /// - Parameters:
    ///   - whole: read everything as one chunk (for tokenizers that cannot be chunked).
    ///   - keepWhole: strings a chunk must not cut (added tokens, model tokens that span a line
    ///     start); only those with a newline matter.
    public init(path: String, chunkSize: Int = 1 << 20, lines: Bool, whole: Bool, keepWhole: [[UInt8]] = []) throws {
        spanning = keepWhole.filter { $0.contains(0x0A) }
        self.path = path
        self.chunkSize = max(chunkSize, 1024)
        self.lines = lines
        self.whole = whole
        fd = path == "-" ? 0 : Glibc.open(path, O_RDONLY)
        if fd < 0 { throw openError(path) }
        RunFiles.noteInput(fd)
        do { try rejectDirectory(fd, path: path) } catch {
            if fd != 0 { Glibc.close(fd) }
            throw error
        }
    }

    public func close() { if fd > 0 { Glibc.close(fd) } }

    /// Size of the input if it is a regular file (for progress).
    public var size: Int? {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    private mutating func fill(_ want: Int) throws {
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while !eof && pending.count < want {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TokenKitError.badInput("read failed: \(String(cString: strerror(errno)))", file: path)
            }
            if n == 0 { eof = true } else {
                pending.append(contentsOf: buf[0..<n])
                bytesRead += n
            }
        }
    }

    /// The next chunk and its byte offset in the input, or nil at the end.
    public mutating func next() throws -> (bytes: [UInt8], offset: Int)? {
        var want = whole ? Int.max : chunkSize
        while true {
            try fill(want)
            if pending.isEmpty { return nil }
            let cut: Int?
            if eof && pending.count <= want { cut = pending.count } else {
                cut = pending.withUnsafeBufferPointer { p in
                    var limit = min(want, p.count)
                    while let c = ChunkReader.lastBoundary(p, before: limit, lines: lines) {
                        if !splitsToken(p, at: c) { return c }
                        limit = c - 1
                    }
                    return nil
                }
            }
            if let cut, cut > 0 {
                let chunk = Array(pending[..<cut])
                pending.removeFirst(cut)
                defer { offset += cut }
                return (chunk, offset)
            }
            // No boundary yet: read more (one long line or piece).
            if eof { want = Int.max } else { want = pending.count * 2 }
        }
    }

    /// Whether a cut at `cut` (just after a newline) falls inside an occurrence of a spanning token.
    /// Bytes past the end of `p` are unknown, so a token that could still complete there counts.
    func splitsToken(_ p: UnsafeBufferPointer<UInt8>, at cut: Int) -> Bool {
        for t in spanning {
            for (k, b) in t.enumerated() where b == 0x0A {
                // The token's newline at index k sits at cut − 1, and the token runs across the cut.
                let start = cut - 1 - k
                guard start >= 0, start + t.count > cut else { continue }
                let n = min(t.count, p.count - start)
                if (0..<n).allSatisfy({ p[start + $0] == t[$0] }) { return true }
            }
        }
        return false
    }

    /// The last safe boundary at or before `limit`, if any.
    public static func lastBoundary(_ p: UnsafeBufferPointer<UInt8>, before limit: Int, lines: Bool) -> Int? {
        var i = limit
        while i >= 2 {
            if p[i - 1] == 0x0A {
                if lines { return i }
                if i < p.count {
                    let prev = p[i - 2], b = p[i]
                    if prev > 0x20 && prev < 0x7F && ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) { return i }
                }
            }
            i -= 1
        }
        return nil
    }
}

/// Runs `body` over `count` items on `threads` workers; worker `w` takes items w, w+threads, …
/// and gets its own state from `makeState`, so results never depend on the thread count.
public func parallelMap<T, State>(count: Int, threads: Int, states: inout [State], makeState: () -> State,
                                  _ body: (Int, State) throws -> T) throws -> [T] {
    let workers = max(1, min(threads, count))
    while states.count < workers { states.append(makeState()) }
    if workers == 1 { return try (0..<count).map { try body($0, states[0]) } }
    let results = UnsafeMutableBufferPointer<Result<T, Error>?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer { results.deinitialize(); results.deallocate() }
    let snapshot = states
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        var i = w
        while i < count {
            results[i] = Result { try body(i, snapshot[w]) }
            i += workers
        }
    }
    return try results.map { try $0!.get() }
}
