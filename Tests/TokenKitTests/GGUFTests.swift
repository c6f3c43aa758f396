import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitSentencePiece

/// llama.cpp's GGUF vocabularies, binary and as JSON. The fixtures' ids come from HF tokenizers
/// on the original models (Fixtures/gguf/README.md); Scripts/check_gguf.py checks all sixteen
/// of llama.cpp's files.
@Suite struct GGUFTests {
    /// The cases of llama.cpp's `.inp` file with the ids of its `.out` file.
    func cases(_ name: String) throws -> [(text: [UInt8], ids: [TokenID])] {
        let inp = try readFile(fixture("gguf/\(name).inp"))
        let sep = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [[UInt8]] = [], start = 0, i = 0
        while i + sep.count <= inp.count {
            if inp[i..<(i + sep.count)].elementsEqual(sep) {
                texts.append(Array(inp[start..<i]))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        let lines = String(decoding: try readFile(fixture("gguf/\(name).out")), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return texts.enumerated().map { ($0.element, lines[$0.offset].split(separator: " ").map { TokenID($0)! }) }
    }

    @Test(arguments: ["ggml-vocab-bert-bge.gguf", "ggml-vocab-deepseek-coder.gguf"])
    func ggufGivesTheReferenceIDs(_ name: String) throws {
        let tok = try TokenizerLoader.load(fixture("gguf/" + name))
        let cases = try cases(name)
        #expect(cases.count == 46)
        for c in cases { #expect(try tok.encode(c.text) == c.ids, "\(String(decoding: c.text, as: UTF8.self).debugDescription)") }
    }

    /// DeepSeek-Coder's GGUF and its tokenizer.json agree on prose in many scripts and on code,
    /// and decoding gives the text back.
    @Test func ggufEqualsItsTokenizerJSON() throws {
        let gguf = try TokenizerLoader.load(fixture("gguf/ggml-vocab-deepseek-coder.gguf"))
        let json = try Models.shared.get("models/deepseek-coder/tokenizer.json")
        var text: [UInt8] = []
        for lang in ["eng", "rus", "hin", "cmn_hans", "jpn", "kor", "arb", "khm"] { text += try readFile(fixture("parallel/udhr/\(lang).txt")) }
        text += try readFile(#filePath)
        let ids = try gguf.encode(text)
        #expect(ids == (try json.encode(text)))
        #expect(try gguf.decode(ids) == text)
        #expect(gguf.notes.contains { $0.0 == "source" && $0.1.contains("gpt2") })
    }

    /// The metadata of a SentencePiece `.model` as llama.cpp writes it (kind "t5" for Unigram,
    /// "llama" for BPE), as GGUF keys.
    func metadata(_ model: String, kind: String) throws -> [(String, GGUFValue)] {
        let spm = try SentencePieceModel.parse(readFile(fixture("sentencepiece/\(model)")))
        return [
            ("general.architecture", .string(Array(kind.utf8))), ("tokenizer.ggml.model", .string(Array(kind.utf8))),
            ("tokenizer.ggml.tokens", .strings(spm.pieces.map(\.bytes))), ("tokenizer.ggml.scores", .floats(spm.pieces.map(\.score))),
            ("tokenizer.ggml.token_type", .ints(spm.pieces.map { $0.type.rawValue })),
            ("tokenizer.ggml.precompiled_charsmap", .bytes(spm.normalizerSpec.precompiledCharsmap)),
            ("tokenizer.ggml.add_space_prefix", .bool(spm.normalizerSpec.addDummyPrefix)),
            ("tokenizer.ggml.remove_extra_whitespaces", .bool(spm.normalizerSpec.removeExtraWhitespaces)),
            ("tokenizer.ggml.unknown_token_id", .u32(UInt32(spm.trainerSpec.unkID))),
        ]
    }

    /// A Unigram model with its normalization rules read as kind "t5" gives sentencepiece's ids
    /// (the `.model`'s), from the binary file and from its JSON form.
    @Test(arguments: ["kyoto_ja_unigram_8000.model", "botchan_en_unigram_1000.model"])
    func t5KindIsSentencePieceUnigram(_ model: String) throws {
        let spm = try TokenizerLoader.load(fixture("sentencepiece/" + model))
        let meta = try metadata(model, kind: "t5")
        var text = try readFile(fixture("sentencepiece/botchan.txt")).prefix(40_000) + "  two  spaces, ｆｕｌｌ ｗｉｄｔｈ ①".utf8
        text += try readFile(fixture("parallel/udhr/jpn.txt"))
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init)
        try withTempDir { dir in
            try writeFileAtomically(dir + "/t5.gguf", ggufFile(meta))
            try writeFileAtomically(dir + "/t5.json", Array(ggufJSON(meta).utf8))
            for path in [dir + "/t5.gguf", dir + "/t5.json"] {
                let tok = try TokenizerLoader.load(path)
                #expect(tok.sentencePiece?.unkID == spm.sentencePiece?.unkID)
                for line in lines { #expect(try tok.encode(line) == (try spm.encode(line)), "\(line.debugDescription)") }
            }
        }
    }

    /// What `convert` writes keeps every id for HF: an added token inside the model's ids but
    /// not in its vocabulary (StarCoder's id 0) goes into the vocabulary, where HF takes its id
    /// from, and a raw token that a byte-level spelling shadows (Command R's "🇸") keeps its raw
    /// spelling instead of becoming a second key of the same name.
    @Test func convertKeepsEveryID() throws {
        var vocab: [String: Int] = [:]
        for b in 0..<256 { vocab[ByteLevelAlphabet.encode([UInt8(b)])] = b + 1 }
        let flag = Array(ByteLevelAlphabet.encode(Array("🇸".utf8)))  // ðŁĩ¸
        let prefixes = (2...4).map { String(flag.prefix($0)) }  // ðŁ, ðŁĩ, ðŁĩ¸: ids 257–259
        for (i, p) in prefixes.enumerated() { vocab[p] = 257 + i }
        vocab["🇸"] = 260
        let merges = (1...3).map { [String(flag.prefix($0)), String(flag[$0])] }
        let json: [String: Any] = [
            "added_tokens": [["id": 0, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false,
                              "normalized": false, "special": true]],
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "merges": merges],
        ]
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.json", Array(try JSONSerialization.data(withJSONObject: json)))
            let tok = try TokenizerLoader.load(dir + "/in.json")
            let text = "a 🇸 <|endoftext|>"
            let ids = try tok.encode(text)
            #expect(ids.contains(259) && ids.last == 0 && !ids.contains(260))
            #expect(try tok.decode([260]) == Array("🇸".utf8))
            let written = try TokenizerJSON.write(tok)
            let model = try #require(try JSONSerialization.jsonObject(with: Data(written)) as? [String: Any])["model"] as? [String: Any]
            let keys = try #require(model?["vocab"] as? [String: Int])
            #expect(keys["<|endoftext|>"] == 0 && keys["🇸"] == 260 && keys[prefixes[2]] == 259 && keys.count == 261)
            try writeFileAtomically(dir + "/out.json", written)
            #expect(try TokenizerLoader.load(dir + "/out.json").encode(text) == ids)
        }
    }

    /// Bad files name what is wrong and where.
    @Test func badGGUFFilesAreNamed() throws {
        let meta = try metadata("botchan_en_unigram_1000.model", kind: "t5")
        let file = ggufFile(meta)
        try withTempDir { dir in
            func error(_ bytes: [UInt8]) throws -> String? {
                try writeFileAtomically(dir + "/m.gguf", bytes)
                do { _ = try TokenizerLoader.load(dir + "/m.gguf", options: .init()) } catch let e as TokenKitError { return e.description }
                return nil
            }
            let truncated = try error(Array(file.prefix(file.count / 2)))
            #expect(truncated?.contains("truncated GGUF file") == true && truncated?.contains("precompiled_charsmap") == true, "\(truncated ?? "nil")")
            #expect(truncated?.contains("m.gguf") == true, "\(truncated ?? "nil")")
            var version = file
            version[4] = 9
            #expect(try error(version)?.contains("GGUF version 9") == true)
            var hugeString = file
            for k in 24..<32 { hugeString[k] = 0xFF }  // the first key's length
            #expect(try error(hugeString)?.contains("a string of length 18446744073709551615 at offset 24") == true)
            #expect(try error(Array(file.prefix(30)))?.contains("truncated GGUF file") == true)
            let plamo = meta.map { $0.0 == "tokenizer.ggml.model" ? ($0.0, GGUFValue.string(Array("plamo2".utf8))) : $0 }
            #expect(try error(ggufFile(plamo))?.contains("\"plamo2\" is not read") == true)
            let pre: [(String, GGUFValue)] = [("tokenizer.ggml.model", .string(Array("gpt2".utf8))), ("tokenizer.ggml.pre", .string(Array("nonesuch".utf8))),
                                              ("tokenizer.ggml.tokens", .strings([[97]])), ("tokenizer.ggml.merges", .strings([]))]
            #expect(try error(ggufFile(pre))?.contains("pre-tokenizer \"nonesuch\" is not read") == true)
            let types = meta.map { $0.0 == "tokenizer.ggml.token_type" ? ($0.0, GGUFValue.ints([1])) : $0 }
            #expect(try error(ggufFile(types))?.contains("tokenizer.ggml.token_type: 1 entries for 1000 tokens") == true)
        }
    }
}

enum GGUFValue {
    case string([UInt8]), u32(UInt32), bool(Bool), strings([[UInt8]]), floats([Float]), ints([Int32]), bytes([UInt8])
}

/// A GGUF (version 3) file with `kv` as its metadata and no tensors.
func ggufFile(_ kv: [(String, GGUFValue)]) -> [UInt8] {
    var out = Array("GGUF".utf8)
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    func str(_ s: [UInt8]) { u64(UInt64(s.count)); out += s }
    u32(3); u64(0); u64(UInt64(kv.count))
    for (key, value) in kv {
        str(Array(key.utf8))
        switch value {
        case .string(let s): u32(8); str(s)
        case .u32(let v): u32(4); u32(v)
        case .bool(let b): u32(7); out.append(b ? 1 : 0)
        case .strings(let a): u32(9); u32(8); u64(UInt64(a.count)); a.forEach(str)
        case .floats(let a): u32(9); u32(6); u64(UInt64(a.count)); a.forEach { u32($0.bitPattern) }
        case .ints(let a): u32(9); u32(5); u64(UInt64(a.count)); a.forEach { u32(UInt32(bitPattern: $0)) }
        case .bytes(let a): u32(9); u32(0); u64(UInt64(a.count)); out += a
        }
    }
    return out
}

/// The same metadata as a JSON object, as llama.cpp's vocabularies are also saved.
func ggufJSON(_ kv: [(String, GGUFValue)]) -> String {
    func s(_ b: [UInt8]) -> String { jsonQuote(String(decoding: b, as: UTF8.self)) }
    let fields = kv.map { key, value -> String in
        let v: String
        switch value {
        case .string(let b): v = s(b)
        case .u32(let x): v = "\(x)"
        case .bool(let b): v = "\(b)"
        case .strings(let a): v = "[" + a.map(s).joined(separator: ",") + "]"
        case .floats(let a): v = "[" + a.map { "\($0)" }.joined(separator: ",") + "]"
        case .ints(let a): v = "[" + a.map { "\($0)" }.joined(separator: ",") + "]"
        case .bytes(let a): v = "[" + a.map { "\($0)" }.joined(separator: ",") + "]"
        }
        return "\(jsonQuote(key)): \(v)"
    }
    return "{" + fields.joined(separator: ", ") + "}"
}
