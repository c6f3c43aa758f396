import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitTraining
@testable import TokenKitFormats
import TokenKitModels

@Suite struct TrainerTests {
    func words(_ text: String, pre: String = "r50k") throws -> WordCounts {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/c.txt", Array(text.utf8))
            let p = try TrainingPipeline(preTokenizer: pre, normalizer: "none")
            return try CorpusReader(normalizer: p.normalizer, preTokenizer: p.preTokenizer, threads: 1).countWords([dir + "/c.txt"])
        }
    }

    /// The classic worked example "aaabdaaabac": "aa" first (4 pairs), then a tie between
    /// (aa, a) and (a, b) at 2 each, which the documented rule gives to the smaller left id, "ab".
    @Test func workedExample() throws {
        var w = WordCounts()
        w.add(Array("aaabdaaabac".utf8))
        var config = BPETrainer.Configuration()
        config.vocabSize = 256 + 3
        config.minFrequency = 1
        let r = try BPETrainer(config).train(words: w)
        let made = r.merges.map { String(decoding: r.tokens[Int($0.2)], as: UTF8.self) }
        #expect(made == ["aa", "ab", "aaab"])
        #expect(r.counts == [4, 2, 2])
    }

    /// Ties go to the smaller pair ids: "ab" and "cd" both occur twice; (a, b) < (c, d).
    @Test func tiesGoToTheSmallerPair() throws {
        var w = WordCounts()
        w.add(Array("cd".utf8), 2)
        w.add(Array("ab".utf8), 2)
        var config = BPETrainer.Configuration()
        config.vocabSize = 257
        let r = try BPETrainer(config).train(words: w)
        #expect(r.tokens[256] == Array("ab".utf8))
    }

    /// The trainer agrees with a plain reference implementation (recount every pair each step).
    @Test func matchesAReferenceTrainer() throws {
        let text = String(decoding: try readFile(fixture("text/golden.txt")), as: UTF8.self)
        let counts = try words(text)
        var config = BPETrainer.Configuration()
        config.vocabSize = 256 + 120
        let fast = try BPETrainer(config).train(words: counts)
        // Reference: recount from scratch at every step.
        var seqs: [([TokenID], Int64)] = (0..<counts.count).map { w in (counts.word(w).map { TokenID($0) }, counts.counts[w]) }
        var next = TokenID(256)
        for (a, b, _) in fast.merges {
            var pairCounts: [UInt64: Int64] = [:]
            for (s, c) in seqs where s.count > 1 {
                for i in 0..<(s.count - 1) { pairCounts[UInt64(s[i]) << 32 | UInt64(s[i + 1]), default: 0] += c }
            }
            let best = pairCounts.max { x, y in x.value != y.value ? x.value < y.value : x.key > y.key }!
            #expect(best.key == UInt64(a) << 32 | UInt64(b), "merge \(next - 256)")
            if best.key != UInt64(a) << 32 | UInt64(b) { return }
            for k in seqs.indices {
                var s = seqs[k].0, out: [TokenID] = []
                var i = 0
                while i < s.count {
                    if i + 1 < s.count, s[i] == a, s[i + 1] == b { out.append(next); i += 2 } else { out.append(s[i]); i += 1 }
                }
                s = out
                seqs[k].0 = s
            }
            next += 1
        }
    }

    @Test func threadsAndShardsGiveTheSameMerges() throws {
        let text = try readFile(fixture("text/golden.txt"))
        try withTempDir { dir in
            var big: [UInt8] = []
            for _ in 0..<3 { big += text }
            try writeFileAtomically(dir + "/c.txt", big)
            try writeFileAtomically(dir + "/a.txt", text)
            try writeFileAtomically(dir + "/b.txt", text + text)
            let p = try TrainingPipeline(preTokenizer: "cl100k", normalizer: "none")
            func merges(_ files: [String], threads: Int) throws -> [TokenID] {
                let w = try CorpusReader(normalizer: nil, preTokenizer: p.preTokenizer, threads: threads).countWords(files)
                var config = BPETrainer.Configuration()
                config.vocabSize = 600
                return try BPETrainer(config).train(words: w).merges.flatMap { [$0.0, $0.1, $0.2] }
            }
            let one = try merges([dir + "/c.txt"], threads: 1)
            #expect(one == (try merges([dir + "/c.txt"], threads: 2)))
            // Shards counted apart, written, summed: the same merges.
            let wa = try CorpusReader(normalizer: nil, preTokenizer: p.preTokenizer, threads: 1).countWords([dir + "/a.txt"])
            let wb = try CorpusReader(normalizer: nil, preTokenizer: p.preTokenizer, threads: 2).countWords([dir + "/b.txt"])
            try writeFileAtomically(dir + "/a.counts", WordCountFile.write(wa, settings: p.settings))
            try writeFileAtomically(dir + "/b.counts", WordCountFile.write(wb, settings: p.settings))
            var total = try WordCountFile.read(dir + "/a.counts").0
            total.merge(try WordCountFile.read(dir + "/b.counts").0)
            var config = BPETrainer.Configuration()
            config.vocabSize = 600
            #expect(try BPETrainer(config).train(words: total).merges.flatMap { [$0.0, $0.1, $0.2] } == one)
        }
    }

    @Test func documentsNotLines() throws {
        // "\n    " (newline + indentation) is one piece inside a document and is learned.
        let code = String(repeating: "def f():\n    return 1\n", count: 50)
        let w = try words(code)
        let pieces = Set((0..<w.count).map { String(decoding: w.word($0), as: UTF8.self) })
        #expect(pieces.contains("\n   "))
    }

    @Test func separatorAndJSONLFields() throws {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/d.txt", Array("one  \n\ntwo".utf8))
            try writeFileAtomically(dir + "/d.jsonl", Array("{\"text\": \"one  \"}\n{\"id\": 2, \"text\": \"two\"}\n".utf8))
            let p = try TrainingPipeline(preTokenizer: "r50k", normalizer: "none")
            let sep = try CorpusReader(normalizer: nil, preTokenizer: p.preTokenizer, separator: Array("\n\n".utf8), threads: 1)
                .countWords([dir + "/d.txt"])
            let json = try CorpusReader(normalizer: nil, preTokenizer: p.preTokenizer, jsonField: "text", threads: 1)
                .countWords([dir + "/d.jsonl"])
            for w in [sep, json] {
                let got = Set((0..<w.count).map { String(decoding: w.word($0), as: UTF8.self) })
                #expect(got == ["one", "  ", "two"], "\(got)")
            }
            try writeFileAtomically(dir + "/bad.jsonl", Array("{\"text\": \"ok\"}\n{\"x\": 1}\n".utf8))
            do {
                _ = try CorpusReader(normalizer: nil, preTokenizer: p.preTokenizer, jsonField: "text", threads: 1).countWords([dir + "/bad.jsonl"])
                Issue.record("expected an error")
            } catch let e as TokenKitError {
                #expect(e.message.contains("line 2"))
            }
        }
    }

    @Test func trainedTokenizerRoundTripsThroughTokenizerJSON() throws {
        let text = try readFile(fixture("text/golden.txt"))
        var w = WordCounts()
        let p = try TrainingPipeline(preTokenizer: "o200k", normalizer: "nfc")
        try withTempDir { dir in
            try writeFileAtomically(dir + "/c.txt", text)
            w = try CorpusReader(normalizer: p.normalizer, preTokenizer: p.preTokenizer, threads: 2).countWords([dir + "/c.txt"])
        }
        var config = BPETrainer.Configuration()
        config.vocabSize = 700
        config.specialTokens = ["<|endoftext|>"]
        let result = try BPETrainer(config).train(words: w)
        let tok = try p.tokenizer(result, specials: ["<|endoftext|>"], name: "t")
        let again = try TokenizerJSON.load(try TokenizerJSON.write(tok), name: "t")
        #expect(again.vocabSize == 700)
        let ids = try tok.encode(text + Array("<|endoftext|>".utf8))
        #expect(ids.last == 699)
        #expect(try again.encode(text + Array("<|endoftext|>".utf8)) == ids)
        #expect(try tok.decode(tok.encode(text)) == Array(String(decoding: text, as: UTF8.self).precomposedStringWithCanonicalMapping.utf8))
    }

    @Test func characterLevelWithByteFallback() throws {
        let text = try readFile(fixture("text/golden.txt"))
        let valid = Array(String(decoding: text, as: UTF8.self).utf8)
        let p = try TrainingPipeline(preTokenizer: "r50k", normalizer: "none")
        var w = WordCounts()
        try withTempDir { dir in
            try writeFileAtomically(dir + "/c.txt", valid)
            w = try CorpusReader(normalizer: nil, preTokenizer: p.preTokenizer, threads: 1).countWords([dir + "/c.txt"])
        }
        var config = BPETrainer.Configuration()
        config.vocabSize = 1200
        config.characterLevel = true
        config.characterCoverage = 0.98
        let result = try BPETrainer(config).train(words: w)
        #expect(result.unmergeable == 256 && result.tokens[65] == Array("<0x41>".utf8))
        // No merge touches a byte-fallback token.
        #expect(result.merges.allSatisfy { $0.0 >= 256 && $0.1 >= 256 })
        let tok = try p.tokenizer(result, specials: [], name: "chars")
        let ids = try tok.encode(valid)
        #expect(ids.contains { $0 < 256 }, "rare characters fall back to bytes")
        #expect(try tok.decode(ids) == valid)
        let again = try TokenizerJSON.load(try TokenizerJSON.write(tok), name: "chars")
        #expect(try again.encode(valid) == ids)
        // Invalid UTF-8 is an error in character mode.
        var bad = WordCounts()
        bad.add([0x61, 0xFF, 0x62])
        #expect(throws: TokenKitError.self) { try BPETrainer(config).train(words: bad) }
    }

    @Test func badTrainingInput() throws {
        var config = BPETrainer.Configuration()
        config.vocabSize = 200
        #expect(throws: TokenKitError.self) { try BPETrainer(config).train(words: WordCounts()) }
        config.vocabSize = 1000
        do {
            _ = try BPETrainer(config).train(words: WordCounts())
            Issue.record("expected an error")
        } catch let e as TokenKitError {
            #expect(e.message.contains("empty"))
        }
        #expect(throws: TokenKitError.self) { try TrainingPipeline(preTokenizer: "bogus", normalizer: "none") }
    }
}
