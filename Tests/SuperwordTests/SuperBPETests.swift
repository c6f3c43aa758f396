import Foundation
import Testing
@testable import TokenKitSuperwords
import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitModels
import TokenKitText

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixture(_ relative: String) -> String { fixtures + "/" + relative }

/// Words of random text over a small alphabet with spaces and colons, so pairs repeat a lot and
/// the filters have work to do.
func randomWords(_ rng: inout SplitMix64, count: Int, pool: [UInt8] = Array("ab c:".utf8) + [0xC3, 0xA9]) -> WordCounts {
    var w = WordCounts()
    for _ in 0..<count {
        let word = (0..<(1 + Int(rng.next() % 24))).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
        w.add(word, Int64(1 + rng.next() % 5))
    }
    return w
}

/// Replaying merges the slow way: each merge over every word, in order.
func naiveReplay(_ words: WordCounts, _ merges: [(TokenID, TokenID, TokenID)]) -> ([[TokenID]], [Bool]) {
    var seqs = (0..<words.count).map { words.word($0).map { TokenID($0) } }
    var used = [Bool](repeating: false, count: merges.count)
    for (k, m) in merges.enumerated() {
        for i in seqs.indices {
            var out: [TokenID] = []
            var j = 0
            let s = seqs[i]
            while j < s.count {
                if j + 1 < s.count, s[j] == m.0, s[j + 1] == m.1 { out.append(m.2); j += 2; used[k] = true } else { out.append(s[j]); j += 1 }
            }
            seqs[i] = out
        }
    }
    return (seqs, used)
}

@Suite struct SuperBPETrainerTests {
    @Test func filtersCountWordsAndColons() {
        #expect(SuperBPETrainer.allowed(Array(" of the".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(!SuperBPETrainer.allowed(Array("a b c d e".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(SuperBPETrainer.allowed(Array(" a b c d ".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(!SuperBPETrainer.allowed(Array("note: x".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(SuperBPETrainer.allowed(Array("note: x".utf8), maxWords: 4, forbidColonSpace: false))
        #expect(SuperBPETrainer.allowed(Array("a:b".utf8), maxWords: 4, forbidColonSpace: true))
    }

    @Test(arguments: [1, 2, 3])
    func replayByEncodingEqualsMergeByMerge(_ seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let words = randomWords(&rng, count: 400)
        // Inherited merges from ordinary BPE on other random words.
        var config = BPETrainer.Configuration()
        config.vocabSize = 300
        let stage1 = try BPETrainer(config).train(words: randomWords(&rng, count: 300))
        let inherited = stage1.merges.map { (stage1.tokens[Int($0.0)], stage1.tokens[Int($0.1)]) }
        let (tokens, merges) = try SuperBPETrainer.resolve(inherited)
        let model = BPEModel(vocab: try TokenTable(tokens.enumerated().map { ($0.element, TokenID($0.offset)) }),
                             merges: merges, symbols: .bytes, wholePieceFirst: false)
        var trainer = SuperBPETrainer.Configuration()
        trainer.threads = 2
        let fast = try SuperBPETrainer(trainer).replay(words, model)
        let (slow, _) = naiveReplay(words, merges)
        for w in 0..<words.count {
            let s = Int(fast.start[w]), l = Int(fast.len[w])
            #expect(Array(fast.syms[s..<(s + l)]) == slow[w])
        }
    }

    @Test(arguments: [false, true])
    func stageTwoKeepsOrDropsInheritedMergesAndObeysFilters(_ drop: Bool) throws {
        var rng = SplitMix64(seed: 9)
        let words = randomWords(&rng, count: 500)
        var config = BPETrainer.Configuration()
        config.vocabSize = 320
        // Stage 1 on text with letters stage 2 never has, so some inherited merges never occur.
        let stage1 = try BPETrainer(config).train(words: randomWords(&rng, count: 200, pool: Array("ab cxy".utf8)))
        let inherited = stage1.merges.map { (stage1.tokens[Int($0.0)], stage1.tokens[Int($0.1)]) }
        var c = SuperBPETrainer.Configuration()
        c.vocabSize = 700
        c.maxWords = 2
        c.dropUnusedMerges = drop
        let r = try SuperBPETrainer(c).train(words: words, inherited: inherited)
        let (_, used) = naiveReplay(words, try SuperBPETrainer.resolve(inherited).merges)
        let kept = drop ? inherited.enumerated().filter { used[$0.offset] }.map(\.element) : inherited
        let got = r.merges.prefix(kept.count).map { (r.tokens[Int($0.0)], r.tokens[Int($0.1)]) }
        #expect(got.map(\.0) == kept.map(\.0) && got.map(\.1) == kept.map(\.1))
        if drop { #expect(used.contains(false), "the test needs unused merges") }
        for m in r.merges.dropFirst(kept.count) {
            let bytes = r.tokens[Int(m.2)]
            #expect(SuperBPETrainer.allowed(bytes, maxWords: 2, forbidColonSpace: true))
        }
        #expect(r.merges.count > kept.count)
        // The trained tokenizer encodes the training words to whole tokens no worse than stage 1.
        #expect(r.tokens.count == Set(r.tokens).count)
    }

    @Test func mergeSourcesAgree() throws {
        // One model written as tokenizer.json, merges.txt (with its #version header) and tiktoken
        // ranks gives the same merges back.
        var rng = SplitMix64(seed: 4)
        var config = BPETrainer.Configuration()
        config.vocabSize = 400
        let r = try BPETrainer(config).train(words: randomWords(&rng, count: 300))
        let want = r.merges.map { (r.tokens[Int($0.0)], r.tokens[Int($0.1)]) }
        let tok = try TrainingPipeline(preTokenizer: "superbpe", normalizer: "none").tokenizer(r, specials: [], name: "t")
        let dir = NSTemporaryDirectory() + "superbpe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeFileAtomically(dir + "/t.json", try TokenizerJSON.write(tok))
        try writeFileAtomically(dir + "/t.tiktoken", try TiktokenFormat.write(tok))
        let text = "#version: 0.2\n" + want.map { ByteLevelAlphabet.encode($0.0) + " " + ByteLevelAlphabet.encode($0.1) }.joined(separator: "\n") + "\n"
        try writeFileAtomically(dir + "/merges.txt", Array(text.utf8))
        for name in ["t.json", "t.tiktoken", "merges.txt"] {
            let got = try MergeSource.read(dir + "/" + name)
            #expect(got.map(\.0) == want.map(\.0) && got.map(\.1) == want.map(\.1), "\(name)")
        }
        try writeFileAtomically(dir + "/bad.txt", Array("a b\nabc\n".utf8))
        #expect(throws: TokenKitError.self) { _ = try MergeSource.read(dir + "/bad.txt") }
    }

    @Test func linesAreDocuments() throws {
        let dir = NSTemporaryDirectory() + "superbpe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeFileAtomically(dir + "/a.txt", Array("of the end\nof the end\n\nx  y".utf8))
        let counter = CorpusReader(normalizer: nil, preTokenizer: .builtin(.superword), unit: .lines, threads: 2)
        let w = try counter.countWords([dir + "/a.txt"])
        var got: [String: Int64] = [:]
        for i in 0..<w.count { got[String(decoding: w.word(i), as: UTF8.self)] = w.counts[i] }
        #expect(got == ["of the end\n": 2, "\n": 1, "x": 1, " ": 1, " y": 1])
    }
}

@Suite struct MultiWordTests {
    @Test func countsNgramsOfSingleSpacedWords() {
        let st = MultiWordTokens.State()
        let text = Array("the cat sat, the cat\nsat  down the cat\n".utf8)
        text.withUnsafeBufferPointer { MultiWordTokens.countChunk($0, maxWords: 3, st) }
        var got: [String: Int64] = [:]
        for i in 0..<st.counts.count { got[String(decoding: st.counts.word(i), as: UTF8.self)] = st.counts.counts[i] }
        #expect(got == ["the cat": 3, "cat sat": 1, "the cat sat": 1, "down the": 1, "down the cat": 1])
        let top = MultiWordTokens.top(st.counts, k: 2, minCount: 1)
        #expect(top.map { String(decoding: $0.bytes, as: UTF8.self) } == ["the cat", "down the cat"])
    }

    @Test func multiWordFlags() {
        #expect(MultiWordStats.isMultiWord(Array(" of the".utf8)))
        #expect(MultiWordStats.isMultiWord(Array("▁New▁York".utf8)))
        #expect(!MultiWordStats.isMultiWord(Array(" the ".utf8)))
        #expect(!MultiWordStats.isMultiWord(Array("▁the".utf8)))
    }
}

@Suite struct LongPieceBPETests {
    /// BPE by definition: merge the lowest-ranked adjacent pair (leftmost on ties) until none.
    func naiveEncode(_ piece: [UInt8], _ merges: [(TokenID, TokenID, TokenID)]) -> [TokenID] {
        var rank: [UInt64: (Int, TokenID)] = [:]
        for (k, m) in merges.enumerated() where rank[UInt64(m.0) << 32 | UInt64(m.1)] == nil { rank[UInt64(m.0) << 32 | UInt64(m.1)] = (k, m.2) }
        var s = piece.map { TokenID($0) }
        while s.count > 1 {
            var best = -1, bestRank = Int.max
            for i in 0..<(s.count - 1) {
                if let r = rank[UInt64(s[i]) << 32 | UInt64(s[i + 1])], r.0 < bestRank { best = i; bestRank = r.0 }
            }
            if best < 0 { break }
            s[best] = rank[UInt64(s[best]) << 32 | UInt64(s[best + 1])]!.1
            s.remove(at: best + 1)
        }
        return s
    }

    @Test func longPiecesMergeInRankOrder() throws {
        var rng = SplitMix64(seed: 11)
        var config = BPETrainer.Configuration()
        config.vocabSize = 600
        let r = try BPETrainer(config).train(words: randomWords(&rng, count: 2000))
        let model = BPEModel(vocab: try TokenTable(r.tokens.enumerated().map { ($0.element, TokenID($0.offset)) }),
                             merges: r.merges, symbols: .bytes, wholePieceFirst: false)
        var scratch = BPEScratch()
        let pool = Array("ab c:".utf8)
        // Lengths around each strategy's limits: short (≤ 48), medium (≤ 4096) and large.
        for length in [2, 47, 48, 49, 50, 120, 1000, 4095, 4096, 4097, 6000] {
            for trial in 0..<3 {
                let piece = trial == 2 ? [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    : (0..<length).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
                var out: [TokenID] = []
                piece.withUnsafeBufferPointer { model.encode($0, into: &out, scratch: &scratch) }
                #expect(out == naiveEncode(piece, r.merges), "length \(length), trial \(trial)")
            }
        }
    }
}

@Suite struct RandomChunkTests {
    @Test func windowsCoverTheTextAndIgnoreThreads() throws {
        let dir = NSTemporaryDirectory() + "superbpe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SplitMix64(seed: 5)
        var text: [UInt8] = []
        for _ in 0..<40_000 { text += Array(["the ", "cat ", "é", "\n", "sat. "][Int(rng.next() % 5)].utf8) }
        try writeFileAtomically(dir + "/t.txt", text)
        let spec = try RandomChunks.parse("3-7")
        let one = try spec.countWords([dir + "/t.txt"], seed: 9, threads: 1)
        let two = try spec.countWords([dir + "/t.txt"], seed: 9, threads: 3)
        var a: [[UInt8]: Int64] = [:], b: [[UInt8]: Int64] = [:]
        for i in 0..<one.count { a[one.word(i)] = one.counts[i] }
        for i in 0..<two.count { b[two.word(i)] = two.counts[i] }
        #expect(a == b)
        // Every window has 3–7 characters (the last of a block may be shorter), and the windows
        // hold every byte of the text.
        var bytes: Int64 = 0, short: Int64 = 0
        for (w, c) in a {
            let chars = String(decoding: w, as: UTF8.self).unicodeScalars.count
            #expect(chars <= 7)
            if chars < 3 { short += c }
            bytes += Int64(w.count) * c
        }
        #expect(bytes == Int64(text.count))
        #expect(short <= 2)
        #expect(throws: TokenKitError.self) { _ = try RandomChunks.parse("0-4") }
        #expect(try RandomChunks.parse("paper").lengths.count == 10)
    }
}

@Suite struct SupertokenMatchingTests {
    /// Expectations observed with HF tokenizers 0.22.1 on cl100k plus MWT tokens: a dropped
    /// single_word match ("it is" inside "limit is") consumes its text, so "is given" is not
    /// found there; a non-ASCII non-word character ("—") is a word boundary.
    @Test func singleWordMatchesAsHF() throws {
        var rng = SplitMix64(seed: 2)
        var config = BPETrainer.Configuration()
        config.vocabSize = 300
        let r = try BPETrainer(config).train(words: randomWords(&rng, count: 100, pool: Array("its ongvelm—".utf8)))
        let base = try TrainingPipeline(preTokenizer: "superbpe", normalizer: "none").tokenizer(r, specials: [], name: "t")
        let tok = try MultiWordTokens.extend(base, with: [Array("it is".utf8), Array("is given".utf8), Array("its own".utf8)])
        let itIs = tok.addedTokens[0].id, isGiven = tok.addedTokens[1].id, itsOwn = tok.addedTokens[2].id
        #expect(!(try tok.encode("the limit is given")).contains(isGiven))
        #expect(try tok.encode("the limit, is given").contains(isGiven))
        #expect(try tok.encode("x—its own").contains(itsOwn))
        #expect(!(try tok.encode("x—its owner")).contains(itsOwn))
        // lstrip: the spaces before the match are part of it, so nothing else encodes them.
        let ids = try tok.encode("so   it is")
        let so = try base.encode("so")
        #expect(ids.last == itIs && ids.count == so.count + 1)
    }
}
