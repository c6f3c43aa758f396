import TokenKitCore
import TokenKitTraining

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
        /// Character-level BPE (SentencePiece style): symbols are characters, the rarest ones
        /// (beyond `characterCoverage` of all character occurrences) fall back to `<0xNN>`
        /// byte tokens, which never merge.
        public var characterLevel = false
        public var characterCoverage = 0.9995

        public static let `default` = Configuration()
        public init() {}
    }

    public struct Result: Sendable {
        /// Merges in training order: (left, right, merged). A merge usually makes the next new
        /// id; when its bytes already exist (two pairs can spell the same string) it reuses that
        /// id, as HF tokenizers does.
        public var merges: [(TokenID, TokenID, TokenID)]
        /// Bytes of every token, by id: 256 bytes (`<0xNN>` spellings in character mode), the
        /// alphabet in character mode, then merges.
        public var tokens: [[UInt8]]
        /// Number of leading byte tokens that never merge (256 in character mode, else 0).
        public var unmergeable: Int
        /// Count of each merge's pair when it was chosen.
        public var counts: [Int64]

        public init(merges: [(TokenID, TokenID, TokenID)], tokens: [[UInt8]], unmergeable: Int, counts: [Int64]) {
            (self.merges, self.tokens, self.unmergeable, self.counts) = (merges, tokens, unmergeable, counts)
        }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .default) { self.configuration = configuration }

    /// Trains on unique words and their counts.
    /// - Parameter progress: called with (merges done, merges wanted) now and then.
    public func train(words: WordCounts, progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let target = configuration.vocabSize - configuration.specialTokens.count
        guard target >= 256 else {
            throw TokenKitError.usage("vocabulary size \(configuration.vocabSize) is smaller than the 256 byte tokens plus \(configuration.specialTokens.count) special tokens", setting: .vocabSize)
        }
        guard words.count > 0 else { throw TokenKitError.badInput("the corpus is empty: no words to train on") }

        // 1. Words as symbol sequences in one flat array: bytes, or characters with byte fallback.
        var tokens: [[UInt8]] = (0..<256).map { [UInt8($0)] }
        var charIDs: TokenTable?
        if configuration.characterLevel {
            tokens = (0..<256).map { Array("<0x\(String(format2: UInt8($0)))>".utf8) }
            let alphabet = try characterAlphabet(words)
            guard tokens.count + alphabet.count <= target else {
                throw TokenKitError.usage("vocabulary size \(configuration.vocabSize) cannot hold the 256 byte tokens and \(alphabet.count) characters; lower the character coverage or raise the size", setting: .characterCoverage)
            }
            charIDs = try TokenTable(alphabet.enumerated().map { ($0.element, TokenID(256 + $0.offset)) })
            tokens += alphabet
        }
        let unmergeable = configuration.characterLevel ? 256 : 0
        let n = words.count
        var syms = [TokenID](repeating: 0, count: words.totalBytes)
        var start = [Int32](repeating: 0, count: n)
        var len = [Int32](repeating: 0, count: n)
        var pos = 0
        for w in 0..<n {
            start[w] = Int32(pos)
            words.withWord(w) { b in
                if let charIDs {
                    b.withMemoryRebound(to: UInt8.self) { p in
                        var i = 0
                        while i < p.count {
                            let l = UTF8Scan.decode(p, i).length
                            if let id = charIDs.lookup(UnsafeRawBufferPointer(rebasing: b[i..<(i + l)])) {
                                syms[pos] = id
                                pos += 1
                            } else {
                                for k in i..<(i + l) { syms[pos] = TokenID(p[k]); pos += 1 }
                            }
                            i += l
                        }
                    }
                    len[w] = Int32(pos) - start[w]
                } else {
                    for (k, byte) in b.enumerated() { syms[pos + k] = TokenID(byte) }
                    len[w] = Int32(b.count)
                    pos += b.count
                }
            }
        }
        let count = words.counts
        // Every pair count is a sum of word counts × occurrences: if the grand total fits in 64
        // bits, none of them (nor any merge's update) can overflow.
        var grandTotal: Int64 = 0
        for w in 0..<n {
            let (product, o1) = count[w].multipliedReportingOverflow(by: Int64(max(1, len[w])))
            let (sum, o2) = grandTotal.addingReportingOverflow(product)
            if o1 || o2 || count[w] < 0 {
                throw TokenKitError.badInput("word counts too large: pair counts would overflow 64 bits")
            }
            grandTotal = sum
        }

        // 2. Pair counts, and for each token the words that hold it (a superset, cleaned lazily).
        var pairCounts = U64Map(capacity: 1 << 16)
        var holders = [[Int32]](repeating: [], count: tokens.count)
        for w in 0..<n {
            let s = Int(start[w]), l = Int(len[w])
            for k in 0..<l {
                let t = syms[s + k]
                if k + 1 < l, Int(t) >= unmergeable, Int(syms[s + k + 1]) >= unmergeable {
                    let key = UInt64(t) << 32 | UInt64(syms[s + k + 1])
                    pairCounts.set(key, (pairCounts.get(key) ?? 0) &+ UInt64(count[w]))
                }
                if holders[Int(t)].last != Int32(w) { holders[Int(t)].append(Int32(w)) }
            }
        }
        var heap = MinHeap<PairEntry>()
        pairCounts.forEach { key, c in heap.push(PairEntry(count: Int64(bitPattern: c), pair: key)) }

        var merges: [(TokenID, TokenID, TokenID)] = []
        var mergeCounts: [Int64] = []
        var known: [[UInt8]: TokenID] = [:]
        for (id, t) in tokens.enumerated() { known[t] = TokenID(id) }
        var deltas = U64Map(capacity: 1024)
        var touched: [UInt64] = []

        // 3. Merge.
        while tokens.count < target, let top = heap.pop() {
            let (c0, pair) = (top.count, top.pair)
            let actual = Int64(bitPattern: pairCounts.get(pair) ?? 0)
            if actual != c0 {
                if actual > 0 { heap.push(PairEntry(count: actual, pair: pair)) }
                continue
            }
            if actual < configuration.minFrequency || actual <= 0 { break }
            let a = TokenID(truncatingIfNeeded: pair >> 32), b = TokenID(truncatingIfNeeded: pair)
            if configuration.maxTokenLength > 0, tokens[Int(a)].count + tokens[Int(b)].count > configuration.maxTokenLength {
                pairCounts.set(pair, 0)
                continue
            }
            let bytes = tokens[Int(a)] + tokens[Int(b)]
            let c = BPETrainer.token(bytes, tokens: &tokens, known: &known, holders: &holders)
            merges.append((a, b, c))
            mergeCounts.append(actual)

            BPETrainer.mergeOccurrences(a, b, into: c, pair: pair, syms: &syms, start: start, len: &len, count: count,
                                        holders: &holders, pairCounts: &pairCounts, deltas: &deltas, touched: &touched, heap: &heap)
            if merges.count % 256 == 0 { progress(tokens.count, target) }
        }
        progress(tokens.count, target)
        return Result(merges: merges, tokens: tokens, unmergeable: unmergeable, counts: mergeCounts)
    }

    /// The characters that cover `characterCoverage` of all character occurrences, most
    /// frequent first (ties by bytes). Invalid UTF-8 is an error in character mode.
    func characterAlphabet(_ words: WordCounts) throws -> [[UInt8]] {
        var chars = WordCounts()
        for w in 0..<words.count {
            try words.withWord(w) { b in
                try b.withMemoryRebound(to: UInt8.self) { p in
                    if let bad = UTF8Scan.firstInvalid(p) {
                        throw TokenKitError.badInput("invalid UTF-8 in character-level mode: word \(Array(p).prefix(16)) at byte \(bad)")
                    }
                    var i = 0
                    while i < p.count {
                        let l = UTF8Scan.decode(p, i).length
                        chars.add(UnsafeRawBufferPointer(rebasing: b[i..<(i + l)]), words.counts[w])
                        i += l
                    }
                }
            }
        }
        let order = (0..<chars.count).sorted { x, y in
            chars.counts[x] != chars.counts[y] ? chars.counts[x] > chars.counts[y] : chars.word(x).lexicographicallyPrecedes(chars.word(y))
        }
        let all = order.reduce(Int64(0)) { $0 + chars.counts[$1] }
        var kept: [[UInt8]] = []
        var covered: Int64 = 0
        for k in order {
            if Double(covered) >= configuration.characterCoverage * Double(all) { break }
            kept.append(chars.word(k))
            covered += chars.counts[k]
        }
        return kept
    }

    /// The id of the token spelled `bytes`: the existing one (two merges may spell the same
    /// bytes), or a new one.
    public static func token(_ bytes: [UInt8], tokens: inout [[UInt8]], known: inout [[UInt8]: TokenID], holders: inout [[Int32]]) -> TokenID {
        if let existing = known[bytes] { return existing }
        let c = TokenID(tokens.count)
        tokens.append(bytes)
        known[bytes] = c
        holders.append([])
        return c
    }

    /// Merges every occurrence of (a, b) into c in the words that hold the rarer of the two
    /// symbols (word w is `syms[start[w] ..< start[w] + len[w]]`, occurring `count[w]` times),
    /// and updates the pair counts, the heap (pairs that grew) and which words hold which symbol.
    /// The incremental step of BPE training, shared with SuperBPE's second stage.
    public static func mergeOccurrences(_ a: TokenID, _ b: TokenID, into c: TokenID, pair: UInt64,
                                        syms: inout [TokenID], start: [Int32], len: inout [Int32], count: [Int64],
                                        holders: inout [[Int32]], pairCounts: inout U64Map, deltas: inout U64Map,
                                        touched: inout [UInt64], heap: inout MinHeap<PairEntry>) {
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
            if merged, holders[Int(c)].last != w32 { holders[Int(c)].append(w32) }
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
            if d > 0, updated > 0 { heap.push(PairEntry(count: updated, pair: key)) }
        }
        touched.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private static func addDelta(_ deltas: inout U64Map, _ touched: inout [UInt64], _ key: UInt64, _ d: Int64) {
        let old = deltas.get(key)
        if old == nil || old == 0 { touched.append(key) }
        deltas.set(key, UInt64(bitPattern: Int64(bitPattern: old ?? 0) &+ d))
    }
}

/// A heap entry: the pair with the higher count comes first, then the smaller pair (left id,
/// then right id), so that `MinHeap` pops the best pair.
public struct PairEntry: Comparable {
    public let count: Int64
    public let pair: UInt64

    public init(count: Int64, pair: UInt64) {
        self.count = count
        self.pair = pair
    }

    public static func < (x: PairEntry, y: PairEntry) -> Bool {
        x.count != y.count ? x.count > y.count : x.pair < y.pair
    }
}

extension String {
    /// Two uppercase hex digits.
    init(format2 b: UInt8) {
        let d = Array("0123456789ABCDEF".utf8)
        self = String(decoding: [d[Int(b >> 4)], d[Int(b & 15)]], as: UTF8.self)
    }
}
