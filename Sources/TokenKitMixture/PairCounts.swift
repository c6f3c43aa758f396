import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitModels

/// The tokenizer's merges in the order they were learned, in the ids of its vocabulary, and how
/// a word becomes the initial symbols that the first merge sees.
public struct MergeList: Sendable {
    /// (left, right, merged) by rank.
    public let merges: [(TokenID, TokenID, TokenID)]
    /// Symbol ids are vocabulary ids below `tokenSpace`; ids from `tokenSpace` on stand for
    /// bytes (or characters) the vocabulary lacks, which no merge involves.
    let tokenSpace: Int
    let symbols: BPEModel.Symbols
    let vocab: TokenTable
    /// Byte → symbol for byte-level models.
    let byteSymbols: [UInt32]

    /// The merges of a loaded tokenizer. tiktoken rank files have no merge list; it is rebuilt
    /// from the ranks (each token's last merge), as tokenkit's converter does.
    public init(_ tok: Tokenizer) throws {
        guard let model = tok.model.bpe else {
            throw TokenKitError.badInput("mixture inference needs a BPE merge list; \(tok.name) is a \(tok.modelName) model")
        }
        let list = model.mergeList()
        guard !list.isEmpty else {
            throw TokenKitError.badInput("the tokenizer has no merges; mixture inference needs a BPE merge list")
        }
        merges = list
        vocab = model.vocab
        symbols = model.symbols
        var space = vocab.count
        for (a, b, m) in list { space = max(space, Int(a) + 1, Int(b) + 1, Int(m) + 1) }
        tokenSpace = space
        byteSymbols = (0..<256).map { b in model.vocab.lookup([UInt8(b)]).map { UInt32($0) } ?? UInt32(space + b) }
    }

    /// Appends the initial symbols of `word` to `out`.
    func appendSymbols(_ word: UnsafeRawBufferPointer, to out: inout [UInt32]) {
        switch symbols {
        case .bytes:
            for b in word { out.append(byteSymbols[Int(b)]) }
        case .characters:
            // One symbol per character; characters outside the vocabulary become their bytes'
            // fallback tokens when the vocabulary has them (SentencePiece byte fallback).
            let p = word.bindMemory(to: UInt8.self)
            var i = 0
            while i < p.count {
                let d = UTF8Scan.decode(p, i)
                let len = max(1, d.length)
                if let id = vocab.lookup(UnsafeRawBufferPointer(rebasing: word[i..<(i + len)])) {
                    out.append(UInt32(id))
                } else {
                    for k in i..<(i + len) {
                        let name = Array("<0x\(String(p[k], radix: 16, uppercase: true).leftPadded(2))>".utf8)
                        out.append(vocab.lookup(name).map { UInt32($0) } ?? UInt32(tokenSpace + Int(p[k])))
                    }
                }
                i += len
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// How one category's pair counts evolve as the merges are applied: the counts before the
/// first merge, then for each merge step the pairs whose count changed and by how much
/// (Hayase et al. 2024, §3.2: only pairs next to the merged pair change, a few hundred at most).
struct PairTranscript {
    /// Initial pair counts.
    var initialKeys: [UInt64] = []
    var initialCounts: [Int64] = []
    /// Changes after merge t are entries stepStart[t] ..< stepStart[t + 1].
    var stepStart: [Int] = [0]
    var keys: [UInt64] = []
    var deltas: [Int64] = []
    /// Adjacent pairs before any merge (P_i, the normalizer of the category's counts).
    var totalPairs: Int64 = 0

    /// Applies the first `steps` merges to the words, visiting only words that hold the
    /// merged pair's rarer symbol, and records each step's count changes.
    static func build(words: WordCounts, merges: MergeList, steps: Int) -> PairTranscript {
        var tr = PairTranscript()
        // 1. Words as symbol sequences in one flat array.
        let n = words.count
        var syms: [UInt32] = []
        syms.reserveCapacity(words.totalBytes)
        var start = [Int](repeating: 0, count: n + 1)
        for w in 0..<n {
            start[w] = syms.count
            words.withWord(w) { merges.appendSymbols($0, to: &syms) }
        }
        start[n] = syms.count
        var len = (0..<n).map { Int32(start[$0 + 1] - start[$0]) }
        let wordCount = words.counts

        // 2. Initial pair counts and, per symbol, the words holding it (a superset, kept lazily).
        var pairCounts = U64Map(capacity: 1 << 14)
        var holders = [[Int32]](repeating: [], count: merges.tokenSpace + 257)
        for w in 0..<n {
            let s = start[w], l = Int(len[w])
            for k in 0..<l {
                let t = Int(syms[s + k])
                if k + 1 < l {
                    let key = UInt64(t) << 32 | UInt64(syms[s + k + 1])
                    pairCounts.set(key, (pairCounts.get(key) ?? 0) &+ UInt64(wordCount[w]))
                    tr.totalPairs += wordCount[w]
                }
                if holders[t].last != Int32(w) { holders[t].append(Int32(w)) }
            }
        }
        pairCounts.forEach { key, c in
            tr.initialKeys.append(key)
            tr.initialCounts.append(Int64(bitPattern: c))
        }

        // 3. Merge step by step.
        var deltas = U64Map(capacity: 1024)
        var touched: [UInt64] = []
        func add(_ key: UInt64, _ d: Int64) {
            let old = deltas.get(key)
            if old == nil || old == 0 { touched.append(key) }
            deltas.set(key, UInt64(bitPattern: Int64(bitPattern: old ?? 0) &+ d))
        }
        for t in 0..<steps {
            let (a32, b32, c32) = merges.merges[t]
            let a = UInt32(a32), b = UInt32(b32), c = UInt32(c32)
            let pair = UInt64(a) << 32 | UInt64(b)
            let before = Int64(bitPattern: pairCounts.get(pair) ?? 0)
            if before <= 0 || Int(c) >= holders.count {
                tr.stepStart.append(tr.keys.count)
                continue
            }
            let via = holders[Int(a)].count <= holders[Int(b)].count ? Int(a) : Int(b)
            var still: [Int32] = []
            var last: Int32 = -1
            for w32 in holders[via] where w32 != last {
                last = w32
                let w = Int(w32), s = start[w], l = Int(len[w]), wc = wordCount[w]
                var read = 0, write = 0, merged = false, holds = false
                while read < l {
                    let x = syms[s + read]
                    if x == a, read + 1 < l, syms[s + read + 1] == b {
                        // The left neighbour is already rewritten; the right one is not yet.
                        if write > 0 {
                            let p = UInt64(syms[s + write - 1])
                            add(p << 32 | UInt64(a), -wc)
                            add(p << 32 | UInt64(c), wc)
                        }
                        if read + 2 < l {
                            let q = UInt64(syms[s + read + 2])
                            add(UInt64(b) << 32 | q, -wc)
                            add(UInt64(c) << 32 | q, wc)
                        }
                        syms[s + write] = c
                        write += 1
                        read += 2
                        merged = true
                    } else {
                        if x == UInt32(via) { holds = true }
                        syms[s + write] = x
                        write += 1
                        read += 1
                    }
                }
                len[w] = Int32(write)
                if merged { holders[Int(c)].append(w32) }
                if holds { still.append(w32) }
            }
            holders[via] = still
            // Every occurrence of the merged pair is gone.
            pairCounts.set(pair, 0)
            tr.keys.append(pair)
            tr.deltas.append(-before)
            for key in touched {
                let d = Int64(bitPattern: deltas.get(key) ?? 0)
                deltas.set(key, 0)
                if d == 0 || key == pair { continue }
                let updated = Int64(bitPattern: pairCounts.get(key) ?? 0) + d
                pairCounts.set(key, UInt64(bitPattern: updated))
                tr.keys.append(key)
                tr.deltas.append(d)
            }
            touched.removeAll(keepingCapacity: true)
            tr.stepStart.append(tr.keys.count)
        }
        return tr
    }

    /// The transcript of Σ_k weights[k] · parts[k] (the counts of texts are additive), rounded to
    /// whole counts. Each change is taken from the exact running sum, so rounding never drifts.
    static func combine(_ parts: [PairTranscript], weights: [Double], totalPairs: Int64, steps: Int) -> PairTranscript {
        var tr = PairTranscript()
        tr.totalPairs = totalPairs
        var exact: [UInt64: Double] = [:]
        var whole: [UInt64: Int64] = [:]
        for (part, w) in zip(parts, weights) where w > 0 {
            for (key, c) in zip(part.initialKeys, part.initialCounts) { exact[key, default: 0] += w * Double(c) }
        }
        // In key order: a dictionary's order changes from run to run, and the pairs' order decides
        // ties in the solver, so the result would too.
        for key in exact.keys.sorted() {
            let r = Int64(exact[key]!.rounded())
            whole[key] = r
            if r != 0 {
                tr.initialKeys.append(key)
                tr.initialCounts.append(r)
            }
        }
        var touched: [UInt64] = []
        for t in 0..<steps {
            for (part, w) in zip(parts, weights) where w > 0 {
                for k in part.stepStart[t]..<part.stepStart[t + 1] {
                    exact[part.keys[k], default: 0] += w * Double(part.deltas[k])
                    touched.append(part.keys[k])
                }
            }
            for key in touched {
                let r = Int64(exact[key]!.rounded()), old = whole[key] ?? 0
                if r != old {
                    whole[key] = r
                    tr.keys.append(key)
                    tr.deltas.append(r - old)
                }
            }
            touched.removeAll(keepingCapacity: true)
            tr.stepStart.append(tr.keys.count)
        }
        return tr
    }
}
