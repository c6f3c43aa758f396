import Foundation
import Testing
import TokenKit
import TokenKitByteProb
import TokenKitCore

@Suite struct PairTests {
    /// "May b follow a" (the cached rows and single-pair cache byteprob uses) agrees with
    /// encode(decode([a, b])) == [a, b] through the public Tokenizer API, on random pairs and on
    /// every right token of a few left tokens.
    @Test(arguments: ["models/r50k_base.tiktoken", "models/cl100k_base.tiktoken", "models/qwen2.5/tokenizer.json"])
    func pairValidityMatchesReencoding(_ path: String) throws {
        let space = try Spaces.shared.get(path)
        let tok = space.tokenizer
        let usable = (0..<space.vocabSize).filter { !space.tokenBytes[$0].isEmpty }.map { TokenID($0) }
        func reference(_ a: TokenID, _ b: TokenID) throws -> Bool {
            try tok.encode(tok.decode([a, b]), policy: .ordinary) == [a, b]
        }
        var g = SplitMix64(seed: 99)
        var disagreements = 0, valid = 0
        let pairs = 20_000
        for _ in 0..<pairs {
            let a = usable[Int(g.next() % UInt64(usable.count))], b = usable[Int(g.next() % UInt64(usable.count))]
            let want = try reference(a, b)
            if space.pairValid(a, b) != want { disagreements += 1 }
            if want { valid += 1 }
        }
        // Whole rows (built in parallel chunks) for a few left tokens, checked on a sample.
        for _ in 0..<3 {
            let a = usable[Int(g.next() % UInt64(usable.count))]
            let row = space.pairRow(a)
            for _ in 0..<2000 {
                let b = usable[Int(g.next() % UInt64(usable.count))]
                let bit = row[Int(b) >> 6] & (1 << UInt64(Int(b) & 63)) != 0
                if bit != (try reference(a, b)) { disagreements += 1 }
            }
        }
        print("pairs \(path): \(pairs) random pairs, \(valid) valid, \(disagreements) disagreements")
        #expect(disagreements == 0)
        #expect(valid > 0 && valid < pairs)
    }
}
