import Foundation
import Testing
import TokenKit
import TokenKitByteProb
import TokenKitCore

/// A tokenizer and the chain alphabet that exercises it.
struct OracleCase: CustomStringConvertible, Sendable {
    var model: String
    var units: [String]
    var maxUnits: Int
    var noStart: Set<String> = []
    var wholeCharacters = false
    var description: String { model }
}

let oracleCases = [
    // Contractions, whitespace runs (\s+(?!\S)), newlines, a two-byte character.
    OracleCase(model: "models/r50k_base.tiktoken", units: ["a", "s", " ", "'", "\n", "é"], maxUnits: 5),
    OracleCase(model: "models/cl100k_base.tiktoken", units: ["a", "s", " ", "'", "\n", "1", "é"], maxUnits: 5),
    OracleCase(model: "models/qwen2.5/tokenizer.json", units: ["a", "s", " ", "'", "\n", "1", "é"], maxUnits: 5),
    // Byte-fallback SentencePiece BPE: "ʬ" is not a piece, so it is spelled with byte tokens.
    // Texts never start with a space (the dummy prefix would fold it) and prompts end on whole characters.
    OracleCase(model: "sentencepiece/llama2_tokenizer.model", units: ["a", "b", " ", "ʬ", "é"], maxUnits: 6,
               noStart: [" "], wholeCharacters: true),
    // The same model converted to tokenizer.json (Prepend + Replace normalizer, byte fallback).
    OracleCase(model: "models/llama2-spm/tokenizer.json", units: ["a", "b", " ", "ʬ", "é"], maxUnits: 6,
               noStart: [" "], wholeCharacters: true),
]

@Suite struct OracleTests {
    /// byteprob through the perfect token LM of a byte Markov chain gives the chain's own next-byte
    /// probabilities (and end probability) after every prompt, to 1e-12.
    @Test(arguments: oracleCases)
    func chainProbabilitiesAreRecovered(_ c: OracleCase) throws {
        let space = try Spaces.shared.get(c.model)
        let chain = Chain(units: c.units, maxUnits: c.maxUnits, seed: 7, noStart: c.noStart)
        let strings = chain.strings()
        let reference = ChainReference(strings)
        let lm = CachedLM(try PerfectLM(strings, tokenizer: space.tokenizer), capacity: 1 << 20)
        let model = ByteModel(space: space, lm: lm)
        // Every prefix up to 4 bytes, and a seeded sample of longer ones.
        var prompts = Set<[UInt8]>()
        var g = SplitMix64(seed: 11)
        for s in strings.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            for i in 0...min(s.count, 3) { prompts.insert(Array(s[..<i])) }
            if g.next() % 100 == 0 { prompts.insert(Array(s[..<Int(g.next() % UInt64(s.count + 1))])) }
        }
        if c.wholeCharacters { prompts = prompts.filter { String(validating: $0, as: UTF8.self) != nil } }
        var worst = 0.0, worstNaive = 0.0, checked = 0
        for x in prompts.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let want = reference.next(x) else { continue }
            let got = try model.next(text: x)
            let e = maxError(got, want)
            if e > 1e-12 { Issue.record("\(c.model): prompt \(String(decoding: x, as: UTF8.self).debugDescription) off by \(e)") }
            worst = max(worst, e)
            worstNaive = max(worstNaive, maxError(try model.naive(text: x), want))
            checked += 1
        }
        print("oracle \(c.model): \(checked) prompts, \(strings.count) strings; byteprob max error \(worst), naive max error \(worstNaive)")
        #expect(checked > 50)
        #expect(worst <= 1e-12)
        // The naive method is measurably wrong, which is what makes the check meaningful.
        #expect(worstNaive > 0.05)
    }

    /// On long texts the anchored computation (re-encoding only a window near the end) gives the
    /// same distribution as re-encoding from the start.
    @Test(arguments: ["models/r50k_base.tiktoken", "models/cl100k_base.tiktoken", "models/qwen2.5/tokenizer.json",
                      "sentencepiece/llama2_tokenizer.model", "models/llama2-spm/tokenizer.json"])
    func anchoredEqualsWholeText(_ path: String) throws {
        let space = try Spaces.shared.get(path)
        let lm = CachedLM(HashLM(vocabSize: space.vocabSize))
        let fast = ByteModel(space: space, lm: lm)
        let slow = ByteModel(space: space, lm: lm)
        slow.exact = true
        let line = "It's a test, isn't it?  Numbers 12345 and   spaces\n\n  def f(x):\n    return x**2  # don't "
        let text = Array(String(repeating: line, count: 5).utf8)
        var g = SplitMix64(seed: 3)
        for _ in 0..<6 {
            let cut = 300 + Int(g.next() % UInt64(text.count - 300))
            let x = Array(text[..<cut])
            let a = try fast.next(text: x), b = try slow.next(text: x)
            #expect(maxError(a, b) < 1e-9, "cut at \(cut)")
        }
    }

    /// A SentencePiece model and its tokenizer.json conversion give the same ids, so through the
    /// same LM they must give the same byte distributions, whatever the prompt ends inside.
    @Test func convertedSentencePieceAgreesWithModelFile() throws {
        let spm = try Spaces.shared.get("sentencepiece/llama2_tokenizer.model")
        let json = try Spaces.shared.get("models/llama2-spm/tokenizer.json")
        #expect(spm.prefix == json.prefix && spm.wordAnchored == json.wordAnchored)
        #expect(spm.tokenBytes == json.tokenBytes)
        let a = ByteModel(space: spm, lm: CachedLM(HashLM(vocabSize: spm.vocabSize)))
        let b = ByteModel(space: json, lm: CachedLM(HashLM(vocabSize: json.vocabSize)))
        for prompt in ["Hello wor", "It's  a", "naïve ca", "x\n  y", "ʬʬ and é", "12,3"] {
            #expect(maxError(try a.next(text: Array(prompt.utf8)), try b.next(text: Array(prompt.utf8))) < 1e-12, "\(prompt)")
        }
    }
}
