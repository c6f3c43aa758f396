import TokenKitCore

/// Byte-level BPE training on word counts (Sennrich et al. 2016; GPT-2's byte-level variant).
///
/// 1. Words (pre-tokenized pieces with counts) become byte symbols 0…255.
/// 2. Pair counts are taken over all words, weighted by word counts.
/// 3. The most frequent pair is merged into a new token, repeatedly. Only words that hold a
///    merged symbol are visited, and only the pair counts next to each merge change.
///
/// Tie-breaking (deterministic, documented): the highest count wins; equal counts go to the
/// pair with the smaller left id, then the smaller right id. Thread count, input order and
/// hashing never change the merges.
public struct BPETrainer {
    public struct Configuration: Sendable {
        /// Final vocabulary size: 256 bytes + merges + special tokens.
        public var vocabSize = 32_768
        /// Stop when the best pair occurs fewer times than this.
        public var minFrequency: Int64 = 2
        /// Longest token, in bytes (0 = no limit).
        public var maxTokenLength = 0
        public var specialTokens: [String] = []

        public static let `default` = Configuration()
        public init() {}
    }

    public struct Result: Sendable {
        /// Merges in training order: (left, right); merge i makes token 256 + i.
        public var merges: [(TokenID, TokenID)]
        /// Bytes of every token, by id (bytes first, then merges).
        public var tokens: [[UInt8]]
        /// Count of each merge's pair when it was chosen.
        public var counts: [Int64]
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .default) { self.configuration = configuration }

    /// Trains on unique words and their counts.
    /// - Parameter progress: called with (merges done, merges wanted) now and then.
    public func train(words: WordCounts, progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let wanted = configuration.vocabSize - 256 - configuration.specialTokens.count
        guard wanted >= 0 else {
            throw TokenKitError.usage("--vocab-size \(configuration.vocabSize) is smaller than the 256 byte tokens plus \(configuration.specialTokens.count) special tokens")
        }
        guard words.count > 0 else { throw TokenKitError.badInput("the corpus is empty: no words to train on") }

        // 1. Words as symbol sequences in one flat array.
        let n = words.count
        var syms = [TokenID](repeating: 0, count: words.totalBytes)
        var start = [Int32](repeating: 0, count: n)
        var len = [Int32](repeating: 0, count: n)
        var pos = 0
        for w in 0..<n {
            start[w] = Int32(pos)
            words.withWord(w) { b in
                for (k, byte) in b.enumerated() { syms[pos + k] = TokenID(byte) }
                len[w] = Int32(b.count)
                pos += b.count
            }
        }
        let count = words.counts

        // 2. Pair counts, and for each token the words that hold it (a superset, cleaned lazily).
        var pairCounts = U64Map(capacity: 1 << 16)
        var holders = [[Int32]](repeating: [], count: 256)
        for w in 0..<n {
            let s = Int(start[w]), l = Int(len[w])
            for k in 0..<l {
                let t = syms[s + k]
                if k + 1 < l {
                    let key = UInt64(t) << 32 | UInt64(syms[s + k + 1])
                    pairCounts.set(key, (pairCounts.get(key) ?? 0) &+ UInt64(count[w]))
                }
                if holders[Int(t)].last != Int32(w) { holders[Int(t)].append(Int32(w)) }
            }
        }
        var heap = MaxHeap()
        pairCounts.forEach { key, c in heap.push(Int64(bitPattern: c), key) }

        var merges: [(TokenID, TokenID)] = []
        var mergeCounts: [Int64] = []
        var tokens: [[UInt8]] = (0..<256).map { [UInt8($0)] }
        merges.reserveCapacity(wanted)
        var deltas = U64Map(capacity: 1024)
        var touched: [UInt64] = []

        // 3. Merge.
        while merges.count < wanted, let top = heap.pop() {
            let (c0, pair) = top
            let actual = Int64(bitPattern: pairCounts.get(pair) ?? 0)
            if actual != c0 {
                if actual > 0 { heap.push(actual, pair) }
                continue
            }
            if actual < configuration.minFrequency || actual <= 0 { break }
            let a = TokenID(truncatingIfNeeded: pair >> 32), b = TokenID(truncatingIfNeeded: pair)
            if configuration.maxTokenLength > 0, tokens[Int(a)].count + tokens[Int(b)].count > configuration.maxTokenLength {
                pairCounts.set(pair, 0)
                continue
            }
            let c = TokenID(tokens.count)
            tokens.append(tokens[Int(a)] + tokens[Int(b)])
            merges.append((a, b))
            mergeCounts.append(actual)
            holders.append([])

            // Visit the words that hold the rarer of the two symbols.
            let via = holders[Int(a)].count <= holders[Int(b)].count ? Int(a) : Int(b)
            let candidates = holders[via]
            var stillHolding: [Int32] = []
            stillHolding.reserveCapacity(candidates.count)
            var lastWord: Int32 = -1
            for w32 in candidates where w32 != lastWord {
                lastWord = w32
                let w = Int(w32)
                let s = Int(start[w]), l = Int(len[w])
                let wc = count[w]
                var read = 0, write = 0
                var merged = false
                var holdsVia = false
                while read < l {
                    let t = syms[s + read]
                    if t == a, read + 1 < l, syms[s + read + 1] == b {
                        // Pairs around this occurrence change; the left neighbour is already
                        // the updated symbol, the right one still the old one.
                        if write > 0 {
                            let p = syms[s + write - 1]
                            addDelta(&deltas, &touched, UInt64(p) << 32 | UInt64(a), -wc)
                            addDelta(&deltas, &touched, UInt64(p) << 32 | UInt64(c), wc)
                        }
                        if read + 2 < l {
                            let q = syms[s + read + 2]
                            addDelta(&deltas, &touched, UInt64(b) << 32 | UInt64(q), -wc)
                            addDelta(&deltas, &touched, UInt64(c) << 32 | UInt64(q), wc)
                        }
                        syms[s + write] = c
                        write += 1
                        read += 2
                        merged = true
                    } else {
                        if t == TokenID(via) { holdsVia = true }
                        syms[s + write] = t
                        write += 1
                        read += 1
                    }
                }
                len[w] = Int32(write)
                if merged { holders[Int(c)].append(w32) }
                if holdsVia { stillHolding.append(w32) }
            }
            holders[via] = stillHolding
            pairCounts.set(pair, 0)
            // Apply the changes; pairs that grew are new (they hold c) and go on the heap.
            for key in touched {
                let d = Int64(bitPattern: deltas.get(key) ?? 0)
                deltas.set(key, 0)
                if d == 0 { continue }
                let updated = Int64(bitPattern: pairCounts.get(key) ?? 0) + d
                pairCounts.set(key, UInt64(bitPattern: max(0, updated)))
                if d > 0, updated > 0 { heap.push(updated, key) }
            }
            touched.removeAll(keepingCapacity: true)
            if merges.count % 256 == 0 { progress(merges.count, wanted) }
        }
        progress(merges.count, wanted)
        return Result(merges: merges, tokens: tokens, counts: mergeCounts)
    }

    @inline(__always)
    private func addDelta(_ deltas: inout U64Map, _ touched: inout [UInt64], _ key: UInt64, _ d: Int64) {
        let old = deltas.get(key)
        if old == nil || old == 0 { touched.append(key) }
        deltas.set(key, UInt64(bitPattern: Int64(bitPattern: old ?? 0) &+ d))
    }
}

/// A max-heap of (count, pair): higher count first, then the smaller pair (left, then right id).
struct MaxHeap {
    private var items: [(Int64, UInt64)] = []

    @inline(__always)
    private static func before(_ x: (Int64, UInt64), _ y: (Int64, UInt64)) -> Bool {
        x.0 != y.0 ? x.0 > y.0 : x.1 < y.1
    }

    mutating func push(_ count: Int64, _ pair: UInt64) {
        items.append((count, pair))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if !MaxHeap.before(items[i], items[p]) { break }
            items.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> (Int64, UInt64)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n, MaxHeap.before(items[l], items[m]) { m = l }
                if r < n, MaxHeap.before(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
