import TokenKitCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// StochasTok (Sims et al. 2025, arXiv 2506.01687): after deterministic encoding, randomly split
/// tokens into two vocabulary tokens whose bytes concatenate to the original, so a model sees the
/// inside of tokens. Decoding is unchanged: the bytes stay the same.
///
/// The split table lists, for every token, all ways to write it as two tokens; `expand` makes
/// int(p · n) attempts (the paper's count; `.expected` makes the mean p · n), each at a uniformly random position of the current (growing) sequence,
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

    /// Expands `ids` in place with int(p · ids.count) split attempts (or, with `.expected`,
    /// a random count whose mean is p · ids.count).
    ///
    /// The attempts are drawn in continuous time, which gives the same distribution as making
    /// them one by one (the procedure above) without a random access into the sequence per
    /// attempt: give every part an exponential clock of rate 1, attempt a part when its clock
    /// rings, and a split part's two halves start clocks of their own. The next part to ring is
    /// then uniform over the current parts, so the first k rings are k attempts of the procedure,
    /// and each original token's parts evolve independently of the others. One pass simulates
    /// every original up to a horizon H (most ring never: one draw each), the k-th smallest ring
    /// time τ is selected, and the parts at τ are written out. If fewer than k rings fall before
    /// H, every part's clock runs on to a later horizon (clocks have no memory).
    public func expand(_ ids: inout [TokenID], p: Double = 0.1, count: AttemptCount = .floor,
                       using rng: inout some RandomNumberGenerator) {
        let k = StochasTok.attempts(p: p, n: ids.count, count: count, using: &rng)
        expand(&ids, attempts: k, firstHorizon: 1, using: &rng)
    }

    /// How many attempts a sequence of n tokens gets.
    public enum AttemptCount: String, Sendable, CaseIterable {
        /// int(p · n), the paper's: no attempt at all while p · n < 1 (a short line at p = 0.1).
        case floor
        /// ⌊p · n⌋ plus one more with probability equal to the fractional part, so the
        /// expected number of attempts is p · n however short the sequence.
        case expected
    }

    /// The number of attempts for `n` tokens at rate `p`; `.expected` draws one coin from `rng`
    /// (only when p · n has a fractional part).
    public static func attempts(p: Double, n: Int, count: AttemptCount, using rng: inout some RandomNumberGenerator) -> Int {
        let x = p * Double(n)
        let whole = x.rounded(.down)
        guard count == .expected, x > whole else { return Int(whole) }
        return Int(whole) + (Rings.unit(&rng) <= x - whole ? 1 : 0)
    }

    /// `firstHorizon` scales the first horizon (tests make it short to exercise the later ones).
    func expand(_ ids: inout [TokenID], p: Double, firstHorizon: Double, using rng: inout some RandomNumberGenerator) {
        expand(&ids, attempts: Int(p * Double(ids.count)), firstHorizon: firstHorizon, using: &rng)
    }

    /// Expands `ids` with exactly `attempts` split attempts.
    public func expand(_ ids: inout [TokenID], attempts: Int, using rng: inout some RandomNumberGenerator) {
        expand(&ids, attempts: attempts, firstHorizon: 1, using: &rng)
    }

    func expand(_ ids: inout [TokenID], attempts: Int, firstHorizon: Double, using rng: inout some RandomNumberGenerator) {
        let n = ids.count
        guard n > 0, attempts > 0 else { return }
        var sim = Rings(n: n)
        var horizon = 0.0
        // Rings by H number about n·H or more (splits add clocks); the margin makes a second
        // pass rare.
        var step = Double(attempts) / Double(n) * (1 + 4 / Double(attempts).squareRoot()) * firstHorizon
        while sim.times.count < attempts {
            let end = horizon + step
            let quiet = exp(-step)
            for i in 0..<n {
                if sim.root[i] < 0 {
                    // The original's first ring, if it falls before `end`: one draw, a log only
                    // when it does.
                    let u = Rings.unit(&rng)
                    if u < quiet { continue }
                    let t = horizon - log(u)
                    if t > end { continue }
                    sim.root[i] = sim.node(ids[i])
                    sim.ring(sim.root[i], at: t, until: end, self, &rng)
                } else {
                    sim.runLeaves(of: sim.root[i], from: horizon, until: end, self, &rng)
                }
            }
            horizon = end
            // Every part rings at rate 1 and there are at least n of them.
            step = Double(attempts - sim.times.count) / Double(n) * 1.5
        }
        let tau = Rings.select(&sim.times, attempts - 1)
        if sim.token.isEmpty { return }
        var out: [TokenID] = []
        out.reserveCapacity(n + sim.token.count)
        var stack: [Int32] = []
        for i in 0..<n {
            if sim.root[i] < 0 {
                out.append(ids[i])
                continue
            }
            stack.append(sim.root[i])
            while let k = stack.popLast() {
                let node = Int(k)
                if sim.splitAt[node] <= tau {
                    stack.append(sim.left[node] + 1)
                    stack.append(sim.left[node])
                } else {
                    out.append(sim.token[node])
                }
            }
        }
        ids = out
    }

    /// Parts of the originals that rang, as a forest: a part split at time `splitAt` has its two
    /// halves at `left` and `left + 1`. `times` holds every ring (splits and failed attempts).
    struct Rings {
        var root: [Int32]
        var token: [TokenID] = []
        var splitAt: [Double] = []
        var left: [Int32] = []
        var times: [Double] = []
        var pending: [(Int32, Double)] = []

        init(n: Int) { root = [Int32](repeating: -1, count: n) }

        mutating func node(_ t: TokenID) -> Int32 {
            token.append(t)
            splitAt.append(.infinity)
            left.append(-1)
            return Int32(token.count - 1)
        }

        /// A uniform draw in (0, 1].
        @inline(__always)
        static func unit(_ rng: inout some RandomNumberGenerator) -> Double {
            Double(rng.next() >> 11 + 1) * 0x1p-53
        }

        /// Part `k` rings at `t` and its clock (or its halves') runs until `end`.
        mutating func ring(_ k: Int32, at t: Double, until end: Double, _ table: StochasTok,
                           _ rng: inout some RandomNumberGenerator) {
            pending.append((k, t))
            while let (k, first) = pending.popLast() {
                var t = first
                let id = token[Int(k)]
                let count = table.splitCount(id)
                while t <= end {
                    times.append(t)
                    if count > 0 {
                        let pair = table.pairs[Int(table.offsets[Int(id)]) + Int(rng.next() % UInt64(count))]
                        let a = node(TokenID(truncatingIfNeeded: pair >> 32))
                        _ = node(TokenID(truncatingIfNeeded: pair))
                        splitAt[Int(k)] = t
                        left[Int(k)] = a
                        pending.append((a + 1, t - log(Rings.unit(&rng))))
                        pending.append((a, t - log(Rings.unit(&rng))))
                        break
                    }
                    t -= log(Rings.unit(&rng))
                }
            }
        }

        /// Runs the clocks of the parts of tree `k` that are whole at `start` on to `end`.
        mutating func runLeaves(of k: Int32, from start: Double, until end: Double, _ table: StochasTok,
                                _ rng: inout some RandomNumberGenerator) {
            var stack: [Int32] = [k]
            while let k = stack.popLast() {
                if splitAt[Int(k)] <= start {
                    stack.append(left[Int(k)])
                    stack.append(left[Int(k)] + 1)
                } else {
                    ring(k, at: start - log(Rings.unit(&rng)), until: end, table, &rng)
                }
            }
        }

        /// The k-th smallest of `values` (0-based), by quickselect; `values` is reordered.
        static func select(_ values: inout [Double], _ k: Int) -> Double {
            var lo = 0, hi = values.count - 1
            var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
            while lo < hi {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let pivot = values[lo + Int((seed >> 33) % UInt64(hi - lo + 1))]
                var i = lo, j = hi
                while i <= j {
                    while values[i] < pivot { i += 1 }
                    while values[j] > pivot { j -= 1 }
                    if i <= j {
                        values.swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                if k <= j { hi = j } else if k >= i { lo = i } else { return values[k] }
            }
            return values[k]
        }
    }
}
