import Foundation
import TokenKitCore

/// ByteSpan (Goriely et al. 2025, arXiv 2506.18639): vocabularies of byte spans that a byte LM
/// finds predictable.
///
/// Each byte gets a signal I(t) (surprisal or next-byte entropy) from a byte LM that did not
/// train on it. A byte continues the current span when
/// - global: I(t) < θ;
/// - monotonic: I(t) < I(t−1) (information strictly decreasing);
/// - combined: either of the two (θ low, so near-zero wiggles do not cut spans);
/// and a pre-token start always begins a new span. A span is a head byte plus its continuation
/// run (two bytes or more); a span starting right after the space that begins its pre-token
/// takes the space in. θ is a percentile (default 30th) of the non-zero signal values.
/// Frequency mode keeps the most frequent spans; seeding mode keeps the top share of them and
/// fills the rest of the vocabulary with BPE merges inside pre-tokens.
public struct ByteSpanTrainer {
    public enum Signal: String, CaseIterable, Sendable { case surprisal, entropy }
    public enum Constraint: String, CaseIterable, Sendable { case global, monotonic, combined }
    public enum Mode: String, CaseIterable, Sendable { case frequency, seeding }

    public struct Configuration: Sendable {
        public var vocabSize = 32000
        public var signal = Signal.entropy
        public var constraint = Constraint.combined
        public var mode = Mode.frequency
        /// Seeding mode: share of the vocabulary taken from ByteSpan spans.
        public var seedFraction = 0.5
        /// θ as a percentile of the non-zero signal values.
        public var percentile = 30.0
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public init() {}
        public static let `default` = Configuration()
    }

    public let config: Configuration
    public init(_ config: Configuration) { self.config = config }

    /// The 771 base tokens: each byte word-initially, `##`+byte, `Ġ`+byte (in that order).
    public static func baseTokens() -> [String] {
        let bytes = (0..<256).map { ByteLevelAlphabet.encode([UInt8($0)]) }
        return bytes + bytes.map { "##" + $0 } + bytes.map { "Ġ" + $0 }
    }

    /// Where each byte's continuation flag comes from: true = continues the span before it.
    public static func continuation(signal: UnsafeBufferPointer<Float>, starts: [Int], constraint: Constraint,
                                    threshold: Float) -> [Bool] {
        let n = signal.count
        var cont = [Bool](repeating: false, count: n)
        for t in 1..<max(n, 1) {
            let dec = signal[t] < signal[t - 1]
            let low = signal[t] < threshold
            switch constraint {
            case .global: cont[t] = low
            case .monotonic: cont[t] = dec
            case .combined: cont[t] = dec || low
            }
        }
        for s in starts where s < n { cont[s] = false }
        return cont
    }

    /// Span occurrences as (start, end, word-initial) from continuation flags: a head and its
    /// continuation run, kept when ≥ 2 bytes, extended left over the space that starts its
    /// pre-token.
    public static func spans(text: UnsafeBufferPointer<UInt8>, continuation cont: [Bool], isStart: [Bool],
                             range: Range<Int>, _ body: (Int, Int, Bool) -> Void) {
        var i = range.lowerBound
        // Begin at a head.
        while i < range.upperBound && cont[i] { i += 1 }
        while i < range.upperBound {
            var e = i + 1
            while e < cont.count && cont[e] { e += 1 }
            if e - i >= 2 {
                if i > 0 && isStart[i - 1] && text[i - 1] == 0x20 && !isStart[i] {
                    body(i - 1, e, true)
                } else {
                    body(i, e, isStart[i])
                }
            }
            i = e
        }
    }

    /// θ: the percentile of the non-zero finite values (from up to 4M evenly spaced values).
    public static func threshold(_ signal: UnsafeBufferPointer<Float>, percentile: Double) -> Float {
        let step = max(1, signal.count / 4_000_000)
        var sample: [Float] = []
        var i = 0
        while i < signal.count {
            let v = signal[i]
            if v != 0 && v.isFinite { sample.append(v) }
            i += step
        }
        if sample.isEmpty { return 0 }
        sample.sort()
        let k = min(sample.count - 1, max(0, Int((percentile / 100 * Double(sample.count - 1)).rounded())))
        return sample[k]
    }

    public struct Result {
        public var vocabulary: ByteWordPiece
        public var threshold: Float
        public var spanTypes: Int
        public var spanOccurrences: Int
        public var learnedFromSpans: Int
        public var learnedFromBPE: Int
    }

    /// Builds the vocabulary from pre-tokenized text (`ByteWordPiece.preTokenize`) and its signal.
    public func train(text: UnsafeBufferPointer<UInt8>, starts: [Int], signal: UnsafeBufferPointer<Float>) throws -> Result {
        let base = Self.baseTokens()
        let budget = config.vocabSize - base.count - ByteWordPiece.specials.count
        guard budget >= 0 else {
            throw TokenKitError.usage("--vocab-size \(config.vocabSize) is below the \(base.count + ByteWordPiece.specials.count) base and special tokens")
        }
        let theta = Self.threshold(signal, percentile: config.percentile)
        var isStart = [Bool](repeating: false, count: text.count)
        for s in starts where s < text.count { isStart[s] = true }
        let cont = Self.continuation(signal: signal, starts: starts, constraint: config.constraint, threshold: theta)
        // Count spans in parallel pieces; each piece owns the spans whose head lies in it.
        let parts = evenRanges(text.count, parts: config.threads * 2)
        let counted = parallelJobs(parts.count, threads: config.threads) { k -> ([[UInt8]: Int], Int) in
            var d: [[UInt8]: Int] = [:]
            var n = 0
            let r = parts[k]
            // A piece starts at its first head; the spans running into the next piece are its own.
            Self.spans(text: text, continuation: cont, isStart: isStart, range: r) { s, e, initial in
                var key: [UInt8] = [initial ? 1 : 0]
                key.append(contentsOf: UnsafeBufferPointer(rebasing: text[s..<e]))
                d[key, default: 0] += 1
                n += 1
            }
            return (d, n)
        }
        var counts = counted[0].0
        var occurrences = counted[0].1
        for (d, n) in counted.dropFirst() {
            occurrences += n
            for (k, v) in d { counts[k, default: 0] += v }
        }
        // Most frequent first; ties by kind then bytes, for a deterministic vocabulary.
        let ranked = counts.sorted { a, b in a.value != b.value ? a.value > b.value : a.key.lexicographicallyPrecedes(b.key) }
        var tokens = base
        var seen = Set(tokens)
        let take = config.mode == .frequency ? budget : min(budget, Int((config.seedFraction * Double(config.vocabSize)).rounded()))
        for (key, _) in ranked where tokens.count - base.count < take {
            guard let t = Self.tokenString(key) else { continue }
            if seen.insert(t).inserted { tokens.append(t) }
        }
        let fromSpans = tokens.count - base.count
        var fromBPE = 0
        if config.mode == .seeding && tokens.count - base.count < budget {
            let before = tokens.count
            tokens = SeedBPE.fill(tokens: tokens, seen: &seen, text: text, starts: starts, target: base.count + budget)
            fromBPE = tokens.count - before
        }
        tokens += ByteWordPiece.specials
        return Result(vocabulary: ByteWordPiece(tokens: tokens), threshold: theta, spanTypes: counts.count,
                      spanOccurrences: occurrences, learnedFromSpans: fromSpans, learnedFromBPE: fromBPE)
    }

    /// The vocabulary string of a span key (kind byte + bytes), or nil for a word-initial span
    /// whose string would start with `##` (it would read as a continuation token).
    static func tokenString(_ key: [UInt8]) -> String? {
        let s = ByteLevelAlphabet.encode(key.dropFirst())
        if key[0] == 1 { return s.hasPrefix("##") ? nil : s }
        return "##" + s
    }
}
