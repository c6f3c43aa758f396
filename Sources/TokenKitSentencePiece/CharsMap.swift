import TokenKitCore
import TokenKitModels

/// A read-only darts-clone double array (the trie format inside SentencePiece's precompiled
/// character maps): 32-bit little-endian units where
///   - bits 0–7 are the label of the edge into the unit (bit 31 set on value units),
///   - bit 8 says the node has a leaf child (a key ends here),
///   - bit 9 scales the offset (<<8) and bits 10–31 hold it; a child for byte `c` sits at
///     `pos ^ offset ^ c`,
///   - a value unit (the leaf) holds the value in bits 0–30.
/// Every index is bounds-checked, so a corrupt array gives no match rather than a trap.
struct DartsArray: Sendable {
    let units: [UInt32]

    @inline(__always) static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
    @inline(__always) static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) static func label(_ u: UInt32) -> UInt32 { u & ((1 << 31) | 0xFF) }
    @inline(__always) static func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }

    /// Whether some key longer than one byte starts with `b`.
    func hasContinuation(_ b: UInt8) -> Bool {
        guard !units.isEmpty else { return false }
        var node = DartsArray.offset(units[0]) ^ Int(b)
        guard node < units.count, DartsArray.label(units[node]) == UInt32(b) else { return false }
        node ^= DartsArray.offset(units[node])
        for c in 1..<256 {
            let child = node ^ c
            if child < units.count && DartsArray.label(units[child]) == UInt32(c) { return true }
        }
        return false
    }

    /// The longest key that is a prefix of `text[start..<end]`: (length, value), or nil.
    /// (SentencePiece takes the longest of the common-prefix-search results.)
    @inline(__always)
    func longestPrefix(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (length: Int, value: Int)? {
        units.withUnsafeBufferPointer { u in DartsArray.longestPrefix(u, text, start, end) }
    }

    /// The shortest key that is a prefix of `text` (the first common-prefix-search result):
    /// its value, or nil.
    func shortestPrefix(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        units.withUnsafeBufferPointer { u in
            guard u.count > 0 else { return nil }
            var node = DartsArray.offset(u[0])
            for c in text {
                node ^= Int(c)
                guard node < u.count else { return nil }
                let unit = u[node]
                if DartsArray.label(unit) != UInt32(c) { return nil }
                node ^= DartsArray.offset(unit)
                if DartsArray.hasLeaf(unit) { return node < u.count ? DartsArray.value(u[node]) : nil }
            }
            return nil
        }
    }

    @inline(__always)
    static func longestPrefix(_ u: UnsafeBufferPointer<UInt32>, _ text: UnsafeBufferPointer<UInt8>,
                              _ start: Int, _ end: Int) -> (length: Int, value: Int)? {
        do {
            guard u.count > 0 else { return nil }
            var best: (Int, Int)?
            var node = DartsArray.offset(u[0])
            var i = start
            while i < end {
                let c = Int(text[i])
                node ^= c
                guard node < u.count else { return best }
                let unit = u[node]
                if DartsArray.label(unit) != UInt32(c) { return best }
                node ^= DartsArray.offset(unit)
                if DartsArray.hasLeaf(unit) {
                    guard node < u.count else { return best }
                    best = (i - start + 1, DartsArray.value(u[node]))
                }
                i += 1
            }
            return best
        }
    }
}

/// SentencePiece's precompiled character map (`normalizer_spec.precompiled_charsmap`): a
/// little-endian u32 size of the trie, the darts-clone trie over source byte strings, then
/// NUL-terminated replacement strings that the trie values point into. Normalizing replaces
/// the longest source string at each position with its replacement; a position where nothing
/// matches copies one UTF-8 character.
///
/// As a `ByteNormalizer` (for tokenizer.json "Precompiled" normalizers), invalid UTF-8 is passed
/// through byte by byte; `SentencePieceModel.normalize` replaces it with U+FFFD as spm does.
public struct PrecompiledCharsMap: ByteNormalizer, Sendable {
    let trie: DartsArray
    let strings: [UInt8]

    public init(_ blob: [UInt8]) throws {
        guard blob.count > 4 else {
            throw TokenKitError.badInput("precompiled_charsmap: \(blob.count) bytes, too short for its header")
        }
        let size = Int(UInt32(blob[0]) | UInt32(blob[1]) << 8 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 24)
        guard size <= blob.count - 4 else {
            throw TokenKitError.badInput("precompiled_charsmap: trie size \(size) exceeds the blob (\(blob.count) bytes)")
        }
        guard size % 4 == 0 else {
            throw TokenKitError.badInput("precompiled_charsmap: trie size \(size) is not a multiple of 4")
        }
        var units = [UInt32](repeating: 0, count: size / 4)
        for k in 0..<units.count {
            let o = 4 + 4 * k
            units[k] = UInt32(blob[o]) | UInt32(blob[o + 1]) << 8 | UInt32(blob[o + 2]) << 16 | UInt32(blob[o + 3]) << 24
        }
        let trie = DartsArray(units: units)
        let strings = Array(blob[(4 + size)...])
        self.trie = trie
        self.strings = strings
        // ASCII bytes whose result does not depend on what follows: no rule longer than one
        // byte starts with them. -1: look up; -2: no rule; else the replacement's start.
        var table = [Int32](repeating: -1, count: 128)
        var repl = [Range<Int>](repeating: 0..<0, count: 128)
        for b in 0..<128 where !trie.hasContinuation(UInt8(b)) {
            let one = [UInt8(b)]
            let m = one.withUnsafeBufferPointer { trie.longestPrefix($0, 0, 1) }
            if let m {
                let r = PrecompiledCharsMap.replacement(strings, m.value)
                table[b] = Int32(r.lowerBound)
                repl[b] = r
            } else {
                table[b] = -2
            }
        }
        asciiKind = table
        asciiReplacement = repl
    }

    /// Per ASCII byte: -1 look up in the trie, -2 no rule, ≥ 0 the replacement (`asciiReplacement`).
    let asciiKind: [Int32]
    let asciiReplacement: [Range<Int>]

    /// The replacement string at `value`: bytes up to the next NUL (or the end).
    @inline(__always)
    func replacement(_ value: Int) -> Range<Int> { PrecompiledCharsMap.replacement(strings, value) }

    static func replacement(_ strings: UnsafeBufferPointer<UInt8>, _ value: Int) -> Range<Int> {
        guard value < strings.count else { return strings.count..<strings.count }
        var e = value
        while e < strings.count && strings[e] != 0 { e += 1 }
        return value..<e
    }

    static func replacement(_ strings: [UInt8], _ value: Int) -> Range<Int> {
        guard value < strings.count else { return strings.count..<strings.count }
        var e = value
        strings.withUnsafeBufferPointer { s in
            while e < s.count && s[e] != 0 { e += 1 }
        }
        return value..<e
    }

    /// The longest rule at `start`: (source length, replacement range in `strings`).
    @inline(__always)
    func match(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (length: Int, replacement: Range<Int>)? {
        guard let m = trie.longestPrefix(text, start, end) else { return nil }
        return (m.length, replacement(m.value))
    }

    public func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + text.count / 8)
        text.withUnsafeBufferPointer { t in
            var i = 0
            while i < t.count {
                if let m = match(t, i, t.count) {
                    out.append(contentsOf: strings[m.replacement])
                    i += m.length
                } else {
                    let n = UTF8Scan.decode(t, i).length
                    out.append(contentsOf: t[i..<(i + n)])
                    i += n
                }
            }
        }
        return out
    }
}

/// A precompiled charsmap applied as HF tokenizers' "Precompiled" normalizer does
/// (tokenizer.json), which is not spm's longest match: per extended grapheme cluster, a cluster
/// of fewer than 6 bytes that starts with a rule's source is replaced whole by the shortest
/// such rule's replacement; any other cluster goes character by character, each replaced by
/// its own rule or kept. So HF turns NFD "ế" into "ê" and keeps half-width "ﾊﾞ" as two
/// characters, where spm gives "ế" and "バ".
public struct HFPrecompiledCharsMap: ByteNormalizer, Sendable {
    let map: PrecompiledCharsMap

    public init(_ blob: [UInt8]) throws { map = try PrecompiledCharsMap(blob) }

    /// Appends the replacement of the shortest rule that `bytes` starts with; false if none.
    @inline(__always)
    func replace(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        guard let v = map.trie.shortestPrefix(bytes) else { return false }
        out.append(contentsOf: map.strings[map.replacement(v)])
        return true
    }

    public func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + text.count / 8)
        // ASCII without "\r" (which joins a following "\n" in one cluster): a cluster per byte.
        if text.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) {
            text.withUnsafeBufferPointer { t in
                for i in t.indices where !replace(UnsafeBufferPointer(rebasing: t[i..<(i + 1)]), into: &out) { out.append(t[i]) }
            }
            return out
        }
        // HF takes text, never invalid UTF-8: such input gets spm's treatment.
        guard let string = String(validating: text, as: UTF8.self) else { return map.normalize(text) }
        var cluster: [UInt8] = [], char: [UInt8] = []
        for g in string {
            cluster.removeAll(keepingCapacity: true)
            cluster.append(contentsOf: g.utf8)
            if cluster.count < 6, cluster.withUnsafeBufferPointer({ replace($0, into: &out) }) { continue }
            for scalar in g.unicodeScalars {
                char.removeAll(keepingCapacity: true)
                Unicode.UTF8.encode(scalar) { char.append($0) }
                if !char.withUnsafeBufferPointer({ replace($0, into: &out) }) { out.append(contentsOf: char) }
            }
        }
        return out
    }
}
