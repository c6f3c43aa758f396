import Foundation
import Testing
import TokenKit
@testable import TokenKitByteProb
import TokenKitCore

@Suite struct ScoreTests {
    /// The byte model of a trigram token LM trained on the first `documents` training documents,
    /// its tokenizer, and the held-out documents.
    func trigramModel(_ path: String, documents: Int) throws -> (ByteModel, Tokenizer, [[UInt8]]) {
        let (space, lm, held) = try AllEncodingsTests().trigram(path, documents: documents)
        return (ByteModel(space: space, lm: CachedLM(lm)), space.tokenizer, held)
    }

    /// What `score` adds up. With W_k the mass of the prefix x<k (its covers and exact spellings)
    /// and Z_k the mass `next` normalises by, the byte-level log-likelihood of a document is the
    /// canonical-token one plus Σ_k ln(W_k / Z_k) over every byte position and the end: the
    /// per-byte normalisation drops, at each byte, the mass of continuations that may not follow.
    /// Every term is ≥ 0, so byte-level bits never exceed the canonical figure. The per-token
    /// renormalised form (the LM restricted to valid next tokens at each canonical token) is a
    /// different number: `score` cannot be computed per token.
    @Test func byteLikelihoodDecomposes() throws {
        let (model, tok, held) = try trigramModel("models/r50k_base.tiktoken", documents: 1500)
        let space = model.space, lm = model.lm
        func lse(_ xs: [Double]) -> Double {
            let m = xs.max()!
            return m + Foundation.log(xs.reduce(0) { $0 + Foundation.exp($1 - m) })
        }
        let docs = held.filter { (25...45).contains($0.count) }.prefix(2)
        #expect(docs.count == 2)
        for doc in docs {
            var byteLL = 0.0, dropped = 0.0
            for k in 0...doc.count {
                let ms = try model.masses(text: Array(doc[..<k]))
                let z = lse(ms.bytes + [ms.end])
                let term = ms.prefix - z
                #expect(term >= -1e-12)
                dropped += term
                byteLL += (k == doc.count ? ms.end : ms.bytes[Int(doc[k])]) - z
            }
            // The same figure as `next`, byte by byte.
            var viaNext = 0.0
            for k in 0...doc.count {
                let d = try model.next(text: Array(doc[..<k]))
                viaNext += Foundation.log(k == doc.count ? d.end : d.probs[Int(doc[k])])
            }
            #expect(abs(viaNext - byteLL) <= 1e-9 * abs(byteLL))
            let canonical = try tok.encode(doc, policy: .ordinary)
            var canonLL = 0.0, perToken = 0.0
            for i in 0...canonical.count {
                let ctx = Array(canonical[..<i])
                let d = try lm.next(ctx)
                // Tokens valid after the canonical context (the check `next` uses).
                let f = model.followers(space.spell(ctx), anchor: 0, tail: ctx)
                f.fillAll()
                var valid: [Double] = [d.eos]
                for t in 0..<space.vocabSize where d.logprobs[t] > -.infinity && f.allows(t) { valid.append(d.logprobs[t]) }
                let lp = i == canonical.count ? d.eos : d.logprobs[Int(canonical[i])]
                canonLL += lp
                perToken += lp - lse(valid)
            }
            print("score identity: \(doc.count) bytes, byte \(byteLL), canonical \(canonLL), dropped \(dropped), per-token renormalised \(perToken)")
            #expect(abs((byteLL - canonLL) - dropped) <= 1e-9 * abs(byteLL))
            #expect(dropped > 0)
            #expect(abs(perToken - byteLL) > 1e-6)
        }
    }

    /// cl100k's letters pattern takes one leading punctuation mark (`.py` alone is one piece), but
    /// after "(`" the "." belongs to the punctuation piece "(`.", so [(`][.][py] is canonical
    /// although the pair [.][py] alone is not. The pair check must not stand for the sequence
    /// there; when it did, this text lost 8.5 nats (byte-level below the canonical figure).
    @Test func pairCheckOnlyAtPieceStarts() throws {
        let (model, tok, _) = try trigramModel("models/cl100k_base.tiktoken", documents: 300)
        let lm = model.lm
        let doc = Array("(`.py".utf8)
        #expect(try tok.encode(doc, policy: .ordinary).count == 3)
        var byteLL = 0.0
        var numerator: Double? = nil
        for k in 0...doc.count {
            let ms = try model.masses(text: Array(doc[..<k]))
            // Short text, no anchor: masses are absolute, so what one step gives the next byte
            // is the next prefix's own mass (the telescoping score relies on).
            if let numerator { #expect(abs(numerator - ms.prefix) <= 1e-9 * abs(ms.prefix), "byte \(k): \(numerator) vs \(ms.prefix)") }
            if k < doc.count { numerator = ms.bytes[Int(doc[k])] }
            let m = (ms.bytes + [ms.end]).max()!
            let z = m + Foundation.log((ms.bytes + [ms.end]).reduce(0) { $0 + Foundation.exp($1 - m) })
            #expect(ms.prefix - z >= -1e-12, "byte \(k): W below Z")
            byteLL += (k == doc.count ? ms.end : ms.bytes[Int(doc[k])]) - z
        }
        var canonLL = 0.0, ctx: [TokenID] = []
        for t in try tok.encode(doc, policy: .ordinary) {
            canonLL += try lm.logProb(t, after: ctx)
            ctx.append(t)
        }
        canonLL += try lm.logEnd(after: ctx)
        #expect(byteLL >= canonLL - 1e-9, "byte \(byteLL) vs canonical \(canonLL)")
    }
}
