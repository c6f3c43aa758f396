import Foundation
import TokenKit
import TokenKitCore

/// Exact byte-level probabilities of a token LM: what `next`, `score`, `sample` and `heal` need.
public protocol ByteLevelModel: AnyObject {
    var space: TokenSpace { get }
    var lm: TokenLM { get }
    /// The distribution of the byte after `text` (user bytes). Calls whose texts grow one byte at
    /// a time (sampling, scoring) reuse work.
    func distribution(after text: [UInt8]) throws -> ByteDistribution
    /// ln P(the text is `doc`, then ends): the sum of ln `distribution` over its bytes and the end.
    func logProb(document doc: [UInt8]) throws -> Double
    /// Distinct LM contexts asked about so far (the forward passes a neural LM would need).
    var contexts: Int { get }
}

extension ByteLevelModel {
    /// The naive answer: prompt the LM with the canonical encoding of the text and read the next
    /// token's first byte (what a plain tokenized LM does).
    public func naive(text: [UInt8]) throws -> ByteDistribution {
        let m = space.modelBytes(text)
        let onlyPrefix = !space.prefix.isEmpty && text.isEmpty
        let ids: [TokenID]
        if onlyPrefix {
            ids = []
        } else {
            guard let e = space.encode(m[...]), space.spell(e) == m else {
                throw TokenKitError.badInput(ByteModel.notRepresentable(space, m))
            }
            ids = e
        }
        let d = try lm.next(ids)
        var logs: [[Double]] = Array(repeating: [], count: 256)
        let skip = onlyPrefix ? space.prefix.count : 0
        for t in 0..<min(d.logprobs.count, space.vocabSize) where d.logprobs[t] > -.infinity {
            let tb = space.tokenBytes[t]
            guard tb.count > skip else { continue }
            logs[Int(tb[skip])].append(d.logprobs[t])
        }
        return ByteModel.normalize(logs.map(logSumExp), d.eos)
    }
}

/// The byte-level distribution a Markov (n-gram) token LM defines, summed over every token
/// sequence: generate tokens until the end, and the text is what they spell. Each text's
/// probability is the sum over all its encodings, canonical or not, so no pair check is needed
/// and `logProb(document:)` is the forward algorithm over byte positions — one pass, with the
/// n-gram contexts as states (a context no n-gram extends is shortened, as KenLM's state is).
///
/// Tokens that spell nothing (added and special tokens) would leave the text unchanged: the LM's
/// next-token distribution is renormalised without them. With SentencePiece's dummy prefix a
/// text is spelled as prefix + text or, when it does not start with a space, as the text alone
/// (decoding drops one leading space), and both count.
public final class AllEncodingsModel: ByteLevelModel {
    public let space: TokenSpace
    public let lm: TokenLM
    let ngram: NGramLM
    /// Usable tokens in byte order (`space.sorted`) with their bytes laid out flat.
    private let ids: [TokenID]
    private let flat: [UInt8]
    private let offset: [Int32]
    private let length: [Int32]
    /// Ids that spell nothing; their mass is renormalised away.
    private let silent: [UInt32]
    private let extendable: Set<GramKey>
    /// Each id's index in `ids` (-1: not a usable token), and running sums of the unigram
    /// probabilities in that order: range sums for the covers.
    private let rank: [Int32]
    private let unigramSums: [Double]

    /// A minimised n-gram context: its last `level` words' keys and backoff weights, level 1...n.
    struct State {
        var words: [UInt32]
        var keys: [GramKey]
        var bows: [Double]
        /// ln(1 - P(silent tokens | context)).
        var norm: Double
    }
    private var states: [State] = []
    private var stateIDs: [GramKey: Int32] = [:]
    /// (state << 32 | token) → index of (next state, ln P(token | state) - norm + the next
    /// state's shortening weight) in `targets`.
    private var transitions = U64Map(capacity: 1 << 16)
    private var targets: [(Int32, Double)] = []
    public private(set) var contexts = 0

    public init(space: TokenSpace, ngram: NGramLM, lm: TokenLM? = nil) {
        self.space = space
        self.ngram = ngram
        self.lm = lm ?? ngram
        ids = space.sorted
        var flat: [UInt8] = [], offset: [Int32] = [], length: [Int32] = []
        for t in ids {
            let b = space.tokenBytes[Int(t)]
            offset.append(Int32(flat.count))
            length.append(Int32(b.count))
            flat += b
        }
        self.flat = flat
        self.offset = offset
        self.length = length
        silent = (0..<min(space.vocabSize, ngram.vocabSize)).filter { space.tokenBytes[$0].isEmpty }.map { UInt32($0) }
        extendable = ngram.extendable
        var rank = [Int32](repeating: -1, count: space.vocabSize)
        var sums = [0.0]
        for (i, t) in ids.enumerated() {
            rank[Int(t)] = Int32(i)
            sums.append(sums[i] + (Int(t) < ngram.unigram.count ? Foundation.exp(ngram.unigram[Int(t)]) : 0))
        }
        self.rank = rank
        unigramSums = sums
    }

    // MARK: States

    private func state(_ words: [UInt32]) -> Int32 {
        let key = GramKey(words)
        if let s = stateIDs[key] { return s }
        var keys = [GramKey([UInt32]())], bows = [0.0]
        for level in stride(from: 1, through: words.count, by: 1) {
            let k = GramKey(words.suffix(level))
            keys.append(k)
            bows.append(ngram.tables[level - 1][k]?.1 ?? 0)
        }
        var st = State(words: words, keys: keys, bows: bows, norm: 0)
        var p = 0.0
        for w in silent { p += Foundation.exp(logProb(w, st)) }
        // (An LM that gives every context's mass to tokens that spell nothing has no text to renormalise to.)
        st.norm = p < 1 ? Foundation.log1p(-p) : 0
        let id = Int32(states.count)
        states.append(st)
        stateIDs[key] = id
        return id
    }

    /// ln P(w | state), backing off through its shorter contexts (from its last `from` words).
    private func logProb(_ w: UInt32, _ st: State, from: Int? = nil) -> Double {
        var acc = 0.0
        var level = from ?? st.words.count
        while level > 0 {
            if let v = ngram.tables[level][st.keys[level].appending(w, count: level)] { return acc + v.0 }
            acc += st.bows[level]
            level -= 1
        }
        return acc + ngram.unigram[Int(w)]
    }

    /// The state after `t`, and ln P(t | s) renormalised, plus the weight of shortening.
    private func transition(_ s: Int32, _ t: TokenID) -> (Int32, Double) {
        let key = UInt64(UInt32(s)) << 32 | UInt64(t)
        if let i = transitions.get(key) { return targets[Int(i)] }
        let st = states[Int(s)]
        var lp = logProb(UInt32(t), st) - st.norm
        var words = Array((st.words + [UInt32(t)]).suffix(ngram.order - 1))
        // A context that no n-gram extends backs off for every next word, now and later: keep
        // its backoff weight and drop its first word.
        while !words.isEmpty {
            let key = GramKey(words)
            if extendable.contains(key) { break }
            lp += ngram.tables[words.count - 1][key]?.1 ?? 0
            words.removeFirst()
        }
        let v = (state(words), lp)
        if targets.count >= 1 << 20 {
            transitions = U64Map(capacity: 1 << 16)
            targets.removeAll(keepingCapacity: true)
        }
        transitions.set(key, UInt64(targets.count))
        targets.append(v)
        return v
    }

    private var start: Int32 { state(ngram.order > 1 ? [ngram.bosWord] : []) }

    // MARK: Forward pass

    /// Mass of the token sequences that spell the text read so far exactly (`current`, by state,
    /// natural logs) and of those whose last token started at an earlier position and may still
    /// run on (`open`).
    struct Forward {
        struct Open {
            var start: Int
            /// Tokens (indices into `ids`) whose bytes start with the text from `start` on.
            var lo: Int
            var hi: Int
            var alpha: [(Int32, Double)]
        }
        var position = 0
        var current: [(Int32, Double)]
        var open: [Open] = []
        var text: [UInt8] = []
        /// Model-space offset of the byte after which no sequence is left, if any.
        var dead: Int?
    }

    /// The first index in `lo..<hi` whose byte at `depth` is ≥ b (strict: > b); tokens that end
    /// before `depth` come first.
    private func bound(_ lo: Int, _ hi: Int, _ depth: Int, _ b: Int, strict: Bool) -> Int {
        var lo = lo, hi = hi
        while lo < hi {
            let mid = (lo + hi) >> 1
            let k = Int(length[mid]) > depth ? Int(flat[Int(offset[mid]) + depth]) : -1
            if k < b || (strict && k == b) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func advance(_ f: inout Forward, _ byte: UInt8) {
        if !f.current.isEmpty { f.open.append(.init(start: f.position, lo: 0, hi: ids.count, alpha: f.current)) }
        var next: [(Int32, Double)] = []
        var open: [Forward.Open] = []
        open.reserveCapacity(f.open.count)
        for var o in f.open {
            let depth = f.position - o.start
            let lo = bound(o.lo, o.hi, depth, Int(byte), strict: false)
            let hi = bound(lo, o.hi, depth, Int(byte), strict: true)
            var k = lo
            // Tokens that end here spell the text exactly.
            while k < hi && Int(length[k]) == depth + 1 {
                let t = ids[k]
                for (s, w) in o.alpha {
                    let (to, lp) = transition(s, t)
                    let v = w + lp
                    if let i = next.firstIndex(where: { $0.0 == to }) {
                        next[i].1 = logAdd(next[i].1, v)
                    } else {
                        next.append((to, v))
                    }
                }
                k += 1
            }
            if k < hi {
                o.lo = k
                o.hi = hi
                open.append(o)
            }
        }
        contexts += next.count
        f.open = open
        f.current = next
        if next.isEmpty && open.isEmpty && f.dead == nil { f.dead = f.position }
        f.position += 1
        f.text.append(byte)
    }

    private func forward(_ m: [UInt8]) -> Forward {
        var f = Forward(current: [(start, 0)])
        contexts += 1
        for b in m { advance(&f, b) }
        return f
    }

    /// Next-byte and end masses after the text read so far (natural logs).
    private func masses(_ f: Forward) -> (bytes: [Double], end: Double) {
        let all = f.current.map(\.1) + f.open.flatMap { $0.alpha.map(\.1) }
        guard let ref = all.max(), ref > -.infinity else { return (Array(repeating: -.infinity, count: 256), -.infinity) }
        var bytes = [Double](repeating: 0, count: 256)
        var end = 0.0
        for (s, w) in f.current {
            let st = states[Int(s)]
            let d = ngram.dense(history: st.words)
            let base = w - ref - st.norm
            for t in 0..<min(space.vocabSize, d.logprobs.count) {
                let tb = space.tokenBytes[t]
                guard let b = tb.first else { continue }
                bytes[Int(b)] += Foundation.exp(base + d.logprobs[t])
            }
            end += Foundation.exp(base + d.eos)
        }
        let successors = ngram.successors
        for o in f.open {
            let depth = f.position - o.start
            // The open tokens by their byte at `depth` (contiguous: they share the bytes before).
            var groups: [(byte: Int, lo: Int, hi: Int)] = []
            var k = o.lo
            while k < o.hi {
                let b = Int(flat[Int(offset[k]) + depth])
                var e = k + 1
                while e < o.hi && Int(flat[Int(offset[e]) + depth]) == b { e += 1 }
                groups.append((b, k, e))
                k = e
            }
            for (s, w) in o.alpha {
                let st = states[Int(s)]
                let scale = Foundation.exp(w - ref - st.norm)
                let lists = (0...st.words.count).map { $0 == 0 ? nil : successors[$0][st.keys[$0]] }
                let listed = lists.reduce(0) { $0 + ($1?.count ?? 0) }
                if o.hi - o.lo <= 4 * listed {
                    // Few tokens: ask for each.
                    for g in groups {
                        for k in g.lo..<g.hi { bytes[g.byte] += scale * Foundation.exp(logProb(UInt32(ids[k]), st)) }
                    }
                    continue
                }
                // Many: Σ over a range of P(t | context) is the seen continuations' mass plus the
                // backoff weight times the same sum one order lower without them, down to
                // unigram range sums.
                var mass = [Double](repeating: 0, count: 256)
                for g in groups { mass[g.byte] = unigramSums[g.hi] - unigramSums[g.lo] }
                for level in stride(from: 1, through: st.words.count, by: 1) {
                    var seen = [Double](repeating: 0, count: 256), lower = [Double](repeating: 0, count: 256)
                    for (t, p) in lists[level] ?? [] where Int(t) < rank.count {
                        let r = Int(rank[Int(t)])
                        guard r >= o.lo && r < o.hi else { continue }
                        let b = Int(flat[Int(offset[r]) + depth])
                        seen[b] += Foundation.exp(p)
                        lower[b] += Foundation.exp(logProb(t, st, from: level - 1))
                    }
                    let bow = Foundation.exp(st.bows[level])
                    for g in groups { mass[g.byte] = seen[g.byte] + bow * max(0, mass[g.byte] - lower[g.byte]) }
                }
                for g in groups { bytes[g.byte] += scale * mass[g.byte] }
            }
        }
        return (bytes.map { Foundation.log($0) + ref }, Foundation.log(end) + ref)
    }

    /// The model-space strings that decode to `text`: prefix + text, and with a dummy prefix
    /// the text alone unless it starts with a space (decoding drops one leading space).
    private func spellings(_ text: [UInt8]) -> [[UInt8]] {
        guard !space.prefix.isEmpty else { return [text] }
        return text.starts(with: space.prefix) && !text.isEmpty ? [space.prefix + text] : [space.prefix + text, text]
    }

    /// Forward states of the last texts asked about, reused when the next text extends them.
    private var last: [Forward] = []

    private func forwardState(_ m: [UInt8]) -> Forward {
        var f: Forward
        if let i = last.firstIndex(where: { $0.text.count <= m.count && m.starts(with: $0.text) }) {
            f = last.remove(at: i)
            for b in m[f.text.count...] { advance(&f, b) }
        } else {
            f = forward(m)
        }
        last.append(f)
        if last.count > 2 { last.removeFirst() }
        return f
    }

    public func distribution(after text: [UInt8]) throws -> ByteDistribution {
        var bytes = [Double](repeating: -.infinity, count: 256), end = -Double.infinity
        var reached = 0
        for m in spellings(text) {
            let f = forwardState(m)
            reached = max(reached, (f.dead ?? m.count) - (m.count - text.count))
            let ms = masses(f)
            for b in 0..<256 where !(m.isEmpty && [UInt8(b)] == space.prefix) { bytes[b] = logAdd(bytes[b], ms.bytes[b]) }
            end = logAdd(end, ms.end)
        }
        guard bytes.contains(where: { $0 > -.infinity }) || end > -.infinity else { throw unspellable(text, at: reached) }
        return ByteModel.normalize(bytes, end)
    }

    public func logProb(document doc: [UInt8]) throws -> Double {
        var ends: [Double] = []
        var reached = 0
        for m in spellings(doc) {
            var f = forward([])
            for b in m where f.dead == nil { advance(&f, b) }
            reached = max(reached, (f.dead ?? m.count) - (m.count - doc.count))
            for (s, w) in f.current {
                let st = states[Int(s)]
                ends.append(w + logProb(ngram.eosWord, st) - st.norm)
            }
        }
        guard !ends.isEmpty else { throw unspellable(doc, at: reached) }
        return logSumExp(ends)
    }

    /// `offset`: the first byte of the text that no token sequence spells along with the bytes
    /// before it (the text's length: sequences run past its end, but none ends there).
    private func unspellable(_ text: [UInt8], at offset: Int) -> TokenKitError {
        let name = space.tokenizer.name
        guard offset < text.count else {
            return .badInput("no token sequence of \(name) ends where the text ends (a character with no token and no byte fallback, cut short?)")
        }
        return .badInput(String(format: "no token sequence of %@ spells the text through byte offset %d (0x%02X): a character with no token and no byte fallback?", name, offset, text[offset]))
    }
}

/// ln(e^a + e^b).
@inline(__always) func logAdd(_ a: Double, _ b: Double) -> Double {
    let m = max(a, b)
    guard m > -.infinity else { return m }
    return m + Foundation.log1p(Foundation.exp(-abs(a - b)))
}
