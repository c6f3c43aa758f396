import TokenKitCore

extension BPEModel {
    /// Longest piece (in symbols) merged by `mergeMedium`; longer ones go to `mergeLarge`.
    static let mediumLength = 4096

    /// Deterministic merging (no dropout, whose draws stay with `mergeLarge`) for pieces of a few dozen to a few thousand symbols (SuperBPE's superword pieces
    /// are whole phrases): one min-heap of (rank << 32 | position) keys over a linked list of
    /// symbols, entries checked when popped. The smallest key is the lowest rank, then the
    /// leftmost position, which is BPE's order since symbols keep their left position when merged.
    ///
    /// Performance notes: unlike `mergeLarge`, nothing is allocated per piece (no dictionary of
    /// position lists), which made pieces of 50–500 bytes cost more in hashing than in merging.
    /// Its one sweep per rank still wins on very long runs of one repeated pair.
    func mergeMedium(_ scratch: inout BPEScratch) {
        let n = scratch.symbols.count
        var heap = scratch.heap
        scratch.heap = MinHeap()
        heap.removeAll(keepingCapacity: true)
        if scratch.prev.count < n {
            scratch.prev = [Int32](repeating: 0, count: n)
            scratch.next = [Int32](repeating: 0, count: n)
        }
        if scratch.ranks.count < n { scratch.ranks = [UInt64](repeating: 0, count: n) }
        var kept = 0
        scratch.symbols.withUnsafeMutableBufferPointer { s in
            scratch.prev.withUnsafeMutableBufferPointer { prev in
                scratch.next.withUnsafeMutableBufferPointer { next in
                    // pv[i]: the pair value (rank << 32 | merged id) of symbol i and its right
                    // neighbour, kept current, so a popped entry is checked without a lookup in
                    // the pair table (a cache miss on large vocabularies).
                    scratch.ranks.withUnsafeMutableBufferPointer { pv in
                        for i in 0..<n {
                            prev[i] = Int32(i - 1)
                            next[i] = i + 1 < n ? Int32(i + 1) : -1
                        }
                        pv[n - 1] = .max
                        for i in 0..<(n - 1) {
                            let v = pairValue(s[i], s[i + 1])
                            pv[i] = v
                            if v != .max { heap.push(v & 0xFFFF_FFFF_0000_0000 | UInt64(i)) }
                        }
                        while let top = heap.pop() {
                            let i = Int(UInt32(truncatingIfNeeded: top))
                            // A merged-away symbol has prev == -2; a renewed pair has another rank.
                            if prev[i] == -2 || pv[i] >> 32 != top >> 32 { continue }
                            let j = Int(next[i])
                            let id = TokenID(truncatingIfNeeded: pv[i])
                            s[i] = id
                            let after = Int(next[j])
                            next[i] = Int32(after)
                            if after >= 0 { prev[after] = Int32(i) }
                            prev[j] = -2
                            let p = Int(prev[i])
                            if p >= 0 {
                                let v = pairValue(s[p], id)
                                pv[p] = v
                                if v != .max { heap.push(v & 0xFFFF_FFFF_0000_0000 | UInt64(p)) }
                            }
                            if after >= 0 {
                                let v = pairValue(id, s[after])
                                pv[i] = v
                                if v != .max { heap.push(v & 0xFFFF_FFFF_0000_0000 | UInt64(i)) }
                            } else {
                                pv[i] = .max
                            }
                        }
                    }
                    var i = 0
                    while i >= 0 && i < n {
                        s[kept] = s[i]
                        kept += 1
                        i = Int(next[i])
                    }
                }
            }
        }
        scratch.heap = heap
        scratch.symbols.removeLast(n - kept)
    }
}
