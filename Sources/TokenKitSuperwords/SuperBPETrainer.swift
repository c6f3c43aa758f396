import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitModels

/// SuperBPE's second stage (Liu, Hayase et al. 2025): BPE resumed on words cut by the
/// superword split, so that tokens may span spaces.
///
/// 1. The inherited merges are replayed in order over the stage-2 words. Replaying merges in
///    rank order is exactly BPE encoding with those merges, so each unique word is encoded once
///    (in parallel) instead of scanning the corpus once per merge.
/// 2. Merging resumes as in `BPETrainer` (highest count, then smaller left id, then smaller
///    right id) with the paper's two filters on new tokens: none containing ": " and none with
///    more than `maxWords` space-separated words.
///
/// An inherited merge that never occurs in the stage-2 words is kept by default, so the first
/// ids are those of the stage-1 tokenizer; `dropUnusedMerges` drops it (and renumbers the later
/// tokens) as the reference trainer does.
public struct SuperBPETrainer {
    public struct Configuration: Sendable {
        /// Final vocabulary size: 256 bytes + merges + special tokens.
        public var vocabSize = 32_768
        public var minFrequency: Int64 = 2
        /// Most space-separated words in a new token (the paper's mw4).
        public var maxWords = 4
        /// Forbid new tokens that contain ": " (the paper's "colon" rule).
        public var forbidColonSpace = true
        public var dropUnusedMerges = false
        public var specialTokens: [String] = []
        public var threads = 1
        public init() {}
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Whether a new token of these bytes passes the stage-2 filters.
    public static func allowed(_ bytes: [UInt8], maxWords: Int, forbidColonSpace: Bool) -> Bool {
        var words = 0, inWord = false
        for (k, b) in bytes.enumerated() {
            if b == 0x20 {
                if forbidColonSpace, k > 0, bytes[k - 1] == UInt8(ascii: ":") { return false }
                inWord = false
            } else if !inWord {
                inWord = true
                words += 1
            }
        }
        return words <= maxWords
    }

    /// Token ids of merges given as byte strings: bytes are ids 0–255, each merge makes the next
    /// id unless its bytes are already a token. Errors name the merge whose parts are unknown.
    public static func resolve(_ merges: [([UInt8], [UInt8])]) throws -> (tokens: [[UInt8]], merges: [(TokenID, TokenID, TokenID)]) {
        var tokens: [[UInt8]] = (0..<256).map { [UInt8($0)] }
        var known: [[UInt8]: TokenID] = [:]
        for (id, t) in tokens.enumerated() { known[t] = TokenID(id) }
        var out: [(TokenID, TokenID, TokenID)] = []
        for (k, m) in merges.enumerated() {
            guard let a = known[m.0], let b = known[m.1] else {
                throw TokenKitError.badInput("merge \(k + 1): \(ByteLevelAlphabet.encode(known[m.0] == nil ? m.0 : m.1)) is not a byte or the result of an earlier merge")
            }
            let bytes = m.0 + m.1
            let c: TokenID
            if let existing = known[bytes] {
                c = existing
            } else {
                c = TokenID(tokens.count)
                tokens.append(bytes)
                known[bytes] = c
            }
            out.append((a, b, c))
        }
        return (tokens, out)
    }

    /// Trains on the stage-2 words, starting from the inherited merges (as byte strings).
    public func train(words: WordCounts, inherited: [([UInt8], [UInt8])],
                      progress: (Int, Int) -> Void = { _, _ in }) throws -> BPETrainer.Result {
        let target = configuration.vocabSize - configuration.specialTokens.count
        guard words.count > 0 else { throw TokenKitError.badInput("the corpus is empty: no words to train on") }
        var (tokens, merges) = try SuperBPETrainer.resolve(inherited)
        guard tokens.count <= target else {
            throw TokenKitError.usage("--vocab-size \(configuration.vocabSize) is smaller than the \(tokens.count) tokens of the inherited merges plus \(configuration.specialTokens.count) special tokens")
        }

        // 1. Replay: encode every word with the inherited merges.
        let n = words.count
        let vocab = try TokenTable(tokens.enumerated().map { ($0.element, TokenID($0.offset)) }, allowDuplicateBytes: true)
        let model = BPEModel(vocab: vocab, merges: merges, symbols: .bytes, wholePieceFirst: false)
        let encoded = try replay(words, model)
        var syms = encoded.syms
        let start = encoded.start
        var len = encoded.len
        let count = words.counts

        if configuration.dropUnusedMerges {
            // A merge occurred when its token is in some word, or was used by a later merge that
            // occurred; later ids move down over the dropped ones.
            var present = [Bool](repeating: false, count: tokens.count)
            for t in syms { present[Int(t)] = true }
            var used = [Bool](repeating: false, count: merges.count)
            for k in merges.indices.reversed() where present[Int(merges[k].2)] {
                used[k] = true
                present[Int(merges[k].0)] = true
                present[Int(merges[k].1)] = true
            }
            var newID = [TokenID](repeating: TokenID.max, count: tokens.count)
            var kept: [[UInt8]] = []
            for id in 0..<256 { newID[id] = TokenID(id); kept.append(tokens[id]) }
            var keptMerges: [(TokenID, TokenID, TokenID)] = []
            for (k, m) in merges.enumerated() where used[k] {
                if newID[Int(m.2)] == TokenID.max {
                    newID[Int(m.2)] = TokenID(kept.count)
                    kept.append(tokens[Int(m.2)])
                }
                keptMerges.append((newID[Int(m.0)], newID[Int(m.1)], newID[Int(m.2)]))
            }
            for i in syms.indices { syms[i] = newID[Int(syms[i])] }
            tokens = kept
            merges = keptMerges
        }
        var mergeCounts = [Int64](repeating: 0, count: merges.count)

        // 2. Pair counts and, for each token, the words that hold it (a superset, cleaned lazily).
        var pairCounts = U64Map(capacity: 1 << 16)
        var holders = [[Int32]](repeating: [], count: tokens.count)
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
        var heap = MinHeap<PairEntry>()
        pairCounts.forEach { key, c in if c > 0 { heap.push(PairEntry(count: Int64(bitPattern: c), pair: key)) } }

        var known: [[UInt8]: TokenID] = [:]
        for (id, t) in tokens.enumerated() where known[t] == nil { known[t] = TokenID(id) }
        var deltas = U64Map(capacity: 1024)
        var touched: [UInt64] = []

        // 3. Merge, skipping pairs whose token the filters forbid.
        while tokens.count < target, let top = heap.pop() {
            let pair = top.pair
            let actual = Int64(bitPattern: pairCounts.get(pair) ?? 0)
            if actual != top.count {
                if actual > 0 { heap.push(PairEntry(count: actual, pair: pair)) }
                continue
            }
            if actual < configuration.minFrequency || actual <= 0 { break }
            let a = TokenID(truncatingIfNeeded: pair >> 32), b = TokenID(truncatingIfNeeded: pair)
            let bytes = tokens[Int(a)] + tokens[Int(b)]
            // Dropped until its count grows again (it is then refused again: the test is on bytes).
            if !SuperBPETrainer.allowed(bytes, maxWords: configuration.maxWords, forbidColonSpace: configuration.forbidColonSpace) { continue }
            let c = BPETrainer.token(bytes, tokens: &tokens, known: &known, holders: &holders)
            merges.append((a, b, c))
            mergeCounts.append(actual)

            BPETrainer.mergeOccurrences(a, b, into: c, pair: pair, syms: &syms, start: start, len: &len, count: count,
                                        holders: &holders, pairCounts: &pairCounts, deltas: &deltas, touched: &touched, heap: &heap)
            if merges.count % 256 == 0 { progress(tokens.count, target) }
        }
        progress(tokens.count, target)
        return BPETrainer.Result(merges: merges, tokens: tokens, unmergeable: 0, counts: mergeCounts)
    }

    /// Every word encoded with `model`, in one flat array (word w is syms[start[w] ..< start[w] + len[w]]).
    func replay(_ words: WordCounts, _ model: BPEModel) throws -> (syms: [TokenID], start: [Int32], len: [Int32]) {
        let n = words.count
        let parts = max(1, min(configuration.threads * 4, n / 1024 + 1))
        var states: [ReplayState] = []
        let chunks = try parallelMap(count: parts, threads: configuration.threads, states: &states, makeState: { ReplayState() }) { part, st -> [TokenID] in
            var out: [TokenID] = []
            var lens: [Int32] = []
            for w in (n * part / parts)..<(n * (part + 1) / parts) {
                let before = out.count
                words.withWord(w) { b in
                    b.withMemoryRebound(to: UInt8.self) { model.encode($0, into: &out, scratch: &st.scratch) }
                }
                lens.append(Int32(out.count - before))
            }
            st.lens.append((part, lens))
            return out
        }
        var lensByPart = [[Int32]](repeating: [], count: parts)
        for st in states { for (part, l) in st.lens { lensByPart[part] = l } }
        var syms: [TokenID] = []
        syms.reserveCapacity(chunks.reduce(0) { $0 + $1.count })
        var start = [Int32](), len = [Int32]()
        start.reserveCapacity(n)
        len.reserveCapacity(n)
        for (part, chunk) in chunks.enumerated() {
            var pos = syms.count
            for l in lensByPart[part] {
                start.append(Int32(pos))
                len.append(l)
                pos += Int(l)
            }
            syms += chunk
        }
        return (syms, start, len)
    }
}

final class ReplayState {
    var scratch = BPEScratch()
    var lens: [(Int, [Int32])] = []
}
