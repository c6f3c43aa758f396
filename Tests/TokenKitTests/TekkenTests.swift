import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitText

/// Mistral's tekken.json. The fixture is the first 3,000 ranks of mistral-common's
/// tekken_240911.json with a v13 special-token block; its goldens are mistral-common's
/// (Scripts/make_tekken_fixture.py). Scripts/check_tekken.py checks the whole files.
@Suite struct TekkenTests {
    struct Case: Decodable {
        let text: String, ids: [TokenID], bos: [TokenID], mixed: [TokenID], keep: String
    }

    func goldens() throws -> [Case] {
        struct File: Decodable { let cases: [Case] }
        return try JSONDecoder().decode(File.self, from: Data(readFile(fixture("tekken/goldens.json")))).cases
    }

    /// Encode with and without BOS, and decode with special ids kept or skipped, as mistral-common.
    @Test func tekkenGivesMistralCommonIDs() throws {
        let tok = try TokenizerLoader.load(fixture("tekken/tekken-3k.json"))
        #expect(tok.format == .tekken && tok.vocab.count == 3050 && tok.patternDescription == "tekken")
        let frame = try #require(try tok.postProcessorFrame())
        let cases = try goldens()
        #expect(cases.count == 21)
        for c in cases {
            #expect(try tok.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            #expect(frame.prefix + (try tok.encode(c.text)) + frame.suffix == c.bos)
            #expect(try tok.decode(c.mixed) == Array(c.keep.utf8))
            #expect(try tok.decode(c.mixed, skipSpecial: true) == Array(c.text.utf8))
        }
    }

    /// A warm load from the model cache and the tokenizer.json that `convert` writes give the same ids.
    @Test func tekkenCachesAndConverts() throws {
        let path = fixture("tekken/tekken-3k.json")
        let cases = try goldens()
        try withTempDir { dir in
            let options = TokenizerLoader.Options(cache: ModelCache(directory: dir + "/cache"))
            let (_, first) = try TokenizerLoader.loadReporting(path, options: options)
            let (warm, second) = try TokenizerLoader.loadReporting(path, options: options)
            #expect(first == .written && second == .hit)
            #expect(warm.format == .tekken && warm.addedTokens.count == 50)
            try writeFileAtomically(dir + "/tokenizer.json", try TokenizerJSON.write(warm))
            let json = try TokenizerLoader.load(dir + "/tokenizer.json")
            #expect(json.vocab.lookup(Array("[THINK]".utf8)) == 22 && json.vocab.lookup(Array("<SPECIAL_49>".utf8)) == 49)
            for c in cases {
                #expect(try warm.encode(c.text) == c.ids)
                // tokenizer.json matches special tokens in the text, as HF does; mistral-common never does.
                if !c.text.contains("[INST]") { #expect(try json.encode(c.text) == c.ids, "\(c.text.debugDescription)") }
            }
        }
    }

    /// A small tekken.json: the 256 bytes, then `merges` (each a token of two or more bytes).
    func tekken(version: String = "v3", specials: [String]? = nil, count: Int = 30, inner: Int? = nil,
                merges: [String] = ["ab", "abc"], pattern: String = BuiltinPattern.tekken.regex) -> [UInt8] {
        let ranks = (0..<256).map { [UInt8($0)] } + merges.map { Array($0.utf8) }
        var vocab: [[String: Any]] = []
        for (r, bytes) in ranks.enumerated() { vocab.append(["rank": r, "token_bytes": Base64.encode(bytes), "token_str": NSNull()]) }
        var root: [String: Any] = [
            "config": ["pattern": pattern, "num_vocab_tokens": ranks.count, "default_vocab_size": count + (inner ?? ranks.count),
                       "default_num_special_tokens": count, "version": version],
            "vocab": vocab,
        ]
        if let specials { root["special_tokens"] = specials.enumerated().map { ["rank": $0.offset, "token_str": $0.element, "is_control": true] } }
        return Array(try! JSONSerialization.data(withJSONObject: root))
    }

    /// Files of v7 and older without a special-token list get mistral-common's fixed list, then
    /// `<SPECIAL_k>` fillers; ranks follow the special ids.
    @Test func legacyFilesGetTheFixedSpecials() throws {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/t.json", tekken())
            let tok = try TokenizerLoader.load(dir + "/t.json")
            let names = Dictionary(uniqueKeysWithValues: tok.addedTokens.map { ($0.id, $0.text) })
            #expect(names[0] == "<unk>" && names[1] == "<s>" && names[3] == "[INST]" && names[19] == "[TOOL_CONTENT]")
            #expect(names[20] == "<SPECIAL_20>" && names[29] == "<SPECIAL_29>" && names.count == 30)
            let ranks: [TokenID] = [257, 32, 256, 100, 32, 60, 115, 62]  // "abc", " ", "ab", "d", " <", "s", ">"
            #expect(try tok.encode("abc abd <s>") == ranks.map { $0 + 30 })
            #expect(try tok.postProcessorFrame()?.prefix == [1])
            // More than the list: all listed tokens and no filler.
            try writeFileAtomically(dir + "/u.json", tekken(version: "v11", specials: ["<s>", "</s>"], count: 2))
            #expect(try TokenizerLoader.load(dir + "/u.json").addedTokens.map(\.text) == ["<s>", "</s>"])
        }
    }

    /// Bad files name the field that is wrong and what is wrong with it.
    @Test func badTekkenFilesAreNamed() throws {
        try withTempDir { dir in
            func error(_ bytes: [UInt8]) throws -> String? {
                try writeFileAtomically(dir + "/t.json", bytes)
                do { _ = try TokenizerLoader.load(dir + "/t.json") } catch let e as TokenKitError { return e.description }
                return nil
            }
            func expect(_ bytes: [UInt8], _ what: String) throws {
                let message = try error(bytes)
                #expect(message?.contains(what) == true && message?.contains("t.json") == true, "\(message ?? "no error")")
            }
            try expect(tekken(version: "7"), "config.version: \"7\" is not a tekken version")
            try expect(tekken(version: "v13"), "field special_tokens: missing: a tekken file of version v13 lists its special tokens")
            try expect(tekken(inner: 300), "config.default_vocab_size: 330 − 30 special tokens needs 300 ranks; the file has 258")
            try expect(tekken(specials: ["<s>", "<s>"]), "\"<s>\" is listed twice")
            try expect(tekken(specials: ["a", "b", "c"], count: 2), "3 special tokens for 2 ids")
            try expect(tekken(count: 10), "20 special tokens for 10 ids")  // the fixed list of a v3 file
            try expect(tekken(merges: ["ab", "ab"]), "field vocab: ")
            try expect(tekken(pattern: "(unclosed"), "config.pattern: ")
            var text = String(decoding: tekken(), as: UTF8.self)
            text = text.replacingOccurrences(of: "\"rank\":257", with: "\"rank\":7")
            try expect(Array(text.utf8), "vocab[257].rank: expected rank 257")
            text = String(decoding: tekken(), as: UTF8.self).replacingOccurrences(of: Base64.encode([65]), with: "!!!!")
            try expect(Array(text.utf8), "vocab[65].token_bytes: not base64 of a token")
            text = String(decoding: tekken(), as: UTF8.self).replacingOccurrences(of: Base64.encode([66]), with: Base64.encode([67]))
            try expect(Array(text.utf8), "vocab[66].token_bytes: rank 66 must be the single byte 66")
        }
    }
}
