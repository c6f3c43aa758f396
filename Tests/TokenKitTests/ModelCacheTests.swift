import Foundation
import Testing
import TokenKit
@testable import TokenKitCore
import TokenKitFormats

/// The model cache: a hit gives the tokenizer a parse gives, a bad entry is rebuilt, and the
/// cache is keyed by content. Every test uses its own cache folder, never the user's.
@Suite struct ModelCacheTests {
    /// One model of each kind the cache holds, and a SentencePiece `.model` (not cached).
    static let models = [
        "models/cl100k_base.tiktoken", "models/r50k_base.tiktoken", "models/qwen2.5/tokenizer.json",
        "models/llama2-spm/tokenizer.json", "models/botchan-unigram/tokenizer.json", "models/wordpiece-bert/tokenizer.json",
        "models/wordpiece-bytelevel/tokenizer.json", "sentencepiece/botchan_en_unigram_1000.model",
    ]

    static let text: [UInt8] = {
        let golden = (try? readFile(fixture("text/golden.txt"))) ?? []
        return Array(golden.prefix(6000)) + Array(" naïve café 東京 🙂 <|endoftext|> [CLS] ab\n".utf8)
    }()

    static func load(_ path: String, _ dir: String?, pattern: String? = nil) throws -> (Tokenizer, ModelCache.Outcome) {
        try TokenizerLoader.loadReporting(path, options: .init(pattern: pattern, cache: dir.map(ModelCache.init(directory:))))
    }

    /// What a tokenizer does, for comparison: ids of the text (or the error), the vocabulary,
    /// and the decoded text.
    static func behaviour(_ tok: Tokenizer) -> String {
        var s = "\(tok.name) \(tok.format) \(tok.modelName) \(tok.vocabSize) \(tok.patternDescription) \(tok.notes.map { "\($0)=\($1)" })\n"
        s += "\(tok.addedTokens.map { "\($0.id):\($0.text):\($0.special)\($0.lstrip)\($0.rstrip)\($0.normalized)" })\n"
        for policy in [SpecialPolicy.huggingFace, tok.defaultPolicy] {
            do {
                let ids = try tok.encode(text, policy: policy)
                s += "\(ids)\n\(String(decoding: try tok.decode(ids), as: UTF8.self))\n"
            } catch {
                s += "error \(error)\n"
            }
        }
        s += (0..<min(tok.vocabSize, 3000)).map { tok.vocab.contains(TokenID($0)) ? tok.piece(TokenID($0)) : "-" }.joined(separator: " ")
        s += "\n" + (tok.jsonParts.map { "\($0.normalizer)\($0.preTokenizer)\($0.postProcessor)\($0.decoder)\($0.modelOptions)\($0.model?.count ?? -1)" } ?? "")
        return s
    }

    static func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".tkmodel") }.sorted()
    }

    @Test(arguments: models)
    func hitBehavesAsParse(_ model: String) throws {
        try withTempDir { dir in
            let path = fixture(model)
            let (parsed, none) = try Self.load(path, nil)
            #expect(none == .uncached)
            let (first, filled) = try Self.load(path, dir)
            let (second, hit) = try Self.load(path, dir)
            if model.hasSuffix(".model") {
                #expect(filled == .uncached && hit == .uncached && Self.entries(dir).isEmpty)
            } else {
                #expect(filled == .written && hit == .hit && Self.entries(dir).count == 1)
            }
            let expected = Self.behaviour(parsed)
            #expect(Self.behaviour(first) == expected)
            #expect(Self.behaviour(second) == expected)
        }
    }

    /// `--pattern` applies to a cached rank file as to a parsed one (the entry holds the model only).
    @Test func patternOverridesCachedRankFile() throws {
        try withTempDir { dir in
            let path = fixture("models/cl100k_base.tiktoken")
            _ = try Self.load(path, dir)
            let (hit, outcome) = try Self.load(path, dir, pattern: "r50k")
            #expect(outcome == .hit)
            #expect(Self.behaviour(hit) == Self.behaviour(try Self.load(path, nil, pattern: "r50k").0))
        }
    }

    /// Every kind of damage is noticed: the entry is rebuilt, the load succeeds with the right
    /// tokenizer, and the next load is a hit again.
    @Test func damagedEntriesAreRebuilt() throws {
        try withTempDir { dir in
            let path = fixture("models/botchan-unigram/tokenizer.json")
            let other = fixture("models/wordpiece-bert/tokenizer.json")
            let expected = Self.behaviour(try Self.load(path, nil).0)
            _ = try Self.load(other, dir)
            let otherEntry = dir + "/" + Self.entries(dir)[0]
            _ = try Self.load(path, dir)
            let name = Self.entries(dir).first { dir + "/" + $0 != otherEntry }!
            let entry = dir + "/" + name
            let good = try readFile(entry)
            var damages: [(String, [UInt8])] = [
                ("empty", []), ("header only", Array(good.prefix(64))), ("truncated", Array(good.dropLast(100))),
                ("longer", good + [0]), ("garbage", Array(repeating: 0x41, count: good.count)),
                ("another model's entry", try readFile(otherEntry)),
            ]
            for (what, offset) in [("magic", 2), ("version", 8), ("length", 16), ("checksum", 24), ("key", 40),
                                   ("payload start", 64), ("payload middle", good.count / 2), ("last byte", good.count - 1)] {
                var d = good
                d[offset] ^= 0x10
                damages.append((what, d))
            }
            for (what, bytes) in damages {
                try writeFileAtomically(entry, bytes)
                let (tok, outcome) = try Self.load(path, dir)
                #expect(outcome == .rebuilt, "\(what)")
                #expect(Self.behaviour(tok) == expected, "\(what)")
                #expect(try readFile(entry) == good, "\(what)")
                #expect(try Self.load(path, dir).1 == .hit, "\(what)")
            }
        }
    }

    /// Damage behind a valid header (length and checksum recomputed, as a forged or unlucky
    /// entry would have): the payload reader refuses it or yields a tokenizer that encodes
    /// without trapping; a refused entry is rebuilt to the parse's behaviour.
    @Test func resealedDamageNeverTraps() throws {
        var rng = SplitMix64(seed: 17)
        let ranks = Array((try readFile(fixture("models/r50k_base.tiktoken"))).split(separator: 0x0A).prefix(1200).joined(separator: [0x0A])) + [0x0A]
        try withTempDir { dir in
            for (k, model) in [("ranks.tiktoken", ranks), ("unigram.json", try readFile(fixture("models/botchan-unigram/tokenizer.json"))),
                               ("wordpiece.json", try readFile(fixture("models/wordpiece-bert/tokenizer.json"))),
                               ("rwkv_vocab.txt", Array((try readFile(fixture("models/rwkv-world/rwkv_vocab_v20230424.txt"))).split(separator: 0x0A).prefix(1200).joined(separator: [0x0A])))] {
                let path = dir + "/" + k
                try writeFileAtomically(path, model)
                let expected = Self.behaviour(try Self.load(path, nil).0)
                _ = try Self.load(path, dir)
                let entry = dir + "/" + SHA256.hex(model) + ".tkmodel"
                let good = try readFile(entry)
                var rebuilt = 0
                for _ in 0..<150 {
                    var d = good
                    for _ in 0...(rng.next() % 3) {
                        let i = 64 + Int(rng.next() % UInt64(d.count - 64))
                        switch rng.next() % 3 {
                        case 0: d[i] ^= UInt8(1 << (rng.next() % 8))
                        case 1: d[i] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                        default: d.removeSubrange(i..<min(d.count, i + 1 + Int(rng.next() % 16)))
                        }
                    }
                    let sum = d[64...].withUnsafeBytes { checksum64($0) }
                    withUnsafeBytes(of: UInt64(d.count - 64).littleEndian) { d.replaceSubrange(16..<24, with: $0) }
                    withUnsafeBytes(of: sum.littleEndian) { d.replaceSubrange(24..<32, with: $0) }
                    try writeFileAtomically(entry, d)
                    let (tok, outcome) = try Self.load(path, dir)
                    if outcome == .rebuilt {
                        rebuilt += 1
                        #expect(Self.behaviour(tok) == expected, "\(k)")
                    } else {
                        #expect(outcome == .hit)
                        _ = Self.behaviour(tok)
                    }
                }
                #expect(rebuilt > 0, "\(k)")
            }
        }
    }

    /// The key is the content: a changed file gets a new entry, a copy elsewhere shares it.
    @Test func keyedByContent() throws {
        try withTempDir { dir in
            let cache = dir + "/cache"
            let a = dir + "/a.tiktoken", b = dir + "/b.tiktoken"
            var ranks = try readFile(fixture("models/r50k_base.tiktoken"))
            try writeFileAtomically(a, ranks)
            try writeFileAtomically(b, ranks)
            #expect(try Self.load(a, cache).1 == .written)
            #expect(try Self.load(b, cache).1 == .hit)
            // Swap the ranks of two tokens: same size, other content, other ids.
            let text = String(decoding: ranks, as: UTF8.self).replacingOccurrences(of: " 400\n", with: " XXX\n")
                .replacingOccurrences(of: " 401\n", with: " 400\n").replacingOccurrences(of: " XXX\n", with: " 401\n")
            ranks = Array(text.utf8)
            try writeFileAtomically(a, ranks)
            let (changed, outcome) = try Self.load(a, cache)
            #expect(outcome == .written)
            #expect(Self.entries(cache).count == 2)
            #expect(Self.entries(cache).contains(SHA256.hex(ranks) + ".tkmodel"))
            #expect(Self.behaviour(changed) == Self.behaviour(try Self.load(a, nil).0))
            #expect(Self.behaviour(changed) != Self.behaviour(try Self.load(b, cache).0))
        }
    }

    /// SHA-256 against known digests (FIPS 180-4 examples), on the SHA-extension path and the
    /// tails that take one or two padding blocks.
    /// The SHA-extension path (when the CPU has it) and the portable rounds agree on every
    /// length around the block and padding boundaries, and on random data.
    @Test func sha256PathsAgree() {
        var rng = SplitMix64(seed: 5)
        for n in Array(0...200) + [1000, 4095, 4096, 65_537, 1 << 20] {
            let data = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            data.withUnsafeBytes { #expect(SHA256.digest($0) == SHA256.digestPortable($0), "length \(n)") }
        }
        let abc = Array("abc".utf8)
        #expect(SHA256.hex(digest: abc.withUnsafeBytes { SHA256.digestPortable($0) })
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func sha256() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
