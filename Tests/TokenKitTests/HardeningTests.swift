import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitModels
import TokenKitText
import TokenKitSentencePiece
import TokenKitTraining

/// GPT-2's byte alphabet: the printable bytes stand for themselves, the others for U+0100 onward.
func byteLevelSpelling(_ bytes: [UInt8]) -> String {
    var table = [Character](repeating: " ", count: 256)
    var next = 256
    for b in 0..<256 {
        let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
        if printable { table[b] = Character(Unicode.Scalar(UInt8(b))) } else {
            table[b] = Character(Unicode.Scalar(UInt32(next))!)
            next += 1
        }
    }
    return String(bytes.map { table[Int($0)] })
}

/// A byte-level BPE tokenizer.json: the 256 byte tokens (minus `dropBytes`), `extra` tokens
/// after them with `merges`, and the given added tokens, normalizer and decoder.
func byteLevelJSON(extra: [String] = [], merges: [String] = [], dropBytes: Set<UInt8> = [],
                   addedTokens: String = "[]", decoder: String = #"{"type": "ByteLevel"}"#,
                   preTokenizer: String = #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#,
                   idOverride: [String: Int] = [:]) -> String {
    var vocab: [String] = []
    var id = 0
    for b in 0..<256 where !dropBytes.contains(UInt8(b)) {
        vocab.append("\(jsonQuote(byteLevelSpelling([UInt8(b)]))): \(id)")
        id += 1
    }
    for t in extra {
        vocab.append("\(jsonQuote(t)): \(idOverride[t] ?? id)")
        id += 1
    }
    return """
        {"version": "1.0", "added_tokens": \(addedTokens), "normalizer": null,
         "pre_tokenizer": \(preTokenizer), "post_processor": null, "decoder": \(decoder),
         "model": {"type": "BPE", "vocab": {\(vocab.joined(separator: ", "))},
                   "merges": [\(merges.map(jsonQuote).joined(separator: ", "))]}}
        """
}

func jsonQuote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

/// Writes `text` to a file in a fresh directory and loads it; returns the tokenizer or the error.
func loadText(_ text: String, name: String = "tokenizer.json") -> Result<Tokenizer, TokenKitError> {
    withTempDir { dir in
        let path = dir + "/" + name
        try! writeFileAtomically(path, Array(text.utf8))
        do { return .success(try TokenizerLoader.load(path)) } catch let e as TokenKitError {
            return .failure(e)
        } catch { return .failure(TokenKitError.badInput("\(error)")) }
    }
}

func loadError(_ text: String, name: String = "tokenizer.json") -> TokenKitError? {
    if case .failure(let e) = loadText(text, name: name) { return e }
    return nil
}

func rankFile(_ extra: [([UInt8], Int)] = [], dropBytes: Set<UInt8> = []) -> String {
    var lines: [String] = []
    for b in 0..<256 where !dropBytes.contains(UInt8(b)) { lines.append("\(Data([UInt8(b)]).base64EncodedString()) \(b)") }
    for (bytes, rank) in extra { lines.append("\(Data(bytes).base64EncodedString()) \(rank)") }
    return lines.joined(separator: "\n") + "\n"
}

/// Crashes, hangs and silent losses found by probing with hostile input (issue 18): each is
/// a load error naming the file and field, or correct output.
@Suite struct HardeningTests {
    @Test func byteLevelFixtureRoundTrips() throws {
        // The helper itself: a plain byte-level model must load and round-trip.
        let tok = try loadText(byteLevelJSON(extra: ["ab"], merges: ["a b"])).get()
        let ids = try tok.encode("abc ab")
        #expect(ids == [256, 99, 32, 256])
        #expect(try tok.decode(ids) == Array("abc ab".utf8))
    }

    @Test func stripDecoderNegativeCountsAreLoadErrors() {
        for field in ["start", "stop"] {
            let decoder = #"{"type": "Strip", "content": " ", "start": \#(field == "start" ? -1 : 0), "stop": \#(field == "stop" ? -3 : 0)}"#
            let e = loadError(byteLevelJSON(decoder: decoder))
            #expect(e?.message.contains("decoder.\(field)") == true, "\(String(describing: e))")
            #expect(e?.file?.hasSuffix("tokenizer.json") == true)
        }
    }

    @Test func stripDecoderHugeCountCostsNoMoreThanTheToken() throws {
        let decoder = #"{"type": "Strip", "content": "a", "start": 1000000000000000, "stop": 0}"#
        let tok = try loadText(byteLevelJSON(decoder: decoder)).get()
        let clock = ContinuousClock()
        let t0 = clock.now
        let ids = try tok.encode("aab")
        // Each token is stripped on its own: the two "a" tokens vanish, "b" stays.
        #expect(try tok.decode(ids) == Array("b".utf8))
        #expect(clock.now - t0 < .seconds(5))
    }

    @Test func absurdIdsAreRejectedNotAllocated() {
        let rank = loadError(rankFile([(Array("ab".utf8), 2_147_483_000)]), name: "x.tiktoken")
        #expect(rank?.message.contains("2147483000") == true, "\(String(describing: rank))")
        let vocab = loadError(byteLevelJSON(extra: ["ab"], idOverride: ["ab": 100_000_000]))
        #expect(vocab?.message.contains("100000000") == true, "\(String(describing: vocab))")
        let added = #"[{"id": 4294967294, "content": "<x>", "special": true}]"#
        let addedError = loadError(byteLevelJSON(addedTokens: added))
        #expect(addedError?.message.contains("4294967294") == true, "\(String(describing: addedError))")
    }

    @Test func moderateGapsStillLoad() throws {
        // Real files leave gaps (cl100k's specials sit past a hole): a few thousand ids are fine.
        let tok = try loadText(rankFile([(Array("ab".utf8), 5000)]), name: "x.tiktoken").get()
        #expect(tok.vocab.contains(5000))
    }

    @Test func longRankTokenLoadsInLinearTime() throws {
        // One 2 MB token: a hash per prefix would take minutes.
        let clock = ContinuousClock()
        let t0 = clock.now
        let tok = try loadText(rankFile([([UInt8](repeating: 0x61, count: 2_000_000), 256)]), name: "x.tiktoken").get()
        #expect(clock.now - t0 < .seconds(20))
        #expect(tok.vocab.contains(256))
    }

    @Test func byteLevelVocabularyMissingBytesIsAnError() throws {
        // A tokenizer.json may lack bytes its training text never had (HF's trainer does that):
        // it loads, and text with such a byte is an error instead of losing the byte.
        let partial = try loadText(byteLevelJSON(dropBytes: [0x61])).get()
        #expect(try partial.encode("xyz") == [0x78 - 1, 0x79 - 1, 0x7A - 1])
        do {
            _ = try partial.encode("banana")
            Issue.record("banana encoded without its a")
        } catch let e as TokenKitError {
            #expect(e.message.contains("0x61") && e.message.contains("offset 1"), "\(e)")
        }
        let ranks = loadError(rankFile(dropBytes: [0x62]), name: "x.tiktoken")
        #expect(ranks?.message.contains("0x62") == true, "\(String(describing: ranks))")
        // The 13 bytes that valid UTF-8 never holds may be missing (DeepSeek's vocabulary).
        let invalidOnly = Set<UInt8>([0xC0, 0xC1] + Array(0xF5...0xFF))
        #expect(loadError(byteLevelJSON(dropBytes: invalidOnly)) == nil)
    }

    @Test func emptyVocabularyIsAnError() {
        let json = #"{"added_tokens": [], "normalizer": null, "pre_tokenizer": null, "decoder": null, "model": {"type": "BPE", "vocab": {}, "merges": []}}"#
        #expect(loadError(json)?.message.contains("empty") == true)
        let unigram = #"{"added_tokens": [], "normalizer": null, "pre_tokenizer": null, "decoder": null, "model": {"type": "Unigram", "vocab": []}}"#
        #expect(loadError(unigram)?.message.contains("empty") == true)
    }

    @Test func unigramWithoutUnkIDFailsOnUnknownCharacters() throws {
        let json = #"{"added_tokens": [], "normalizer": null, "pre_tokenizer": null, "decoder": null, "model": {"type": "Unigram", "vocab": [["a", -1.0], ["b", -2.0], ["ab", -1.5]]}}"#
        let tok = try loadText(json).get()
        #expect(try tok.encode("abab") == [2, 2])
        #expect(throws: TokenKitError.self) { try tok.encode("abz") }
    }

    @Test func addedTokenReusingAnotherTokensIDIsAnError() {
        let added = #"[{"id": 97, "content": "<x>", "special": true}]"#
        let e = loadError(byteLevelJSON(addedTokens: added))
        #expect(e?.message.contains("<x>") == true, "\(String(describing: e))")
        // The same token under its own id is fine (special tokens listed in the vocabulary too).
        let same = #"[{"id": 256, "content": "<x>", "special": true}]"#
        #expect(loadError(byteLevelJSON(extra: ["<x>"], addedTokens: same)) == nil)
    }

    /// llama.cpp's tokenizer metadata as JSON (GGUF keys), written here from Llama 2's `.model`:
    /// the same vocabulary, so the same ids as sentencepiece gives for the `.model` (goldens).
    @Test func ggufMetadataJSONReadsAsSentencePieceBPE() throws {
        let spm = try SentencePieceModel.parse(readFile(fixture("sentencepiece/llama2_tokenizer.model")))
        let tokens = spm.pieces.map { jsonQuote(String(decoding: $0.bytes, as: UTF8.self)) }.joined(separator: ",")
        let scores = spm.pieces.map { "\($0.score)" }.joined(separator: ",")
        let types = spm.pieces.map { "\($0.type.rawValue)" }.joined(separator: ",")
        let json = #"{"general.architecture": "llama", "tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": ["#
            + tokens + #"], "tokenizer.ggml.scores": ["# + scores + #"], "tokenizer.ggml.token_type": ["# + types
            + #"], "tokenizer.ggml.unknown_token_id": 0, "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2}"#
        let gguf = try loadText(json, name: "llama.json").get()
        // JSONDecoder, as the spm golden tests read them (JSONSerialization drops a leading BOM).
        struct Case: Decodable { let name: String, text: String, ids: [UInt32] }
        struct Golden: Decodable { let cases: [Case] }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(readFile(fixture("goldens/spm-llama2.json"))))
        for c in golden.cases { #expect(try gguf.encode(c.text) == c.ids, "\(c.name)") }
        #expect(golden.cases.count > 500)
        #expect(gguf.sentencePiece?.bosID == 1)
        let bad = loadError(json.replacingOccurrences(of: #""tokenizer.ggml.model": "llama""#, with: #""tokenizer.ggml.model": "plamo2""#))
        #expect(bad?.message.contains("plamo2") == true)
    }

    /// HF looks for a `normalized` added token as the normalizer spells it, after the tokens that
    /// are not normalized (specials) have cut the raw text; an added token may be the byte-level
    /// spelling of a vocabulary entry (HF's add_tokens(["é"]) reuses byte 0xE9's id).
    @Test func addedTokensAsHFMatchesThem() throws {
        let lower = #"[{"id": 256, "content": "Hello", "special": false, "normalized": true}]"#
        let json = byteLevelJSON(addedTokens: lower)
            .replacingOccurrences(of: #""normalizer": null"#, with: #""normalizer": {"type": "Lowercase"}"#)
        #expect(try loadText(json).get().encode("HELLO hello") == [256, 32, 256])
        let overlap = #"[{"id": 256, "content": "abc", "special": true, "normalized": false}, "#
            + #"{"id": 257, "content": "abcd", "special": false, "normalized": true}]"#
        #expect(try loadText(byteLevelJSON(addedTokens: overlap)).get().encode("abcd") == [256, 100])
        let reuse = #"[{"id": 233, "content": "é", "special": false, "normalized": true}]"#
        let tok = try loadText(byteLevelJSON(addedTokens: reuse)).get()
        #expect(try tok.encode("café") == [99, 97, 102, 233])
        #expect(try tok.decode([233]) == [0xE9])  // as HF's ByteLevel decoder turns "é" back into 0xE9
    }

    /// HF's BPE with byte_fallback writes a pending <unk> only at the next known character or the
    /// end, so byte-fallback tokens in between come first (a vocabulary lacking some <0xNN>).
    @Test func byteFallbackUnkOrderAsHF() throws {
        let json = #"{"added_tokens": [], "normalizer": null, "pre_tokenizer": null, "decoder": null, "model": {"type": "BPE", "#
            + #""unk_token": "<unk>", "fuse_unk": false, "byte_fallback": true, "#
            + #""vocab": {"<unk>": 0, "a": 1, "<0xC3>": 2, "<0xA9>": 3}, "merges": []}}"#
        let tok = try loadText(json).get()
        #expect(try tok.encode("zé") == [2, 3, 0])
        #expect(try tok.encode("zzé") == [0, 2, 3, 0])
        #expect(try tok.encode("za") == [0, 1])
    }

    /// HF lowercases character by character: a word-final capital sigma is σ, not ς.
    @Test func lowercaseKeepsSigmaSmallSigma() {
        #expect(Normalizer.lowercase.apply(Array("ΟΔΥΣΣΕΥΣ Σ".utf8)) == Array("οδυσσευσ σ".utf8))
    }

    /// BertNormalizer's clean_text drops Cc, Cf, Co and Cs but keeps unassigned code points, as
    /// HF tokenizers 0.22.1 does (checked there: "a\u{378}b" stays, "a\u{E000}b" becomes "ab").
    @Test func bertCleanTextKeepsUnassigned() {
        // Noncharacters cannot be written as literals.
        let (fffe, fdd0) = (String(Unicode.Scalar(0xFFFE)!), String(Unicode.Scalar(0xFDD0)!))
        let text = "a\u{378}b\(fffe)c\(fdd0)d\u{E000}e\u{200B}f\u{7F}g\u{E0001}h\u{FFFD}i\tj"
        #expect(BertCleanText().normalize(Array(text.utf8)) == Array("a\u{378}b\(fffe)c\(fdd0)defghi j".utf8))
    }

    /// HF's Metaspace decoder drops every marker of the first token (tokens such as "▁▁x" exist
    /// when the pre-tokenizer does not split), and none when nothing was prepended.
    @Test func metaspaceDecoderFirstToken() {
        let tokens = [Array("▁▁x▁".utf8), Array("▁y".utf8)]
        #expect(Decoder.metaspace(replacement: Array("▁".utf8), prependScheme: "first").decode(tokens).joined().elementsEqual(Array("x y".utf8)))
        #expect(Decoder.metaspace(replacement: Array("▁".utf8), prependScheme: "never").decode(tokens).joined().elementsEqual(Array("  x  y".utf8)))
    }

    /// Whisper's rank files end with `= 50256`, an empty token, which tiktoken loads.
    @Test func rankFileWithAnEmptyToken() throws {
        let ranks = (0..<256).map { "\(Base64.encode([UInt8($0)])) \($0)" } + ["\(Base64.encode(Array("ab".utf8))) 256"]
        let tok = try loadText((ranks + ["= 257"]).joined(separator: "\n") + "\n", name: "w.tiktoken").get()
        #expect(try tok.encode("ab") == [256])
        // A line without a token is still an error, naming its line.
        let bad = loadError((ranks + [" 257"]).joined(separator: "\n"), name: "w.tiktoken")
        #expect(bad?.message.contains("line 258") == true, "\(String(describing: bad))")
    }

    @Test func chunksNeverCutAnAddedTokenWithANewline() throws {
        // ".\nA" holds a chunk boundary (visible byte, newline, letter): 600,000 copies over
        // about 1.8 MB cross the 1 MB chunk size; every one must be found.
        let added = #"[{"id": 256, "content": ".\nA", "special": false, "normalized": false}]"#
        let tok = try loadText(byteLevelJSON(addedTokens: added)).get()
        try withTempDir { dir in
            let path = dir + "/in.txt"
            let n = 600_000
            try writeFileAtomically(path, [UInt8](repeating: 0, count: n * 3).enumerated().map { [0x2E, 0x0A, 0x41][$0.offset % 3] })
            var driver = EncodeDriver(tokenizer: tok, policy: tok.defaultPolicy, threads: 2, lines: false)
            driver.chunkSize = 1 << 16
            var found = 0, total = 0
            try driver.run(path) { chunk in
                for d in chunk.documents {
                    found += d.filter { $0 == 256 }.count
                    total += d.count
                }
            }
            #expect(found == n)
            #expect(total == n)
        }
    }

    @Test func wordCountOverflowIsAnError() throws {
        try withTempDir { dir in
            let path = dir + "/big.counts"
            let word = Data("ab".utf8).base64EncodedString()
            let text = "#tokenkit-word-counts 1 x\n\(Int64.max - 5)\t\(word)\n10\t\(word)\n"
            try writeFileAtomically(path, Array(text.utf8))
            #expect(throws: TokenKitError.self) { try WordCountFile.read(path) }
        }
        var words = WordCounts()
        words.add(Array("abcd".utf8), Int64.max / 2)
        words.add(Array("bcde".utf8), Int64.max / 2)
        var config = BPETrainer.Configuration()
        config.vocabSize = 260
        #expect(throws: TokenKitError.self) { try BPETrainer(config).train(words: words) }
        // Saturation is flagged, not wrapped.
        var sum = WordCounts()
        sum.add(Array("x".utf8), Int64.max)
        sum.add(Array("x".utf8), 1)
        #expect(sum.overflowed && sum.counts[0] == Int64.max)
    }
}
