import Foundation
import Testing
import TokenKit
import TokenKitByteProb
import TokenKitCore
import TokenKitFormats

@Suite struct NGramTests {
    /// Botchan lines, as Scripts/make_kn_golden.py cuts them.
    func documents() throws -> (train: [[UInt8]], held: [[UInt8]]) {
        var text = try readFile(fixture("sentencepiece/botchan.txt"))
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text.removeFirst(3) }
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false).map { l -> [UInt8] in
            var l = Array(l)
            if l.last == 0x0D { l.removeLast() }
            return l
        }
        let docs = lines.filter { l in l.contains { $0 != 0x20 && $0 != 0x09 } }
        return (Array(docs[..<3000]), Array(docs[3000..<3600]))
    }

    /// Held-out log-probability equals the plain Python reference (Scripts/kn_reference.py) to
    /// 1e-4 relative, for orders 1 to 4; and again after writing and reading ARPA.
    @Test func heldOutMatchesReference() throws {
        let golden = try JSONSerialization.jsonObject(with: Data(readFile(fixture("goldens/kn-botchan-r50k.json")))) as! [String: Any]
        let orders = golden["orders"] as! [String: [String: Double]]
        let tok = try TokenizerLoader.load(fixture("models/r50k_base.tiktoken"))
        #expect(tok.vocabSize == golden["vocab_size"] as! Int)
        let (train, held) = try documents()
        let trainIDs = try train.map { try tok.encode($0, policy: .ordinary) }
        let heldIDs = try held.map { try tok.encode($0, policy: .ordinary) }
        for order in 1...4 {
            let want = orders[String(order)]!["logprob"]!
            let lm = try NGramLM.train(documents: trainIDs, order: order, vocabSize: tok.vocabSize)
            let got = heldIDs.reduce(0.0) { $0 + lm.logProb(document: $1) }
            #expect(abs(got - want) / abs(want) < 1e-4, "order \(order): \(got) vs \(want)")
            let back = try NGramLM.readARPA(lm.arpa(), vocabSize: tok.vocabSize, path: "mem")
            let again = heldIDs.reduce(0.0) { $0 + back.logProb(document: $1) }
            #expect(abs(again - want) / abs(want) < 1e-4, "order \(order) via ARPA: \(again) vs \(want)")
            print("kn order \(order): tokenkit \(got), ARPA \(again), reference \(want)")
        }
    }

    /// Every next-token distribution (ids and end of text) sums to 1, and the dense answer agrees
    /// with the one-token answer.
    @Test func distributionsSumToOne() throws {
        let tok = try TokenizerLoader.load(fixture("models/r50k_base.tiktoken"))
        let (train, _) = try documents()
        let ids = try train.prefix(800).map { try tok.encode($0, policy: .ordinary) }
        let lm = try NGramLM.train(documents: ids, order: 3, vocabSize: tok.vocabSize)
        var g = SplitMix64(seed: 5)
        for _ in 0..<20 {
            let doc = ids[Int(g.next() % UInt64(ids.count))]
            let ctx = Array(doc.prefix(Int(g.next() % UInt64(doc.count + 1))))
            let d = try lm.next(ctx)
            let total = d.logprobs.reduce(0.0) { $0 + exp($1) } + exp(d.eos)
            #expect(abs(total - 1) < 1e-9)
            let t = TokenID(g.next() % UInt64(tok.vocabSize))
            #expect(abs(try lm.logProb(t, after: ctx) - d.logprobs[Int(t)]) < 1e-9)
        }
    }

    @Test func badARPAIsAnError() throws {
        #expect(throws: TokenKitError.self) { try NGramLM.readARPA(Array("hello".utf8), vocabSize: 10, path: "x") }
        let bad = Array("\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0\t99\n\\end\\\n".utf8)
        #expect(throws: TokenKitError.self) { try NGramLM.readARPA(bad, vocabSize: 10, path: "x") }
        // Numbers a probability cannot be: above 1, not finite; a backoff that is not a number.
        for line in ["0.5\t1", "nan\t1", "inf\t1", "-1e999\t1", "-1.0\t1\tnan", "-1.0\t1\t1x"] {
            let arpa = Array("\\data\\\nngram 1=1\n\n\\1-grams:\n\(line)\n\\end\\\n".utf8)
            #expect(throws: TokenKitError.self, "\(line)") { try NGramLM.readARPA(arpa, vocabSize: 10, path: "x") }
        }
        let good = Array("\\data\\\nngram 1=2\n\n\\1-grams:\n-0.5\t1\t-0.25\n-99\t2\n\\end\\\n".utf8)
        let lm = try NGramLM.readARPA(good, vocabSize: 10, path: "x")
        #expect(abs(try lm.logProb(1, after: []) - (-0.5 * Foundation.log(10.0))) < 1e-15)
        #expect(try lm.logProb(2, after: []) == -.infinity)
    }

    /// A written model loads; the same file cut anywhere before `\end\`, or with a count that
    /// disagrees with its header, is refused rather than loaded as a smaller model.
    @Test func truncatedARPAIsRefused() throws {
        let tok = try TokenizerLoader.load(fixture("models/r50k_base.tiktoken"))
        let (train, _) = try documents()
        let ids = try train.prefix(200).map { try tok.encode($0, policy: .ordinary) }
        let arpa = try NGramLM.train(documents: ids, order: 2, vocabSize: tok.vocabSize).arpa()
        _ = try NGramLM.readARPA(arpa, vocabSize: tok.vocabSize, path: "whole")
        let end = arpa.count - Array("\\end\\\n".utf8).count
        for cut in [arpa.count / 3, arpa.count / 2, end - 1, end] {
            #expect(throws: TokenKitError.self) { try NGramLM.readARPA(Array(arpa[..<cut]), vocabSize: tok.vocabSize, path: "cut") }
        }
        let text = String(decoding: arpa, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("ngram 2=") }!
        let edited = text.replacingOccurrences(of: line, with: "ngram 2=\(Int(line.dropFirst(8))! + 1)")
        #expect(throws: TokenKitError.self) { try NGramLM.readARPA(Array(edited.utf8), vocabSize: tok.vocabSize, path: "edited") }
    }
}
