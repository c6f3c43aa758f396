import Glibc
import TokenKitCore

/// The metadata of a GGUF file (llama.cpp's model format), read as the JSON object it would be
/// saved as: every key with its value, the tensors left alone. Layout (little-endian): "GGUF",
/// version (2 or 3), tensor count and key count (u64), then per key a string (u64 length +
/// bytes), a u32 value type and the value. Arrays are a u32 element type, a u64 count and the
/// elements.
enum GGUFBinary {
    static let magic: [UInt8] = Array("GGUF".utf8)

    /// The head of the GGUF file at `path` that holds its metadata (magic to the last key), or
    /// nil when it is not one. Only that is read (the tensors of a model file are gigabytes): a
    /// MiB first, more only while the metadata runs past what was read.
    static func readHead(path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(st.st_size)
        var first = [UInt8](repeating: 0, count: 4)
        guard size >= 4, first.withUnsafeMutableBytes({ pread(fd, $0.baseAddress!, 4, 0) }) == 4, first == magic else { return nil }
        RunFiles.noteInput(fd)
        var want = min(size, 1 << 20)
        while true {
            var head = [UInt8](repeating: 0, count: want)
            let got = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, 0) }
            guard got == want else { throw TokenKitError.badInput("read failed: \(String(cString: strerror(errno)))", file: path) }
            let end = try head.withUnsafeBytes { buf -> Int? in
                do { return try metadataEnd(buf, fileSize: size) } catch is Short where want < size { return nil }
            }
            if let end { return Array(head[..<end]) }
            want = min(size, want * 4)
        }
    }

    /// Reached the end of the bytes: the metadata goes on past them (or the file is truncated).
    struct Short: Error { static let end = Short() }

    /// The metadata in `b`, the first bytes of a file of `fileSize` bytes (or all of them).
    static func parse(_ b: UnsafeRawBufferPointer, fileSize: Int) throws -> JSON {
        try whole(b, fileSize) { try keys(Reader(b: b, at: 4, fileSize: fileSize, build: true)).json }
    }

    /// Where the metadata in `b` ends, found without building its values. Throws `Short` when
    /// it runs past `b` and `b` is not the whole file.
    static func metadataEnd(_ b: UnsafeRawBufferPointer, fileSize: Int) throws -> Int {
        try whole(b, fileSize) { try keys(Reader(b: b, at: 4, fileSize: fileSize, build: false)).end }
    }

    private static func whole<R>(_ b: UnsafeRawBufferPointer, _ fileSize: Int, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch is Short where b.count >= fileSize {
            throw TokenKitError.badInput("truncated GGUF file: its metadata runs past the end (\(fileSize) bytes)")
        }
    }

    private static func keys(_ reader: Reader) throws -> (json: JSON, end: Int) {
        var r = reader
        let version = try r.u32()
        guard version == 2 || version == 3 else {
            throw TokenKitError.badInput("GGUF version \(version) at offset 4 is not read (only 2 and 3)")
        }
        _ = try r.u64()  // tensors
        let count = try r.u64()
        guard count <= UInt64(r.fileSize) else { throw r.bad("\(count) metadata keys cannot fit in a \(r.fileSize)-byte file") }
        var pairs: [(key: [UInt8], value: JSON)] = []
        for _ in 0..<count {
            let keyAt = r.at
            let key = try r.string()
            let type = try r.u32()
            do {
                let v = try r.value(type)
                if r.build { pairs.append((key, v)) }
            } catch let e as TokenKitError {
                throw TokenKitError.badInput("key \(String(decoding: key, as: UTF8.self).debugDescription) at offset \(keyAt): \(e.message)")
            }
        }
        return (.object(pairs), r.at)
    }

    struct Reader {
        let b: UnsafeRawBufferPointer
        var at: Int
        /// The whole file's size: counts beyond it are corruption, not a short read.
        let fileSize: Int
        /// False: values are skipped (JSON null), only their extent is found.
        let build: Bool

        func bad(_ what: String) -> TokenKitError { TokenKitError.badInput("GGUF metadata: \(what)") }

        mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, n <= b.count - at else { throw Short.end }
            defer { at += n }
            return UnsafeRawBufferPointer(rebasing: b[at..<(at + n)])
        }
        mutating func u32() throws -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
        mutating func u64() throws -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }
        /// Counts that cannot fit in what is left of the file: cut short, or not a count at all.
        func pastEnd(_ what: String, _ n: UInt64, at offset: Int) -> TokenKitError {
            bad("\(what) \(n) at offset \(offset) runs past the end of the file (\(fileSize) bytes): truncated GGUF file or corrupt")
        }
        mutating func string(keep: Bool = true) throws -> [UInt8] {
            let n = try u64()
            guard n <= UInt64(fileSize - at) else { throw pastEnd("a string of length", n, at: at - 8) }
            let bytes = try take(Int(n))
            return keep ? Array(bytes) : []
        }

        /// One value of GGUF type `type`, as JSON.
        mutating func value(_ type: UInt32, depth: Int = 0) throws -> JSON {
            func int(_ v: Int64) -> JSON { .number(Double(v), integer: v) }
            switch type {
            case 0: return int(Int64(try take(1)[0]))
            case 1: return int(Int64(Int8(bitPattern: try take(1)[0])))
            case 2: return int(Int64(UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self))))
            case 3: return int(Int64(Int16(littleEndian: try take(2).loadUnaligned(as: Int16.self))))
            case 4: return int(Int64(try u32()))
            case 5: return int(Int64(Int32(bitPattern: try u32())))
            case 6: return .number(Double(Float(bitPattern: try u32())), integer: nil)
            case 7: return .bool(try take(1)[0] != 0)
            case 8: return .string(try string(keep: build))
            case 9:
                let elementType = try u32()
                let n = try u64()
                guard depth < 8 else { throw bad("arrays nested more than 8 deep at offset \(at - 12)") }
                // Every element takes at least one byte.
                guard n <= UInt64(fileSize - at) else { throw pastEnd("an array of length", n, at: at - 12) }
                var items: [JSON] = []
                if build { items.reserveCapacity(Int(min(n, 1 << 20))) }
                for _ in 0..<n {
                    let v = try value(elementType, depth: depth + 1)
                    if build { items.append(v) }
                }
                return .array(items)
            case 10:
                let v = try u64()
                return .number(Double(v), integer: v <= UInt64(Int64.max) ? Int64(v) : nil)
            case 11: return int(Int64(bitPattern: try u64()))
            case 12: return .number(Double(bitPattern: try u64()), integer: nil)
            default: throw bad("unknown value type \(type) at offset \(at - 4)")
            }
        }
    }
}
