import Foundation
import Testing
import TokenKit
import TokenKitCore
@testable import TokenKitFormats

/// Bad input gets a clear error naming the file and what is wrong, never a crash.
@Suite struct BadInputTests {
    func loadError(_ bytes: [UInt8], name: String = "model.bin") -> String? {
        withTempDir { dir in
            let path = dir + "/" + name
            try! writeFileAtomically(path, bytes)
            do {
                _ = try TokenizerLoader.load(path)
                return nil
            } catch let e as TokenKitError {
                #expect(e.file == path)
                return e.message
            } catch {
                return "unexpected error type \(error)"
            }
        }
    }

    @Test func corruptRankFileNamesTheLine() {
        let msg = loadError(Array("IQ== 0\nIg== 1\nnot-base64! 2\n".utf8))
        #expect(msg?.contains("line 3") == true, "\(msg ?? "loaded")")
    }

    @Test func emptyFileIsNotATokenizer() {
        #expect(loadError([])?.contains("empty") == true)
    }

    @Test func truncatedTokenizerJSON() throws {
        let full = try readFile(fixture("models/qwen2.5/tokenizer.json"))
        let msg = loadError(Array(full[..<(full.count / 2)]), name: "tokenizer.json")
        #expect(msg?.contains("truncated") == true, "\(msg ?? "loaded")")
    }

    @Test func wrongFieldTypeNamesTheField() {
        let json = #"{"model": {"type": "BPE", "vocab": [1, 2], "merges": []}}"#
        let msg = loadError(Array(json.utf8), name: "tokenizer.json")
        #expect(msg?.contains("model.vocab") == true, "\(msg ?? "loaded")")
    }

    @Test func badMergeNamesItsIndex() {
        let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"#
        let msg = loadError(Array(json.utf8), name: "tokenizer.json")
        #expect(msg?.contains("model.merges[0]") == true, "\(msg ?? "loaded")")
    }

    @Test func unsupportedModelType() {
        let json = #"{"model": {"type": "WordPiece", "vocab": {}}}"#
        let msg = loadError(Array(json.utf8), name: "tokenizer.json")
        #expect(msg?.contains("WordPiece") == true)
    }

    @Test func unknownPreTokenizer() {
        let json = #"{"pre_tokenizer": {"type": "Nope"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#
        #expect(loadError(Array(json.utf8), name: "tokenizer.json")?.contains("pre_tokenizer.type") == true)
    }

    @Test func invalidRegexIsReported() {
        let json = #"{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(["}, "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#
        #expect(loadError(Array(json.utf8), name: "tokenizer.json")?.contains("pre_tokenizer.pattern") == true)
    }

    /// Random byte damage to a small tokenizer.json must give an error or a tokenizer, not a trap.
    @Test func fuzzedTokenizerJSONNeverTraps() {
        var loaded = 0, failed = 0
        let base = Array(#"{"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}, "decoder": {"type": "ByteLevel"}, "added_tokens": [{"id": 3, "content": "<s>", "special": true}], "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}"#.utf8)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<300 {
            var bytes = base
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if Int(rng.next() % 4) == 0 { bytes.removeLast(Int(rng.next() % UInt64(bytes.count))) }
            outcome(try TokenizerJSON.load(bytes, name: "fuzz"), &loaded, &failed)
        }
        #expect(loaded + failed == 300 && failed > 0)
    }

    /// A damaged file either loads into a tokenizer whose ids are all in its vocabulary and that
    /// decodes them, or fails with a TokenKitError that says what is wrong; nothing else.
    func outcome(_ load: @autoclosure () throws -> Tokenizer, _ loaded: inout Int, _ failed: inout Int) {
        do {
            let tok = try load()
            loaded += 1
            if let ids = try? tok.encode("ab ba <s> hello", policy: .ordinary) {
                #expect(ids.allSatisfy { tok.vocab.contains($0) })
                #expect(throws: Never.self) { try tok.decode(ids) }
            }
        } catch let e as TokenKitError {
            failed += 1
            #expect(!e.message.isEmpty)
        } catch {
            Issue.record("not a TokenKitError: \(error)")
        }
    }

    @Test func fuzzedRankFileNeverTraps() throws {
        var loaded = 0, failed = 0
        // Whole lines only: a cut line would make every variant fail alike.
        let head = try readFile(fixture("models/r50k_base.tiktoken"))[..<4000]
        let base = Array(head[...head.lastIndex(of: 0x0A)!])
        var rng = SplitMix64(seed: 5)
        for _ in 0..<200 {
            var bytes = base
            let i = Int(rng.next() % UInt64(bytes.count))
            bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            outcome(try TiktokenFormat.load(bytes, name: "fuzz", pattern: nil), &loaded, &failed)
        }
        #expect(loaded + failed == 200 && loaded > 0 && failed > 0)
    }

    @Test func outOfRangeIdIsAnError() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        #expect(throws: TokenKitError.self) { try tok.decode([15496, 999_999]) }
        do { _ = try tok.decode([15496, 999_999]) } catch let e as TokenKitError {
            #expect(e.message.contains("999999") && e.message.contains("position 1"))
        }
    }

    @Test func invalidUTF8IsLosslessForByteLevel() throws {
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        var rng = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let bytes = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let ids = try tok.encode(bytes, policy: .ordinary)
            #expect(try tok.decode(ids) == bytes)
        }
    }

    @Test func invalidUTF8IsAnErrorWithOffsetForCharacterModels() throws {
        let tok = try Models.shared.get("models/llama2-spm/tokenizer.json")
        do {
            _ = try tok.encode(Array("hello ".utf8) + [0xFF] + Array("world".utf8))
            Issue.record("expected an error")
        } catch let e as TokenKitError {
            #expect(e.message.contains("byte offset 6"), "\(e.message)")
        }
    }

    @Test func disallowedSpecialIsAnErrorWithOffset() throws {
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        do {
            _ = try tok.encode(Array("hi <|endoftext|>".utf8))
            Issue.record("expected an error")
        } catch let e as TokenKitError {
            #expect(e.message.contains("<|endoftext|>") && e.message.contains("byte offset 3"))
        }
        #expect(try tok.encode(Array("hi <|endoftext|>".utf8), policy: .init(allowed: .all, disallowed: .none)).last == 100257)
        #expect(try tok.encode(Array("<|endoftext|>".utf8), policy: .ordinary).count > 1)
    }
}
