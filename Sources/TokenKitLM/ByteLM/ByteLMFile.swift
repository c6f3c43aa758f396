import Foundation
import TokenKitCore
#if canImport(Glibc)
import Glibc
#endif

/// tokenkit's byte-LM file: a little-endian image that is memory-mapped and used in place.
///
///     0   "TKBYTELM"                 magic
///     8   u32 version (3), u32 order
///     16  u64 file length            (a truncated file is caught here)
///     24  u64 checksum of bytes 32..<length (4-lane multiply-xor; a flipped bit is caught)
///     32  u64 training bytes, u64 reserved
///     48  per order k = 0...order, 64 bytes: f64 discount, u64 slots offset, u64 log2 slot
///         count, u64 contexts, u64 records offset, u64 children, u64 entropies offset,
///         u64 record bytes
///     ... 64-byte aligned sections: each order's slot table (16-byte `Slot`s, open addressing,
///         linear probing, empty = total 0), the children's records, and the entropy (f32,
///         bits) of the next-byte distribution after each slot's context, so that the entropy
///         signal costs one lookup per byte. A context's record (at the slot's `childStart`,
///         a multiple of 8) holds its children's bytes (u8, sorted), zero bytes up to a
///         multiple of 8, then P(byte | context) for each (f64, same order: the model in
///         backoff form, see `ByteLM`); a record of at most 64 bytes (7 children) never
///         crosses a 64-byte line, so a long context (few children) is one cache line.
public enum ByteLMFile {
    static let magic = Array("TKBYTELM".utf8)
    static let version: UInt32 = 3
    static let maxOrder = 7
    static let keyBits: UInt64 = (1 << 56) - 1

    /// A context: its bytes (low 56 bits; the last byte lowest) and its child count − 1 (top 8
    /// bits), the sum of its children's counts, and where its children start.
    struct Slot {
        var keyAndCount: UInt64
        var total: UInt32
        var childStart: UInt32
    }

    struct LevelInfo {
        var discount: Double
        var slotsOffset: Int
        var slotBits: Int
        var contextCount: Int
        var recordsOffset: Int
        var childCount: Int
        var entropiesOffset: Int
        var recordBytes: Int
    }

    struct Header {
        var order: Int
        var trainingBytes: Int
        var levels: [LevelInfo]
    }

    /// The bytes of a model: a memory-mapped file or an array.
    final class Storage: @unchecked Sendable {
        let base: UnsafeRawPointer
        let count: Int
        private let mapped: Bool
        private let owned: UnsafeMutableRawPointer?

        init(mapping base: UnsafeRawPointer, count: Int) {
            self.base = base
            self.count = count
            mapped = true
            owned = nil
        }

        /// A view of memory owned elsewhere (the builder's image, while it fills in entropies).
        init(borrowing base: UnsafeRawPointer, count: Int) {
            self.base = base
            self.count = count
            mapped = false
            owned = nil
        }

        init(copying bytes: [UInt8]) {
            // 64-byte alignment so the u64 and slot views are aligned.
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
            bytes.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: $0.count) } }
            base = UnsafeRawPointer(p)
            count = bytes.count
            mapped = false
            owned = p
        }

        deinit {
            if mapped { munmap(UnsafeMutableRawPointer(mutating: base), count) } else { owned?.deallocate() }
        }
    }

    /// Checksum of a byte range whose length is a multiple of 8 (four independent
    /// multiply-xor lanes, so it runs at memory speed).
    static func checksum(_ p: UnsafeRawPointer, count: Int) -> UInt64 {
        let words = count / 8
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)
        let m: UInt64 = 0x9E37_79B9_7F4A_7C15
        var i = 0
        while i + 4 <= words {
            lanes.0 = (lanes.0 ^ p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) &* m
            lanes.1 = (lanes.1 ^ p.loadUnaligned(fromByteOffset: 8 * i + 8, as: UInt64.self)) &* m
            lanes.2 = (lanes.2 ^ p.loadUnaligned(fromByteOffset: 8 * i + 16, as: UInt64.self)) &* m
            lanes.3 = (lanes.3 ^ p.loadUnaligned(fromByteOffset: 8 * i + 24, as: UInt64.self)) &* m
            lanes.0 ^= lanes.0 >> 29; lanes.1 ^= lanes.1 >> 29; lanes.2 ^= lanes.2 >> 29; lanes.3 ^= lanes.3 >> 29
            i += 4
        }
        var h = lanes.0 ^ (lanes.1 &* 3) ^ (lanes.2 &* 5) ^ (lanes.3 &* 7) ^ UInt64(count)
        while i < words {
            h = (h ^ p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) &* m
            h ^= h >> 31
            i += 1
        }
        return h
    }

    static func levelInfoOffset(_ k: Int) -> Int { 48 + 64 * k }

    /// Reads and checks the header of an image of `count` bytes. Every problem is a
    /// `badInput` error saying what is wrong (the caller adds the file name).
    static func parseHeader(_ p: UnsafeRawPointer, count: Int, verify: Bool = true) throws -> Header {
        func u64(_ o: Int) -> Int { Int(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        guard count >= 48 else {
            throw TokenKitError.badInput("not a tokenkit byte LM: \(count) bytes is shorter than the 48-byte header")
        }
        guard (0..<8).allSatisfy({ p.load(fromByteOffset: $0, as: UInt8.self) == magic[$0] }) else {
            throw TokenKitError.badInput("not a tokenkit byte LM (no TKBYTELM magic at offset 0)")
        }
        let version = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard version == Self.version else {
            throw TokenKitError.badInput("byte LM format version \(version) is not supported (this tokenkit reads version \(Self.version))")
        }
        let order = Int(p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard (1...maxOrder).contains(order) else {
            throw TokenKitError.badInput("corrupt byte LM: order \(order) at offset 12 is outside 1...\(maxOrder)")
        }
        let length = u64(16)
        guard length == count else {
            throw TokenKitError.badInput(length > count
                ? "truncated byte LM: the header says \(length) bytes, the file has \(count)"
                : "corrupt byte LM: the header says \(length) bytes, the file has \(count)")
        }
        guard count >= levelInfoOffset(order + 1), count % 8 == 0 else {
            throw TokenKitError.badInput("corrupt byte LM: \(count) bytes cannot hold an order-\(order) header")
        }
        if verify {
            let stored = p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            let actual = checksum(p + 32, count: count - 32)
            guard stored == actual else {
                throw TokenKitError.badInput("corrupt byte LM: checksum mismatch (stored \(String(stored, radix: 16)), computed \(String(actual, radix: 16)))")
            }
        }
        var levels: [LevelInfo] = []
        for k in 0...order {
            let o = levelInfoOffset(k)
            let l = LevelInfo(discount: p.loadUnaligned(fromByteOffset: o, as: Double.self), slotsOffset: u64(o + 8),
                              slotBits: u64(o + 16), contextCount: u64(o + 24), recordsOffset: u64(o + 32), childCount: u64(o + 40),
                              entropiesOffset: u64(o + 48), recordBytes: u64(o + 56))
            let slotBytes = l.slotBits >= 1 && l.slotBits <= 40 ? 16 << l.slotBits : -1
            guard l.discount > 0, l.discount < 1, slotBytes > 0, l.slotsOffset >= 0, l.slotsOffset % 64 == 0,
                  l.slotsOffset <= count - slotBytes, l.recordsOffset >= 0, l.recordsOffset % 64 == 0,
                  l.recordBytes >= 0, l.recordBytes <= count - l.recordsOffset, l.childCount >= 0, l.contextCount < 1 << l.slotBits,
                  l.entropiesOffset >= 0, l.entropiesOffset % 4 == 0, l.entropiesOffset <= count - 4 << l.slotBits else {
                throw TokenKitError.badInput("corrupt byte LM: the table of order \(k) (header offset \(o)) lies outside the file or is inconsistent")
            }
            levels.append(l)
        }
        return Header(order: order, trainingBytes: u64(32), levels: levels)
    }

    /// Opens a model file by memory-mapping it (after checking its header and checksum).
    public static func load(_ path: String) throws -> ByteLM {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw TokenKitError.badInput("cannot open: \(String(cString: strerror(errno)))", file: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw TokenKitError.badInput("not a regular file (a byte LM must be memory-mapped)", file: path)
        }
        let size = Int(st.st_size)
        guard size >= 48 else {
            throw TokenKitError.badInput("not a tokenkit byte LM: \(size) bytes is shorter than the 48-byte header", file: path)
        }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw TokenKitError.badInput("cannot map: \(String(cString: strerror(errno)))", file: path)
        }
        let storage = Storage(mapping: UnsafeRawPointer(m), count: size)
        do {
            let header = try parseHeader(storage.base, count: size)
            return ByteLM(storage: storage, header: header)
        } catch let e as TokenKitError {
            throw e.inFile(path)
        }
    }

    /// A model from an in-memory image (as `ByteLMBuilder` makes and `load` maps).
    public static func read(_ bytes: [UInt8]) throws -> ByteLM {
        let storage = Storage(copying: bytes)
        return ByteLM(storage: storage, header: try parseHeader(storage.base, count: bytes.count))
    }
}
