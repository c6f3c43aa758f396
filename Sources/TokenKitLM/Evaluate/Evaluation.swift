import TokenKit
import TokenKitAnalysis
import TokenKitCore
import TokenKitModels

/// Side-by-side intrinsic measures of tokenizers on one text, as in the ByteSpan paper:
/// bytes per token, fertility (tokens per word), Rényi efficiency and MorphScore.
public enum TokenizerEvaluation {
    /// A tokenizer seen as a function from text to ids plus each token's end offset in that text
    /// (nil when the tokens do not spell the text byte for byte).
    public struct Segmenter {
        public let name: String
        public let vocabSize: Int
        /// Ids and token ends in the text; or, for tokens that spell the text another way
        /// (SentencePiece's ▁ and dummy prefix), `surface` holds the ICU words of the tokens'
        /// own text and `ends` the token ends in it.
        public let segment: ([UInt8]) throws -> (ids: [TokenID], ends: [Int]?, surface: [Int32]?)

        public init(name: String, vocabSize: Int, segment: @escaping ([UInt8]) throws -> (ids: [TokenID], ends: [Int]?, surface: [Int32]?)) {
            self.name = name
            self.vocabSize = vocabSize
            self.segment = segment
        }

        /// A tokenkit tokenizer: token ends from the ids' bytes (`<0xNN>` pieces stand for their
        /// byte, control pieces for nothing), in the text when they add up to it. A tiktoken
        /// file's special tokens are text here (as `premium` counts them), not an error.
        public init(_ tok: Tokenizer, name: String) {
            let pieces = tok.sentencePiece?.pieces
            let policy: SpecialPolicy = tok.format == .tiktoken ? .ordinary : tok.defaultPolicy
            self.init(name: name, vocabSize: tok.vocabSize) { text in
                let ids = try tok.encode(text, policy: policy)
                var ends: [Int] = []
                ends.reserveCapacity(ids.count)
                var surface: [UInt8] = []
                for id in ids {
                    if let p = pieces?[Int(id)], p.type == .control || p.type == .unknown {
                        if p.type == .unknown { surface += [0xEF, 0xBF, 0xBD] }
                    } else if tok.vocab.contains(id) {
                        let start = surface.count
                        tok.vocab.append(id, to: &surface)
                        if !tok.model.isByteLevel, let b = byteValue(Array(surface[start...])) {
                            surface.removeLast(surface.count - start)
                            surface.append(b)
                        }
                    }
                    ends.append(surface.count)
                }
                if surface == text { return (ids, ends, nil) }
                return (ids, ends, UTF8Scan.firstInvalid(surface) == nil ? WordSegmenter.words(surface) : nil)
            }
        }

        /// A byte-level WordPiece tokenizer: ends mapped back from the prefix-spaced text.
        public init(_ wp: ByteWordPiece, name: String) {
            self.init(name: name, vocabSize: wp.tokens.count) { text in
                let r = wp.encode(text)
                return (r.ids, r.ends, nil)
            }
        }
    }

    /// One gold segmentation: the word and where its first morpheme ends (in bytes).
    public struct MorphWord: Equatable {
        public var word: [UInt8]
        public var split: Int
        public init(word: [UInt8], split: Int) {
            self.word = word
            self.split = split
        }
    }

    /// Reads a MorphScore CSV (`full_word,pt1,rest`, an optional header line of those names).
    public static func readMorphCSV(_ data: [UInt8], path: String) throws -> [MorphWord] {
        var out: [MorphWord] = []
        for (i, raw) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = raw.last == 0x0D ? raw.dropLast() : raw
            if line.isEmpty { continue }
            let f = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { Array($0) }
            if i == 0 && f.map({ String(decoding: $0, as: UTF8.self) }) == ["full_word", "pt1", "rest"] { continue }
            guard f.count == 3 else {
                throw TokenKitError.badInput("line \(i + 1): expected 3 comma-separated fields (full_word,pt1,rest), found \(f.count)", file: path)
            }
            guard !f[1].isEmpty, !f[2].isEmpty, f[1] + f[2] == f[0] else {
                throw TokenKitError.badInput("line \(i + 1): pt1 and rest must be non-empty and spell full_word", file: path)
            }
            out.append(MorphWord(word: f[0], split: f[1].count))
        }
        return out
    }

    public struct Row: Sendable {
        public var tokenizer = ""
        public var vocabSize = 0
        public var bytes = 0
        public var tokens = 0
        public var words = 0
        /// Mean number of tokens that overlap each word.
        public var fertility: Double?
        /// Share of words split into two tokens or more.
        public var continued: Double?
        public var renyi: Double?
        /// MorphScore and the number of words it averages (those of more than one token).
        public var morphScore: Double?
        public var morphScored = 0
        public var bytesPerToken: Double { tokens > 0 ? Double(bytes) / Double(tokens) : 0 }
    }

    public static let renyiAlpha = 2.5

    /// Measures one tokenizer. `words` are (start, end) pairs in `text` (e.g. ICU words).
    public static func evaluate(_ s: Segmenter, text: [UInt8], words: [Int32], morph: [MorphWord]) throws -> Row {
        var row = Row()
        row.tokenizer = s.name
        row.vocabSize = s.vocabSize
        row.bytes = text.count
        let (ids, tokenEnds, surfaceWords) = try s.segment(text)
        row.tokens = ids.count
        var counts = [Int](repeating: 0, count: max(s.vocabSize, 1))
        for id in ids where Int(id) < counts.count { counts[Int(id)] += 1 }
        row.renyi = renyiEfficiency(counts: counts, alpha: renyiAlpha, vocabularySize: s.vocabSize)
        // Words of the text, or of the tokens' own text when they spell it another way.
        let words = surfaceWords ?? words
        let ends = surfaceWords == nil && tokenEnds?.last != text.count && !ids.isEmpty ? nil : tokenEnds
        row.words = words.count / 2
        if let ends, row.words > 0 {
            let (total, continued) = overlaps(words: words, ends: ends)
            row.fertility = Double(total) / Double(row.words)
            row.continued = Double(continued) / Double(row.words)
        }
        if !morph.isEmpty {
            var hits = 0, scored = 0
            for m in morph {
                // Words are tokenized as they appear in running text: after a space.
                // Token ends are needed in the word itself, not in a respelled surface.
                let (_, e, respelled) = try s.segment([0x20] + m.word)
                guard let e, respelled == nil, e.last == m.word.count + 1 else { continue }
                let inWord = e.filter { $0 > 1 && $0 < m.word.count + 1 }
                if inWord.isEmpty { continue }
                scored += 1
                if inWord.contains(1 + m.split) { hits += 1 }
            }
            row.morphScored = scored
            row.morphScore = scored > 0 ? Double(hits) / Double(scored) : nil
        }
        return row
    }

    /// Σ over words of the tokens overlapping each, and the number of words with two or more.
    /// Token i spans ends[i − 1]..<ends[i].
    static func overlaps(words: [Int32], ends: [Int]) -> (Int, Int) {
        var total = 0, continued = 0, j = 0
        var w = 0
        while w < words.count {
            let s = Int(words[w]), e = Int(words[w + 1])
            w += 2
            while j < ends.count && ends[j] <= s { j += 1 }
            var k = j, n = 0
            while k < ends.count {
                let start = k == 0 ? 0 : ends[k - 1]
                if start >= e { break }
                if ends[k] > start { n += 1 }
                k += 1
            }
            total += n
            if n >= 2 { continued += 1 }
        }
        return (total, continued)
    }
}
