import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitText

/// Mistral's `tekken.json` (mistral-common's Tekkenizer): tiktoken ranks as a JSON list of
/// base64 tokens, the split pattern, and a block of special tokens in front of the ranks.
/// - Ids: special token k is id k (k < `default_num_special_tokens`); rank r is id r + that
///   count. Only the first `default_vocab_size − default_num_special_tokens` ranks are used.
/// - Special tokens come from `special_tokens`, or for files of version v7 and older without
///   it from mistral-common's fixed list; the rest of the block is `<SPECIAL_k>` fillers.
/// - As mistral-common, text is never matched against special tokens (they are ids only),
///   and BOS `<s>` is added only when asked (`--add-special-tokens`).
enum TekkenFormat {
    /// mistral-common's special tokens of the files that do not list them (v7 and older).
    static let legacySpecials = [
        "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
        "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
        "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]",
    ]

    static let versionNote = "version"

    static func isTekken(_ root: Field) -> Bool {
        guard !root["config"]["pattern"].isNull, case .array? = root["vocab"].value else { return false }
        return true
    }

    static func load(_ root: Field, name: String) throws -> Tokenizer {
        let config = root["config"]
        let version = try config["version"].string()
        guard version.first == "v", let number = Int(version.dropFirst()), number > 0 else {
            throw config["version"].fail("\(version.debugDescription) is not a tekken version (v1, v3, v7, v11, v13 …)")
        }
        let specialCount = try config["default_num_special_tokens"].int()
        let vocabSize = try config["default_vocab_size"].int()
        let entries = try root["vocab"].array()
        guard specialCount >= 0, specialCount <= vocabSize else {
            throw config["default_num_special_tokens"].fail("\(specialCount) is not within 0…default_vocab_size (\(vocabSize))")
        }
        let inner = vocabSize - specialCount
        guard inner >= 256, inner <= entries.count else {
            throw config["default_vocab_size"].fail("\(vocabSize) − \(specialCount) special tokens needs \(inner) ranks; the file has \(entries.count) (and 256 are the bytes)")
        }
        var ranks: [([UInt8], TokenID)] = []
        ranks.reserveCapacity(inner)
        for (r, entry) in entries.prefix(inner).enumerated() {
            guard try entry["rank"].int() == r else { throw entry["rank"].fail("expected rank \(r): ranks are the list's order") }
            let text = try entry["token_bytes"].bytes()
            guard let bytes = text.withUnsafeBufferPointer({ Base64.decode($0) }), !bytes.isEmpty else {
                throw entry["token_bytes"].fail("not base64 of a token")
            }
            if r < 256, bytes != [UInt8(r)] { throw entry["token_bytes"].fail("rank \(r) must be the single byte \(r)") }
            ranks.append((bytes, TokenID(r + specialCount)))
        }
        let table: TokenTable
        do { table = try TokenTable(ranks) } catch let e as TokenKitError { throw root["vocab"].fail(e.message) }

        var names: [String] = []
        let listed = root["special_tokens"]
        if listed.isNull {
            guard number <= 7 else { throw listed.fail("missing: a tekken file of version \(version) lists its special tokens") }
            names = legacySpecials
        } else {
            for (k, t) in try listed.array().enumerated() {
                guard try t["rank"].int() == k else { throw t["rank"].fail("expected \(k): special tokens are listed in id order") }
                names.append(try t["token_str"].string())
            }
        }
        guard names.count <= specialCount else { throw listed.fail("\(names.count) special tokens for \(specialCount) ids") }
        names += (names.count..<specialCount).map { "<SPECIAL_\($0)>" }
        if let twice = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw listed.fail("\(twice.debugDescription) is listed twice")
        }
        let specials = names.enumerated().map { AddedToken(id: TokenID($0.offset), content: Array($0.element.utf8), special: true) }
        let pre: (PreTokenizer, String)
        do { pre = try TiktokenFormat.preTokenizer(for: try config["pattern"].string()) } catch let e as TokenKitError {
            throw config["pattern"].fail(e.message)
        }
        return try tokenizer(BPEModel.fromRanks(table), specials: specials, pre: pre, name: name, version: version)
    }

    /// The tokenizer around a tekken model (also what the model cache rebuilds). `pre` is the
    /// pre-tokenizer and the description that `TiktokenFormat.preTokenizer(for:)` gives it back from.
    static func tokenizer(_ model: BPEModel, specials: [AddedToken], pre: (PreTokenizer, String), name: String,
                          version: String) throws -> Tokenizer {
        let (pre, description) = pre
        let tok = try Tokenizer(name: name, format: .tekken, model: .bpe(model), normalizer: nil, preTokenizer: pre,
                                decoder: nil, addedTokens: specials, patternDescription: description, defaultPolicy: .ordinary)
        // For `convert` and `--add-special-tokens`: mistral-common's `encode(text, bos: true, eos: false)`.
        var parts = TokenizerJSON.defaultParts(tok)
        if let bos = specials.first(where: { $0.text == "<s>" }) {
            let s = #"{"SpecialToken": {"id": "<s>", "type_id": 0}}"#
            parts.postProcessor = #"{"type": "TemplateProcessing", "single": [\#(s), {"Sequence": {"id": "A", "type_id": 0}}], "#
                + #""pair": [\#(s), {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}], "#
                + #""special_tokens": {"<s>": {"id": "<s>", "ids": [\#(bos.id)], "tokens": ["<s>"]}}}"#
        }
        tok.jsonParts = parts
        tok.notes.append(("source", "Mistral tekken.json, \(specials.count) special ids before the ranks"))
        tok.notes.append((versionNote, version))
        return tok
    }
}
