import TokenKitCore
import TokenKitModels
import TokenKitSentencePiece
import TokenKitText

/// A loaded tokenizer: normalizer → pre-tokenizer → model → decoder, plus added/special tokens,
/// as in HF tokenizers. Immutable and shared across threads; per-thread state lives in a
/// `Tokenizer.Workspace`.
public final class Tokenizer: @unchecked Sendable {
    public enum Format: String, Sendable {
        case tiktoken
        case tokenizerJSON = "tokenizer.json"
        case gpt2Files = "vocab.json+merges.txt"
        case sentencePiece = "sentencepiece"
        case tekken = "tekken.json"
        case bertVocab = "vocab.txt"
        case rwkv = "rwkv vocab"
    }

    public let name: String
    public let format: Format
    /// The model that turns each pre-tokenized piece into ids.
    public let model: TokenizerModel
    public let normalizer: Normalizer?
    public let preTokenizer: PreTokenizer
    public let decoder: Decoder?
    public let addedTokens: [AddedToken]
    /// Every id: the model's tokens and the added tokens.
    public let vocab: TokenTable
    /// The split pattern's name or regex, for `info` and conversion.
    public let patternDescription: String
    public let defaultPolicy: SpecialPolicy
    /// Free-form facts for `info` (hash, recognised encoding …).
    public var notes: [(String, String)] = []
    /// The tokenizer.json sub-objects of a tokenizer loaded from one, written back by `convert`.
    public var jsonParts: JSONParts?

    /// Bytes a byte-level tokenizer.json has no token for (text holding one is an error).
    let missingBytes: [Bool]?
    let rawMatcher: AddedMatcher
    let normalizedMatcher: AddedMatcher
    let scanner: BuiltinPattern?

    public init(name: String, format: Format, model: TokenizerModel, normalizer: Normalizer?, preTokenizer: PreTokenizer,
                decoder: Decoder?, addedTokens: [AddedToken], patternDescription: String,
                defaultPolicy: SpecialPolicy) throws {
        self.name = name
        self.format = format
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.decoder = decoder
        self.addedTokens = addedTokens
        self.patternDescription = patternDescription
        self.defaultPolicy = defaultPolicy
        let modelVocab = model.vocab
        var missingBytes: [Bool]?
        if modelVocab.tokenCount == 0 { throw TokenKitError.badInput("the vocabulary is empty") }
        if let bpe = model.bpe, bpe.isByteLevel {
            // Byte-level BPE starts from single bytes: a byte without a token would vanish from the
            // output. Real vocabularies (DeepSeek's) lack the 13 bytes that valid UTF-8 never has.
            let utf8Bytes: [UInt8] = Array(0...0xBF) + Array(0xC2...0xF4)
            let missing = utf8Bytes.filter { modelVocab.lookup([$0]) == nil }
            // HF's trainer limits the alphabet to the bytes it saw (Hayase et al.'s protocol does
            // so on purpose): such a tokenizer.json loads, and meeting a missing byte is an error.
            if format == .tokenizerJSON, !missing.isEmpty {
                var table = [Bool](repeating: false, count: 256)
                for b in missing { table[Int(b)] = true }
                missingBytes = table
            } else if let b = missing.first {
                throw TokenKitError.badInput("the byte-level vocabulary has no token for byte 0x\(String(b, radix: 16, uppercase: true))"
                                             + (missing.count > 1 ? " (and \(missing.count - 1) other bytes)" : "") + "; such bytes would be dropped")
            }
        }
        for t in addedTokens where modelVocab.contains(t.id) && modelVocab.bytes(t.id) != t.content {
            // Sharing an id is fine for the same token, also when the added token is the
            // vocabulary's byte-level spelling (HF's add_tokens(["é"]) reuses the id of the
            // byte 0xE9, and both decode to that byte); for another one the round trip would lose text.
            if model.isByteLevel, ByteLevelAlphabet.encode(modelVocab.bytes(t.id)) == t.text { continue }
            throw TokenKitError.badInput("added token \(String(decoding: t.content, as: UTF8.self).debugDescription) has id \(t.id), "
                                         + "which the vocabulary gives to \(String(decoding: modelVocab.bytes(t.id), as: UTF8.self).debugDescription)")
        }
        self.missingBytes = missingBytes
        let extra = addedTokens.filter { !modelVocab.contains($0.id) }.map { ($0.content, $0.id) }
        do {
            if extra.allSatisfy({ Int($0.1) >= modelVocab.count }) {
                vocab = try modelVocab.appending(extra)
            } else {
                let entries = modelVocab.ids.map { (modelVocab.bytes($0), $0) } + extra
                vocab = try TokenTable(entries, allowDuplicateBytes: true)
            }
        } catch let e as TokenKitError {
            throw TokenKitError.badInput("added tokens clash with the vocabulary: \(e.message)")
        }
        // As HF: tokens that are not `normalized` cut the raw text first; the normalized ones,
        // spelled as the normalizer spells them, are then looked for in each normalized segment.
        rawMatcher = AddedMatcher(addedTokens.filter { !$0.normalized })
        let normalizedTokens = addedTokens.filter(\.normalized)
        normalizedMatcher = AddedMatcher(normalizedTokens,
                                         patterns: normalizedTokens.map { normalizer?.apply($0.content) ?? $0.content })
        scanner = preTokenizer.scanner
    }

    /// Number of ids (one past the largest).
    public var vocabSize: Int { vocab.count }

    /// Whether cutting the input at line starts gives the same ids as encoding it whole,
    /// which lets long inputs stream in bounded memory and spread over threads.
    /// SentencePiece models are not: their dummy prefix and whitespace folding look at the
    /// ends of the text. Nor are added tokens with `lstrip`: a match at a line start takes the
    /// line end before it.
    public var canChunk: Bool {
        sentencePiece == nil && (normalizer?.isChunkSafe ?? true) && !addedTokens.contains { $0.lstrip }
    }

    /// A tokenizer for a SentencePiece `.model`.
    public convenience init(sentencePiece spm: SentencePieceModel, name: String) throws {
        let kind = spm.modelType == .unigram ? "Unigram" : spm.modelType == .bpe ? "BPE" : "\(spm.modelType)"
        try self.init(name: name, format: .sentencePiece, model: .sentencePiece(spm), normalizer: nil, preTokenizer: .none,
                      decoder: nil, addedTokens: [], patternDescription: "SentencePiece (\(kind))", defaultPolicy: .ordinary)
    }

    /// The SentencePiece `.model` this tokenizer runs, if it is one.
    public var sentencePiece: SentencePieceModel? {
        if case .sentencePiece(let m) = model { return m }
        return nil
    }

    /// "BPE", "Unigram", "WordPiece", or the SentencePiece model type.
    public var modelName: String { model.name }

    /// Per-thread mutable state: buffers, regex matchers.
    public final class Workspace {
        var text = TextWorkspace()
        var scratch = BPEScratch()
        var buf: [UInt8] = []
        var pieces: [Range<Int>] = []
        public init() {}

        /// BPE-dropout probability for encodes with this workspace (0 = deterministic).
        public var dropout: Double {
            get { scratch.dropout }
            set { scratch.dropout = newValue }
        }

        /// Unigram sampling (SentencePiece models): temperature and n-best size (-1 = all).
        public var alpha: Double?
        public var nbestSize = -1

        /// The random stream used by dropout (and by the driver for StochasTok).
        public var rng: SplitMix64 {
            get { scratch.rng }
            set { scratch.rng = newValue }
        }
    }

    /// The StochasTok split table over the model's tokens; byte-fallback tokens (`<0xNN>`) are
    /// left out since their spelling is not their bytes.
    public func makeStochasTok() -> StochasTok {
        var excluded = Set<TokenID>()
        if let spm = sentencePiece {
            for (id, piece) in spm.pieces.enumerated() where piece.type != .normal { excluded.insert(TokenID(id)) }
        }
        let modelVocab = model.vocab
        if !model.isByteLevel {
            for id in modelVocab.ids where modelVocab.length(id) == 6 {
                let b = modelVocab.bytes(id)
                if b.starts(with: Array("<0x".utf8)), b[5] == UInt8(ascii: ">") { excluded.insert(id) }
            }
        }
        return StochasTok(vocab: modelVocab, excluded: excluded)
    }

    /// Where a chunk sits in its input.
    public struct Position: Sendable {
        /// Byte offset of the chunk in the input, for error messages.
        public var offset: Int
        /// The chunk starts the input (false for every later chunk).
        public var atStart: Bool
        public init(offset: Int = 0, atStart: Bool = true) {
            self.offset = offset
            self.atStart = atStart
        }
    }

    /// Encodes a whole text.
    public func encode(_ text: [UInt8], policy: SpecialPolicy? = nil) throws -> [TokenID] {
        var out: [TokenID] = []
        let ws = Workspace()
        try text.withUnsafeBufferPointer { try encode($0, policy: policy ?? defaultPolicy, at: Position(), workspace: ws, into: &out) }
        return out
    }

    public func encode(_ text: String, policy: SpecialPolicy? = nil) throws -> [TokenID] {
        try encode(Array(text.utf8), policy: policy)
    }

    /// Encodes one chunk of an input, appending ids to `out`.
    public func encode(_ p: UnsafeBufferPointer<UInt8>, policy: SpecialPolicy, at position: Position,
                       workspace ws: Workspace, into out: inout [TokenID]) throws {
        if !model.takesAnyBytes, let bad = UTF8Scan.firstInvalid(p) {
            throw TokenKitError.badInput("invalid UTF-8 at byte offset \(position.offset + bad); this model needs valid text")
        }
        if let spm = sentencePiece {
            if let alpha = ws.alpha {
                out += spm.encode(Array(p), alpha: alpha, nbestSize: ws.nbestSize, using: &ws.scratch.rng)
            } else if ws.dropout > 0, spm.modelType == .bpe {
                out += spm.encode(Array(p), alpha: ws.dropout, nbestSize: 0, using: &ws.scratch.rng)
            } else {
                spm.encode(p, into: &out)
            }
            return
        }
        let start = out.count
        // 1. Added tokens matched in the raw text cut it into segments.
        var last = 0
        // With nothing to look for (special tokens only, and a policy that ignores them, as
        // tiktoken's encode_ordinary), the text is not scanned at all.
        let ignoresAll = rawMatcher.allSpecial && policy.allowed == .none && policy.disallowed == .none
        if !rawMatcher.isEmpty, !ignoresAll {
            let found = rawMatcher.matches(p) { t in
                !t.special || policy.allowed.contains(t) || policy.disallowed.contains(t)
            }
            for (range, token) in found {
                if token.special, !policy.allowed.contains(token) {
                    throw TokenKitError.badInput(
                        "the text contains the special token \(token.text) at byte offset \(position.offset + range.lowerBound)",
                        setting: .specialTokens)
                }
                if range.lowerBound > last {
                    try encodeSegment(UnsafeBufferPointer(rebasing: p[last..<range.lowerBound]), first: position.atStart && last == 0,
                                      continuation: !position.atStart && last == 0, policy: policy, ws, &out)
                }
                out.append(token.id)
                last = range.upperBound
            }
        }
        if last < p.count || p.isEmpty {
            try encodeSegment(UnsafeBufferPointer(rebasing: p[last..<p.count]), first: position.atStart && last == 0,
                              continuation: !position.atStart && last == 0, policy: policy, ws, &out)
        }
        if let missingBytes, let i = p.firstIndex(where: { missingBytes[Int($0)] }) {
            throw TokenKitError.badInput("byte 0x\(String(p[i], radix: 16, uppercase: true)) at byte offset \(position.offset + i) has no token in this byte-level vocabulary (HF tokenizers would drop it)")
        }
        // A Unigram model without unk_id has no id for an unknown character (HF fails too).
        if case .unigram(let unigram) = model, unigram.unkID == nil, out[start...].contains(.max) {
            throw TokenKitError.badInput("the text has a character that is not in the vocabulary, and the Unigram model has no unk_id")
        }
        if case .longestMatch(let m) = model, m.unk == nil, let bad = out[start...].firstIndex(of: .max) {
            // No normalizer runs before this model, so the ids' lengths give the byte offset.
            let skipped = out[start..<bad].reduce(0) { $0 + vocab.length($1) }
            let byte = skipped < p.count ? p[skipped] : 0
            throw TokenKitError.badInput("byte 0x\(String(byte, radix: 16, uppercase: true)) at byte offset \(position.offset + skipped) starts no token of the vocabulary, which has no unknown token")
        }
    }

    /// 2. Normalize, split on normalized added tokens, then pre-tokenize and encode.
    private func encodeSegment(_ p: UnsafeBufferPointer<UInt8>, first: Bool, continuation: Bool, policy: SpecialPolicy,
                               _ ws: Workspace, _ out: inout [TokenID]) throws {
        guard let normalizer else {
            // No normalizer: the segment is its own normalized text (no copy).
            splitOnNormalizedTokens(p, first: first, continuation: continuation, policy: policy, ws, &out)
            return
        }
        let normalized = normalizer.apply(Array(p), continuation: continuation)
        normalized.withUnsafeBufferPointer { q in
            splitOnNormalizedTokens(q, first: first, continuation: continuation, policy: policy, ws, &out)
        }
    }

    /// The normalized added tokens cut normalized text `q`; the parts between are encoded.
    private func splitOnNormalizedTokens(_ q: UnsafeBufferPointer<UInt8>, first: Bool, continuation: Bool, policy: SpecialPolicy,
                                         _ ws: Workspace, _ out: inout [TokenID]) {
        var last = 0
        if !normalizedMatcher.isEmpty {
            for (range, token) in normalizedMatcher.matches(q, where: { !$0.special || policy.allowed.contains($0) }) {
                if range.lowerBound > last {
                    encodeText(UnsafeBufferPointer(rebasing: q[last..<range.lowerBound]), first: first && last == 0,
                               continuation: continuation && last == 0, ws, &out)
                }
                out.append(token.id)
                last = range.upperBound
            }
        }
        if last < q.count {
            encodeText(UnsafeBufferPointer(rebasing: q[last...]), first: first && last == 0,
                       continuation: continuation && last == 0, ws, &out)
        }
    }

    /// 3. Pre-tokenize and run the model on each piece.
    @inline(__always)
    private func encodeText(_ p: UnsafeBufferPointer<UInt8>, first: Bool, continuation: Bool, _ ws: Workspace,
                            _ out: inout [TokenID]) {
        if p.isEmpty { return }
        // One dispatch per text, not per piece: the piece loop is specialized for each model.
        switch model {
        case .bpe(let m): encodePieces(m, p, first: first, continuation: continuation, ws, &out)
        case .unigram(let m): encodePieces(m, p, first: first, continuation: continuation, ws, &out)
        case .wordPiece(let m): encodePieces(m, p, first: first, continuation: continuation, ws, &out)
        case .wordLevel(let m): encodePieces(m, p, first: first, continuation: continuation, ws, &out)
        case .longestMatch(let m): encodePieces(m, p, first: first, continuation: continuation, ws, &out)
        case .sentencePiece(let m): encodePieces(m, p, first: first, continuation: continuation, ws, &out)
        }
    }

    @inline(__always)
    private func encodePieces<M: TokenModel>(_ m: M, _ p: UnsafeBufferPointer<UInt8>, first: Bool, continuation: Bool,
                                             _ ws: Workspace, _ out: inout [TokenID]) {
        if let scanner {
            var s = 0
            scanner.split(p) { e in
                m.encode(UnsafeBufferPointer(rebasing: p[s..<e]), into: &out, scratch: &ws.scratch)
                s = e
            }
            return
        }
        ws.buf.removeAll(keepingCapacity: true)
        ws.buf.append(contentsOf: p)
        ws.pieces.removeAll(keepingCapacity: true)
        ws.pieces.append(0..<p.count)
        preTokenizer.split(&ws.buf, &ws.pieces, first: first, continuation: continuation, workspace: ws.text)
        ws.buf.withUnsafeBufferPointer { b in
            for r in ws.pieces where !r.isEmpty { m.encode(UnsafeBufferPointer(rebasing: b[r]), into: &out, scratch: &ws.scratch) }
        }
    }

    // MARK: Decoding

    /// Checks that every id exists.
    public func validate(_ ids: [TokenID]) throws {
        for (i, id) in ids.enumerated() where !vocab.contains(id) {
            throw TokenKitError.badInput("id \(id) at position \(i) is not in the vocabulary (ids 0..<\(vocab.count))")
        }
    }

    /// The exact bytes of `ids`.
    public func decode(_ ids: [TokenID], skipSpecial: Bool = false) throws -> [UInt8] {
        try validate(ids)
        if let spm = sentencePiece { return try spm.decode(ids) }
        let specials = skipSpecial ? Set(addedTokens.filter(\.special).map(\.id)) : []
        let kept = skipSpecial ? ids.filter { !specials.contains($0) } : ids
        var out: [UInt8] = []
        guard let decoder, !isIdentityDecoder(decoder) else {
            // A tokenizer.json without a decoder over text tokens: HF joins the tokens with spaces.
            let joined = decoder == nil && format == .tokenizerJSON && !model.isByteLevel
            for (i, id) in kept.enumerated() {
                if joined && i > 0 { out.append(0x20) }
                vocab.append(id, to: &out)
            }
            return out
        }
        // As HF does, every token goes through the decoder chain, added ones too: a Metaspace or
        // Strip decoder sees the whole sequence, and Fuse joins across added tokens.
        for t in decoder.decode(kept.map { vocab.bytes($0) }) { out += t }
        return out
    }

    private func isIdentityDecoder(_ d: Decoder) -> Bool {
        if case .byteLevel = d { return true }
        return false
    }

    /// A model token as its vocabulary file spells it (byte alphabet for byte-level models).
    public func modelPiece(_ id: TokenID) -> String {
        let bytes = model.vocab.bytes(id)
        return model.isByteLevel ? ByteLevelAlphabet.encode(bytes) : String(decoding: bytes, as: UTF8.self)
    }

    /// A token as text for people: its bytes as UTF-8, with spaces shown as "␣", control
    /// characters and backslashes escaped (`\n`, `\t`, `\\`), and bytes that are not valid
    /// UTF-8 on their own as `\xNN` (a token that is part of a character).
    public func readablePiece(_ id: TokenID) -> String {
        let bytes = vocab.bytes(id)
        var out = ""
        var i = 0
        while i < bytes.count {
            let (_, n, valid) = bytes.withUnsafeBufferPointer { UTF8Scan.decode($0, i) }
            if !valid {
                out += String(format: "\\x%02X", bytes[i])
                i += 1
                continue
            }
            let ch = String(decoding: bytes[i..<(i + n)], as: UTF8.self)
            switch bytes[i] {
            case 0x20: out += "␣"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x5C: out += "\\\\"
            case 0..<0x20, 0x7F: out += String(format: "\\x%02X", bytes[i])
            default: out += ch
            }
            i += n
        }
        return out
    }

    /// A token as people read it in vocabulary files: GPT-2's byte alphabet for byte-level
    /// models ("Ġthe"), the text itself otherwise.
    public func piece(_ id: TokenID) -> String {
        let bytes = vocab.bytes(id)
        if addedTokens.contains(where: { $0.id == id }) || !model.isByteLevel {
            return String(decoding: bytes, as: UTF8.self)
        }
        return ByteLevelAlphabet.encode(bytes)
    }
}

/// JSON text of the tokenizer.json parts tokenkit does not model itself, kept verbatim.
public struct JSONParts: Sendable {
    public var normalizer, preTokenizer, postProcessor, decoder: String
    /// The whole model object, for models written back verbatim (Unigram).
    public var model: String?
    /// The model's options other than vocab and merges, as `"key": value` pairs.
    public var modelOptions: String

    public init(normalizer: String, preTokenizer: String, postProcessor: String, decoder: String, modelOptions: String) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.modelOptions = modelOptions
    }
}
