import Foundation
import TokenKit
import TokenKitCore
import TokenKitFormats

/// Cross-lingual token premiums (Petrov et al. 2023) and the usual per-language tokenizer metrics
/// on a parallel corpus.
///
/// Counting rule: every line of every language is encoded by itself, without its newline and
/// without added special tokens (tiktoken `encode_ordinary`, HF `encode(add_special_tokens=False)`),
/// and a language's count is the sum over its lines. The premium of language L under tokenizer T
/// is tokens(L) / tokens(pivot) over the lines both have and neither leaves empty.
public struct PremiumAnalysis {
    public enum RenyiVocabulary: String, Sendable, CaseIterable {
        /// |V| = the tokenizer's vocabulary size (all ids).
        case full
        /// |V| = the number of distinct ids in the language's encoding (tokenization-scorer's default).
        case observed
    }

    public struct Options: Sendable {
        public var pivot = "eng"
        public var threads = 1
        /// Rényi order α (Zouhar et al. 2023 recommend 2.5).
        public var renyiAlpha = 2.5
        public var renyiVocabulary = RenyiVocabulary.full
        /// A (language, tokenizer) pair whose share of unknown tokens is above this gets no premium
        /// and is left out of the summaries (Petrov et al. use 10 %).
        public var unknownThreshold = 0.10
        /// How many worst languages each summary lists.
        public var worst = 5
        public init() {}
    }

    public var options: Options
    public init(options: Options = Options()) { self.options = options }

    /// Measures every language of `corpus` with every tokenizer. Never throws for one language or
    /// one (language, tokenizer) pair: those failures become rows with an `error` and `problems`.
    /// `progress` is called (from worker threads) after each (language, tokenizer) pair.
    public func run(corpus: ParallelCorpus, tokenizers: [MeasuredTokenizer],
                    progress: (@Sendable () -> Void)? = nil) throws -> PremiumReport {
        let langs = corpus.languages
        var problems = corpus.problems
        let threads = max(1, options.threads)

        // 1. Tokenizer-independent facts, one language per task.
        var s0: [Int] = []
        let facts = try parallelMap(count: langs.count, threads: threads, states: &s0, makeState: { 0 }) { i, _ in
            LanguageFacts(langs[i])
        }
        for (l, f) in zip(langs, facts) {
            if let bad = l.firstInvalidUTF8 {
                problems.append(Problem(language: l.code, file: l.source,
                                        "invalid UTF-8 on line \(l.lineNumber(at: bad)); words, fertility and continued words are left out"))
            } else if f.wordRanges == nil {
                problems.append(Problem(language: l.code, file: l.source, "ICU could not find the word boundaries; words are left out"))
            }
        }

        // 2. Every (language, tokenizer) pair; each task one pair, so a failure stays in its pair.
        var states: [MeasureState] = []
        let nt = tokenizers.count
        let alpha = options.renyiAlpha
        let results = try parallelMap(count: langs.count * nt, threads: threads, states: &states, makeState: { MeasureState() }) {
            k, st -> Result<Measurement, TokenKitError> in
            let l = k / nt, t = k % nt
            defer { progress?() }
            do {
                return .success(try Measurer.measure(langs[l], facts: facts[l], with: tokenizers[t], alpha: alpha, state: st))
            } catch let e as TokenKitError {
                return .failure(e)
            } catch {
                return .failure(TokenKitError.badInput("\(error)"))
            }
        }

        // 3. Rows.
        var rows: [PremiumRow] = []
        rows.reserveCapacity(results.count)
        for (l, lang) in langs.enumerated() {
            for (t, mt) in tokenizers.enumerated() {
                var row = PremiumRow(language: lang.code, tokenizer: mt.name, lines: lang.lineCount,
                                     bytes: facts[l].bytes, chars: facts[l].chars, words: facts[l].words)
                row.vocabSize = mt.vocabSize
                row.tokenizerIndex = t
                switch results[l * nt + t] {
                case .success(let m):
                    row.tokens = m.tokens
                    row.lineTokens = m.lineTokens
                    row.unknown = m.unknown
                    row.byteFallback = m.byteFallback
                    row.surfaceWords = m.surfaceWords
                    row.continuedWords = m.continuedWords
                    let v = options.renyiVocabulary == .full ? mt.vocabSize : m.observedTypes
                    row.renyiVocab = v
                    if m.tokens > 0 { row.renyiEfficiency = renyiEfficiency(sum: m.renyiSum, alpha: alpha, vocabularySize: v) }
                    if row.unknownRate.map({ $0 > options.unknownThreshold }) == true {
                        row.blanked = true
                        problems.append(Problem(language: lang.code, file: mt.path,
                                                "\(percent(row.unknownRate!)) of the tokens of \(lang.code) are unknown (above \(percent(options.unknownThreshold))); no premium"))
                    }
                case .failure(let e):
                    row.error = e.message
                    problems.append(Problem(language: lang.code, file: mt.path, "cannot encode \(lang.code) (\(lang.source)): \(e.message)"))
                }
                rows.append(row)
            }
        }
        for (code, message) in corpus.missing {
            for (t, mt) in tokenizers.enumerated() {
                var row = PremiumRow(language: code, tokenizer: mt.name, lines: 0, bytes: 0, chars: 0, words: nil)
                row.vocabSize = mt.vocabSize
                row.tokenizerIndex = t
                row.error = message
                rows.append(row)
            }
        }

        // 4. Premiums against the pivot, over the lines both languages have and fill.
        let pivotIndex = langs.firstIndex { $0.code == options.pivot }
        var pivotOK = pivotIndex != nil
        if pivotIndex == nil {
            let why = corpus.missing.first { $0.code == options.pivot }?.message ?? "the corpus has no language \(options.pivot)"
            problems.append(Problem(language: options.pivot, file: corpus.path, "pivot \(options.pivot): \(why); no premiums (choose another pivot)"))
        }
        if let p = pivotIndex {
            let pivot = langs[p]
            for (l, lang) in langs.enumerated() where l != p {
                let n = min(lang.lineCount, pivot.lineCount)
                if lang.lineCount != pivot.lineCount {
                    problems.append(Problem(language: lang.code, file: lang.source,
                                            "\(lang.lineCount) lines, but the pivot \(pivot.code) has \(pivot.lineCount); premiums use the first \(n) lines of both"))
                }
                let empty = (0..<n).filter { lang.isBlank($0) && !pivot.isBlank($0) }
                if !empty.isEmpty {
                    problems.append(Problem(language: lang.code, file: lang.source,
                                            "\(lineList(empty.map { $0 + 1 })) \(empty.count == 1 ? "is" : "are") empty where \(pivot.code) has text; premiums leave \(empty.count == 1 ? "it" : "them") out"))
                }
            }
            let blankPivot = (0..<pivot.lineCount).filter { pivot.isBlank($0) }
            if !blankPivot.isEmpty {
                problems.append(Problem(language: pivot.code, file: pivot.source,
                                        "the pivot's \(lineList(blankPivot.map { $0 + 1 })) \(blankPivot.count == 1 ? "is" : "are") empty; premiums leave \(blankPivot.count == 1 ? "it" : "them") out"))
            }
            for t in 0..<nt {
                let pr = rows[p * nt + t]
                if pr.error != nil || pr.blanked {
                    problems.append(Problem(language: pivot.code, file: tokenizers[t].path,
                                            "the pivot \(pivot.code) has no usable count with this tokenizer; no premiums for \(tokenizers[t].name)"))
                    continue
                }
                for l in 0..<langs.count {
                    let i = l * nt + t
                    guard rows[i].error == nil else { continue }
                    let lang = langs[l]
                    let n = min(lang.lineCount, pivot.lineCount)
                    var a = 0, b = 0, used = 0
                    for k in 0..<n where !lang.isBlank(k) && !pivot.isBlank(k) {
                        a += Int(rows[i].lineTokens[k])
                        b += Int(pr.lineTokens[k])
                        used += 1
                    }
                    rows[i].alignedLines = used
                    if !rows[i].blanked, b > 0 { rows[i].premium = Double(a) / Double(b) }
                }
            }
            pivotOK = (0..<nt).contains { rows[p * nt + $0].premium != nil }
        }

        // 5. Summaries.
        var summaries: [TokenizerSummary] = []
        for (t, mt) in tokenizers.enumerated() {
            let mine = rows.filter { $0.tokenizerIndex == t }
            summaries.append(TokenizerSummary(name: mt.name, path: mt.path, vocabSize: mt.vocabSize, rows: mine,
                                              pivot: options.pivot, worst: options.worst))
        }
        return PremiumReport(corpus: corpus.path, pivot: options.pivot, pivotFound: pivotOK, options: options,
                             tokenizers: summaries, rows: rows, problems: problems)
    }
}

func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }

/// One language under one tokenizer.
public struct PremiumRow: Sendable {
    public var language: String
    public var tokenizer: String
    /// Corpus token count: the sum of the tokens of every line.
    public var tokens = 0
    /// tokens / the pivot's tokens over the aligned non-empty lines; nil when blanked or failed.
    public var premium: Double?
    public var lines: Int
    /// UTF-8 bytes and Unicode scalars of the lines (newlines not counted).
    public var bytes: Int
    public var chars: Int
    /// ICU words of the original text.
    public var words: Int?
    /// ICU words of the text the tokens spell, and how many of them 2+ tokens overlap.
    public var surfaceWords: Int?
    public var continuedWords: Int?
    public var unknown = 0
    public var byteFallback = 0
    public var renyiEfficiency: Double?
    /// The |V| used for the Rényi efficiency.
    public var renyiVocab = 0
    public var vocabSize = 0
    /// Lines used for the premium.
    public var alignedLines = 0
    /// More unknown tokens than the threshold: no premium.
    public var blanked = false
    public var error: String?
    public var lineTokens: [Int32] = []
    /// Position of the tokenizer in the list given.
    public var tokenizerIndex = 0

    public init(language: String, tokenizer: String, lines: Int, bytes: Int, chars: Int, words: Int?) {
        self.language = language
        self.tokenizer = tokenizer
        self.lines = lines
        self.bytes = bytes
        self.chars = chars
        self.words = words
    }

    var ok: Bool { error == nil }
    public var bytesPerToken: Double? { ok && tokens > 0 ? Double(bytes) / Double(tokens) : nil }
    public var charsPerToken: Double? { ok && tokens > 0 ? Double(chars) / Double(tokens) : nil }
    /// Tokens per ICU word.
    public var fertility: Double? {
        guard ok, let w = words, w > 0 else { return nil }
        return Double(tokens) / Double(w)
    }
    /// Share of words split into two or more tokens.
    public var continuedRate: Double? {
        guard ok, let c = continuedWords, let w = surfaceWords, w > 0 else { return nil }
        return Double(c) / Double(w)
    }
    public var unknownRate: Double? { ok && tokens > 0 ? Double(unknown) / Double(tokens) : nil }
    public var byteFallbackRate: Double? { ok && tokens > 0 ? Double(byteFallback) / Double(tokens) : nil }
}

/// Premium statistics of one tokenizer over the languages with a premium, the pivot left out.
public struct TokenizerSummary: Sendable {
    public var name: String
    public var path: String
    public var vocabSize: Int
    public var languages = 0
    public var mean: Double?
    public var median: Double?
    /// Standard deviation of the premiums.
    public var spread: Double?
    public var min: (language: String, premium: Double)?
    public var max: (language: String, premium: Double)?
    /// Highest premiums first, the pivot left out.
    public var worst: [(language: String, premium: Double)] = []
    public var failed = 0
    public var blanked = 0

    init(name: String, path: String, vocabSize: Int, rows: [PremiumRow], pivot: String, worst k: Int) {
        self.name = name
        self.path = path
        self.vocabSize = vocabSize
        failed = rows.filter { $0.error != nil }.count
        blanked = rows.filter(\.blanked).count
        // The pivot (premium 1 by definition) is left out of the statistics.
        let values = rows.filter { $0.language != pivot }.compactMap { r in r.premium.map { (r.language, $0) } }
        languages = values.count
        guard !values.isEmpty else { return }
        let ps = values.map(\.1)
        let m = ps.reduce(0, +) / Double(ps.count)
        mean = m
        let sorted = ps.sorted()
        median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        spread = (ps.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(ps.count)).squareRoot()
        let byPremium = values.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        max = byPremium.first.map { ($0.0, $0.1) }
        min = byPremium.last.map { ($0.0, $0.1) }
        worst = byPremium.prefix(k).map { ($0.0, $0.1) }
    }
}

/// Everything `tokenkit premium` reports.
public struct PremiumReport: Sendable {
    public var corpus: String
    public var pivot: String
    /// Whether the pivot was found and gave premiums.
    public var pivotFound: Bool
    public var options: PremiumAnalysis.Options
    public var tokenizers: [TokenizerSummary]
    /// Languages in corpus order, tokenizers in the order given, then languages that could not be read.
    public var rows: [PremiumRow]
    public var problems: [Problem]

    public func row(_ language: String, _ tokenizer: String) -> PremiumRow? {
        rows.first { $0.language == language && $0.tokenizer == tokenizer }
    }
}
