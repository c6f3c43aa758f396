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

    /// Builds the table over `vocab`, leaving out `excluded` ids (special tokens, byte-fallback
    /// tokens spelled `<0xNN>`), which are neither split nor produced.
    public init(vocab: TokenTable, excluded: Set<TokenID> = []) {
        var offsets = [UInt32](repeating: 0, count: vocab.count + 1)
        var pairs: [UInt64] = []
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
                }
            }
        }
        offsets[vocab.count] = UInt32(pairs.count)
        self.offsets = offsets
        self.pairs = pairs
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
    /// Instead each original token keeps its own list of parts, and a Fenwick tree over the part
    /// counts picks a uniformly random part of the current sequence in O(log n).
    public func expand(_ ids: inout [TokenID], p: Double = 0.1, using rng: inout some RandomNumberGenerator) {
        let n = ids.count
        let attempts = Int(p * Double(n))
        guard n > 0, attempts > 0 else { return }
        var tree = [Int32](repeating: 0, count: n + 1)   // Fenwick tree of part counts, all 1 at first
        for i in 1...n {
            tree[i] += 1
            let j = i + (i & -i)
            if j <= n { tree[j] += tree[i] }
        }
        // Parts of original token i form a list starting at node i; split parts append nodes.
        var token = ids
        var next = [Int32](repeating: -1, count: n)
        token.reserveCapacity(n + attempts)
        next.reserveCapacity(n + attempts)
        var total = n
        var topBit = 1
        while topBit * 2 <= n { topBit *= 2 }
        for _ in 0..<attempts {
            // The k-th part (0-based) of the current sequence: find its original token.
            var k = Int(rng.next() % UInt64(total))
            var pos = 0, bit = topBit
            while bit > 0 {
                let step = pos + bit
                if step <= n, Int(tree[step]) <= k {
                    pos = step
                    k -= Int(tree[step])
                }
                bit >>= 1
            }
            var node = pos  // walk to the k-th part of original token `pos`
            while k > 0 { node = Int(next[node]); k -= 1 }
            let count = splitCount(token[node])
            if count == 0 { continue }
            let pair = pairs[Int(offsets[Int(token[node])]) + Int(rng.next() % UInt64(count))]
            token[node] = TokenID(truncatingIfNeeded: pair >> 32)
            token.append(TokenID(truncatingIfNeeded: pair))
            next.append(next[node])
            next[node] = Int32(token.count - 1)
            total += 1
            var i = pos + 1
            while i <= n {
                tree[i] += 1
                i += i & -i
            }
        }
        if total == n { return }
        var out: [TokenID] = []
        out.reserveCapacity(total)
        for i in 0..<n {
            var node = i
            while node >= 0 {
                out.append(token[node])
                node = Int(next[node])
            }
        }
        ids = out
    }
}
