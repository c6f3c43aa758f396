import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitModels
import TokenKitText

/// A trained tokenizer's pre-tokenizer: a tiktoken encoding's pattern, HF's Whitespace, none,
/// or any regex (Split, isolated).
public enum PreTokenizerChoice: Sendable, Equatable, CustomStringConvertible {
    case pattern(BuiltinPatternName)
    case whitespace
    case none
    case regex(String)

    public enum BuiltinPatternName: String, Sendable, CaseIterable {
        case r50k, gpt2, p50k, cl100k, o200k
        /// SuperBPE's stage-1 split (o200k without contractions) and its stage-2 superword split.
        case superbpe, superword
    }

    public static let choices = "r50k, cl100k, o200k, superbpe, superword, whitespace, none or regex:PATTERN"

    /// Parses `r50k | gpt2 | p50k | cl100k | o200k | whitespace | none | regex:PATTERN`.
    public init(parsing s: String) throws {
        if let b = BuiltinPatternName(rawValue: s) { self = .pattern(b); return }
        switch s {
        case "whitespace": self = .whitespace
        case "none": self = .none
        default:
            guard s.hasPrefix("regex:") else {
                throw TokenKitError.usage("unknown pre-tokenizer \(s.debugDescription): use \(PreTokenizerChoice.choices)", setting: .preTokenizer)
            }
            self = .regex(String(s.dropFirst(6)))
        }
    }

    public var description: String {
        switch self {
        case .pattern(let b): b.rawValue
        case .whitespace: "whitespace"
        case .none: "none"
        case .regex(let r): "regex:" + r
        }
    }
}

/// A trained tokenizer's normalizer.
public enum NormalizerChoice: String, Sendable, CaseIterable {
    case none, nfc, nfd, nfkc, nfkd, lowercase

    var normalizer: Normalizer? {
        switch self {
        case .none: nil
        case .nfc: .nfc
        case .nfd: .nfd
        case .nfkc: .nfkc
        case .nfkd: .nfkd
        case .lowercase: .lowercase
        }
    }

    var json: String {
        switch self {
        case .none: "null"
        case .nfc: "{\"type\": \"NFC\"}"
        case .nfd: "{\"type\": \"NFD\"}"
        case .nfkc: "{\"type\": \"NFKC\"}"
        case .nfkd: "{\"type\": \"NFKD\"}"
        case .lowercase: "{\"type\": \"Lowercase\"}"
        }
    }
}

/// The pre-tokenizer and normalizer choices of `tokenkit train`, with their tokenizer.json form.
public struct TrainingPipeline: Sendable {
    public let preTokenizerName: String
    public let normalizerName: String
    public let preTokenizer: PreTokenizer
    public let normalizer: Normalizer?
    let preTokenizerJSON: String
    let normalizerJSON: String
    /// The same split without the ByteLevel step, for character-level models.
    let splitJSON: String

    /// The pipeline from the names `r50k | cl100k | o200k | whitespace | none | regex:PATTERN` and
    /// `none | nfc | nfd | nfkc | nfkd | lowercase` (as word-count files record them).
    public init(preTokenizer: String, normalizer: String) throws {
        guard let n = NormalizerChoice(rawValue: normalizer) else {
            throw TokenKitError.usage("unknown normalizer \(normalizer.debugDescription): use none, nfc, nfd, nfkc, nfkd or lowercase",
                                      setting: .normalizer)
        }
        try self.init(preTokenizer: PreTokenizerChoice(parsing: preTokenizer), normalizer: n)
    }

    public init(preTokenizer choice: PreTokenizerChoice, normalizer: NormalizerChoice) throws {
        preTokenizerName = choice.description
        normalizerName = normalizer.rawValue
        let byteLevel = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}"
        func splitOnly(_ regex: String) -> String {
            "{\"type\": \"Split\", \"pattern\": {\"Regex\": \(jsonString(regex))}, \"behavior\": \"Isolated\", \"invert\": false}"
        }
        func split(_ regex: String) -> String {
            "{\"type\": \"Sequence\", \"pretokenizers\": [\(splitOnly(regex)), \(byteLevel)]}"
        }
        switch choice {
        case .pattern(let name):
            let (pre, _) = try TiktokenFormat.preTokenizer(for: name.rawValue)
            guard case .builtin(let b) = pre else { throw TokenKitError.usage("unknown pre-tokenizer \(name)", setting: .preTokenizer) }
            self.preTokenizer = pre
            preTokenizerJSON = split(b.hfRegex)
            splitJSON = splitOnly(b.hfRegex)
        case .whitespace:
            // As the tokenizer.json it writes (HF's Whitespace keeps only the matches).
            self.preTokenizer = .regex(try ICURegex(#"\w+|[^\w\s]+"#), .removed, invert: true)
            preTokenizerJSON = "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Whitespace\"}, \(byteLevel)]}"
            splitJSON = "{\"type\": \"Whitespace\"}"
        case .none:
            self.preTokenizer = .none
            preTokenizerJSON = byteLevel
            splitJSON = "null"
        case .regex(let pattern):
            let pre: PreTokenizer
            do { (pre, _) = try TiktokenFormat.preTokenizer(for: pattern, matchesOnly: false) } catch let e as TokenKitError {
                throw TokenKitError.usage(e.message, setting: .preTokenizer)
            }
            self.preTokenizer = pre
            preTokenizerJSON = split(pattern)
            splitJSON = splitOnly(pattern)
        }
        self.normalizer = normalizer.normalizer
        normalizerJSON = normalizer.json
    }

    /// The settings line stored in word-count files.
    public var settings: String { "pre_tokenizer=\(preTokenizerName) normalizer=\(normalizerName)" }

    /// A tokenizer from training output: bytes (or `<0xNN>` fallback tokens) are ids 0–255,
    /// then the character alphabet (character mode), then merges; special tokens come last.
    public func tokenizer(_ result: BPETrainer.Result, specials: [String], name: String) throws -> Tokenizer {
        var entries: [([UInt8], TokenID)] = []
        for (id, bytes) in result.tokens.enumerated() { entries.append((bytes, TokenID(id))) }
        let vocab = try TokenTable(entries)
        let characters = result.unmergeable > 0
        let model = BPEModel(vocab: vocab, merges: result.merges,
                             symbols: characters ? .characters(byteFallback: true, unk: nil, fuseUnk: false) : .bytes,
                             wholePieceFirst: false)
        let added = specials.enumerated().map {
            AddedToken(id: TokenID(result.tokens.count + $0.offset), content: Array($0.element.utf8), special: true)
        }
        let decoderJSON = characters
            ? "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"}]}"
            : "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}"
        let tok = try Tokenizer(name: name, format: .tokenizerJSON, model: .bpe(model), normalizer: normalizer, preTokenizer: preTokenizer,
                                decoder: characters ? .sequence([.byteFallback, .fuse]) : .byteLevel, addedTokens: added,
                                patternDescription: preTokenizerName, defaultPolicy: .huggingFace)
        tok.jsonParts = JSONParts(
            normalizer: normalizerJSON, preTokenizer: characters ? splitJSON : preTokenizerJSON, postProcessor: "null",
            decoder: decoderJSON,
            modelOptions: "\"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
                + "\"fuse_unk\": false, \"byte_fallback\": \(characters), \"ignore_merges\": false")
        return tok
    }
}
