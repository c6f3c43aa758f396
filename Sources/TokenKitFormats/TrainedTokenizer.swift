import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitText

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

    /// - Parameters:
    ///   - preTokenizer: r50k | cl100k | o200k | whitespace | none | regex:PATTERN
    ///   - normalizer: none | nfc | nfkc | nfd | nfkd | lowercase
    public init(preTokenizer: String, normalizer: String) throws {
        preTokenizerName = preTokenizer
        normalizerName = normalizer
        let byteLevel = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}"
        func splitOnly(_ regex: String) -> String {
            "{\"type\": \"Split\", \"pattern\": {\"Regex\": \(jsonString(regex))}, \"behavior\": \"Isolated\", \"invert\": false}"
        }
        func split(_ regex: String) -> String {
            "{\"type\": \"Sequence\", \"pretokenizers\": [\(splitOnly(regex)), \(byteLevel)]}"
        }
        switch preTokenizer {
        case "r50k", "gpt2", "p50k", "cl100k", "o200k", "superbpe", "superword":
            let (pre, _) = try TiktokenFormat.preTokenizer(for: preTokenizer)
            guard case .builtin(let b) = pre else { throw TokenKitError.usage("unknown pre-tokenizer \(preTokenizer)") }
            self.preTokenizer = pre
            preTokenizerJSON = split(b.hfRegex)
            splitJSON = splitOnly(b.hfRegex)
        case "whitespace":
            self.preTokenizer = .regex(try ICURegex(#"\w+|[^\w\s]+"#), .isolated, invert: false)
            preTokenizerJSON = "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Whitespace\"}, \(byteLevel)]}"
            splitJSON = "{\"type\": \"Whitespace\"}"
        case "none":
            self.preTokenizer = .none
            preTokenizerJSON = byteLevel
            splitJSON = "null"
        default:
            guard preTokenizer.hasPrefix("regex:") else {
                throw TokenKitError.usage("--pre-tokenizer must be r50k, cl100k, o200k, whitespace, none or regex:PATTERN")
            }
            let pattern = String(preTokenizer.dropFirst(6))
            let (pre, _) = try TiktokenFormat.preTokenizer(for: pattern)
            self.preTokenizer = pre
            preTokenizerJSON = split(pattern)
            splitJSON = splitOnly(pattern)
        }
        switch normalizer {
        case "none": self.normalizer = nil
        case "nfc": self.normalizer = .nfc
        case "nfd": self.normalizer = .nfd
        case "nfkc": self.normalizer = .nfkc
        case "nfkd": self.normalizer = .nfkd
        case "lowercase": self.normalizer = .lowercase
        default: throw TokenKitError.usage("--normalizer must be none, nfc, nfd, nfkc, nfkd or lowercase")
        }
        let names = ["nfc": "NFC", "nfd": "NFD", "nfkc": "NFKC", "nfkd": "NFKD", "lowercase": "Lowercase"]
        normalizerJSON = names[normalizer].map { "{\"type\": \"\($0)\"}" } ?? "null"
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
        let tok = try Tokenizer(name: name, format: .tokenizerJSON, model: model, normalizer: normalizer, preTokenizer: preTokenizer,
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
