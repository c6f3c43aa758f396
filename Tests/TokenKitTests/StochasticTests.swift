import Foundation
import Testing
import TokenKit
import TokenKitCore
@testable import TokenKitModels

/// StochasTok, BPE-dropout and seeds (issue 5).
@Suite struct StochasticTests {
    /// a=0, b=1, ab=2, with the single merge a+b.
    func tinyModel() throws -> BPEModel {
        let entries: [([UInt8], TokenID)] = [([UInt8(ascii: "a")], 0), ([UInt8(ascii: "b")], 1), (Array("ab".utf8), 2)]
        let vocab = try TokenTable(entries)
        return BPEModel(vocab: vocab, merges: [(0, 1, 2)], symbols: .bytes, wholePieceFirst: false)
    }

    /// The paper's procedure written plainly (array insertion), as the reference: the Fenwick-tree
    /// version must give identical output for the same random stream.
    func naiveExpand(_ ids: [TokenID], table: StochasTok, p: Double, rng: inout SplitMix64) -> [TokenID] {
        var seq = ids
        for _ in 0..<Int(p * Double(ids.count)) {
            let k = Int(rng.next() % UInt64(seq.count))
            let count = table.splitCount(seq[k])
            if count == 0 { continue }
            let (a, b) = table.splits(seq[k])[Int(rng.next() % UInt64(count))]
            seq[k] = a
            seq.insert(b, at: k + 1)
        }
        return seq
    }

    @Test func splitTableListsEverySplit() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        let table = tok.makeStochasTok()
        let hello = try tok.encode(" hello")[0]
        let splits = table.splits(hello).map { String(decoding: tok.vocab.bytes($0.0) + [0x7C] + tok.vocab.bytes($0.1), as: UTF8.self) }
        #expect(Set(splits) == [" |hello", " h|ello", " he|llo", " hel|lo", " hell|o"])
        // Single bytes cannot be split.
        #expect(table.splitCount(try tok.encode("a")[0]) == 0)
    }

    /// `expand` draws its attempts in continuous time; its outputs must follow the same law as
    /// the paper's procedure made attempt by attempt (`naiveExpand`): every outcome's frequency
    /// within 5 standard errors, on short sequences where outcomes can be counted.
    @Test func expandFollowsTheReferenceProcedure() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        let table = tok.makeStochasTok()
        let trials = 30_000
        for (text, p) in [(" hello world", 1.0), (" the representation of", 0.67), ("a bc def", 1.0)] {
            let ids = try tok.encode(text)
            var counts: [[[TokenID]: Int]] = [[:], [:]]
            var r1 = SplitMix64(seed: 21), r2 = SplitMix64(seed: 22)
            for _ in 0..<trials {
                var fast = ids
                table.expand(&fast, p: p, using: &r1)
                counts[0][fast, default: 0] += 1
                counts[1][naiveExpand(ids, table: table, p: p, rng: &r2), default: 0] += 1
            }
            for outcome in Set(counts[0].keys).union(counts[1].keys) {
                let a = Double(counts[0][outcome] ?? 0) / Double(trials), b = Double(counts[1][outcome] ?? 0) / Double(trials)
                let sigma = ((a * (1 - a) + b * (1 - b)) / Double(trials)).squareRoot()
                #expect(abs(a - b) <= 5 * sigma + 2 / Double(trials), "\(text.debugDescription) \(outcome): \(a) vs \(b)")
            }
        }
    }

    /// Long sequences: the number of parts after expansion has the reference's mean and spread,
    /// including a vocabulary with tokens longer than 255 bytes and rates that need a second
    /// horizon.
    @Test func expandMatchesTheReferenceOnLongSequences() throws {
        let lengths = [1, 2, 3, 100, 200, 300]
        let vocab = try TokenTable(lengths.enumerated().map { ([UInt8](repeating: UInt8(ascii: "a"), count: $0.element), TokenID($0.offset)) })
        let long = StochasTok(vocab: vocab)
        #expect(long.splitCount(5) == 2)  // 300 = 100 + 200 = 200 + 100
        var rng = SplitMix64(seed: 9)
        let ids = (0..<500).map { _ in TokenID(rng.next() % 6) }
        for (p, horizon) in [(0.1, 1.0), (0.9, 1.0), (0.9, 0.05), (3.0, 0.3)] {
            var stats: [[Double]] = [[], []]
            var r1 = SplitMix64(seed: 31), r2 = SplitMix64(seed: 32)
            for _ in 0..<400 {
                var fast = ids
                long.expand(&fast, p: p, firstHorizon: horizon, using: &r1)
                #expect(fast.map { vocab.length($0) }.reduce(0, +) == ids.map { vocab.length($0) }.reduce(0, +))
                stats[0].append(Double(fast.count))
                stats[1].append(Double(naiveExpand(ids, table: long, p: p, rng: &r2).count))
            }
            let mean = stats.map { $0.reduce(0, +) / Double($0.count) }
            let variance = stats.enumerated().map { k, v in v.reduce(0) { $0 + ($1 - mean[k]) * ($1 - mean[k]) } / Double(v.count - 1) }
            let se = ((variance[0] + variance[1]) / 400).squareRoot()
            #expect(abs(mean[0] - mean[1]) <= 5 * se + 1e-9, "p = \(p): \(mean[0]) vs \(mean[1])")
            #expect(abs(variance[0].squareRoot() - variance[1].squareRoot()) <= 0.25 * variance[1].squareRoot() + 1, "p = \(p): sd")
        }
    }

    @Test(arguments: [0.05, 0.1, 0.5])
    func decodeOfStochasticEncodingIsTheText(_ p: Double) throws {
        for model in ["models/cl100k_base.tiktoken", "models/llama2-spm/tokenizer.json"] {
            let tok = try Models.shared.get(model)
            let table = tok.makeStochasTok()
            var rng = SplitMix64(seed: 17)
            for _ in 0..<100 {
                let text = Array(randomText(&rng, length: Int(rng.next() % 60)).utf8)
                let plain = try tok.encode(text, policy: .ordinary)
                var ids = plain
                table.expand(&ids, p: p, using: &rng)
                #expect(try tok.decode(ids) == (try tok.decode(plain)))
                #expect(ids.allSatisfy { tok.vocab.contains($0) })
                // Dropout too.
                let ws = Tokenizer.Workspace()
                ws.dropout = p
                ws.rng = SplitMix64(seed: rng.next())
                var dropped: [TokenID] = []
                try text.withUnsafeBufferPointer { try tok.encode($0, policy: .ordinary, at: .init(), workspace: ws, into: &dropped) }
                #expect(try tok.decode(dropped) == (try tok.decode(plain)))
            }
        }
    }

    @Test func unsplittableTokensStayUnchanged() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        let table = tok.makeStochasTok()
        let bytes = try tok.encode("a b c d e f g h") // single-letter tokens: " b" is splittable, "a" is not
        var ids = [bytes[0]] + [bytes[0]] + [bytes[0]]
        var rng = SplitMix64(seed: 1)
        table.expand(&ids, p: 1.0, using: &rng)
        #expect(ids == [bytes[0], bytes[0], bytes[0]])
    }

    /// With n copies of "ab" (split only as a+b), the expected number of successful splits after
    /// k attempts follows from: with j splits done, an attempt succeeds with chance (n-j)/(n+j).
    @Test func splitRateMatchesP() throws {
        let model = try tinyModel()
        let table = StochasTok(vocab: model.vocab)
        let n = 400, p = 0.25, k = Int(p * Double(n))
        var dist = [Double](repeating: 0, count: k + 1)
        dist[0] = 1
        for _ in 0..<k {
            var next = [Double](repeating: 0, count: k + 1)
            for j in 0...k where dist[j] > 0 {
                let s = Double(n - j) / Double(n + j)
                next[min(j + 1, k)] += dist[j] * s
                next[j] += dist[j] * (1 - s)
            }
            dist = next
        }
        let mean = dist.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
        let variance = dist.enumerated().reduce(0) { $0 + pow(Double($1.offset) - mean, 2) * $1.element }
        var rng = SplitMix64(seed: 99)
        let runs = 400
        var total = 0.0
        for _ in 0..<runs {
            var ids = [TokenID](repeating: 2, count: n)
            table.expand(&ids, p: p, using: &rng)
            total += Double(ids.count - n)
        }
        let observed = total / Double(runs)
        #expect(abs(observed - mean) < 4 * (variance / Double(runs)).squareRoot() + 1e-9, "observed \(observed), expected \(mean)")
    }

    /// "ab" has one merge: dropout leaves it unmerged with probability p.
    @Test func dropoutRateMatchesP() throws {
        let model = try tinyModel()
        var scratch = BPEScratch()
        scratch.dropout = 0.3
        scratch.rng = SplitMix64(seed: 5)
        let trials = 20000
        var unmerged = 0
        for _ in 0..<trials {
            var out: [TokenID] = []
            Array("ab".utf8).withUnsafeBufferPointer { model.encode($0, into: &out, scratch: &scratch) }
            if out == [0, 1] { unmerged += 1 } else { #expect(out == [2]) }
        }
        let rate = Double(unmerged) / Double(trials)
        let sigma = (0.3 * 0.7 / Double(trials)).squareRoot()
        #expect(abs(rate - 0.3) < 4 * sigma, "rate \(rate)")
    }

    /// The dropout shortcut for self-merging tokens (one draw for "whole", then the first skip
    /// from its conditional law and the merges before it from a cached trace) must sample the
    /// same distribution as one draw per merge. Compared outcome by outcome on real pieces, and
    /// against the exact law on a piece whose outcomes can be counted by hand.
    @Test func dropoutShortcutMatchesDrawPerMerge() throws {
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        let p = 0.25, trials = 40_000
        for text in [" the", " international", "hello", " representation"] {
            let piece = Array(text.utf8)
            var counts: [[[TokenID]: Int]] = [[:], [:]]
            for (k, direct) in [false, true].enumerated() {
                var scratch = BPEScratch()
                scratch.dropout = p
                scratch.direct = direct
                scratch.rng = SplitMix64(seed: 11 + UInt64(k))
                for _ in 0..<trials {
                    var out: [TokenID] = []
                    piece.withUnsafeBufferPointer { tok.model.bpe!.encode($0, into: &out, scratch: &scratch) }
                    #expect(try tok.decode(out) == piece)
                    counts[k][out, default: 0] += 1
                }
            }
            for outcome in Set(counts[0].keys).union(counts[1].keys) {
                let a = Double(counts[0][outcome] ?? 0) / Double(trials), b = Double(counts[1][outcome] ?? 0) / Double(trials)
                let sigma = ((a * (1 - a) + b * (1 - b)) / Double(trials)).squareRoot()
                #expect(abs(a - b) <= 5 * sigma + 2 / Double(trials), "\(text.debugDescription) \(outcome): \(a) vs \(b)")
            }
        }
        // a, b, c, ab, abc with merges a+b, ab+c: "abc" comes out whole only if neither merge is
        // skipped, [ab, c] if only the second is, and [a, b, c] if the first is (b+c is no merge).
        let entries: [([UInt8], TokenID)] = [(Array("a".utf8), 0), (Array("b".utf8), 1), (Array("c".utf8), 2),
                                             (Array("ab".utf8), 3), (Array("abc".utf8), 4)]
        let vocab = try TokenTable(entries)
        let tiny = BPEModel(vocab: vocab, merges: [(0, 1, 3), (3, 2, 4)], symbols: .bytes, wholePieceFirst: false)
        var scratch = BPEScratch()
        scratch.dropout = p
        scratch.rng = SplitMix64(seed: 3)
        var seen: [[TokenID]: Int] = [:]
        for _ in 0..<trials {
            var out: [TokenID] = []
            Array("abc".utf8).withUnsafeBufferPointer { tiny.encode($0, into: &out, scratch: &scratch) }
            seen[out, default: 0] += 1
        }
        for (outcome, expected) in [([TokenID(4)], (1 - p) * (1 - p)), ([3, 2], (1 - p) * p), ([0, 1, 2], p)] {
            let observed = Double(seen[outcome] ?? 0) / Double(trials)
            #expect(abs(observed - expected) <= 5 * (expected * (1 - expected) / Double(trials)).squareRoot(),
                    "\(outcome): \(observed), expected \(expected)")
        }
        #expect(seen.values.reduce(0, +) == trials && seen.count == 3)
    }

    /// Rank files keep each token's pair values in a table of its substrings under dropout; the
    /// same model without that (pair-table probes and the merge trace) must give the same ids
    /// from the same random stream, piece by piece, on the multilingual golden text.
    @Test func dropoutSubstringTablesMatchPairProbes() throws {
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        let fast = try #require(tok.model.bpe)
        #expect(fast.pairsByConcatenation)
        let probing = BPEModel(vocab: fast.vocab, pairs: fast.pairs, mergeCount: fast.mergeCount, symbols: .bytes,
                               wholePieceFirst: true)
        #expect(!probing.pairsByConcatenation)
        let text = try readFile(fixture("text/golden.txt"))
        // Every piece twice, so both a block's first use and its reuse are compared.
        let pieces = text.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true).map { [UInt8(ascii: " ")] + $0 }
        for p in [0.1, 0.5] {
            var a = BPEScratch(), b = BPEScratch()
            a.dropout = p
            b.dropout = p
            a.rng = SplitMix64(seed: 5)
            b.rng = SplitMix64(seed: 5)
            for piece in pieces + pieces {
                var x: [TokenID] = [], y: [TokenID] = []
                piece.withUnsafeBufferPointer {
                    fast.encode($0, into: &x, scratch: &a)
                    probing.encode($0, into: &y, scratch: &b)
                }
                #expect(x == y, "p = \(p), piece \(piece)")
                #expect(try tok.decode(x) == piece)
            }
        }
    }

    @Test func seedsReproduceAcrossThreadCounts() throws {
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        let table = tok.makeStochasTok()
        var big: [UInt8] = []
        let text = try readFile(fixture("text/golden.txt"))
        for _ in 0..<4 { big += text }
        try withTempDir { dir in
            let path = dir + "/in.txt"
            try writeFileAtomically(path, big)
            func run(threads: Int, seed: UInt64, epoch: Int = 0) throws -> [TokenID] {
                var driver = EncodeDriver(tokenizer: tok, policy: .ordinary, threads: threads, lines: false)
                driver.chunkSize = 2048
                driver.sampling = .init(seed: seed, epoch: epoch, dropout: 0.1, stochasTok: table, stochasTokP: 0.1)
                var ids: [TokenID] = []
                try driver.run(path) { ids += $0.documents[0] }
                return ids
            }
            let a = try run(threads: 1, seed: 7), b = try run(threads: 2, seed: 7), c = try run(threads: 3, seed: 7)
            #expect(a == b && b == c)
            #expect(try run(threads: 2, seed: 8) != a)
            #expect(try run(threads: 2, seed: 7, epoch: 1) != a)
            #expect(try tok.decode(a) == big)
        }
    }

    @Test func splitTableForA200kVocabulary() throws {
        // o200k-sized: the cl100k vocabulary twice over (distinct ids and bytes).
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        var entries: [([UInt8], TokenID)] = []
        for id in tok.model.vocab.ids {
            entries.append((tok.model.vocab.bytes(id), id))
            entries.append(([0xFF] + tok.model.vocab.bytes(id), id + 100_256))
        }
        let table = StochasTok(vocab: try TokenTable(entries))
        #expect(table.offsets.count == 200_513)
        #expect(table.splitCount(100_256 + (try tok.encode(" hello")[0])) >= 5)
    }
}
