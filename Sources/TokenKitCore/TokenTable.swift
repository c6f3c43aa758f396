/// The vocabulary as bytes: every token's byte string in one arena, indexed by id, plus a
/// hash index from bytes back to id. Ids may have gaps (tiktoken files and HF vocabularies
/// sometimes skip ids); a gap has no bytes and `contains` is false for it.
///
/// Performance notes: one flat arena and an index of ids (not `[[UInt8]: TokenID]`) makes a
/// lookup one hash of the piece plus one `memcmp`, about 4× faster than a Swift dictionary.
public struct TokenTable: Sendable {
    @usableFromInline var arena: [UInt8] = []
    @usableFromInline var starts: [UInt32] = [0]
    @usableFromInline var present: [Bool] = []
    @usableFromInline var slots: [UInt32] = []
    @usableFromInline var slotShift: UInt64 = 0
    public private(set) var tokenCount = 0

    /// One past the largest id.
    public var count: Int { present.count }

    public init() {}

    /// Builds a table from `(bytes, id)` pairs. Two tokens with the same id are an error, and so
    /// are two with the same bytes unless `allowDuplicateBytes` (then lookup finds the lower id):
    /// the caller names the file. Ids in `secondary` never shadow another token: lookup finds
    /// them only when no other token has their bytes.
    public init<S: Sequence>(_ entries: S, allowDuplicateBytes: Bool = false, secondary: Set<TokenID> = []) throws
    where S.Element == ([UInt8], TokenID) {
        var byID: [(TokenID, [UInt8])] = []
        var sorted = true
        for (b, id) in entries {
            if let last = byID.last, last.0 > id { sorted = false }
            byID.append((id, b))
        }
        if !sorted { byID.sort { $0.0 < $1.0 } }
        let maxID = Int(byID.last?.0 ?? 0)
        try TokenTable.checkSpread(maxID: maxID, tokens: byID.count)
        present = Array(repeating: false, count: byID.isEmpty ? 0 : maxID + 1)
        starts.reserveCapacity(maxID + 2)
        var next = 0
        for (id, b) in byID {
            if Int(id) < next { throw TokenKitError.badInput("token id \(id) is used twice") }
            while next < Int(id) { starts.append(UInt32(arena.count)); next += 1 }
            arena.append(contentsOf: b)
            starts.append(UInt32(arena.count))
            present[Int(id)] = true
            next += 1
        }
        tokenCount = byID.count
        try buildIndex(allowDuplicateBytes: allowDuplicateBytes, secondary: secondary)
    }

    /// Tables are sized by the largest id, so one absurd id in a small file would allocate
    /// gigabytes: ids may leave gaps, but not more of them than tokens (plus a margin).
    static func checkSpread(maxID: Int, tokens: Int) throws {
        if maxID >= 2 * tokens + (1 << 16) {
            throw TokenKitError.badInput("token id \(maxID) is far beyond the \(tokens) tokens present (ids must be dense)")
        }
    }

    private mutating func buildIndex(allowDuplicateBytes: Bool, secondary: Set<TokenID> = []) throws {
        var size = 16
        while size < tokenCount * 2 { size <<= 1 }
        slots = Array(repeating: .max, count: size)
        slotShift = UInt64(64 - size.trailingZeroBitCount)
        let mask = size - 1
        // Secondary ids are indexed in a second pass, after every other token has its bytes.
        for secondPass in secondary.isEmpty ? [false] : [false, true] {
            for id in 0..<present.count where present[id] && secondary.contains(TokenID(id)) == secondPass {
                let found = withBytes(TokenID(id)) { lookup($0) }
                if found != nil, allowDuplicateBytes || secondPass { continue }
                if let other = found {
                    let shown = String(decoding: bytes(TokenID(id)), as: UTF8.self)
                    throw TokenKitError.badInput("ids \(other) and \(id) have the same bytes \(shown.debugDescription)")
                }
                var i = withBytes(TokenID(id)) { slot(hashBytes($0)) }
                while slots[i] != .max { i = (i + 1) & mask }
                slots[i] = UInt32(id)
            }
        }
    }

    /// This table plus `entries` whose ids all lie past the end (added tokens), without
    /// rebuilding: copies the arena and grows the index. Lookup keeps the existing token when
    /// bytes repeat.
    public func appending(_ entries: [([UInt8], TokenID)]) throws -> TokenTable {
        let sorted = entries.sorted { $0.1 < $1.1 }
        guard let first = sorted.first else { return self }
        guard Int(first.1) >= count else {
            throw TokenKitError.badInput("token id \(first.1) is already used")
        }
        try TokenTable.checkSpread(maxID: Int(sorted.last!.1), tokens: tokenCount + sorted.count)
        var t = self
        for (bytes, id) in sorted {
            if Int(id) < t.count { throw TokenKitError.badInput("token id \(id) is used twice") }
            while t.present.count < Int(id) {
                t.starts.append(UInt32(t.arena.count))
                t.present.append(false)
            }
            t.arena.append(contentsOf: bytes)
            t.starts.append(UInt32(t.arena.count))
            t.present.append(true)
            t.tokenCount += 1
        }
        if t.tokenCount * 2 > t.slots.count {
            try t.buildIndex(allowDuplicateBytes: true)
        } else {
            let mask = t.slots.count - 1
            for (bytes, id) in sorted where t.lookup(bytes) == nil || t.lookup(bytes) == id {
                var i = bytes.withUnsafeBytes { t.slot(hashBytes($0)) }
                while t.slots[i] != .max { i = (i + 1) & mask }
                t.slots[i] = id
            }
        }
        return t
    }

    @inline(__always) @usableFromInline
    func slot(_ h: UInt64) -> Int { Int(truncatingIfNeeded: h >> slotShift) }

    /// The id of the token with exactly these bytes.
    @inline(__always)
    public func lookup(_ p: UnsafeRawBufferPointer) -> TokenID? {
        if slots.isEmpty { return nil }
        let mask = slots.count - 1
        return slots.withUnsafeBufferPointer { sl in
            starts.withUnsafeBufferPointer { st in
                arena.withUnsafeBytes { ar in
                    var i = slot(hashBytes(p))
                    while true {
                        let id = sl[i]
                        if id == .max { return nil }
                        let s = Int(st[Int(id)]), e = Int(st[Int(id) + 1])
                        if e - s == p.count
                            && (p.count == 0 || memcmp(ar.baseAddress! + s, p.baseAddress!, p.count) == 0) {
                            return id
                        }
                        i = (i &+ 1) & mask
                    }
                }
            }
        }
    }

    public func lookup(_ bytes: [UInt8]) -> TokenID? {
        bytes.withUnsafeBytes { lookup($0) }
    }

    @inline(__always)
    public func contains(_ id: TokenID) -> Bool { Int(id) < present.count && present[Int(id)] }

    /// Byte length of token `id` (0 for a gap).
    @inline(__always)
    public func length(_ id: TokenID) -> Int { Int(starts[Int(id) + 1] &- starts[Int(id)]) }

    @inline(__always)
    public func withBytes<R>(_ id: TokenID, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let s = Int(starts[Int(id)]), e = Int(starts[Int(id) + 1])
        return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[s..<e])) }
    }

    public func bytes(_ id: TokenID) -> [UInt8] {
        Array(arena[Int(starts[Int(id)])..<Int(starts[Int(id) + 1])])
    }

    /// Appends the bytes of `id` to `out` (the decode hot path).
    @inline(__always)
    public func append(_ id: TokenID, to out: inout [UInt8]) {
        out.append(contentsOf: arena[Int(starts[Int(id)])..<Int(starts[Int(id) + 1])])
    }

    /// All present ids in increasing order.
    public var ids: [TokenID] { (0..<present.count).compactMap { present[$0] ? TokenID($0) : nil } }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TokenTable {
    /// Writes the table's arrays as they are (the model cache), hash index included.
    public func write(to w: inout BinaryWriter) {
        w.array(arena)
        w.array(starts)
        w.array(present.map { $0 ? UInt8(1) : 0 })
        w.array(slots)
        w.int(tokenCount)
    }

    /// Reads a table written by `write(to:)`, checking every invariant that indexing relies on
    /// (offsets in order and inside the arena, index entries naming present ids, a free slot
    /// so probing ends), so a damaged file throws instead of trapping later.
    public init(from r: inout BinaryReader) throws {
        let arena: [UInt8] = try r.array()
        let starts: [UInt32] = try r.array()
        let flags: [UInt8] = try r.array()
        let slots: [UInt32] = try r.array()
        let tokenCount = try r.int()
        typealias Bad = BinaryReader.Malformed
        guard starts.count == flags.count + 1, starts.first == 0, Int(starts.last!) == arena.count else { throw Bad("vocabulary offsets") }
        let offsetsOK = starts.withUnsafeBufferPointer { st in
            flags.withUnsafeBufferPointer { f in
                var present = 0, ok = true
                for i in 0..<f.count {
                    ok = ok && st[i] <= st[i + 1] && f[i] <= 1
                    present += Int(f[i] & 1)
                }
                return ok && present == tokenCount
            }
        }
        guard offsetsOK, slots.count >= 16, slots.count & (slots.count - 1) == 0 else { throw Bad("vocabulary index") }
        let indexOK = slots.withUnsafeBufferPointer { sl in
            flags.withUnsafeBufferPointer { f in
                var used = 0, ok = true
                for s in sl where s != .max {
                    ok = ok && Int(s) < f.count && f[Int(s)] == 1
                    used += 1
                }
                return ok && used < sl.count
            }
        }
        guard indexOK else { throw Bad("vocabulary index") }
        (self.arena, self.starts, self.slots, self.tokenCount) = (arena, starts, slots, tokenCount)
        self.present = flags.map { $0 == 1 }
        slotShift = UInt64(64 - slots.count.trailingZeroBitCount)
    }
}
