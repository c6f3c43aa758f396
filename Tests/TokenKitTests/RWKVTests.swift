import Foundation
import Testing
import TokenKit
import TokenKitCore
@testable import TokenKitFormats
import TokenKitModels

/// RWKV's world vocabulary: greedy longest match over bytes. Fixtures and goldens (the `rwkv`
/// wheel's TRIE_TOKENIZER) are made by Scripts/make_rwkv_fixture.py; the GGUF fixture is the
/// same vocabulary as llama.cpp's converter writes it.
@Suite struct RWKVTests {
    struct Case: Decodable {
        let text: String?, hex: String?, ids: [TokenID]
        var bytes: [UInt8] {
            if let text { return Array(text.utf8) }
            let h = Array(hex!.utf8)
            return stride(from: 0, to: h.count, by: 2).map { UInt8(String(decoding: h[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
        }
    }

    func goldens() throws -> [Case] {
        struct File: Decodable { let cases: [Case] }
        return try JSONDecoder().decode(File.self, from: Data(readFile(fixture("models/rwkv-world/goldens.json")))).cases
    }

    /// The vocabulary file gives the wheel's ids on text, code, 12 scripts and bytes that are not
    /// UTF-8, and decodes them back; the folder finds the file.
    @Test func rwkvGivesTheWheelsIDs() throws {
        let tok = try TokenizerLoader.load(fixture("models/rwkv-world"))
        #expect(tok.format == .rwkv && tok.vocab.count == 65530 && tok.modelName == "LongestMatch")
        #expect(tok.addedTokens.map(\.text) == ["<s>"] && tok.addedTokens[0].id == 0)
        let cases = try goldens()
        #expect(cases.count == 28)
        for c in cases {
            #expect(try tok.encode(c.bytes, policy: tok.defaultPolicy) == c.ids, "\(c.text ?? c.hex!)")
            #expect(try tok.decode(c.ids) == c.bytes)
        }
        // As the wheel: "<s>" in text is text, and id 0 decodes to its name unless skipped.
        #expect(try tok.encode("<s>") == [61, 116, 63])
        #expect(try tok.decode([0, 33155]) == Array("<s>Hello".utf8) && tok.decode([0, 33155], skipSpecial: true) == Array("Hello".utf8))
    }

    /// llama.cpp's kind "rwkv": the same ids, except that its trie holds every token, so "<s>"
    /// and the [PADn] fillers are matched in text too.
    @Test func ggufRWKVMatchesTheVocabularyFile() throws {
        let tok = try TokenizerLoader.load(fixture("models/rwkv-world/rwkv-world.gguf"))
        #expect(tok.format == .rwkv && tok.vocab.count == 65536)
        for c in try goldens() where !(c.text ?? "").contains("<s>") {
            #expect(try tok.encode(c.bytes, policy: tok.defaultPolicy) == c.ids, "\(c.text ?? c.hex!)")
        }
        #expect(try tok.encode("a<s>[PAD65530]b") == [98, 0, 65530, 99])
        #expect(try tok.decode([65535]) == Array("[PAD65535]".utf8))
        #expect(RWKVVocab.unescape(Array(#"a\\b\'\x00\xe4\n\tq\"#.utf8)) == [0x61, 0x5C, 0x62, 0x27, 0x00, 0xE4, 0x0A, 0x09, 0x71])
    }

    /// A warm load from the model cache keeps the ids, the specials and the GGUF's policy.
    @Test func cachedModelsGiveTheSameIDs() throws {
        let cases = try goldens()
        try withTempDir { dir in
            let options = TokenizerLoader.Options(cache: ModelCache(directory: dir + "/cache"))
            for file in ["rwkv_vocab_v20230424.txt", "rwkv-world.gguf"] {
                let path = fixture("models/rwkv-world/" + file)
                let (cold, first) = try TokenizerLoader.loadReporting(path, options: options)
                let (warm, second) = try TokenizerLoader.loadReporting(path, options: options)
                #expect(first == .written && second == .hit, "\(file)")
                #expect(warm.format == .rwkv && warm.vocab.count == cold.vocab.count && warm.addedTokens.map(\.id) == [0])
                #expect(warm.notes.filter { $0.0 == "source" }.map(\.1) == cold.notes.filter { $0.0 == "source" }.map(\.1))
                for c in cases { #expect(try warm.encode(c.bytes) == (try cold.encode(c.bytes))) }
                #expect(try warm.encode("a<s>b") == (try cold.encode("a<s>b")))
            }
        }
    }

    /// Long inputs stream in chunks cut at line starts; the vocabulary's tokens that hold a line
    /// break followed by a letter keep the cuts out of their occurrences, so ids equal the whole text's.
    @Test func chunkedEncodingEqualsWhole() throws {
        let tok = try TokenizerLoader.load(fixture("models/rwkv-world/rwkv_vocab_v20230424.txt"))
        #expect(tok.canChunk)
        var text: [UInt8] = []
        for f in ["eng", "rus", "cmn_hans", "hin"] { text += try readFile(fixture("parallel/udhr/\(f).txt")) }
        text += try readFile(fixture("text/golden.txt"))
        let whole = try tok.encode(text, policy: .ordinary)
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.txt", text)
            var driver = EncodeDriver(tokenizer: tok, policy: .ordinary, threads: 2, lines: false)
            driver.chunkSize = 4096
            var ids: [TokenID] = []
            var chunks = 0
            try driver.run(dir + "/in.txt") { ids += $0.documents[0]; chunks += 1 }
            #expect(ids == whole && chunks > 3, "\(chunks) chunks")
        }
    }

    /// decode(encode(x)) == x for any bytes: every byte is a token.
    @Test func roundTripsAnyBytes() throws {
        let tok = try TokenizerLoader.load(fixture("models/rwkv-world/rwkv_vocab_v20230424.txt"))
        var rng = SplitMix64(seed: 7)
        for n in [1, 2, 17, 300, 4000] {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(try tok.decode(try tok.encode(bytes, policy: .ordinary)) == bytes)
        }
    }

    /// Python's literal rules, as `eval` applies them to the file's tokens.
    @Test func pythonLiterals() throws {
        func lit(_ s: String) throws -> [UInt8] { try RWKVVocab.pythonLiteral(Array(s.utf8)[...]) }
        #expect(try lit(#"'\x80'"#) == [0xC2, 0x80])  // a str escape is a code point
        #expect(try lit(#"b'\x80'"#) == [0x80])
        #expect(try lit(#"'\101\0'"#) == [0x41, 0x00])
        #expect(try lit(#"'\q'"#) == Array(#"\q"#.utf8))
        #expect(try lit(#""it's""#) == Array("it's".utf8) && lit(#"'\'\\'"#) == Array(#"'\"#.utf8))
        #expect(try lit(#"'\u00e9\U0001F600'"#) == Array("é😀".utf8))
        #expect(try lit(#"b'\u00e9'"#) == Array(#"\u00e9"#.utf8))  // no \u in bytes
        #expect(try lit("' é '") == Array(" é ".utf8))
        for bad in ["'a", "a'", "'''a'''", #"'\x4'"#, "'a'b'", #"'\N{DASH}'"#, "b'é'", #"'\ud800'"#, "r'a'"] {
            #expect(throws: TokenKitError.self, "\(bad)") { try lit(bad) }
        }
    }

    /// A bad line is named with what is wrong; a byte that starts no token is an error at its offset.
    @Test func badVocabularies() throws {
        try withTempDir { dir in
            func message(_ text: String) -> String {
                do {
                    try writeFileAtomically(dir + "/v.txt", Array(text.utf8))
                    _ = try TokenizerLoader.load(dir + "/v.txt")
                    return ""
                } catch let e as TokenKitError { return e.message } catch { return "\(error)" }
            }
            #expect(message("1 'a' 1\n2 'bc' 3\n").contains("line 2: the token is 2 bytes, the line says 3"))
            #expect(message("1 'a' 1\n1 'b' 1\n").contains("line 2: id 1 is given twice (line 1 too)"))
            #expect(message("1 'a' 1\n2 'b\\x4' 1\n").contains("line 2:"))
            #expect(message("1 'a' 1\n2 '' 0\n").contains("line 2: an empty token"))
            #expect(message("1 'a' 1\n2 b'\\xff' x\n").contains("line 2: expected ID LITERAL LENGTH"))
            var bytes = Array("1 'a' 1\n2 '".utf8) + [0xFF] + Array("' 1\n".utf8)
            try writeFileAtomically(dir + "/u.txt", bytes)
            #expect(throws: TokenKitError.self) { try TokenizerLoader.load(dir + "/u.txt") }
            bytes = Array("1 'a' 1\n2 'b' 1\n3 'ab' 2\n".utf8)
            try writeFileAtomically(dir + "/small.txt", bytes)
            let small = try TokenizerLoader.load(dir + "/small.txt")
            #expect(try small.encode("abba") == [3, 2, 1])
            #expect(throws: TokenKitError.self) { try small.encode("abc") }
            do { _ = try small.encode("abc") } catch let e as TokenKitError { #expect(e.message.contains("byte 0x63 at byte offset 2")) }
        }
    }
}
