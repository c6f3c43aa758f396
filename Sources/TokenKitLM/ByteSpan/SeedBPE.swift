import TokenKitCore

/// Seeding mode's second stage: BPE on top of the ByteSpan vocabulary. Pre-tokens are counted,
/// segmented by longest match with the seed vocabulary, and the most frequent adjacent pair
/// inside a pre-token is merged until the vocabulary is full (ties: the smaller pair of ids).
enum SeedBPE {
    /// Heap entry: the most frequent pair first, then the smaller (left, right) ids.
    struct Entry: Comparable {
        var count: Int
        var pair: UInt64
        static func < (a: Entry, b: Entry) -> Bool { a.count != b.count ? a.count > b.count : a.pair < b.pair }
    }

    static func fill(tokens start: [String], seen: inout Set<String>, text: UnsafeBufferPointer<UInt8>, starts: [Int], target: Int) -> [String] {
        var tokens = start
        var index: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() where index[t] == nil { index[t] = Int32(i) }
        // Pre-token types and their counts.
        var typeCounts: [[UInt8]: Int] = [:]
        for (w, s) in starts.enumerated() {
            let e = w + 1 < starts.count ? starts[w + 1] : text.count
            if e - s >= 2 { typeCounts[Array(text[s..<e]), default: 0] += 1 }
        }
        let types = typeCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let seedPiece = ByteWordPiece(tokens: tokens, maxInputChars: Int.max)
        var words: [[Int32]] = []
        var counts: [Int] = []
        var key: [UInt8] = []
        for (bytes, c) in types {
            var ids: [TokenID] = [], ends: [Int] = []
            seedPiece.encodeWord(bytes, 0..<bytes.count, key: &key, ids: &ids, ends: &ends)
            if ids.count >= 2 {
                words.append(ids.map { Int32($0) })
                counts.append(c)
            }
        }
        var pairCount: [UInt64: Int] = [:]
        var pairWords: [UInt64: [Int32]] = [:]
        @inline(__always) func pair(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        for (w, ids) in words.enumerated() {
            for i in 0..<(ids.count - 1) {
                let p = pair(ids[i], ids[i + 1])
                pairCount[p, default: 0] += counts[w]
                pairWords[p, default: []].append(Int32(w))
            }
        }
        var heap = MinHeap<Entry>()
        for (p, c) in pairCount { heap.push(Entry(count: c, pair: p)) }
        while tokens.count < target, let top = heap.pop() {
            let current = pairCount[top.pair] ?? 0
            if current != top.count {
                if current > 0 { heap.push(Entry(count: current, pair: top.pair)) }
                continue
            }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            let left = tokens[Int(a)], right = tokens[Int(b)]
            let merged = left + right.dropFirst(2)
            // A word-initial string may not start with the continuation prefix.
            if !left.hasPrefix("##") && merged.hasPrefix("##") {
                pairCount[top.pair] = 0
                continue
            }
            let c: Int32
            if let existing = index[merged] {
                c = existing
            } else {
                c = Int32(tokens.count)
                tokens.append(merged)
                index[merged] = c
                seen.insert(merged)
            }
            var done = Set<Int32>()
            for w in pairWords[top.pair] ?? [] where done.insert(w).inserted {
                let wi = Int(w), n = counts[wi]
                var ids = words[wi]
                var i = 0
                var out: [Int32] = []
                out.reserveCapacity(ids.count)
                var changed = false
                var justMerged = false
                while i < ids.count {
                    if i + 1 < ids.count && ids[i] == a && ids[i + 1] == b {
                        // Remove the pairs around the merged one, add the new ones.
                        if let prev = out.last {
                            // After a merge just made here, the old pair (b, a) is already gone.
                            if !justMerged { pairCount[pair(prev, a), default: 0] -= n }
                            let np = pair(prev, c)
                            pairCount[np, default: 0] += n
                            pairWords[np, default: []].append(w)
                            heap.push(Entry(count: pairCount[np]!, pair: np))
                        }
                        if i + 2 < ids.count {
                            pairCount[pair(b, ids[i + 2]), default: 0] -= n
                            // The right neighbour pairs with c unless it is merged too (handled next turn).
                            if !(i + 3 < ids.count && ids[i + 2] == a && ids[i + 3] == b) {
                                let np = pair(c, ids[i + 2])
                                pairCount[np, default: 0] += n
                                pairWords[np, default: []].append(w)
                                heap.push(Entry(count: pairCount[np]!, pair: np))
                            }
                        }
                        pairCount[top.pair, default: 0] -= n
                        out.append(c)
                        i += 2
                        changed = true
                        justMerged = true
                    } else {
                        out.append(ids[i])
                        i += 1
                        justMerged = false
                    }
                }
                if changed { ids = out; words[wi] = ids }
            }
            pairWords[top.pair] = nil
        }
        return tokens
    }
}
