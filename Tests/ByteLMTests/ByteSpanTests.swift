import Foundation
import Testing
import TokenKitCore
import TokenKit
import TokenKitFormats
@testable import TokenKitLM

@Suite struct ByteSpanTests {
    /// Continuation flags on a hand-made signal (pre-token starts at 0 and 5).
    @Test func constraintsOnHandMadeSignals() {
        let signal: [Float] = [5, 4, 3, 3.5, 1, 6, 0.5, 0.4, 0.45, 2]
        let starts = [0, 5]
        func cont(_ c: ByteSpanTrainer.Constraint, _ theta: Float) -> [Bool] {
            signal.withUnsafeBufferPointer { ByteSpanTrainer.continuation(signal: $0, starts: starts, constraint: c, threshold: theta) }
        }
        // Monotonic: strictly decreasing continues; pre-token starts never continue.
        #expect(cont(.monotonic, 0) == [false, true, true, false, true, false, true, true, false, false])
        // Global: below θ continues.
        #expect(cont(.global, 1) == [false, false, false, false, false, false, true, true, true, false])
        // Combined: either.
        #expect(cont(.combined, 1) == [false, true, true, false, true, false, true, true, true, false])
    }

    /// Spans are a head plus its run, at least two bytes, extended over the pre-token's space.
    @Test func spansFromFlags() {
        let text = Array(" ab cde".utf8)
        // Pre-tokens " ab" (0) and " cde" (3).
        let isStart = [true, false, false, true, false, false, false]
        var got: [(String, Bool)] = []
        func collect(_ cont: [Bool]) -> [(String, Bool)] {
            got = []
            text.withUnsafeBufferPointer { t in
                ByteSpanTrainer.spans(text: t, continuation: cont, isStart: isStart, range: 0..<text.count) { s, e, initial in
                    got.append((String(decoding: text[s..<e], as: UTF8.self), initial))
                }
            }
            return got
        }
        // "a"+"b" is a span right after the pre-token's space: the space joins it.
        var r = collect([false, false, true, false, false, false, true])
        #expect(r.map(\.0) == [" ab", "de"] && r.map(\.1) == [true, false])
        // A lone head is no span; the space continuing into "c" makes a word-initial span.
        r = collect([false, false, false, false, true, false, false])
        #expect(r.map(\.0) == [" c"] && r.map(\.1) == [true])
    }

    @Test func thresholdIsAPercentileOfNonZeroValues() {
        let values: [Float] = [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, .infinity]
        let t = values.withUnsafeBufferPointer { ByteSpanTrainer.threshold($0, percentile: 30) }
        #expect(t == 4)  // 30th percentile of 1...10 (nearest rank on 0-based index 2.7 → 3)
    }

    /// A vocabulary trained on synthetic text: base tokens first, no duplicates, specials last,
    /// the requested size, and frequent morphemes learned.
    @Test(arguments: ByteSpanTrainer.Mode.allCases)
    func trainedVocabulary(mode: ByteSpanTrainer.Mode) throws {
        var rng = SplitMix64(seed: 11)
        let raw = syntheticText(&rng, words: 40000)
        let (text, starts) = raw.withUnsafeBufferPointer { ByteWordPiece.preTokenize($0) }
        let signal = try text.withUnsafeBufferPointer { try ByteSpanSignals.crossFitted(text: $0, order: 4, signal: .entropy, threads: 2) }
        var config = ByteSpanTrainer.Configuration()
        config.vocabSize = 1500
        config.mode = mode
        config.seedFraction = 0.3
        let r = try text.withUnsafeBufferPointer { t in try signal.withUnsafeBufferPointer { try ByteSpanTrainer(config).train(text: t, starts: starts, signal: $0) } }
        let tokens = r.vocabulary.tokens
        #expect(tokens.count <= 1500 && tokens.count > 1000)
        #expect(Array(tokens.prefix(768)) == ByteSpanTrainer.baseTokens())
        #expect(Array(tokens.suffix(3)) == ByteWordPiece.specials)
        #expect(Set(tokens).count == tokens.count)
        #expect(!tokens[768..<(tokens.count - 3)].contains { !$0.hasPrefix("##") && $0.hasPrefix("#") && $0.dropFirst().hasPrefix("#") })
        #expect(tokens.contains("Ġthe") || tokens.contains("Ġcat"))
        if mode == .seeding {
            #expect(r.learnedFromSpans == 450 && r.learnedFromBPE > 0)
        } else {
            #expect(r.learnedFromBPE == 0)
        }
        // Every text encodes and the tokens spell it.
        let sample = Array(raw.prefix(3000))
        let enc = r.vocabulary.encode(sample)
        var spelled: [UInt8] = []
        for id in enc.ids {
            var t = tokens[Int(id)]
            if t.hasPrefix("##") { t.removeFirst(2) }
            spelled += ByteLevelAlphabet.decode(t)!
        }
        #expect(spelled == (sample.first == 0x20 ? sample : [0x20] + sample))
        #expect(enc.ends.last == sample.count)
    }

    /// WordPiece ids equal HF tokenizers' on a committed tokenizer and goldens
    /// (Scripts/bytespan_goldens.py).
    @Test func wordPieceMatchesHF() throws {
        let path = fixtures + "/bytespan/tokenizer.json"
        let wp = try #require(try ByteWordPiece.load(try readFile(path), path: path))
        let goldens = try JSON.parse(try readFile(fixtures + "/goldens/bytespan_hf.json"))
        guard case .array(let cases)? = goldens["cases"] else { Issue.record("no cases"); return }
        #expect(cases.count > 20)
        for c in cases {
            guard case .string(let text)? = c["text"], case .array(let ids)? = c["ids"] else { Issue.record("bad case"); continue }
            let expected = ids.compactMap { v -> TokenID? in if case .number(_, let i?) = v { return TokenID(i) } else { return nil } }
            #expect(wp.encode(text).ids == expected, "\(String(decoding: text, as: UTF8.self).prefix(60))")
        }
    }

    /// tokenkit's own tokenizer loader (its WordPiece model) gives HF's ids on the same goldens,
    /// and the same ids as ByteSpan's encoder on random text.
    @Test func loaderMatchesHFAndByteSpanEncoder() throws {
        let path = fixtures + "/bytespan/tokenizer.json"
        let tok = try TokenizerLoader.load(path)
        let wp = try #require(try ByteWordPiece.load(try readFile(path), path: path))
        let goldens = try JSON.parse(try readFile(fixtures + "/goldens/bytespan_hf.json"))
        guard case .array(let cases)? = goldens["cases"] else { Issue.record("no cases"); return }
        for c in cases {
            guard case .string(let text)? = c["text"], case .array(let ids)? = c["ids"] else { continue }
            let expected = ids.compactMap { v -> TokenID? in if case .number(_, let i?) = v { return TokenID(i) } else { return nil } }
            #expect(try tok.encode(text) == expected, "\(String(decoding: text, as: UTF8.self).prefix(60))")
        }
        var rng = SplitMix64(seed: 5)
        let pool = Array("ab cd#_-\n\t  ##x<|endoftext|>é日👍".unicodeScalars)
        for _ in 0..<300 {
            let s = String(String.UnicodeScalarView((0..<Int(rng.next() % 40)).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }))
            #expect(try tok.encode(Array(s.utf8)) == wp.encode(Array(s.utf8)).ids, "\(s.debugDescription)")
        }
    }

    /// Written JSON reads back to the same tokens.
    @Test func jsonRoundTrip() throws {
        let tokens = ByteSpanTrainer.baseTokens() + ["Ġthe", "##ing", "ab"] + ByteWordPiece.specials
        let wp = ByteWordPiece(tokens: tokens)
        let back = try #require(try ByteWordPiece.load(Array(wp.json().utf8), path: "x"))
        #expect(back.tokens == tokens && back.maxInputChars == wp.maxInputChars)
    }
}

@Suite struct EvaluationTests {
    /// Hand-checked: "the cats walked" with tokens [" the"][" cat"]["s"][" walk"]["ed"].
    @Test func metricsOnAHandCheckableCase() throws {
        let text = Array(" the cats walked".utf8)
        let ends = [4, 8, 9, 14, 16]
        let ids: [TokenID] = [0, 1, 2, 3, 4]
        let seg = TokenizerEvaluation.Segmenter(name: "hand", vocabSize: 8) { t in
            if t == text { return (ids, ends, nil) }
            // Morph words: " walked" → [" walk", "ed"], " cats" → [" cats"], " sadness" → [" sad", "n", "ess"].
            switch String(decoding: t, as: UTF8.self) {
            case " walked": return ([3, 4], [5, 7], nil)
            case " cats": return ([5], [5], nil)
            case " sadness": return ([6, 7, 2], [4, 5, 8], nil)
            default: return ([], [], nil)
            }
        }
        let words: [Int32] = [1, 4, 5, 9, 10, 16]
        let morph = try TokenizerEvaluation.readMorphCSV(Array("full_word,pt1,rest\nwalked,walk,ed\ncats,cat,s\nsadness,sad,ness\n".utf8), path: "m.csv")
        let row = try TokenizerEvaluation.evaluate(seg, text: text, words: words, morph: morph)
        #expect(row.tokens == 5 && row.bytes == 16)
        #expect(abs(row.bytesPerToken - 3.2) < 1e-12)
        #expect(row.words == 3)
        #expect(abs(row.fertility! - 5.0 / 3) < 1e-12)  // the: 1, cats: 2, walked: 2
        #expect(abs(row.continued! - 2.0 / 3) < 1e-12)
        // Five distinct ids once each: H_2.5 = log2 5, efficiency log2 5 / log2 8.
        #expect(abs(row.renyi! - log2(5.0) / 3) < 1e-12)
        // walked: boundary at walk|ed → 1; cats: one token, left out; sadness: sad|n|ess has sad| → 1.
        #expect(row.morphScored == 2 && row.morphScore == 1)
    }

    @Test func morphCSVErrorsNameTheLine() {
        do {
            _ = try TokenizerEvaluation.readMorphCSV(Array("walked,walk,ed\nbad,ba\n".utf8), path: "m.csv")
            Issue.record("no error")
        } catch let e as TokenKitError {
            #expect(e.file == "m.csv" && e.message.contains("line 2"))
        } catch { Issue.record("\(error)") }
        #expect(throws: TokenKitError.self) { try TokenizerEvaluation.readMorphCSV(Array("walked,wal,ked2\n".utf8), path: "m.csv") }
    }

    @Test func fixtureParses() throws {
        let words = try TokenizerEvaluation.readMorphCSV(try readFile(fixtures + "/morph/english.csv"), path: "english.csv")
        #expect(words.count == 90)
        #expect(words.first == TokenizerEvaluation.MorphWord(word: Array("walked".utf8), split: 4))
    }
}
