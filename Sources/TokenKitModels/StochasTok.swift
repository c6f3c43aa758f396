import TokenKitCore

/// StochasTok (Sims et al. 2025, arXiv 2506.01687): after deterministic encoding, randomly split
/// tokens into two vocabulary tokens whose bytes concatenate to the original, so a model sees the
/// inside of tokens. Decoding is unchanged: the bytes stay the same.
///
/// The split table lists, for every token, all ways to write it as two tokens; `expand` makes
/// int(p · n) attempts, each at a uniformly random position of the current (growing) sequence,
/// replacing a splittable token by a uniformly chosen pair. Split pieces can be split again.
public struct StochasTok: Sendable {
    /// Splits of token t are `pairs[offsets[t] ..< offsets[t+1]]`, each `left << 32 | right`.
    public let offsets: [UInt32]
    public let pairs: [UInt64]
    /// Byte length of the longest splittable token: no original can end up in more parts.
    let maxParts: Int

    /// Builds the table over `vocab`, leaving out `excluded` ids (special tokens, byte-fallback
    /// tokens spelled `<0xNN>`), which are neither split nor produced.
    public init(vocab: TokenTable, excluded: Set<TokenID> = []) {
        var offsets = [UInt32](repeating: 0, count: vocab.count + 1)
        var pairs: [UInt64] = []
        var maxParts = 1
        pairs.reserveCapacity(vocab.tokenCount * 2)
        for id in 0..<vocab.count {
            offsets[id] = UInt32(pairs.count)
            let t = TokenID(id)
            guard vocab.contains(t), !excluded.contains(t), vocab.length(t) >= 2 else { continue }
            vocab.withBytes(t) { raw in
                for cut in 1..<raw.count {
                    guard let a = vocab.lookup(UnsafeRawBufferPointer(rebasing: raw[..<cut])), !excluded.contains(a),
                          let b = vocab.lookup(UnsafeRawBufferPointer(rebasing: raw[cut...])), !excluded.contains(b)
                    else { continue }
                    pairs.append(UInt64(a) << 32 | UInt64(b))
                    maxParts = max(maxParts, raw.count)
                }
            }
        }
        offsets[vocab.count] = UInt32(pairs.count)
        self.offsets = offsets
        self.pairs = pairs
        self.maxParts = maxParts
    }

    /// Number of ways to split `id` into two tokens.
    @inline(__always)
    public func splitCount(_ id: TokenID) -> Int {
        Int(id) + 1 < offsets.count ? Int(offsets[Int(id) + 1] - offsets[Int(id)]) : 0
    }

    public func splits(_ id: TokenID) -> [(TokenID, TokenID)] {
        guard splitCount(id) > 0 else { return [] }
        return pairs[Int(offsets[Int(id)])..<Int(offsets[Int(id) + 1])].map {
            (TokenID(truncatingIfNeeded: $0 >> 32), TokenID(truncatingIfNeeded: $0))
        }
    }

    /// Expands `ids` in place with int(p · ids.count) split attempts.
    ///
    /// Performance notes: inserting into the array at each split would cost O(n) per attempt.
    /// Instead each original token keeps its own list of parts (the first in `ids`, split-off
    /// parts appended after the originals), and a random position of the current sequence is
    /// found in two steps: a Fenwick tree over blocks of 32 originals picks the block (the
    /// tree is n/32 entries, so it stays in cache, where a tree over every token missed it at
    /// each level), then a scan of the block's part counts picks the original.
    public func expand(_ ids: inout [TokenID], p: Double = 0.1, using rng: inout some RandomNumberGenerator) {
        // Part counts in bytes when they fit: the array scanned at each attempt then stays in cache.
        if maxParts <= Int(UInt8.max) {
            expand(&ids, p: p, parts: UInt8.self, using: &rng)
        } else {
            expand(&ids, p: p, parts: UInt32.self, using: &rng)
        }
    }

    @inline(__always)
    private func expand<Count: FixedWidthInteger & UnsignedInteger>(_ ids: inout [TokenID], p: Double, parts _: Count.Type,
                                                                     using rng: inout some RandomNumberGenerator) {
        let n = ids.count
        let attempts = Int(p * Double(n))
        guard n > 0, attempts > 0 else { return }
        let shift = 5, block = 1 << shift
        let blocks = (n + block - 1) >> shift
        var parts = [Count](repeating: 1, count: n)
        var tree = [Int32](repeating: 0, count: blocks + 1)  // Fenwick tree of parts per block
        for b in 1...blocks {
            tree[b] += Int32(min(block, n - (b - 1) * block))
            let j = b + (b & -b)
            if j <= blocks { tree[j] += tree[b] }
        }
        var next = [Int32](repeating: -1, count: n)  // part lists: original i starts at node i
        next.reserveCapacity(n + attempts)
        ids.reserveCapacity(n + attempts)
        var total = n
        var topBit = 1
        while topBit * 2 <= blocks { topBit *= 2 }
        for _ in 0..<attempts {
            var k = Int(rng.next() % UInt64(total))
            var b = 0, bit = topBit
            while bit > 0 {  // the block holding part k
                let step = b + bit
                if step <= blocks, Int(tree[step]) <= k {
                    b = step
                    k -= Int(tree[step])
                }
                bit >>= 1
            }
            var i = b << shift  // the original holding it, and which of its parts
            while k >= Int(parts[i]) {
                k -= Int(parts[i])
                i += 1
            }
            var node = i
            while k > 0 { node = Int(next[node]); k -= 1 }
            let t = ids[node]
            let count = splitCount(t)
            if count == 0 { continue }
            let pair = pairs[Int(offsets[Int(t)]) + Int(rng.next() % UInt64(count))]
            ids[node] = TokenID(truncatingIfNeeded: pair >> 32)
            ids.append(TokenID(truncatingIfNeeded: pair))
            next.append(next[node])
            next[node] = Int32(ids.count - 1)
            parts[i] += 1
            total += 1
            var j = b + 1
            while j <= blocks {
                tree[j] += 1
                j += j & -j
            }
        }
        if total == n { return }
        var out: [TokenID] = []
        out.reserveCapacity(total)
        for i in 0..<n {
            out.append(ids[i])
            var node = Int(next[i])
            while node >= 0 {
                out.append(ids[node])
                node = Int(next[node])
            }
        }
        ids = out
    }
}
