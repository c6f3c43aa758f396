#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back the 2 MB-aligned part of a large, not yet touched buffer with
/// transparent huge pages (Linux `madvise`; a no-op elsewhere and for small buffers).
public func adviseHugePages(_ buf: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    let huge = 2 << 20
    guard let base = buf.baseAddress, buf.count >= 2 * huge else { return }
    let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: base) + buf.count) & ~(huge - 1)
    if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, 14 /* MADV_HUGEPAGE */) }
    #endif
}

extension Array {
    /// An empty array with room for `capacity` elements, advised onto huge pages.
    public static func onHugePages(capacity: Int) -> [Element] {
        [Element](unsafeUninitializedCapacity: capacity) { buf, count in
            adviseHugePages(UnsafeMutableRawBufferPointer(buf))
            count = 0
        }
    }
}

/// A fast non-cryptographic hash of a byte string, read eight bytes at a time.
/// Performance notes: FNV-1a byte-at-a-time was 2–3× slower on typical 3–10 byte pieces.
@inline(__always)
public func hashBytes(_ p: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(p.count)
    var i = 0
    let n = p.count
    guard let base = p.baseAddress else { return h }
    while i + 8 <= n {
        let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        i += 8
    }
    if i < n {
        var w: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            w |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
    }
    return (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
}

/// Open-addressing map from a 64-bit key to a 64-bit value; `UInt64.max` marks an empty slot,
/// so that key is not allowed. Linear probing with a Fibonacci hash.
/// Performance notes: 2.5× faster than `Dictionary<UInt64, UInt64>` for the BPE pair lookups.
/// Keys and values share one array (slot i at 2i, 2i+1), so a hit touches one cache line, and
/// `get` is inlinable: as a call it was 30 % of BPE-dropout's time.
public struct U64Map: Sendable {
    @usableFromInline var slots: [UInt64]
    @usableFromInline var mask: Int
    @usableFromInline var shift: UInt64
    public private(set) var count = 0

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = U64Map.empty(size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    static func empty(_ size: Int) -> [UInt64] {
        [UInt64](unsafeUninitializedCapacity: size * 2) { buf, count in
            // Probes land anywhere in a multi-MB table: huge pages spare a TLB miss on each.
            adviseHugePages(UnsafeMutableRawBufferPointer(buf))
            for i in 0..<size {
                buf[2 * i] = .max
                buf[2 * i + 1] = 0
            }
            count = size * 2
        }
    }

    @inlinable @inline(__always)
    func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    @inlinable @inline(__always)
    public func get(_ key: UInt64) -> UInt64? {
        slots.withUnsafeBufferPointer { s in
            var i = slot(key)
            while true {
                let k = s[2 &* i]
                if k == key { return s[2 &* i &+ 1] }
                if k == .max { return nil }
                i = (i &+ 1) & mask
            }
        }
    }

    /// Inserts or overwrites.
    public mutating func set(_ key: UInt64, _ value: UInt64) {
        precondition(key != .max)
        if (count + 1) * 4 > slots.count { grow() }
        var i = slot(key)
        while true {
            let k = slots[2 * i]
            if k == key { slots[2 * i + 1] = value; return }
            if k == .max {
                slots[2 * i] = key
                slots[2 * i + 1] = value
                count += 1
                return
            }
            i = (i &+ 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        let size = slots.count  // twice the old number of slots
        slots = U64Map.empty(size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
        count = 0
        for i in stride(from: 0, to: old.count, by: 2) where old[i] != .max { set(old[i], old[i + 1]) }
    }

    /// Visits every entry, in slot order (not insertion order: never use for output order).
    public func forEach(_ body: (UInt64, UInt64) -> Void) {
        for i in stride(from: 0, to: slots.count, by: 2) where slots[i] != .max { body(slots[i], slots[i + 1]) }
    }
}

extension U64Map {
    /// Writes the slots as they are (the model cache).
    public func write(to w: inout BinaryWriter) {
        w.array(slots)
        w.int(count)
    }

    /// Reads a map written by `write(to:)`; a size that is not a power of two, a table with no
    /// free slot (probing would not end), or (with `idLimit`) a key half or the value's low half
    /// at or above the limit (ids that would index past a vocabulary) throws.
    public init(from r: inout BinaryReader, idLimit: UInt64 = .max) throws {
        let slots: [UInt64] = try r.array()
        let count = try r.int()
        let size = slots.count / 2
        guard size >= 16, size & (size - 1) == 0, count >= 0, count < size else { throw BinaryReader.Malformed("pair table size") }
        let ok = slots.withUnsafeBufferPointer { s in
            var used = 0
            var bad = false
            for i in stride(from: 0, to: s.count, by: 2) where s[i] != .max {
                used += 1
                bad = bad || s[i] >> 32 >= idLimit || s[i] & 0xFFFF_FFFF >= idLimit || s[i + 1] & 0xFFFF_FFFF >= idLimit
            }
            return used == count && !bad
        }
        guard ok else { throw BinaryReader.Malformed("pair table entries") }
        (self.slots, self.count) = (slots, count)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
    }
}
