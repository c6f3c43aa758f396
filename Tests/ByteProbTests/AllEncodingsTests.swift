import Foundation
import Testing
import TokenKit
@testable import TokenKitByteProb
import TokenKitCore

/// The byte-level distribution summed over every encoding (`AllEncodingsModel`), checked
/// against a direct enumeration of token sequences and against its own per-byte answers.
@Suite struct AllEncodingsTests {
    /// A trigram LM trained on the first `documents` training documents, and the held-out ones.
    func trigram(_ path: String, documents: Int) throws -> (TokenSpace, NGramLM, [[UInt8]]) {
        let space = try Spaces.shared.get(path)
        let tok = space.tokenizer
        let (train, held) = try NGramTests().documents()
        let ids = try train.prefix(documents).map { try tok.encode($0, policy: .ordinary) }
        return (space, try NGramLM.train(documents: ids, order: 3, vocabSize: tok.vocabSize), held)
    }

    /// The next-byte distribution by brute force: walk every token sequence that spells a prefix
    /// of the text (asking the LM with whole contexts), adding the mass of each that covers it.
    /// Tokens that spell nothing are renormalised away at every step.
    func enumerate(_ space: TokenSpace, _ lm: NGramLM, _ text: [UInt8]) throws -> ByteDistribution {
        var bytes = [Double](repeating: 0, count: 256)
        var end = 0.0
        let usable = (0..<space.vocabSize).filter { !space.tokenBytes[$0].isEmpty }
        let silent = (0..<space.vocabSize).filter { space.tokenBytes[$0].isEmpty }
        // With a dummy prefix, decoding drops one leading space: " " + text spells the text, and
        // so does the text alone unless it starts with a space.
        var m = space.modelBytes(text)
        func walk(_ ctx: [TokenID], _ at: Int, _ weight: Double) throws {
            var norm = 1.0
            for t in silent { norm -= Foundation.exp(try lm.logProb(TokenID(t), after: ctx)) }
            for t in usable {
                let tb = space.tokenBytes[t]
                let rest = m.count - at
                if rest == 0 {
                    if m.isEmpty && tb[0] == 0x20 && !space.prefix.isEmpty { continue }
                    bytes[Int(tb[0])] += weight * Foundation.exp(try lm.logProb(TokenID(t), after: ctx)) / norm
                } else if tb.count > rest {
                    if tb[..<rest].elementsEqual(m[at...]) {
                        bytes[Int(tb[rest])] += weight * Foundation.exp(try lm.logProb(TokenID(t), after: ctx)) / norm
                    }
                } else if m[at..<(at + tb.count)].elementsEqual(tb) {
                    try walk(ctx + [TokenID(t)], at + tb.count, weight * Foundation.exp(try lm.logProb(TokenID(t), after: ctx)) / norm)
                }
            }
            if at == m.count { end += weight * Foundation.exp(try lm.logEnd(after: ctx)) / norm }
        }
        try walk([], 0, 1)
        if !space.prefix.isEmpty && (text.isEmpty || text[0] != 0x20) {
            m = text
            try walk([], 0, 1)
        }
        let z = bytes.reduce(end, +)
        return ByteDistribution(probs: bytes.map { $0 / z }, end: end / z)
    }

    /// Prompts that end inside a word, inside a UTF-8 character, after a space, and empty. (Fewer
    /// for Llama 2: with byte fallback every character has two spellings, and the walk doubles.)
    @Test func matchesEnumeration() throws {
        let cases = [("models/r50k_base.tiktoken", ["", "I sa", "caf\u{E9}", "He said, \"No", "the "]),
                     ("sentencepiece/llama2_tokenizer.model", ["", "I sa", "caf\u{E9}"])]
        for (path, prompts) in cases {
            let (space, lm, _) = try trigram(path, documents: 800)
            let model = AllEncodingsModel(space: space, ngram: lm)
            for prompt in prompts {
                var text = Array(prompt.utf8)
                if prompt.hasSuffix("\u{E9}") { text.removeLast() }
                let want = try enumerate(space, lm, text)
                let got = try model.distribution(after: text)
                var worst = abs(want.end - got.end)
                for b in 0..<256 { worst = max(worst, abs(want.probs[b] - got.probs[b])) }
                #expect(worst <= 1e-12, "\(path) after \(text): max error \(worst)")
                #expect(abs(got.probs.reduce(got.end, +) - 1) <= 1e-12)
            }
        }
    }

    /// `logProb(document:)` (one forward pass) equals the sum of ln next-byte probabilities, and
    /// is never below the canonical tokens' probability (it sums over them and every other
    /// encoding).
    @Test(arguments: ["models/cl100k_base.tiktoken", "models/r50k_base.tiktoken", "sentencepiece/llama2_tokenizer.model"])
    func scoreIsTheSumOfNextBytes(path: String) throws {
        let (space, lm, held) = try trigram(path, documents: 1500)
        let model = AllEncodingsModel(space: space, ngram: lm)
        let docs = held.filter { (20...80).contains($0.count) }.prefix(4) + [Array("déjà vu — 東京 🙂\tx".utf8), []]
        for doc in docs {
            var sum = 0.0
            for k in 0...doc.count {
                let d = try model.distribution(after: Array(doc[..<k]))
                sum += Foundation.log(k == doc.count ? d.end : d.probs[Int(doc[k])])
            }
            let forward = try model.logProb(document: doc)
            #expect(abs(sum - forward) <= 1e-9 * max(1, abs(forward)), "\(path): \(sum) vs \(forward)")
            let m = space.modelBytes(doc)
            let ids = doc.isEmpty && !space.prefix.isEmpty ? [] : try #require(space.encode(m[...]))
            var canonical = 0.0
            for i in 0...ids.count {
                let ctx = Array(ids[..<i])
                canonical += i == ids.count ? try lm.logEnd(after: ctx) : try lm.logProb(ids[i], after: ctx)
            }
            #expect(forward >= canonical - 1e-9, "\(path): byte-level \(forward) below canonical \(canonical)")
        }
    }

    /// A text no token sequence spells is an error naming the byte, not a crash or -infinity.
    @Test func unspellableText() throws {
        let (space, lm, _) = try trigram("sentencepiece/botchan_en_bpe_1000.model", documents: 300)
        let model = AllEncodingsModel(space: space, ngram: lm)
        for run in [{ _ = try model.logProb(document: Array("ok 東 ok".utf8)) }, { _ = try model.distribution(after: Array("ok 東 ok".utf8)) }] {
            do {
                try run()
                Issue.record("no error")
            } catch let e as TokenKitError {
                #expect("\(e)".contains("byte offset 3 (0xE6)"), "\(e)")
            }
        }
    }
}
