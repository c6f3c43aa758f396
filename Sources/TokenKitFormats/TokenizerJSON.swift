import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitSentencePiece
import TokenKitText

/// A JSON value with its path, so every error names the field that is wrong.
struct Field {
    let value: JSON?
    let path: String

    subscript(key: String) -> Field {
        Field(value: value?[key], path: path.isEmpty ? key : "\(path).\(key)")
    }

    var isNull: Bool {
        if let value, case .null = value { return true }
        return value == nil
    }

    func fail(_ what: String) -> TokenKitError { TokenKitError.badInput("field \(path): \(what)") }

    func bytes() throws -> [UInt8] {
        guard case .string(let b) = value else { throw fail("expected a string") }
        return b
    }

    func string() throws -> String { String(decoding: try bytes(), as: UTF8.self) }

    func optionalString() throws -> String? { isNull ? nil : try string() }

    func bool(default d: Bool) throws -> Bool {
        if isNull { return d }
        guard case .bool(let b) = value else { throw fail("expected true or false") }
        return b
    }

    func int() throws -> Int {
        guard case .number(_, let i?) = value else { throw fail("expected an integer") }
        return Int(i)
    }

    func array() throws -> [Field] {
        guard case .array(let a) = value else { throw fail("expected an array") }
        return a.enumerated().map { Field(value: $0.element, path: "\(path)[\($0.offset)]") }
    }

    func pairs() throws -> [(key: [UInt8], value: JSON)] {
        guard case .object(let o) = value else { throw fail("expected an object") }
        return o
    }
}

/// HF tokenizers' `tokenizer.json`, tokenkit's native format.
public enum TokenizerJSON {
    static func parse(_ data: [UInt8]) throws -> Field {
        // Numbers as HF reads them: Unigram scores are compared to the last bit.
        Field(value: try JSON.parse(data, floats: .serdeJSON), path: "")
    }

    static func isTokenizerJSON(_ root: Field) -> Bool { !root["model"].isNull }

    public static func load(_ data: [UInt8], name: String) throws -> Tokenizer {
        try load(parse(data), name: name)
    }

    /// `format` is what the tokenizer says it was read from (a BERT vocab.txt is read as the
    /// tokenizer.json HF builds from it).
    static func load(_ root: Field, name: String, format: Tokenizer.Format = .tokenizerJSON) throws -> Tokenizer {
        let model = root["model"]
        let type = try model["type"].optionalString() ?? (model["merges"].isNull ? "?" : "BPE")
        if type == "Unigram" { return try loadUnigram(root, name: name) }
        if type == "WordPiece" || type == "WordLevel" {
            return try loadWordModel(root, name: name, wordLevel: type == "WordLevel", format: format)
        }
        guard type == "BPE" else {
            throw model["type"].fail("unsupported model type \(type.debugDescription); tokenkit reads BPE, Unigram, WordPiece and WordLevel tokenizer.json models")
        }
        let byteLevel = mentionsByteLevel(root["pre_tokenizer"].value) || mentionsByteLevel(root["decoder"].value)

        // Vocabulary, as bytes. `spelled` indexes the file's own spelling, for the merges.
        var entries: [([UInt8], TokenID)] = []
        var spellings: [([UInt8], TokenID)] = []
        // When every token is in GPT-2's alphabet, merges are looked up by their decoded bytes
        // and the table of spellings is not needed (a third of a large file's load time).
        var allDecoded = byteLevel
        var decoded: [UInt8] = []
        // Tokens outside GPT-2's alphabet in a byte-level vocabulary (Command R has "🇸" beside
        // its byte-level spelling): no merge or piece can reach them, so they shadow nothing.
        var unreachable: Set<TokenID> = []
        let pairs = try model["vocab"].pairs()
        entries.reserveCapacity(pairs.count)
        for (token, v) in pairs {
            guard case .number(_, let n?) = v, n >= 0, n < Int64(UInt32.max) else {
                throw model["vocab"].fail("id of \(String(decoding: token, as: UTF8.self).debugDescription) is not a non-negative integer")
            }
            let id = TokenID(n)
            if byteLevel, ByteLevelAlphabet.decodeUTF8(token, into: &decoded) {
                entries.append((decoded, id))
            } else {
                allDecoded = false
                if byteLevel { unreachable.insert(id) }
                entries.append((token, id))
            }
        }
        if !allDecoded {
            for (token, v) in pairs { if case .number(_, let n?) = v { spellings.append((token, TokenID(n))) } }
        }
        let vocab: TokenTable, spelled: TokenTable
        do {
            vocab = try TokenTable(entries, secondary: unreachable)
            entries = []
            spelled = allDecoded ? vocab : try TokenTable(spellings)
        } catch let e as TokenKitError {
            throw model["vocab"].fail(e.message)
        }
        var bufA: [UInt8] = [], bufB: [UInt8] = []
        /// Id of a token spelled `s` in the file.
        func spelledID(_ s: [UInt8], _ buf: inout [UInt8]) -> TokenID? {
            guard allDecoded else { return spelled.lookup(s) }
            return ByteLevelAlphabet.decodeUTF8(s, into: &buf) ? vocab.lookup(buf) : nil
        }

        // Merges: "a b" strings (older files) or [a, b] pairs.
        let prefix = Array((try model["continuing_subword_prefix"].optionalString() ?? "").utf8)
        var merges: [(TokenID, TokenID, TokenID)] = []
        // The raw array: a Field (with its path) is made only to name an error.
        var mergeValues: [JSON] = []
        if !model["merges"].isNull {
            guard case .array(let a)? = model["merges"].value else { throw model["merges"].fail("expected an array") }
            mergeValues = a
        }
        merges.reserveCapacity(mergeValues.count)
        for (k, value) in mergeValues.enumerated() {
            let a: [UInt8], b: [UInt8]
            if case .string(let s) = value, let space = s.firstIndex(of: 0x20) {
                a = Array(s[..<space]); b = Array(s[(space + 1)...])
            } else if case .array(let pair) = value, pair.count == 2, case .string(let x) = pair[0], case .string(let y) = pair[1] {
                a = x; b = y
            } else {
                throw Field(value: value, path: "model.merges[\(k)]").fail("expected \"left right\" or [left, right]")
            }
            let right = prefix.isEmpty || !b.starts(with: prefix) ? b : Array(b.dropFirst(prefix.count))
            guard let ia = spelledID(a, &bufA), let ib = spelledID(b, &bufB), let im = spelledID(a + right, &bufA) else {
                let m = Field(value: value, path: "model.merges[\(k)]")
                throw m.fail("merge \(String(decoding: a, as: UTF8.self).debugDescription) + \(String(decoding: b, as: UTF8.self).debugDescription) uses a token that is not in the vocabulary")
            }
            merges.append((ia, ib, im))
        }

        let symbols: BPEModel.Symbols
        if byteLevel {
            symbols = .bytes
        } else {
            let unkName = try model["unk_token"].optionalString()
            var unk: TokenID?
            if let unkName {
                guard let id = spelled.lookup(Array(unkName.utf8)) else { throw model["unk_token"].fail("\(unkName.debugDescription) is not in the vocabulary") }
                unk = id
            }
            symbols = .characters(byteFallback: try model["byte_fallback"].bool(default: false), unk: unk,
                                  fuseUnk: try model["fuse_unk"].bool(default: false))
        }
        let bpe = BPEModel(vocab: vocab, merges: merges, symbols: symbols,
                           wholePieceFirst: try model["ignore_merges"].bool(default: false),
                           continuingSubwordPrefix: prefix,
                           endOfWordSuffix: Array((try model["end_of_word_suffix"].optionalString() ?? "").utf8))

        return try tokenizer(root, model: .bpe(bpe), name: name)
    }

    /// HF's Unigram model: `vocab` is [[piece, score], …] with ids in order.
    static func loadUnigram(_ root: Field, name: String) throws -> Tokenizer {
        let model = root["model"]
        var pieces: [(piece: [UInt8], score: Double)] = []
        for entry in try model["vocab"].array() {
            guard case .array(let pair)? = entry.value, pair.count == 2, case .string(let piece) = pair[0],
                  case .number(let score, _) = pair[1] else {
                throw entry.fail("expected [piece, score]")
            }
            pieces.append((piece, score))
        }
        var unk: TokenID?
        if !model["unk_id"].isNull {
            let u = try model["unk_id"].int()
            guard u >= 0, u < pieces.count else { throw model["unk_id"].fail("\(u) is not a vocabulary id") }
            unk = TokenID(u)
        }
        let byteFallback = try model["byte_fallback"].bool(default: false)
        let unigram: UnigramModel
        do {
            unigram = try UnigramModel(vocab: pieces, unkID: unk, byteFallback: byteFallback)
        } catch let e as TokenKitError {
            throw model["vocab"].fail(e.message)
        }
        return try tokenizer(root, model: .unigram(unigram), name: name)
    }

    /// A tokenizer around `model`: the pipeline and added tokens of `root`, and its JSON parts
    /// kept for `convert` (a BPE model's options; other models are written back verbatim).
    static func tokenizer(_ root: Field, model: TokenizerModel, name: String, format: Tokenizer.Format = .tokenizerJSON) throws -> Tokenizer {
        var parts = JSONParts(
            normalizer: try fragment(root["normalizer"]), preTokenizer: try fragment(root["pre_tokenizer"]),
            postProcessor: try fragment(root["post_processor"]), decoder: try fragment(root["decoder"]),
            modelOptions: model.bpe == nil ? "" : try modelOptions(root["model"]))
        if model.bpe == nil { parts.model = try fragment(root["model"]) }
        return try assemble(model: model, parts: parts, addedTokens: try addedTokens(root), name: name, format: format)
    }

    /// A tokenizer from its model and the JSON text of its other parts: what the model cache
    /// keeps of a tokenizer.json (the parts are small; the model is the expensive half).
    static func assemble(model: TokenizerModel, parts: JSONParts, addedTokens: [AddedToken], name: String,
                         format: Tokenizer.Format = .tokenizerJSON) throws -> Tokenizer {
        func field(_ text: String, _ path: String) throws -> Field { Field(value: try JSON.parse(Array(text.utf8), floats: .serdeJSON), path: path) }
        let pre = try parsePreTokenizer(try field(parts.preTokenizer, "pre_tokenizer"))
        let tok = try Tokenizer(name: name, format: format, model: model,
                                normalizer: try parseNormalizer(try field(parts.normalizer, "normalizer")), preTokenizer: pre,
                                decoder: try parseDecoder(try field(parts.decoder, "decoder")), addedTokens: addedTokens,
                                patternDescription: describe(pre), defaultPolicy: .huggingFace)
        tok.jsonParts = parts
        return tok
    }

    /// HF's WordPiece and WordLevel models: `vocab` is {token: id} (WordPiece's continuation
    /// tokens spelled with `continuing_subword_prefix`); byte-level when the pre-tokenizer or
    /// decoder says so.
    static func loadWordModel(_ root: Field, name: String, wordLevel: Bool, format: Tokenizer.Format) throws -> Tokenizer {
        let model = root["model"]
        let byteLevel = mentionsByteLevel(root["pre_tokenizer"].value) || mentionsByteLevel(root["decoder"].value)
        var entries: [([UInt8], TokenID)] = []
        for (token, v) in try model["vocab"].pairs() {
            guard case .number(_, let n?) = v, n >= 0, n < Int64(UInt32.max) else {
                throw model["vocab"].fail("id of \(String(decoding: token, as: UTF8.self).debugDescription) is not a non-negative integer")
            }
            entries.append((byteLevel ? (ByteLevelAlphabet.decode(String(decoding: token, as: UTF8.self)) ?? token) : token, TokenID(n)))
        }
        let vocab: TokenTable
        do { vocab = try TokenTable(entries) } catch let e as TokenKitError { throw model["vocab"].fail(e.message) }
        let unkName = try model["unk_token"].optionalString() ?? (wordLevel ? "<unk>" : "[UNK]")
        let unkKey = byteLevel ? (ByteLevelAlphabet.decode(unkName) ?? Array(unkName.utf8)) : Array(unkName.utf8)
        guard let unk = vocab.lookup(unkKey) else {
            throw model["unk_token"].fail(wordLevel
                ? "\(unkName.debugDescription) is not in the vocabulary (HF fails on every word outside it)"
                : "\(unkName.debugDescription) is not in the vocabulary (HF cannot load this WordPiece model either)")
        }
        if wordLevel { return try tokenizer(root, model: .wordLevel(WordLevelModel(vocab: vocab, unk: unk, byteLevel: byteLevel)), name: name, format: format) }
        let maxChars = model["max_input_chars_per_word"].isNull ? 100 : try model["max_input_chars_per_word"].int()
        guard maxChars >= 0 else { throw model["max_input_chars_per_word"].fail("must not be negative") }
        let wordPiece = WordPieceModel(
            vocab: vocab, unk: unk,
            continuingSubwordPrefix: Array((try model["continuing_subword_prefix"].optionalString() ?? "##").utf8),
            maxInputChars: maxChars, byteLevel: byteLevel)
        return try tokenizer(root, model: .wordPiece(wordPiece), name: name, format: format)
    }

    static func addedTokens(_ root: Field) throws -> [AddedToken] {
        var added: [AddedToken] = []
        if !root["added_tokens"].isNull {
            for t in try root["added_tokens"].array() {
                let id = try t["id"].int()
                guard id >= 0, id < Int(UInt32.max) else { throw t["id"].fail("out of range") }
                added.append(AddedToken(
                    id: TokenID(id), content: try t["content"].bytes(), special: try t["special"].bool(default: false),
                    singleWord: try t["single_word"].bool(default: false), lstrip: try t["lstrip"].bool(default: false),
                    rstrip: try t["rstrip"].bool(default: false), normalized: try t["normalized"].bool(default: true)))
            }
        }
        return added
    }

    static func mentionsByteLevel(_ v: JSON?) -> Bool {
        switch v {
        case .object(let pairs)?:
            if v?["type"]?.stringValue == "ByteLevel" { return true }
            return pairs.contains { mentionsByteLevel($0.value) }
        case .array(let a)?: return a.contains { mentionsByteLevel($0) }
        default: return false
        }
    }

    static func describe(_ pre: PreTokenizer) -> String {
        switch pre {
        case .none: return "none"
        case .builtin(let b): return b.rawValue
        case .regex(let re, _, _): return re.pattern
        case .byteLevel(_, let useRegex): return useRegex ? "r50k (ByteLevel)" : "ByteLevel"
        case .digits: return "Digits"
        case .metaspace: return "Metaspace"
        case .whitespaceSplit: return "WhitespaceSplit"
        case .unicodeScripts: return "UnicodeScripts"
        case .fixedLength(let n): return "FixedLength(\(n))"
        case .sequence(let s): return s.map(describe).joined(separator: " + ")
        }
    }

    static func pattern(_ f: Field) throws -> (regex: String?, literal: String?) {
        if let r = f["Regex"].value?.stringValue { return (r, nil) }
        if let s = f["String"].value?.stringValue { return (nil, s) }
        throw f.fail("expected {\"Regex\": …} or {\"String\": …}")
    }

    static func parseNormalizer(_ f: Field) throws -> Normalizer? {
        if f.isNull { return nil }
        let type = try f["type"].string()
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "StripAccents": return .stripAccents
        case "Nmt": return .custom(HFNmtNormalizer())
        case "BertNormalizer":
            var strip: Bool? = nil
            if !f["strip_accents"].isNull { strip = try f["strip_accents"].bool(default: true) }
            return .bert(cleanText: try f["clean_text"].bool(default: true), chineseChars: try f["handle_chinese_chars"].bool(default: true),
                         stripAccents: strip, lowercase: try f["lowercase"].bool(default: true))
        case "Precompiled":
            guard case .string(let b64)? = f["precompiled_charsmap"].value,
                  let blob = b64.withUnsafeBufferPointer({ Base64.decode($0) }) else {
                throw f["precompiled_charsmap"].fail("expected base64 text")
            }
            do { return .custom(try HFPrecompiledCharsMap(blob)) } catch let e as TokenKitError {
                throw f["precompiled_charsmap"].fail(e.message)
            }
        case "Prepend": return .prepend(Array(try f["prepend"].string().utf8))
        case "Strip": return .strip(left: try f["strip_left"].bool(default: true), right: try f["strip_right"].bool(default: true))
        case "Replace":
            let (regex, literal) = try pattern(f["pattern"])
            let content = Array(try f["content"].string().utf8)
            if let literal { return .replace(.literal(Array(literal.utf8)), content: content) }
            do { return .replace(try .parse(regex: regex!), content: content) } catch let e as TokenKitError {
                throw f["pattern"].fail(e.message)
            }
        case "Sequence":
            return .sequence(try f["normalizers"].array().compactMap { try parseNormalizer($0) })
        default:
            throw f["type"].fail("unsupported normalizer \(type.debugDescription)")
        }
    }

    static func parsePreTokenizer(_ f: Field) throws -> PreTokenizer {
        if f.isNull { return .none }
        let type = try f["type"].string()
        switch type {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try f["add_prefix_space"].bool(default: true),
                              useRegex: try f["use_regex"].bool(default: true))
        case "Split":
            let (regex, literal) = try pattern(f["pattern"])
            guard let behavior = SplitBehavior(rawValue: try f["behavior"].string()) else {
                throw f["behavior"].fail("unknown split behavior")
            }
            let invert = try f["invert"].bool(default: false)
            if let regex, behavior == .isolated, !invert, let b = BuiltinPattern.matching(regex: regex) { return .builtin(b) }
            do {
                let re = try ICURegex(regex ?? ICURegex.literal(literal!))
                return .regex(re, behavior, invert: invert)
            } catch let e as TokenKitError {
                throw f["pattern"].fail(e.message)
            }
        case "Digits":
            return .digits(individual: try f["individual_digits"].bool(default: false))
        case "Metaspace":
            let replacement = try f["replacement"].optionalString() ?? "\u{2581}"
            var scheme = PreTokenizer.PrependScheme.always
            if let s = try f["prepend_scheme"].optionalString() {
                guard let p = PreTokenizer.PrependScheme(rawValue: s) else { throw f["prepend_scheme"].fail("unknown scheme") }
                scheme = p
            } else if !(try f["add_prefix_space"].bool(default: true)) {
                scheme = .never
            }
            return .metaspace(replacement: Array(replacement.utf8), prepend: scheme, split: try f["split"].bool(default: true))
        case "WhitespaceSplit":
            return .whitespaceSplit
        case "UnicodeScripts":
            return .unicodeScripts
        case "FixedLength":
            let n = f["length"].isNull ? 5 : try f["length"].int()
            guard n >= 1 else { throw f["length"].fail("must be at least 1") }
            return .fixedLength(n)
        case "CharDelimiterSplit":
            // Split at each occurrence of one character, which is dropped.
            let delimiter = try f["delimiter"].string()
            guard delimiter.unicodeScalars.count == 1 else { throw f["delimiter"].fail("expected one character") }
            return .regex(try ICURegex(ICURegex.literal(delimiter)), .removed, invert: false)
        case "BertPreTokenizer":
            return .sequence([.whitespaceSplit, .regex(try ICURegex(#"\p{P}|[!-/:-@\[-`{-~]"#), .isolated, invert: false)])
        case "Whitespace":
            // HF keeps only the matches: white space between them is dropped.
            return .regex(try ICURegex(#"\w+|[^\w\s]+"#), .removed, invert: true)
        case "Punctuation":
            let behavior = SplitBehavior(rawValue: try f["behavior"].optionalString() ?? "Isolated") ?? .isolated
            return .regex(try ICURegex(#"\p{P}|[!-/:-@\[-`{-~]"#), behavior, invert: false)
        case "Sequence":
            return .sequence(try f["pretokenizers"].array().map(parsePreTokenizer))
        default:
            throw f["type"].fail("unsupported pre-tokenizer \(type.debugDescription)")
        }
    }

    static func parseDecoder(_ f: Field) throws -> Decoder? {
        if f.isNull { return nil }
        let type = try f["type"].string()
        switch type {
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "CTC":
            return .ctc(pad: Array((try f["pad_token"].optionalString() ?? "<pad>").utf8),
                        wordDelimiter: Array((try f["word_delimiter_token"].optionalString() ?? "|").utf8),
                        cleanup: try f["cleanup"].bool(default: true))
        case "BPEDecoder": return .bpeSuffix(Array((try f["suffix"].optionalString() ?? "</w>").utf8))
        case "WordPiece":
            return .wordPiece(prefix: Array((try f["prefix"].optionalString() ?? "##").utf8), cleanup: try f["cleanup"].bool(default: true))
        case "Replace":
            let (regex, literal) = try pattern(f["pattern"])
            if let regex, regex.hasPrefix("^"), !regex.dropFirst().contains(where: { "\\^$.|?*+()[]{}".contains($0) }) {
                return .replacePrefix(pattern: Array(regex.dropFirst().utf8), content: Array(try f["content"].string().utf8))
            }
            guard let literal else { throw f["pattern"].fail("regex Replace decoders are not supported (\(regex!))") }
            return .replace(pattern: Array(literal.utf8), content: Array(try f["content"].string().utf8))
        case "Strip":
            // Counts are usize in HF: a negative one is malformed.
            for key in ["start", "stop"] where try f[key].int() < 0 { throw f[key].fail("must be a non-negative count") }
            return .strip(content: Array(try f["content"].string().utf8), start: try f["start"].int(), stop: try f["stop"].int())
        case "Metaspace":
            var scheme = try f["prepend_scheme"].optionalString() ?? "always"
            if f["prepend_scheme"].isNull, !(try f["add_prefix_space"].bool(default: true)) { scheme = "never" }
            return .metaspace(replacement: Array((try f["replacement"].optionalString() ?? "\u{2581}").utf8), prependScheme: scheme)
        case "Sequence":
            return .sequence(try f["decoders"].array().compactMap { try parseDecoder($0) })
        default:
            throw f["type"].fail("unsupported decoder \(type.debugDescription)")
        }
    }

    /// The original JSON text of a sub-object, kept so conversion writes it back unchanged.
    static func fragment(_ f: Field) throws -> String {
        f.value?.serialized() ?? "null"
    }

    static func modelOptions(_ model: Field) throws -> String {
        var parts: [String] = []
        for key in ["dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", "byte_fallback", "ignore_merges"] {
            parts.append("\(jsonString(key)): \(try fragment(model[key]))")
        }
        return parts.joined(separator: ", ")
    }

    // MARK: Writing

    /// Serializes any loaded BPE tokenizer as tokenizer.json that HF tokenizers loads with the
    /// same ids. For rank-only (tiktoken) models, the merge list is recovered from the ranks.
    public static func write(_ tok: Tokenizer) throws -> [UInt8] {
        if case .longestMatch = tok.model {
            throw TokenKitError.badInput("HF tokenizers has no greedy longest-match model (RWKV's), so this tokenizer has no tokenizer.json form")
        }
        let parts = tok.jsonParts ?? defaultParts(tok)
        guard let model = tok.model.bpe else {
            guard let verbatim = parts.model else {
                throw TokenKitError.badInput("a \(tok.modelName) model is written to tokenizer.json only when it was read from one")
            }
            return Array((header(tok, parts) + "  \"model\": \(verbatim)\n}\n").utf8)
        }
        let vocab = model.vocab
        // A token that another id's bytes shadow (a raw "🇸" beside its byte-level spelling in
        // Command R) keeps its raw spelling, or the two would be one key.
        func show(_ id: TokenID) -> String {
            guard model.isByteLevel, vocab.withBytes(id, { vocab.lookup($0) }) != id else { return tok.modelPiece(id) }
            return String(decoding: vocab.bytes(id), as: UTF8.self)
        }
        let merges = model.mergeList().map { ($0.0, $0.1) }
        var out = header(tok, parts)
        if let verbatim = parts.model { return Array((out + "  \"model\": \(verbatim)\n}\n").utf8) }
        out += "  \"model\": {\n    \"type\": \"BPE\", \(parts.modelOptions),\n    \"vocab\": {"
        var entries = vocab.ids.map { (show($0), $0) }
        // HF gives added tokens that are missing from the vocabulary the next free ids, not the
        // ids they declare, so those go in the vocab: rank files' specials (e.g. cl100k's 100257),
        // and any inside the model's ids (a GGUF file's control tokens, such as StarCoder's id 0).
        let placed = tok.addedTokens.filter { !vocab.contains($0.id) && (tok.format != .tokenizerJSON || Int($0.id) < vocab.count) }
        if !placed.isEmpty {
            entries += placed.map { ($0.text, $0.id) }
            entries.sort { $0.1 < $1.1 }
        }
        var first = true
        for (text, id) in entries {
            out += (first ? "\n      " : ",\n      ") + jsonString(text) + ": \(id)"
            first = false
        }
        out += "\n    },\n    \"merges\": ["
        first = true
        for (a, b) in merges {
            out += (first ? "\n      [" : ",\n      [") + jsonString(show(a)) + ", " + jsonString(show(b)) + "]"
            first = false
        }
        out += "\n    ]\n  }\n}\n"
        return Array(out.utf8)
    }

    /// Everything before "model": version, added tokens and the pipeline's parts.
    static func header(_ tok: Tokenizer, _ parts: JSONParts) -> String {
        var out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        out += tok.addedTokens.map { t in
            "\n    {\"id\": \(t.id), \"content\": \(jsonString(t.text)), \"single_word\": \(t.singleWord), "
                + "\"lstrip\": \(t.lstrip), \"rstrip\": \(t.rstrip), \"normalized\": \(t.normalized), \"special\": \(t.special)}"
        }.joined(separator: ",")
        out += tok.addedTokens.isEmpty ? "],\n" : "\n  ],\n"
        out += "  \"normalizer\": \(parts.normalizer),\n  \"pre_tokenizer\": \(parts.preTokenizer),\n"
        out += "  \"post_processor\": \(parts.postProcessor),\n  \"decoder\": \(parts.decoder),\n"
        return out
    }

    /// tokenizer.json parts for a model that did not come from tokenizer.json: a Split with the
    /// pattern's regex then ByteLevel, and `ignore_merges` so whole-piece lookups match tiktoken.
    static func defaultParts(_ tok: Tokenizer) -> JSONParts {
        let regex: String
        switch tok.preTokenizer {
        case .builtin(let b): regex = b.hfRegex
        case .regex(let re, _, _): regex = re.pattern
        default: regex = BuiltinPattern.r50k.regex
        }
        let split = "{\"type\": \"Split\", \"pattern\": {\"Regex\": \(jsonString(regex))}, \"behavior\": \"Isolated\", \"invert\": false}"
        let byteLevel = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}"
        return JSONParts(
            normalizer: "null", preTokenizer: "{\"type\": \"Sequence\", \"pretokenizers\": [\(split), \(byteLevel)]}",
            postProcessor: "null", decoder: byteLevel,
            modelOptions: "\"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
                + "\"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": \(tok.model.bpe?.wholePieceFirst ?? false)")
    }
}
