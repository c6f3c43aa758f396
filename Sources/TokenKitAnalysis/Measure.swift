import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitModels
import TokenKitSentencePiece

/// A tokenizer prepared for measuring: how it encodes a line, which ids are unknown or
/// byte-fallback tokens, and the text each id stands for.
///
/// Anything `TokenizerLoader` reads, and SentencePiece `.model` files (encoded as `sp.encode`
/// does: no BOS/EOS).
public final class MeasuredTokenizer: @unchecked Sendable {
    public let tokenizer: Tokenizer
    /// Display name (`TokenizerLoader.displayName`).
    public let name: String
    /// The model file.
    public let path: String
    /// Number of ids.
    public let vocabSize: Int
    /// How special-token text in the corpus is read: as ordinary text for tiktoken files (tiktoken's
    /// `encode_ordinary`), as the tokenizer.json's added tokens otherwise (HF `encode` without
    /// `add_special_tokens`). No BOS/EOS or other post-processor tokens are ever added.
    public let policy: SpecialPolicy
    /// The model's unknown token, if it has one.
    public let unk: TokenID?
    /// Ids that stand for part of a character: `<0xNN>` byte-fallback tokens, and byte-level
    /// tokens whose bytes are not whole UTF-8 characters.
    let fragment: [Bool]
    /// Text of ids whose vocabulary spelling is not their text (`<0xNN>` → the byte, unk → U+FFFD,
    /// SentencePiece control pieces → nothing).
    let surface: [TokenID: [UInt8]]
    /// Every id's text (its spelling, or the override above), flat: id i is
    /// `textBytes[textStart[i]..<textStart[i + 1]]`.
    let textBytes: [UInt8]
    let textStart: [Int32]

    public init(_ tokenizer: Tokenizer, path: String, name: String? = nil) {
        self.tokenizer = tokenizer
        self.path = path
        self.name = name ?? tokenizer.name
        vocabSize = tokenizer.vocabSize
        policy = tokenizer.format == .tiktoken ? .ordinary : tokenizer.defaultPolicy
        var fragment = [Bool](repeating: false, count: tokenizer.vocab.count)
        var surface: [TokenID: [UInt8]] = [:]
        var unk: TokenID?
        let modelVocab = tokenizer.model.vocab
        /// `<0xNN>` byte-fallback pieces stand for their byte.
        func byteFallbackPieces() {
            for b in 0..<256 {
                if let id = modelVocab.lookup(Array("<0x\(hexByte(UInt8(b)))>".utf8)) {
                    fragment[Int(id)] = true
                    surface[id] = [UInt8(b)]
                }
            }
        }
        switch tokenizer.model {
        case .sentencePiece(let spm):
            unk = spm.unkID
            for (i, p) in spm.pieces.enumerated() {
                switch p.type {
                case .byte:
                    fragment[i] = true
                    if let b = byteValue(p.bytes) { surface[TokenID(i)] = [b] }
                case .unknown: surface[TokenID(i)] = [0xEF, 0xBF, 0xBD]
                case .control: surface[TokenID(i)] = []
                default: break
                }
            }
        case .bpe(let m) where !m.isByteLevel:
            if case .characters(_, let u, _) = m.symbols { unk = u }
            byteFallbackPieces()
        case .unigram(let m):
            unk = m.unkID
            byteFallbackPieces()
        case .bpe, .wordPiece, .wordLevel, .longestMatch:
            if case .wordPiece(let m) = tokenizer.model { unk = m.unk }
            if case .wordLevel(let m) = tokenizer.model { unk = m.unk }
            if case .longestMatch(let m) = tokenizer.model { unk = m.unk }
            // Byte-level vocabularies, and RWKV's byte tokens, may hold partial characters.
            guard tokenizer.model.takesAnyBytes else { break }
            let added = Set(tokenizer.addedTokens.map(\.id))
            for id in modelVocab.ids where !added.contains(id) {
                fragment[Int(id)] = modelVocab.withBytes(id) { raw in
                    UTF8Scan.firstInvalid(raw.bindMemory(to: UInt8.self)) != nil
                }
            }
        }
        if let u = unk, surface[u] == nil { surface[u] = [0xEF, 0xBF, 0xBD] }
        self.unk = unk
        self.fragment = fragment
        self.surface = surface
        var bytes: [UInt8] = []
        var start = [Int32](repeating: 0, count: tokenizer.vocab.count + 1)
        for i in 0..<tokenizer.vocab.count {
            let id = TokenID(i)
            if let s = surface[id] { bytes += s } else if tokenizer.vocab.contains(id) { tokenizer.vocab.append(id, to: &bytes) }
            start[i + 1] = Int32(bytes.count)
        }
        (textBytes, textStart) = (bytes, start)
    }

    /// Encodes one line (no newline), appending ids.
    @inline(__always)
    func encode(_ line: UnsafeBufferPointer<UInt8>, workspace: Tokenizer.Workspace, into ids: inout [TokenID]) throws {
        try tokenizer.encode(line, policy: policy, at: Tokenizer.Position(offset: 0, atStart: true), workspace: workspace, into: &ids)
    }

    /// Loads tokenizer files in parallel (every format `TokenizerLoader` reads). Names are the
    /// display names, or the paths where two display names clash. A file that cannot be loaded
    /// throws.
    public static func load(_ paths: [String], options: TokenizerLoader.Options = .init(), threads: Int = 1) throws -> [MeasuredTokenizer] {
        var states: [Int] = []
        let names = paths.map(TokenizerLoader.displayName)
        return try parallelMap(count: paths.count, threads: threads, states: &states, makeState: { 0 }) { i, _ in
            let name = names.filter { $0 == names[i] }.count > 1 ? paths[i] : names[i]
            return MeasuredTokenizer(try TokenizerLoader.load(paths[i], options: options), path: paths[i], name: name)
        }
    }
}

/// Rényi efficiency of a unigram distribution given by counts (Zouhar et al. 2023):
/// H_α(p) / log2 |V| with H_α(p) = log2(Σ p^α) / (1 − α), and Shannon entropy for α = 1.
public func renyiEfficiency(counts: [Int], alpha: Double, vocabularySize: Int) -> Double? {
    let n = Double(counts.reduce(0, +))
    guard n > 0, vocabularySize > 1 else { return nil }
    var sum = 0.0
    for c in counts where c > 0 {
        let p = Double(c) / n
        sum += alpha == 1 ? -p * log2(p) : pow(p, alpha)
    }
    return renyiEfficiency(sum: sum, alpha: alpha, vocabularySize: vocabularySize)
}

/// The efficiency from Σ p^α (or the Shannon entropy when α = 1).
func renyiEfficiency(sum: Double, alpha: Double, vocabularySize: Int) -> Double? {
    guard vocabularySize > 1, sum > 0 || alpha == 1 else { return nil }
    let h = alpha == 1 ? sum : log2(sum) / (1 - alpha)
    return h / log2(Double(vocabularySize))
}

func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

/// Per-language facts that do not depend on the tokenizer.
public struct LanguageFacts: Sendable {
    public var bytes = 0
    public var chars = 0
    /// Word ranges (flat start/end pairs in `CorpusLanguage.text`), nil for invalid UTF-8.
    var wordRanges: [Int32]?
    public var words: Int? { wordRanges.map { $0.count / 2 } }

    public init(_ lang: CorpusLanguage) {
        lang.text.withUnsafeBufferPointer { p in
            for r in lang.lines {
                bytes += r.count
                chars += UTF8Scan.scalarCount(UnsafeBufferPointer(rebasing: p[r]))
            }
        }
        wordRanges = lang.firstInvalidUTF8 == nil ? WordSegmenter.words(lang.text) : nil
    }
}

/// Counts for one language under one tokenizer.
public struct Measurement: Sendable {
    public var tokens = 0
    /// Tokens of each line.
    public var lineTokens: [Int32] = []
    public var unknown = 0
    public var byteFallback = 0
    /// Words of the text the tokens spell (the normalized text for tokenizers with a normalizer).
    public var surfaceWords: Int?
    /// Of those, the words that two or more tokens overlap.
    public var continuedWords: Int?
    /// Σ_w p(w)^α over the token unigram distribution, and the number of distinct ids seen.
    public var renyiSum = 0.0
    public var observedTypes = 0
}

/// Per-thread buffers for measuring.
final class MeasureState {
    var workspaces: [ObjectIdentifier: Tokenizer.Workspace] = [:]
    var counts: [ObjectIdentifier: [Int32]] = [:]
    var touched: [TokenID] = []
    var ids: [TokenID] = []
    var surface: [UInt8] = []
    var starts: [Int32] = []

    func workspace(_ t: MeasuredTokenizer) -> Tokenizer.Workspace {
        if let w = workspaces[ObjectIdentifier(t)] { return w }
        let w = Tokenizer.Workspace()
        workspaces[ObjectIdentifier(t)] = w
        return w
    }
}

enum Measurer {
    /// Encodes every line of `lang` by itself and counts. Errors name the line.
    static func measure(_ lang: CorpusLanguage, facts: LanguageFacts, with mt: MeasuredTokenizer, alpha: Double,
                        state st: MeasureState) throws -> Measurement {
        let ws = st.workspace(mt)
        let key = ObjectIdentifier(mt)
        var counts = st.counts[key] ?? [Int32](repeating: 0, count: max(mt.vocabSize, 1))
        st.counts[key] = nil
        defer {
            for id in st.touched { counts[Int(id)] = 0 }
            st.touched.removeAll(keepingCapacity: true)
            st.counts[key] = counts
        }
        var m = Measurement()
        m.lineTokens = [Int32](repeating: 0, count: lang.lineCount)
        // Work on locals (no class-property access per token); hand the buffers back after.
        var surface = st.surface, starts = st.starts, ids = st.ids, touched = st.touched
        st.surface = []; st.starts = []; st.ids = []; st.touched = []
        defer { st.surface = surface; st.starts = starts; st.ids = ids; st.touched = touched }
        surface.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        let fragment = mt.fragment, unk = mt.unk ?? BPEModel.noID
        let textBytes = mt.textBytes, textStart = mt.textStart
        try lang.text.withUnsafeBufferPointer { p in
            try textBytes.withUnsafeBufferPointer { tb in
                for (i, r) in lang.lines.enumerated() {
                    ids.removeAll(keepingCapacity: true)
                    do {
                        try mt.encode(UnsafeBufferPointer(rebasing: p[r]), workspace: ws, into: &ids)
                    } catch let e as TokenKitError {
                        throw TokenKitError.badInput("line \(i + 1): \(e.message)")
                    }
                    m.lineTokens[i] = Int32(ids.count)
                    m.tokens += ids.count
                    for id in ids {
                        let k = Int(id)
                        if id == unk { m.unknown += 1 }
                        starts.append(Int32(surface.count))
                        guard k < counts.count else { continue }
                        if counts[k] == 0 { touched.append(id) }
                        counts[k] += 1
                        if fragment[k] { m.byteFallback += 1 }
                        if k + 1 < textStart.count {
                            surface.append(contentsOf: UnsafeBufferPointer(rebasing: tb[Int(textStart[k])..<Int(textStart[k + 1])]))
                        }
                    }
                    surface.append(0x0A)
                }
            }
        }
        // Rényi sum over the unigram distribution of ids.
        if m.tokens > 0 {
            let n = Double(m.tokens)
            var sum = 0.0
            for id in touched {
                let p = Double(counts[Int(id)]) / n
                sum += alpha == 1 ? -p * log2(p) : pow(p, alpha)
            }
            m.renyiSum = sum
        }
        m.observedTypes = touched.count
        // Words the tokens split: on the original words when the tokens spell the text itself.
        let words: [Int32]?
        if surface == lang.text {
            words = facts.wordRanges
        } else if UTF8Scan.firstInvalid(surface) == nil {
            words = WordSegmenter.words(surface)
        } else {
            words = nil
        }
        if let words {
            m.surfaceWords = words.count / 2
            m.continuedWords = continued(words: words, starts: starts, end: surface.count)
        }
        return m
    }

    /// Number of words that two or more tokens overlap. Token i spans starts[i]..<starts[i+1].
    static func continued(words: [Int32], starts: [Int32], end: Int) -> Int {
        var j = 0, result = 0
        let n = starts.count
        var w = 0
        while w < words.count {
            let s = words[w], e = words[w + 1]
            w += 2
            // First token whose end is after s.
            while j < n, (j + 1 < n ? starts[j + 1] : Int32(end)) <= s { j += 1 }
            var k = j, overlapping = 0
            while k < n, starts[k] < e, overlapping < 2 {
                if (k + 1 < n ? starts[k + 1] : Int32(end)) > starts[k] { overlapping += 1 }
                k += 1
            }
            if overlapping >= 2 { result += 1 }
        }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
