import TokenKit
import TokenKitCore
import TokenKitSentencePiece

/// llama.cpp's tokenizer metadata (the GGUF keys `tokenizer.ggml.*`), from a `.gguf` file or
/// saved as a JSON object. Token types: 1 normal, 2 unknown, 3 control, 4 user-defined,
/// 5 unused, 6 byte. Each kind is read as the tokenizer it was converted from:
/// - "llama": SentencePiece BPE (pieces with scores, a higher score merges first, text spelled
///   with ▁ and a space prepended unless `add_space_prefix` is false), so Llama's `.model` ids;
/// - "t5": SentencePiece Unigram with the model's precompiled normalization rules;
/// - "gpt2": byte-level BPE with its merges, the pre-tokenizer named by `tokenizer.ggml.pre`
///   (`GGUFPre`), control and user-defined tokens matched in the text as HF's added tokens;
/// - "bert": WordPiece. The vocabulary is spelled with a "phantom space": ▁ starts a word and a
///   continuation has no `##`; BERT's normalizer and pre-tokenizer;
/// - "rwkv": RWKV's greedy longest match (`RWKVVocab.gguf`).
enum GGUFVocab {
    static func isGGUF(_ root: Field) -> Bool { !root["tokenizer.ggml.model"].isNull }

    static func load(_ root: Field, name: String) throws -> Tokenizer {
        let kind = try root["tokenizer.ggml.model"].string()
        let tok: Tokenizer
        switch kind {
        case "llama": tok = try Tokenizer(sentencePiece: try sentencePiece(root, type: .bpe), name: name)
        case "t5": tok = try Tokenizer(sentencePiece: try sentencePiece(root, type: .unigram), name: name)
        case "gpt2": tok = try viaTokenizerJSON(try byteLevelBPE(root), name: name)
        case "bert": tok = try viaTokenizerJSON(try wordPiece(root), name: name)
        case "gemma4": tok = try viaTokenizerJSON(try metaspaceBPE(root), name: name)
        case "rwkv": tok = try RWKVVocab.gguf(root, name: name)
        default:
            throw root["tokenizer.ggml.model"].fail("\"\(kind)\" is not read (tokenkit reads the kinds llama, t5, gpt2, bert, gemma4 and rwkv); "
                                                    + "convert the model's tokenizer.json instead")
        }
        if !tok.notes.contains(where: { $0.0 == "source" }) { tok.notes.append(("source", "llama.cpp GGUF tokenizer metadata, kind \"\(kind)\"")) }
        return tok
    }

    static func tokens(_ root: Field) throws -> (tokens: [Field], types: [Int]?) {
        let tokens = try root["tokenizer.ggml.tokens"].array()
        if tokens.isEmpty { throw root["tokenizer.ggml.tokens"].fail("the vocabulary is empty") }
        let typeField = root["tokenizer.ggml.token_type"]
        if typeField.isNull { return (tokens, nil) }
        let fields = try typeField.array()
        if fields.count != tokens.count { throw typeField.fail("\(fields.count) entries for \(tokens.count) tokens") }
        let types = try fields.map { f in
            let v = try f.int()
            guard (1...6).contains(v) else { throw f.fail("token type \(v) is not 1–6") }
            return v
        }
        return (tokens, types)
    }

    /// An optional token id key (`tokenizer.ggml.KEY_token_id`), checked against the vocabulary.
    static func specialID(_ root: Field, _ key: String, count: Int) throws -> Int? {
        let f = root["tokenizer.ggml.\(key)_token_id"]
        if f.isNull { return nil }
        let id = try f.int()
        guard (0..<count).contains(id) else { throw f.fail("id \(id) is not in the vocabulary (0..<\(count))") }
        return id
    }

    static func sentencePiece(_ root: Field, type: SentencePieceModel.ModelType) throws -> SentencePieceModel {
        let (tokens, types) = try tokens(root)
        let scoreField = root["tokenizer.ggml.scores"]
        let scores = scoreField.isNull ? nil : try scoreField.array()
        if let scores, scores.count != tokens.count { throw scoreField.fail("\(scores.count) entries for \(tokens.count) tokens") }
        var pieces: [SentencePieceModel.Piece] = []
        pieces.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            var score: Float = 0
            if let s = scores?[i] {
                guard case .number(let d, _)? = s.value, d.isFinite else { throw s.fail("expected a finite number") }
                score = Float(d)
            }
            let pieceType = SentencePieceModel.PieceType(rawValue: Int32(types?[i] ?? 1)) ?? .normal
            pieces.append(SentencePieceModel.Piece(bytes: try t.bytes(), score: score, type: pieceType))
        }
        var trainer = TrainerSpec()
        trainer.modelTypeRaw = type.rawValue
        trainer.byteFallback = pieces.contains { $0.type == .byte }
        func special(_ key: String, _ set: (inout TrainerSpec, Int32, [UInt8]) -> Void) throws {
            if let id = try specialID(root, key, count: pieces.count) { set(&trainer, Int32(id), pieces[id].bytes) }
        }
        try special("unknown") { $0.unkID = $1; $0.unkPiece = $2 }
        try special("bos") { $0.bosID = $1; $0.bosPiece = $2 }
        try special("eos") { $0.eosID = $1; $0.eosPiece = $2 }
        try special("padding") { $0.padID = $1; $0.padPiece = $2 }
        var normalizer = NormalizerSpec()
        let charsmap = root["tokenizer.ggml.precompiled_charsmap"]
        if charsmap.isNull {
            normalizer.name = Array("identity".utf8)
        } else {
            normalizer.precompiledCharsmap = try charsmap.array().map { f in
                let v = try f.int()
                guard (-128...255).contains(v) else { throw f.fail("\(v) is not a byte") }
                return UInt8(truncatingIfNeeded: v)
            }
        }
        normalizer.addDummyPrefix = try root["tokenizer.ggml.add_space_prefix"].bool(default: true)
        normalizer.removeExtraWhitespaces = try root["tokenizer.ggml.remove_extra_whitespaces"].bool(default: false)
        normalizer.escapeWhitespaces = true
        return SentencePieceModel(pieces: pieces, trainerSpec: trainer, normalizerSpec: normalizer)
    }

    // MARK: gpt2 and bert: built as the tokenizer.json they were converted from.

    static func str(_ s: String) -> JSON { .string(Array(s.utf8)) }
    static func int(_ i: Int) -> JSON { .number(Double(i), integer: Int64(i)) }
    static func object(_ pairs: [(String, JSON)]) -> JSON { .object(pairs.map { (Array($0.0.utf8), $0.1) }) }

    static func addedToken(_ id: Int, _ content: [UInt8], special: Bool) -> JSON {
        object([("id", int(id)), ("content", .string(content)), ("single_word", .bool(false)), ("lstrip", .bool(false)),
                ("rstrip", .bool(false)), ("normalized", .bool(false)), ("special", .bool(special))])
    }

    /// A TemplateProcessing that adds `first` before and `last` after a sequence (what
    /// `--add-special-tokens` adds), or null.
    static func template(_ first: (Int, [UInt8])?, _ last: (Int, [UInt8])?) -> JSON {
        if first == nil && last == nil { return .null }
        func special(_ t: (Int, [UInt8])) -> JSON { object([("SpecialToken", object([("id", .string(t.1)), ("type_id", int(0))]))]) }
        var single: [JSON] = []
        if let first { single.append(special(first)) }
        single.append(object([("Sequence", object([("id", str("A")), ("type_id", int(0))]))]))
        if let last { single.append(special(last)) }
        let specials = [first, last].compactMap { $0 }.map { t in
            (Array(t.1), object([("id", .string(t.1)), ("ids", .array([int(t.0)])), ("tokens", .array([.string(t.1)]))]))
        }
        var unique: [(key: [UInt8], value: JSON)] = []
        for s in specials where !unique.contains(where: { $0.key == s.0 }) { unique.append((s.0, s.1)) }
        return object([("type", str("TemplateProcessing")), ("single", .array(single)), ("pair", .array(single)),
                       ("special_tokens", .object(unique))])
    }

    /// The post-processor adding BOS and EOS as `add_bos_token` / `add_eos_token` ask.
    static func bosEOS(_ root: Field, tokens: [Field], bosDefault: Bool) throws -> JSON {
        func added(_ key: String, _ flag: String, _ d: Bool) throws -> (Int, [UInt8])? {
            guard try root["tokenizer.ggml.\(flag)"].bool(default: d), let id = try specialID(root, key, count: tokens.count) else { return nil }
            return (id, try tokens[id].bytes())
        }
        return template(try added("bos", "add_bos_token", bosDefault), try added("eos", "add_eos_token", false))
    }

    /// tokenizer.json's `vocab` and `added_tokens`: control and user-defined tokens are added
    /// tokens, matched in the text as they are; `addedInVocab` keeps them in the vocabulary too.
    static func vocabulary(_ tokens: [Field], _ types: [Int]?, addedInVocab: Bool) throws -> (vocab: [(key: [UInt8], value: JSON)], added: [JSON]) {
        var vocab: [(key: [UInt8], value: JSON)] = []
        var added: [JSON] = []
        vocab.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            let type = types?[i] ?? 1
            let isAdded = type == 3 || type == 4
            if isAdded { added.append(addedToken(i, try t.bytes(), special: type == 3)) }
            if !isAdded || addedInVocab { vocab.append((try t.bytes(), int(i))) }
        }
        return (vocab, added)
    }

    /// A BPE model over `vocab` with the metadata's merges ("left right" strings, as tokenizer.json's).
    static func bpeModel(_ root: Field, vocab: [(key: [UInt8], value: JSON)], unk: JSON, byteFallback: Bool, ignoreMerges: Bool) throws -> JSON {
        let merges = root["tokenizer.ggml.merges"]
        guard case .array? = merges.value else { throw merges.fail("expected the merges, an array of \"left right\" strings") }
        return object([
            ("type", str("BPE")), ("dropout", .null), ("unk_token", unk), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(byteFallback)), ("byte_fallback", .bool(byteFallback)),
            ("ignore_merges", .bool(ignoreMerges)), ("vocab", .object(vocab)), ("merges", merges.value!)])
    }

    static func split(_ regex: String) -> JSON {
        object([("type", str("Split")), ("pattern", object([("Regex", str(regex))])), ("behavior", str("Isolated")), ("invert", .bool(false))])
    }

    static func byteLevelBPE(_ root: Field) throws -> JSON {
        let preField = root["tokenizer.ggml.pre"]
        let preName = try preField.optionalString() ?? "default"
        guard let pre = GGUFPre.byName[preName] else {
            throw preField.fail("pre-tokenizer \"\(preName)\" is not read; tokenkit reads "
                                + GGUFPre.byName.keys.sorted().joined(separator: ", "))
        }
        let (tokens, types) = try tokens(root)
        // Control and user-defined tokens hold their text as it is, not in GPT-2's alphabet.
        let (vocab, added) = try vocabulary(tokens, types, addedInVocab: false)
        let byteLevel = object([("type", str("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)),
                                ("use_regex", .bool(pre.gpt2Regex))])
        let preTokenizer = pre.splits.isEmpty ? byteLevel
            : object([("type", str("Sequence")), ("pretokenizers", .array(pre.splits.map(split) + [byteLevel]))])
        return object([
            ("added_tokens", .array(added)), ("normalizer", .null), ("pre_tokenizer", preTokenizer),
            ("post_processor", try bosEOS(root, tokens: tokens, bosDefault: pre.addBOS)), ("decoder", byteLevel),
            ("model", try bpeModel(root, vocab: vocab, unk: .null, byteFallback: false, ignoreMerges: pre.ignoreMerges))])
    }

    /// Gemma 4: BPE over characters with byte fallback on the whole text, spaces spelled ▁ by
    /// the normalizer. No merge or token joins a newline to anything else, so the text is cut
    /// into lines and runs of newlines first (as llama.cpp does) without changing the ids.
    static func metaspaceBPE(_ root: Field) throws -> JSON {
        let (tokens, types) = try tokens(root)
        let (vocab, added) = try vocabulary(tokens, types, addedInVocab: true)
        let unk = try specialID(root, "unknown", count: tokens.count).map { JSON.string(vocab[$0].key) } ?? .null
        let space = object([("type", str("Replace")), ("pattern", object([("String", str(" "))])), ("content", str("\u{2581}"))])
        let unspace = object([("type", str("Replace")), ("pattern", object([("String", str("\u{2581}"))])), ("content", str(" "))])
        return object([
            ("added_tokens", .array(added)), ("normalizer", space), ("pre_tokenizer", split(#"[^\n]+|\n+"#)),
            ("post_processor", try bosEOS(root, tokens: tokens, bosDefault: false)),
            ("decoder", object([("type", str("Sequence")), ("decoders", .array([unspace, object([("type", str("ByteFallback"))]),
                                                                                 object([("type", str("Fuse"))])]))])),
            ("model", try bpeModel(root, vocab: vocab, unk: unk, byteFallback: true, ignoreMerges: false))])
    }

    static func wordPiece(_ root: Field) throws -> JSON {
        let (tokens, types) = try tokens(root)
        let phantom: [UInt8] = [0xE2, 0x96, 0x81]
        var vocab: [(key: [UInt8], value: JSON)] = []
        var added: [JSON] = []
        for (i, t) in tokens.enumerated() {
            let text = try t.bytes()
            let bracketed = text.count >= 2 && text.first == UInt8(ascii: "[") && text.last == UInt8(ascii: "]")
            let spelled: [UInt8]
            if types?[i] == 3 || bracketed {
                spelled = text
            } else if text.starts(with: phantom) {
                spelled = Array(text.dropFirst(3))
            } else {
                spelled = Array("##".utf8) + text
            }
            vocab.append((spelled, int(i)))
            if types?[i] == 3 { added.append(addedToken(i, text, special: true)) }
        }
        let unk = try specialID(root, "unknown", count: tokens.count) ?? 100
        guard unk < tokens.count else { throw root["tokenizer.ggml.unknown_token_id"].fail("no unknown token: BERT's default id 100 is not in the vocabulary") }
        let lowercase = try root["tokenizer.ggml.normalizer.lowercase"].bool(default: true)
        let model = object([("type", str("WordPiece")), ("unk_token", .string(vocab[unk].key)), ("continuing_subword_prefix", str("##")),
                            ("max_input_chars_per_word", int(100)), ("vocab", .object(vocab))])
        func token(_ key: String) throws -> (Int, [UInt8])? {
            guard let id = try specialID(root, key, count: tokens.count) else { return nil }
            return (id, vocab[id].key)
        }
        return object([
            ("added_tokens", .array(added)),
            ("normalizer", object([("type", str("BertNormalizer")), ("clean_text", .bool(true)), ("handle_chinese_chars", .bool(true)),
                                   ("strip_accents", .bool(lowercase)), ("lowercase", .bool(lowercase))])),
            ("pre_tokenizer", object([("type", str("BertPreTokenizer"))])),
            ("post_processor", template(try token("cls"), try token("seperator"))),
            ("decoder", object([("type", str("WordPiece")), ("prefix", str("##")), ("cleanup", .bool(true))])),
            ("model", model)])
    }

    /// Loads a synthesized tokenizer.json, naming the GGUF keys in errors about its vocabulary.
    static func viaTokenizerJSON(_ json: JSON, name: String) throws -> Tokenizer {
        do {
            return try TokenizerJSON.load(Field(value: json, path: ""), name: name)
        } catch let e as TokenKitError {
            throw TokenKitError.badInput(e.message.replacingOccurrences(of: "field model.merges", with: "field tokenizer.ggml.merges")
                                         .replacingOccurrences(of: "field model.vocab", with: "field tokenizer.ggml.tokens"))
        }
    }
}
