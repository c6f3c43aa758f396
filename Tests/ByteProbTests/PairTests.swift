import Foundation
import Testing
import TokenKit
import TokenKitByteProb
import TokenKitCore

@Suite struct PairTests {
    /// A token that is part of a character is reachable when the BPE model alone merges its bytes
    /// into it, though the pre-tokenizer splits them when they stand alone: r50k's 12045 (ー and
    /// two bytes of ダ) is in the encoding of "ーダ" (tiktoken's too).
    @Test func partialCharacterTokensAreReachable() throws {
        let space = try Spaces.shared.get("models/r50k_base.tiktoken")
        #expect(try space.tokenizer.encode(Array("ーダ".utf8)) == [12045, 222])
        #expect(try space.tokenizer.encode(Array("の宀".utf8)) == [49149, 222])
        #expect(space.reachable[12045] && space.reachable[49149])
    }

    /// The merge-structure check (no re-encoding) agrees with encode(decode([a, b])) == [a, b] on
    /// random pairs, and on random pairs whose bytes make one pre-tokenizer piece, where only the
    /// merge ranks decide. BENCHMARKS has the 10^6-pair runs (`byteprob check-pairs`).
    @Test(arguments: ["models/r50k_base.tiktoken", "models/cl100k_base.tiktoken", "models/qwen2.5/tokenizer.json",
                      "sentencepiece/llama2_tokenizer.model"])
    func structuralCheckMatchesReencoding(_ path: String) throws {
        let space = try Spaces.shared.get(path)
        #expect(space.checksPairsStructurally)
        for onePiece in [false, true] {
            let r = try space.checkPairs(count: 10_000, seed: 5, onePiece: onePiece)
            print("structural pairs \(path) onePiece=\(onePiece): \(r.pairs) pairs, \(r.valid) valid, \(r.disagreements) disagreements, merges \(r.merges), boundary \(r.boundary), cut \(r.cut), re-encoded \(r.undecided)")
            #expect(r.disagreements == 0, "\(path): disagreeing pairs \(r.examples)")
            #expect(r.undecided == 0)
            // Both answers occur, and the merge rule decided a share of them (all with onePiece).
            #expect(r.valid > 0 && r.valid < r.pairs)
            #expect(onePiece ? r.merges == r.pairs : r.merges > 1000 && r.boundary > 1000)
        }
    }

    /// Hand-checked pairs on cl100k: a merge across the boundary, the pre-tokenizer's cut, and
    /// BPE's tie rule on a repeated byte ("aaa" is [aa, a], so a·aa is not canonical).
    @Test func structuralCheckKnownPairs() throws {
        let space = try Spaces.shared.get("models/cl100k_base.tiktoken")
        let tok = space.tokenizer
        func id(_ s: String) throws -> TokenID {
            let e = try tok.encode(s, policy: .ordinary)
            try #require(e.count == 1, "\(s) is not one token")
            return e[0]
        }
        func valid(_ a: String, _ b: String) throws -> Bool? { space.pairValidStructural(try id(a), try id(b)) }
        #expect(try valid("hel", "lo") == false)       // "hello" is one token
        #expect(try valid("hello", " world") == true)  // the pre-tokenizer cuts between them
        #expect(try valid(" ", "hello") == false)      // " hello" is one piece and one token
        #expect(try valid("a", "aa") == false)         // leftmost of equal ranks merges first
        #expect(try valid("aa", "a") == (try tok.encode("aaa", policy: .ordinary) == [try id("aa"), try id("a")]))
        #expect(try valid("x", "  ") == true)          // \s+(?!\S) keeps trailing spaces whole at the end
        #expect(try valid("  ", "x") == false)         // before a letter the run is cut: " " + " x"
    }

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
