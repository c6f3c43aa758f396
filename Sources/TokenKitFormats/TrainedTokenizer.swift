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

    /// - Parameters:
    ///   - preTokenizer: r50k | cl100k | o200k | whitespace | none | regex:PATTERN
    ///   - normalizer: none | nfc | nfkc | nfd | nfkd | lowercase
    public init(preTokenizer: String, normalizer: String) throws {
        preTokenizerName = preTokenizer
        normalizerName = normalizer
        let byteLevel = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}"
        func split(_ regex: String) -> String {
            "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \(jsonString(regex))}, "
                + "\"behavior\": \"Isolated\", \"invert\": false}, \(byteLevel)]}"
        }
        switch preTokenizer {
        case "r50k", "gpt2", "p50k", "cl100k", "o200k":
            let (pre, _) = try TiktokenFormat.preTokenizer(for: preTokenizer)
            guard case .builtin(let b) = pre else { throw TokenKitError.usage("unknown pre-tokenizer \(preTokenizer)") }
            self.preTokenizer = pre
            preTokenizerJSON = split(b.hfRegex)
        case "whitespace":
            self.preTokenizer = .regex(try ICURegex(#"\w+|[^\w\s]+"#), .isolated, invert: false)
            preTokenizerJSON = "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Whitespace\"}, \(byteLevel)]}"
        case "none":
            self.preTokenizer = .none
            preTokenizerJSON = byteLevel
        default:
            guard preTokenizer.hasPrefix("regex:") else {
                throw TokenKitError.usage("--pre-tokenizer must be r50k, cl100k, o200k, whitespace, none or regex:PATTERN")
            }
            let pattern = String(preTokenizer.dropFirst(6))
            let (pre, _) = try TiktokenFormat.preTokenizer(for: pattern)
            self.preTokenizer = pre
            preTokenizerJSON = split(pattern)
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

    /// A tokenizer from training output: bytes are ids 0–255, merge i makes id 256 + i, and the
    /// special tokens follow.
    public func tokenizer(_ result: BPETrainer.Result, specials: [String], name: String) throws -> Tokenizer {
        var entries: [([UInt8], TokenID)] = []
        for (id, bytes) in result.tokens.enumerated() { entries.append((bytes, TokenID(id))) }
        let vocab = try TokenTable(entries)
        let merges = result.merges.enumerated().map { ($0.element.0, $0.element.1, TokenID(256 + $0.offset)) }
        let model = BPEModel(vocab: vocab, merges: merges, symbols: .bytes, wholePieceFirst: false)
        let added = specials.enumerated().map {
            AddedToken(id: TokenID(result.tokens.count + $0.offset), content: Array($0.element.utf8), special: true)
        }
        let tok = try Tokenizer(name: name, format: .tokenizerJSON, model: model, normalizer: normalizer, preTokenizer: preTokenizer,
                                decoder: .byteLevel, addedTokens: added, patternDescription: preTokenizerName,
                                defaultPolicy: .huggingFace)
        tok.jsonParts = JSONParts(
            normalizer: normalizerJSON, preTokenizer: preTokenizerJSON, postProcessor: "null",
            decoder: "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}",
            modelOptions: "\"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
                + "\"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false")
        return tok
    }
}
