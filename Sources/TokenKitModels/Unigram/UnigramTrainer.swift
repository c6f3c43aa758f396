import Dispatch
import Foundation
import TokenKitCore
import TokenKitTraining

/// Trains a Unigram SentencePiece model the way SentencePiece's trainer does:
///
/// 1. Normalize each sentence (the configured normalizer, dummy prefix and ▁ escaping), drop
///    sentences longer than `maxSentenceLength` bytes, split into words at ▁ and count them.
/// 2. Keep the most frequent characters up to `characterCoverage` of all characters (never a
///    tab, as spm_train); the rest become U+2585 (and later unknown or byte fallback).
/// 3. Seed pieces: every kept character, plus the substrings that are internal nodes of the
///    suffix tree of the corpus (found with a suffix array and LCP intervals over the distinct
///    words, weighted by their counts), ranked by frequency × length, up to
///    `seedSentencepieceSize`; scores are log relative frequencies.
/// 4. EM: `numSubIterations` rounds of an E-step (forward-backward expected counts over each
///    word's lattice, built once from the seeds and thinned as pieces go, on all `threads`)
///    and an M-step with the Bayesian (digamma) update, dropping pieces expected fewer than
///    0.5 times.
/// 5. Until at most 1.1 × the vocabulary size remain, prune: a piece's loss is how much the
///    corpus likelihood drops when its occurrences are re-segmented into its second-best
///    segmentation; keep the `shrinkingFactor` share with the highest loss (pieces that are
///    not used or never their own best segmentation go first, single characters stay).
/// 6. Finalize: all kept characters plus the highest-scoring pieces, sorted by score, after the
///    meta pieces (unk, bos, eos, pad, control, user-defined, byte pieces).
///
/// Not done: `split_by_unicode_script` uses a coarse script table (Latin, Greek, Cyrillic,
/// Armenian, Hebrew, Arabic, Indic, Thai, Hangul, Han+kana, …), and there is no
/// treat_whitespace_as_suffix. The result is deterministic for a given input and
/// configuration (threads do not change it).
public struct UnigramTrainer: Sendable {
    public struct Configuration: Sendable {
        /// Pieces in the model, meta pieces included.
        public var vocabSize = 8000
        public var characterCoverage = 0.9995
        public var seedSentencepieceSize = 1_000_000
        public var shrinkingFactor = 0.75
        public var numSubIterations = 2
        /// In characters.
        public var maxSentencepieceLength = 16
        /// In bytes; longer sentences are skipped.
        public var maxSentenceLength = 4192
        public var splitByWhitespace = true
        public var splitByUnicodeScript = true
        public var splitByNumber = true
        public var splitDigits = false
        /// Runs of ▁ stay together as one word and may become pieces of their own ("▁▁▁").
        public var allowWhitespaceOnlyPieces = false
        public var byteFallback = false
        public var controlSymbols: [[UInt8]] = []
        public var userDefinedSymbols: [[UInt8]] = []
        public var unkID = 0
        public var bosID = 1
        public var eosID = 2
        public var padID = -1
        /// False: fewer pieces than `vocabSize` is not an error.
        public var hardVocabLimit = true
        /// Threads for the E-step and pruning.
        public var threads = 2
        /// Called with a line at each stage (words, seeds, each EM step and pruning, with the
        /// time so far), for progress on stderr; nil for none.
        public var log: (@Sendable (String) -> Void)?

        public init() {}

        public static let `default` = Configuration()
    }

    public var configuration: Configuration

    public init(_ configuration: Configuration = .default) { self.configuration = configuration }

    static let unkChar: UInt32 = 0x2585
    /// Marks a sentence's last word while counting (never in UTF-8 text).
    static let finalMark: UInt8 = 0xFF
    static let wsChar: UInt32 = 0x2581

    /// A piece of the trained vocabulary, in id order.
    public struct Piece: Sendable, Equatable {
        public var bytes: [UInt8]
        public var score: Float
        public var type: UnigramPieceType
    }

    /// Trains on `sentences` (one per element, UTF-8; invalid bytes become U+FFFD).
    /// `normalize` turns a sentence into spm's normalized form (▁ for spaces, dummy prefix …):
    /// the SentencePiece format supplies it from its normalizer spec.
    public func train(sentences: consuming [[UInt8]], normalize: @escaping @Sendable ([UInt8]) -> [UInt8]) throws -> [Piece] {
        let cfg = configuration
        let started = DispatchTime.now().uptimeNanoseconds
        func say(_ line: @autoclosure () -> String) {
            guard let log = cfg.log else { return }
            let s = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            log(String(format: "[%6.1f s] ", s) + line())
        }
        guard cfg.vocabSize > 0 else { throw TokenKitError.usage("vocabulary size must be positive") }
        guard cfg.shrinkingFactor > 0 && cfg.shrinkingFactor < 1 else {
            throw TokenKitError.usage("shrinking factor must be in (0, 1)")
        }
        // 1. Words and their counts (the sentences are let go once counted).
        var wordCounts = countWords(consume sentences, normalize: normalize)
        // Each word once, with its count and how often it ends a sentence. Deterministic order:
        // by count, then by content (UTF-8 order is code point order).
        var merged: [[UInt8]: (all: Int, final: Int)] = [:]
        for w in 0..<wordCounts.counts.count {
            var bytes = wordCounts.word(w)
            let n = Int(wordCounts.counts[w])
            let isFinal = bytes.last == UnigramTrainer.finalMark
            if isFinal { bytes.removeLast() }
            merged[bytes, default: (0, 0)].all += n
            if isFinal { merged[bytes]!.final += n }
        }
        wordCounts = WordCounts()
        let ordered = merged.sorted { $0.value.all != $1.value.all ? $0.value.all > $1.value.all : $0.key.lexicographicallyPrecedes($1.key) }
        merged = [:]
        var words = ordered.map { (decodeScalars($0.key), $0.value.all) }
        let finals = ordered.map(\.value.final)
        guard !words.isEmpty else { throw TokenKitError.badInput("no training text") }
        say("counted \(words.count) distinct words")

        // 2. Character coverage.
        var charCounts: [UInt32: Int] = [:]
        var allChars = 0
        for (w, c) in words {
            for ch in w where ch != 0x20 && ch != 0 && ch != 0x09 {  // spm never admits a tab to the alphabet
                charCounts[ch, default: 0] += c
                allChars += c
            }
        }
        let sortedChars = charCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var required: [UInt32: Int] = [:]
        var requiredOrder: [UInt32] = []
        var accumulated = 0
        for (ch, c) in sortedChars {
            if Double(accumulated) / Double(allChars) >= cfg.characterCoverage { break }
            accumulated += c
            required[ch] = c
            requiredOrder.append(ch)
        }
        for i in words.indices {
            for k in words[i].0.indices where required[words[i].0[k]] == nil { words[i].0[k] = UnigramTrainer.unkChar }
        }

        // 3. Seed pieces.
        var seeds = makeSeeds(words, finals: finals, required: requiredOrder, requiredCounts: required)

        // Meta pieces take ids; the rest is for trained pieces.
        let meta = try metaPieces()
        let wanted = cfg.vocabSize - meta.count
        guard wanted > 0 else { throw TokenKitError.usage("vocabulary size \(cfg.vocabSize) leaves no room after \(meta.count) meta pieces") }
        // spm stops pruning at 1.1 × the whole vocabulary size, meta pieces included.
        let desired = cfg.vocabSize > Int.max / 2 ? Int.max : Int(Double(cfg.vocabSize) * 1.1)

        let wordFreq = words.map { Double($0.1) }
        let allFreq = wordFreq.reduce(0, +)
        say("\(requiredOrder.count) characters, \(seeds.count) seed pieces")

        // 4–5. EM and pruning, over lattices built once.
        let lattices = WordLattices(trainingModel(seeds), words: (consume words).map { encodeScalars($0.0) }, freq: wordFreq,
                                    threads: cfg.threads)
        say("lattices: \(lattices.nodeCount) nodes")
        while true {
            for sub in 0..<max(1, cfg.numSubIterations) {
                let (expected, logLikelihood) = lattices.expectedCounts(scores: seeds.map(\.1), unkScore: unknownScore(seeds))
                let keep = mStep(&seeds, expected)
                lattices.remap(keep)
                say("EM step \(sub): \(seeds.count) pieces, objective \(String(format: "%.4f", -logLikelihood / allFreq))")
            }
            if seeds.count <= desired { break }
            let before = seeds.count
            let keep = prune(&seeds, lattices, allFreq: allFreq, desired: desired)
            if seeds.count >= before { break }
            lattices.remap(keep)
            say("pruned to \(seeds.count) pieces")
        }

        // 6. Finalize.
        var final: [[UInt8]: Float] = [:]
        let minScore = seeds.map(\.1).min() ?? 0
        var penalty: Float = 0
        for ch in requiredOrder {
            let b = encodeScalars([ch])
            if let s = seeds.first(where: { $0.0 == b })?.1 {
                final[b] = s
            } else {
                // As spm: the most frequent missing character gets the lowest score, the others a
                // little more each, so no two tie.
                final[b] = minScore + penalty
                penalty += 0.0001
            }
        }
        let metaBytes = Set(meta.map(\.1.bytes))
        for (p, s) in seeds.sorted(by: { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.lexicographicallyPrecedes($1.0) }) {
            if final.count >= wanted { break }
            if final[p] == nil && !metaBytes.contains(p) { final[p] = s }
        }
        if final.count > wanted {
            // Every required character is a piece: the model would be larger than asked.
            throw TokenKitError.usage("vocabulary size \(cfg.vocabSize) is too small for the \(requiredOrder.count) characters that --character-coverage \(cfg.characterCoverage) requires (and \(meta.count) meta pieces); raise --vocab-size or lower the coverage")
        }
        if final.count < wanted && cfg.hardVocabLimit {
            throw TokenKitError.badInput("vocabulary size \(cfg.vocabSize) is too large: only \(final.count + meta.count) pieces can be made from this text", setting: .hardVocabLimit)
        }
        let trained = final.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.lexicographicallyPrecedes($1.key) }
        var pieces: [Piece] = []
        var metaByID: [Int: Piece] = [:]
        var floating: [Piece] = []
        for (id, p) in meta {
            if let id { metaByID[id] = p } else { floating.append(p) }
        }
        var next = trained.makeIterator()
        var fi = 0
        let total = meta.count + trained.count
        for id in 0..<total {
            if let p = metaByID[id] {
                pieces.append(p)
            } else if fi < floating.count {
                pieces.append(floating[fi])
                fi += 1
            } else if let (b, s) = next.next() {
                pieces.append(Piece(bytes: b, score: s, type: .normal))
            }
        }

        return pieces
    }

    /// Words and their counts, on all threads: each counts the normalized words (UTF-8) of its
    /// share of the sentences, then the tables are merged. Takes the sentences so that they
    /// are freed when counted.
    func countWords(_ sentences: consuming [[UInt8]], normalize: @escaping @Sendable ([UInt8]) -> [UInt8]) -> WordCounts {
        let cfg = configuration
        let all = consume sentences
        // A sentence's last word is counted with `UnigramTrainer.finalMark` after it: the seeds
        // need to know which words end a sentence (see `makeSeeds`).
        let splitWords = cfg.splitByWhitespace, keepRuns = cfg.allowWhitespaceOnlyPieces, maxLength = cfg.maxSentenceLength
        let counters = sharded(all.count) { range -> WordCounts in
            var counts = WordCounts()
            var last: [UInt8] = []
            for k in range where all[k].count <= maxLength {
                var norm = normalize(all[k])
                if norm.isEmpty { continue }
                guard splitWords else {
                    norm.append(UnigramTrainer.finalMark)
                    counts.add(norm)
                    continue
                }
                norm.withUnsafeBufferPointer { t in
                    // A word starts at each ▁ (E2 96 81), or only at the first ▁ of a run when
                    // runs may be pieces (as spm's SplitIntoWords).
                    @inline(__always) func isSpace(_ i: Int) -> Bool { i + 2 < t.count && t[i] == 0xE2 && t[i + 1] == 0x96 && t[i + 2] == 0x81 }
                    var start = 0, i = 0
                    var inRun = false
                    while i < t.count {
                        let ws = isSpace(i)
                        if ws && i > 0 && !(inRun && keepRuns) {
                            counts.add(UnsafeBufferPointer(rebasing: t[start..<i]))
                            start = i
                        }
                        inRun = ws
                        i += ws ? 3 : 1
                    }
                    last.removeAll(keepingCapacity: true)
                    last.append(contentsOf: t[start...])
                    last.append(UnigramTrainer.finalMark)
                    counts.add(last)
                }
            }
            return counts
        }
        var wordCounts = counters[0]
        for c in counters.dropFirst() { wordCounts.merge(c) }
        return wordCounts
    }

    /// The meta pieces: (fixed id or nil, piece). unk/bos/eos/pad at their ids (negative = none),
    /// then control and user-defined symbols and the 256 byte pieces in the first free ids.
    func metaPieces() throws -> [(Int?, Piece)] {
        let cfg = configuration
        var out: [(Int?, Piece)] = []
        var ids = Set<Int>()
        for (id, name, type) in [(cfg.unkID, "<unk>", UnigramPieceType.unknown), (cfg.bosID, "<s>", .control),
                                 (cfg.eosID, "</s>", .control), (cfg.padID, "<pad>", .control)] where id >= 0 {
            guard ids.insert(id).inserted else { throw TokenKitError.usage("special piece ids must differ (\(name) has id \(id))") }
            guard id < cfg.vocabSize else { throw TokenKitError.usage("\(name) id \(id) is not below the vocabulary size") }
            out.append((id, Piece(bytes: Array(name.utf8), score: 0, type: type)))
        }
        guard cfg.unkID >= 0 else { throw TokenKitError.usage("the unknown piece needs an id") }
        for s in cfg.controlSymbols { out.append((nil, Piece(bytes: s, score: 0, type: .control))) }
        for s in cfg.userDefinedSymbols { out.append((nil, Piece(bytes: s, score: 0, type: .userDefined))) }
        if cfg.byteFallback {
            for b in 0...255 { out.append((nil, Piece(bytes: bytePieceName(UInt8(b)), score: 0, type: .byte))) }
        }
        return out
    }

    // MARK: Seeds

    /// spm_train's seeds: every kept character, and the substrings that are internal nodes of
    /// the suffix tree of the whole corpus (substrings followed by two different symbols), by
    /// occurrences × length. spm builds that tree over all sentences; here it is built over the
    /// distinct words, each once, and every suffix weighs its word's count, which gives the
    /// same substrings with the same counts: a valid piece never spans a word boundary, and a
    /// substring that ends words is followed in the corpus by ▁ (the next word) or the sentence
    /// end, so it branches there when its words do both (`finals`: sentence-final counts).
    func makeSeeds(_ words: [([UInt32], Int)], finals: [Int], required: [UInt32], requiredCounts: [UInt32: Int]) -> [([UInt8], Float)] {
        let cfg = configuration
        // All words, once each, separated by 0, as a dense alphabet.
        // Codes by first appearance; BMP characters through a table, the rest a dictionary.
        var bmp = [Int32](repeating: -1, count: 0x10000)
        bmp[0] = 0
        var astral: [UInt32: Int32] = [:]
        var codes = 1
        var text: [Int32] = []
        var scalars: [UInt32] = []
        var wordOf: [Int32] = []
        for (k, (w, _)) in words.enumerated() {
            for ch in w {
                let code: Int32
                if ch < 0x10000, bmp[Int(ch)] >= 0 {
                    code = bmp[Int(ch)]
                } else if ch >= 0x10000, let c = astral[ch] {
                    code = c
                } else {
                    code = Int32(codes)
                    codes += 1
                    if ch < 0x10000 { bmp[Int(ch)] = code } else { astral[ch] = code }
                }
                text.append(code)
                scalars.append(ch)
            }
            text.append(0)
            scalars.append(0)
            wordOf.append(contentsOf: repeatElement(Int32(k), count: w.count + 1))
        }
        // Nodes deeper than the longest piece are never seeds: sorting by one symbol more than
        // that keeps every shallower node exact.
        let maxLen = cfg.maxSentencepieceLength
        let depth = maxLen + 1
        let sa = SuffixArray.buildShallow(text, alphabet: codes, depth: depth)
        let lcp = SuffixArray.lcp(text, sa, cap: depth, threads: cfg.threads)
        let n = sa.count
        // Occurrences of the suffixes sa[..<r] in the corpus.
        var weight = [Int](repeating: 0, count: n + 1)
        for r in 0..<n { weight[r + 1] = weight[r] + words[Int(wordOf[Int(sa[r])])].1 }
        var candidates: [(start: Int, len: Int, score: Int)] = []
        func consider(_ start: Int, _ len: Int, _ count: Int) {
            if len <= 1 || len > maxLen { return }
            let piece = scalars[start..<(start + len)]
            if piece.contains(0) || !isValidPiece(piece) { return }
            candidates.append((start, len, count * len))
        }
        SuffixArray.internalIntervals(sa, lcp) { lo, hi, len in consider(Int(sa[lo]), len, weight[hi] - weight[lo]) }
        // Substrings that only ever end words: the run of suffixes `s` + 0 (the lcp counts the
        // 0), with no neighbour sharing `s` followed by anything else.
        var r = 0
        while r < n {
            let p = Int(sa[r])
            var rem = 0
            while rem <= maxLen && text[p + rem] != 0 { rem += 1 }
            var q = r + 1
            while q < n && Int(lcp[q]) == rem + 1 && rem < depth { q += 1 }
            defer { r = q }
            if rem < 2 || rem > maxLen { continue }
            if Int(lcp[r]) >= rem || (q < n && Int(lcp[q]) >= rem) { continue }
            var final = 0
            for k in r..<q { final += finals[Int(wordOf[Int(sa[k])])] }
            let all = weight[q] - weight[r]
            if final > 0 && final < all { consider(p, rem, all) }
        }
        // Highest score first; ties by content for determinism. Only the best
        // `seedSentencepieceSize` are seeds (besides the characters), so find the score they
        // reach and sort just those (ties at the cut included).
        let room = cfg.seedSentencepieceSize
        if candidates.count > room {
            var scores = candidates.map(\.score)
            scores.sort(by: >)
            let cut = room > 0 ? scores[room - 1] : Int.max
            candidates.removeAll { $0.score < cut }
        }
        candidates.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            return scalars[a.start..<(a.start + a.len)].lexicographicallyPrecedes(scalars[b.start..<(b.start + b.len)])
        }
        var seeds: [([UInt8], Double)] = []
        var seen = Set<[UInt8]>()
        for ch in required {
            let b = encodeScalars([ch])
            seeds.append((b, Double(requiredCounts[ch] ?? 1)))
            seen.insert(b)
        }
        for c in candidates.prefix(room) {
            let b = encodeScalars(Array(scalars[c.start..<(c.start + c.len)]))
            if seen.insert(b).inserted { seeds.append((b, Double(c.score))) }
        }
        let sum = seeds.reduce(0.0) { $0 + $1.1 }
        let logSum = log(sum)
        return seeds.map { ($0.0, Float(log($0.1) - logSum)) }
    }

    /// spm's IsValidSentencePiece for training candidates.
    func isValidPiece(_ piece: ArraySlice<UInt32>) -> Bool {
        let cfg = configuration
        if piece.isEmpty || piece.count > cfg.maxSentencepieceLength { return false }
        var prevScript = -1
        var pos = 0
        let allWhitespace = cfg.allowWhitespaceOnlyPieces && piece.allSatisfy { $0 == UnigramTrainer.wsChar }
        for c in piece {
            defer { pos += 1 }
            if c == UnigramTrainer.unkChar || c == 0 || c == 0x20 { return false }
            if c == UnigramTrainer.wsChar {
                if allWhitespace { continue }
                if cfg.splitByWhitespace && pos > 0 { return false }
                if !cfg.splitByWhitespace && pos > 0 && pos == piece.count - 1 { return false }
                continue
            }
            let digit = isDigit(c)
            if cfg.splitDigits && digit && piece.count > 1 { return false }
            var s = script(c)
            if !cfg.splitByNumber && digit { s = -1 }
            if cfg.splitByUnicodeScript && s != -1 && prevScript != -1 && prevScript != s { return false }
            prevScript = s
        }
        return true
    }

    // MARK: EM

    func trainingModel(_ pieces: [([UInt8], Float)]) -> UnigramModel {
        let keys = pieces.enumerated().map { ($0.element.0, Int32($0.offset)) }
        return UnigramModel(keys: keys, types: [UInt8](repeating: 1, count: pieces.count),
                            scores: pieces.map(\.1), unkID: nil, byteIDs: nil)
    }

    /// Runs `body` over `threads` contiguous shards of 0..<n and returns the per-shard results
    /// in shard order (so sums do not depend on scheduling).
    func sharded<R>(_ n: Int, _ body: @escaping @Sendable (Range<Int>) -> R) -> [R] {
        let shards = max(1, min(configuration.threads, n))
        let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: shards)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let box = UnsafeSendable(results)
        DispatchQueue.concurrentPerform(iterations: shards) { k in
            let lo = n * k / shards, hi = n * (k + 1) / shards
            box.value[k] = body(lo..<hi)
        }
        return results.map { $0! }
    }

    /// The lattice's score for an unknown character: min piece score − 10 (spm's kUnkPenalty).
    func unknownScore(_ pieces: [([UInt8], Float)]) -> Float {
        (pieces.map(\.1).min() ?? 0) - UnigramModel.unkPenalty
    }

    /// Bayesian (digamma) re-estimate; pieces expected fewer than 0.5 times go. Returns each old
    /// index's new one (-1 for dropped).
    func mStep(_ pieces: inout [([UInt8], Float)], _ expected: [Double]) -> [Int32] {
        var kept: [([UInt8], Double)] = []
        var newIndex = [Int32](repeating: -1, count: pieces.count)
        var sum = 0.0
        for (i, p) in pieces.enumerated() where expected[i] >= 0.5 {
            newIndex[i] = Int32(kept.count)
            kept.append((p.0, expected[i]))
            sum += expected[i]
        }
        let logSum = digamma(sum)
        pieces = kept.map { ($0.0, Float(digamma($0.1) - logSum)) }
        return newIndex
    }

    /// Keeps the `shrinkingFactor` share of pieces whose removal costs the most likelihood (in
    /// their original order); returns each old index's new one (-1 for dropped).
    func prune(_ pieces: inout [([UInt8], Float)], _ lattices: WordLattices, allFreq vsum: Double, desired: Int) -> [Int32] {
        let model = trainingModel(pieces)
        let n = pieces.count, list = pieces
        // Second-best segmentation of each piece (spm takes the 2-best list): a piece that is
        // not its own best segmentation goes; one with no other segmentation stays.
        let alt = sharded(n) { range -> [(Bool, [Int32])] in
            var lattice = TrainingLattice()
            var ids: [Int32] = []
            return range.map { i in
                list[i].0.withUnsafeBufferPointer { t in lattice.build(model, t) }
                lattice.viterbi { _ in }
                if lattice.pathLength >= 2 { return (false, []) }
                ids.removeAll(keepingCapacity: true)
                lattice.viterbi(skipWhole: true) { ids.append($0) }
                return (true, ids)
            }
        }.flatMap { $0 }
        // Viterbi counts over the corpus. (spm also keeps, per piece, the words whose best
        // segmentation uses it, but only to sum their frequencies, which is f itself.)
        let f = lattices.viterbiCounts(scores: pieces.map(\.1), unkScore: unknownScore(pieces))
        let sum = f.reduce(0, +)
        let logSum = log(sum)
        var kept: [Int] = []
        var candidates: [(Int, Double)] = []
        for i in 0..<n {
            if f[i] == 0 || !alt[i].0 { continue }
            if alt[i].1.isEmpty {
                kept.append(i)
                continue
            }
            let F = f[i] / vsum
            let logProbSP = log(f[i]) - logSum
            let logSumAlt = log(sum + f[i] * Double(alt[i].1.count - 1))
            var logProbAlt = 0.0
            for a in alt[i].1 { logProbAlt += log((a >= 0 ? f[Int(a)] : 0) + f[i]) - logSumAlt }
            candidates.append((i, F * (logProbSP - logProbAlt)))
        }
        let prunedSize = max(desired, Int(configuration.shrinkingFactor * Double(n)))
        candidates.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        for (i, _) in candidates {
            if kept.count >= prunedSize { break }
            kept.append(i)
        }
        kept.sort()
        var newIndex = [Int32](repeating: -1, count: n)
        for (k, i) in kept.enumerated() { newIndex[i] = Int32(k) }
        pieces = kept.map { pieces[$0] }
        return newIndex
    }
}


/// ψ(x) by recurrence up to 7 and the asymptotic series (as SentencePiece computes it).
func digamma(_ x0: Double) -> Double {
    var x = x0
    var result = 0.0
    while x < 7 {
        result -= 1 / x
        x += 1
    }
    x -= 0.5
    let xx = 1 / x
    let xx2 = xx * xx
    let xx4 = xx2 * xx2
    result += log(x) + (1.0 / 24.0) * xx2 - (7.0 / 960.0) * xx4 + (31.0 / 8064.0) * xx4 * xx2 - (127.0 / 30720.0) * xx4 * xx4
    return result
}

// MARK: Characters

func decodeScalars(_ bytes: [UInt8]) -> [UInt32] {
    var out: [UInt32] = []
    out.reserveCapacity(bytes.count)
    bytes.withUnsafeBufferPointer { p in
        var i = 0
        while i < p.count {
            let d = UTF8Scan.decode(p, i)
            out.append(d.valid ? d.scalar : 0xFFFD)
            i += d.length
        }
    }
    return out
}

func encodeScalars<C: Collection>(_ s: C) -> [UInt8] where C.Element == UInt32 {
    var out: [UInt8] = []
    for c in s {
        switch c {
        case 0..<0x80: out.append(UInt8(c))
        case 0x80..<0x800: out += [UInt8(0xC0 | (c >> 6)), UInt8(0x80 | (c & 0x3F))]
        case 0x800..<0x10000: out += [UInt8(0xE0 | (c >> 12)), UInt8(0x80 | ((c >> 6) & 0x3F)), UInt8(0x80 | (c & 0x3F))]
        default:
            out += [UInt8(0xF0 | (c >> 18)), UInt8(0x80 | ((c >> 12) & 0x3F)), UInt8(0x80 | ((c >> 6) & 0x3F)), UInt8(0x80 | (c & 0x3F))]
        }
    }
    return out
}

func isDigit(_ c: UInt32) -> Bool {
    (0x30...0x39).contains(c) || (0xFF10...0xFF19).contains(c)
}

/// A coarse Unicode script: 0 Common (digits, punctuation, symbols, spaces), 1 Latin,
/// 2 Greek, 3 Cyrillic, 4 Armenian, 5 Hebrew, 6 Arabic, 7 Indic (Devanagari … Malayalam),
/// 8 Thai/Lao, 9 Georgian, 10 Hangul, 11 Han with Hiragana/Katakana (as spm merges them),
/// 12 other letters, by block.
func script(_ c: UInt32) -> Int {
    switch c {
    case 0x41...0x5A, 0x61...0x7A, 0xAA, 0xBA, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x24F, 0x1E00...0x1EFF, 0xFF21...0xFF3A, 0xFF41...0xFF5A:
        return 1
    case 0x0300...0x036F: return -1  // combining marks join their base
    case 0x0370...0x03FF, 0x1F00...0x1FFF: return 2
    case 0x0400...0x052F: return 3
    case 0x0530...0x058F: return 4
    case 0x0590...0x05FF: return 5
    case 0x0600...0x06FF, 0x0750...0x077F: return 6
    case 0x0900...0x0DFF: return 7
    case 0x0E00...0x0EFF: return 8
    case 0x10A0...0x10FF: return 9
    case 0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: return 10
    case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF66...0xFF9F, 0x20000...0x2FFFF: return 11
    case 0...0x7F, 0x80...0xBF, 0x2000...0x2BFF, 0x3000...0x303F, 0xFF00...0xFF20, 0xFF3B...0xFF40, 0xFF5B...0xFF65:
        return 0
    default: return 100 + Int(c >> 7)
    }
}
