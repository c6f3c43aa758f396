import TokenKitCore
/// Unique byte strings ("words", i.e. pre-tokenized pieces) with counts: the input of BPE
/// training. Counting goes through an open-addressing table over one byte arena, so a 100 MB
/// corpus costs one hash and one `memcmp` per piece and no per-word allocation.
public struct WordCounts: Sendable {
    var arena: [UInt8] = []
    var starts: [Int] = [0]
    public private(set) var counts: [Int64] = []
    var slots: [Int32] = Array(repeating: -1, count: 1 << 12)
    var hashes: [UInt64] = []

    public init() {}

    /// Set when a sum of counts passed Int64.max (the count is then held at Int64.max).
    public private(set) var overflowed = false

    public var count: Int { counts.count }
    public var totalBytes: Int { arena.count }

    @inline(__always)
    public func withWord<R>(_ w: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[starts[w]..<starts[w + 1]])) }
    }

    public func word(_ w: Int) -> [UInt8] { Array(arena[starts[w]..<starts[w + 1]]) }

    /// Adds `n` occurrences of `word`.
    @inline(__always)
    public mutating func add(_ word: UnsafeRawBufferPointer, _ n: Int64 = 1) {
        let h = hashBytes(word)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let w = Int(slots[i])
            if w < 0 { break }
            if hashes[w] == h {
                let s = starts[w], e = starts[w + 1]
                if e - s == word.count, word.count == 0 || arena.withUnsafeBytes({ memcmp($0.baseAddress! + s, word.baseAddress!, word.count) == 0 }) {
                    let (sum, o) = counts[w].addingReportingOverflow(n)
                    if o { counts[w] = .max; overflowed = true } else { counts[w] = sum }
                    return
                }
            }
            i = (i + 1) & mask
        }
        slots[i] = Int32(counts.count)
        hashes.append(h)
        arena.append(contentsOf: word)
        starts.append(arena.count)
        counts.append(n)
        if counts.count * 2 > slots.count { rehash() }
    }

    public mutating func add(_ word: [UInt8], _ n: Int64 = 1) { word.withUnsafeBytes { add($0, n) } }

    @inline(__always)
    public mutating func add(_ word: UnsafeBufferPointer<UInt8>, _ n: Int64 = 1) { add(UnsafeRawBufferPointer(word), n) }

    private mutating func rehash() {
        slots = Array(repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (w, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(w)
        }
    }

    /// Adds every word of `other`.
    public mutating func merge(_ other: WordCounts) {
        for w in 0..<other.count { other.withWord(w) { add($0, other.counts[w]) } }
    }

    /// Word indexes by count (highest first), then by bytes.
    public func sortedByCount() -> [Int] {
        (0..<count).sorted { x, y in
            if counts[x] != counts[y] { return counts[x] > counts[y] }
            return withWord(x) { a in withWord(y) { b in a.lexicographicallyPrecedes(b) } }
        }
    }

    /// Word indexes sorted by bytes, for deterministic output.
    public func sortedIndexes() -> [Int] {
        (0..<count).sorted { x, y in
            withWord(x) { a in withWord(y) { b in a.lexicographicallyPrecedes(b) } }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
