/// Little-endian binary serialization for the model cache. Arrays of plain values are stored
/// as their raw bytes, 8-byte aligned, so reading one is a single copy out of the mapped file.
public struct BinaryWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func optionalU32(_ v: UInt32?) {
        bool(v != nil)
        u32(v ?? 0)
    }

    /// A byte string: its length, then its bytes.
    public mutating func data(_ v: [UInt8]) {
        int(v.count)
        bytes.append(contentsOf: v)
    }

    public mutating func string(_ s: String) { data(Array(s.utf8)) }

    /// An array of trivial values (integers, floats, plain structs of them): count, then the
    /// elements' memory, starting at a multiple of 8.
    public mutating func array<T: BitwiseCopyable>(_ a: [T]) {
        int(a.count)
        while bytes.count % 8 != 0 { bytes.append(0) }
        a.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
}

/// Reads what `BinaryWriter` wrote. Every read is bounds-checked: a damaged buffer throws
/// `BinaryReader.Malformed`, never reads outside it.
public struct BinaryReader {
    public struct Malformed: Error, Sendable {
        public let what: String
        public init(_ what: String) { self.what = what }
    }

    let buffer: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    public var isAtEnd: Bool { offset == buffer.count }

    mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= buffer.count - offset else { throw Malformed("truncated at byte \(offset)") }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + n)])
    }

    public mutating func u8() throws -> UInt8 { try take(1)[0] }

    public mutating func bool() throws -> Bool {
        let b = try u8()
        guard b <= 1 else { throw Malformed("bad flag at byte \(offset - 1)") }
        return b == 1
    }

    public mutating func u32() throws -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
    public mutating func u64() throws -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }
    public mutating func int() throws -> Int { Int(Int64(bitPattern: try u64())) }
    public mutating func f64() throws -> Double { Double(bitPattern: try u64()) }

    public mutating func optionalU32() throws -> UInt32? {
        let present = try bool()
        let v = try u32()
        return present ? v : nil
    }

    /// A count that must leave `size` bytes per element in the rest of the buffer.
    public mutating func count(elementSize size: Int) throws -> Int {
        let n = try int()
        guard n >= 0, n <= (buffer.count - offset) / max(size, 1) else { throw Malformed("bad length \(n) at byte \(offset - 8)") }
        return n
    }

    public mutating func data() throws -> [UInt8] { Array(try take(try count(elementSize: 1))) }

    public mutating func string() throws -> String {
        let d = try data()
        guard let s = String(validating: d, as: UTF8.self) else { throw Malformed("invalid UTF-8 before byte \(offset)") }
        return s
    }

    public mutating func array<T: BitwiseCopyable>(_: T.Type = T.self) throws -> [T] {
        let n = try count(elementSize: MemoryLayout<T>.stride)
        while offset % 8 != 0 { _ = try take(1) }
        let raw = try take(n * MemoryLayout<T>.stride)
        return [T](unsafeUninitializedCapacity: n) { buf, count in
            // Large tables are probed at random: huge pages spare a TLB miss per probe.
            adviseHugePages(UnsafeMutableRawBufferPointer(buf))
            if n > 0 { UnsafeMutableRawBufferPointer(buf).copyMemory(from: raw) }
            count = n
        }
    }
}
