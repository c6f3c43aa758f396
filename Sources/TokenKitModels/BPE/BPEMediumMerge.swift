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
        var kept = 0
        scratch.symbols.withUnsafeMutableBufferPointer { s in
            scratch.prev.withUnsafeMutableBufferPointer { prev in
                scratch.next.withUnsafeMutableBufferPointer { next in
                    for i in 0..<n {
                        prev[i] = Int32(i - 1)
                        next[i] = i + 1 < n ? Int32(i + 1) : -1
                    }
                    for i in 0..<(n - 1) {
                        let r = rank(s[i], s[i + 1]).rank
                        if r != .max { heap.push(UInt64(r) << 32 | UInt64(i)) }
                    }
                    while let top = heap.pop() {
                        let r = UInt32(truncatingIfNeeded: top >> 32), i = Int(UInt32(truncatingIfNeeded: top))
                        // A merged-away symbol has prev == -2.
                        if prev[i] == -2 { continue }
                        let j = Int(next[i])
                        if j < 0 { continue }
                        let cur = rank(s[i], s[j])
                        if cur.rank != r { continue }
                        s[i] = cur.id
                        let after = Int(next[j])
                        next[i] = Int32(after)
                        if after >= 0 { prev[after] = Int32(i) }
                        prev[j] = -2
                        let p = Int(prev[i])
                        if p >= 0 {
                            let rp = rank(s[p], cur.id).rank
                            if rp != .max { heap.push(UInt64(rp) << 32 | UInt64(p)) }
                        }
                        if after >= 0 {
                            let rn = rank(cur.id, s[after]).rank
                            if rn != .max { heap.push(UInt64(rn) << 32 | UInt64(i)) }
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
