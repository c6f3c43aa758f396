import Foundation
import TokenKitCore

/// A Unigram language-model segmenter over already-normalized text (SentencePiece's
/// `unigram_model.cc` semantics): Viterbi, n-best, and sampling.
///
/// - `encode` is spm's optimized Viterbi over byte positions: pieces found by prefix search at
///   every character start, a piece's score added in double precision to the best score so far
///   (kept in single precision), ties going to the path found first; a character no piece
///   covers becomes the unknown piece with score `min(normal scores) − 10`; USER_DEFINED pieces
///   score `byte length × max(normal score) − 0.1` so they always win.
/// - `nbest` and sampling build spm's lattice (nodes per character), where a user-defined
///   piece scores by its length in characters, and use the same A* search and heap order as
///   spm, so n-best lists (ties included) come out in the same order.
/// - Unknown pieces become byte pieces when byte fallback is on.
public struct UnigramModel: Sendable {
    package let trie: PieceTrie
    /// PieceType raw values per id (1 normal, 4 user-defined, 5 unused, …).
    package let types: [UInt8]
    package let scores: [Float]
    public let unkID: TokenID?
    package let byteIDs: [Int32]?
    package let minScore: Float
    package let maxScore: Float
    /// Every piece's bytes by id (tokenizer.json models; empty inside a SentencePiece model,
    /// which keeps its own).
    public private(set) var vocab = TokenTable()

    package static let unkPenalty: Float = 10

    /// Value flag in `trie` for USER_DEFINED pieces.
    package static let userFlag: Int32 = 1 << 30

    /// `keys`: the NORMAL, USER_DEFINED and UNUSED pieces (UNUSED ones are left out: spm skips them).
    package init(keys: [([UInt8], Int32)], types: [UInt8], scores: [Float], unkID: Int?, byteIDs: [Int32]?) {
        self.trie = PieceTrie(scored: keys.compactMap { k in
            let ty = types[Int(k.1)]
            if ty == 5 { return nil }
            return (k.0, ty == 4 ? k.1 | UnigramModel.userFlag : k.1, scores[Int(k.1)])
        })
        self.types = types
        self.scores = scores
        self.unkID = unkID.map { TokenID($0) }
        self.byteIDs = byteIDs
        var lo = Float.greatestFiniteMagnitude
        var hi = Float.leastNormalMagnitude
        for (i, t) in types.enumerated() where t == 1 {
            lo = min(lo, scores[i])
            hi = max(hi, scores[i])
        }
        if lo == .greatestFiniteMagnitude { lo = 0 }
        if hi == .leastNormalMagnitude { hi = 0 }
        minScore = lo
        maxScore = hi
    }

    /// The Hugging Face `tokenizers` flavour (tokenizer.json "Unigram" models), set by
    /// `init(vocab:unkID:byteFallback:)`: every vocabulary entry is matchable, scores are
    /// added in double precision, the unknown score is `min(all scores) − 10`, runs of unknown
    /// characters are fused into one token, which becomes byte pieces when byte fallback is on
    /// and all its bytes have one (else the unknown id).
    package struct HF: Sendable {
        var trie: PieceTrie
        package var scores: [Double]
        var minScore: Double
    }
    package var hf: HF?

    /// A model from a plain vocabulary, as in a tokenizer.json "Unigram" model (Hugging Face
    /// semantics for `encode`; `nbest` and sampling use SentencePiece's lattice with these
    /// scores). Byte pieces are the entries named `<0x00>`…`<0xFF>`.
    public init(vocab: [(piece: [UInt8], score: Double)], unkID: TokenID?, byteFallback: Bool) throws {
        var all: [([UInt8], Int32, Float)] = []
        var minScore = Double.infinity
        for (i, v) in vocab.enumerated() {
            all.append((v.piece, Int32(i), Float(v.score)))
            minScore = min(minScore, v.score)
        }
        defer {
            hf = HF(trie: PieceTrie(scored: all), scores: vocab.map(\.score), minScore: minScore.isFinite ? minScore : 0)
        }
        var keys: [([UInt8], Int32)] = []
        var types = [UInt8](repeating: 1, count: vocab.count)
        var byteIDs: [Int32]? = byteFallback ? [Int32](repeating: unkID.map { Int32($0) } ?? -1, count: 256) : nil
        for (i, v) in vocab.enumerated() {
            if let u = unkID, Int(u) == i { types[i] = 2; continue }
            if byteFallback, let b = byteValue(v.piece) {
                types[i] = 6
                byteIDs![Int(b)] = Int32(i)
                continue
            }
            keys.append((v.piece, Int32(i)))
        }
        self.init(keys: keys, types: types, scores: vocab.map { Float($0.score) },
                  unkID: unkID.map { Int($0) }, byteIDs: byteIDs)
        self.vocab = try TokenTable(vocab.enumerated().map { ($0.element.piece, TokenID($0.offset)) }, allowDuplicateBytes: true)
    }

    @inline(__always) package var unk: Int32 { unkID.map { Int32($0) } ?? -1 }

    /// Appends the id, or its bytes' ids when it is the unknown piece and byte fallback is on.
    @inline(__always)
    package func emit(_ id: Int32, _ t: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, _ out: inout [TokenID]) {
        if id == unk, let b = byteIDs {
            for k in s..<e { out.append(TokenID(truncatingIfNeeded: b[Int(t[k])])) }
        } else {
            out.append(TokenID(truncatingIfNeeded: id))
        }
    }

    // MARK: Viterbi (spm's EncodeOptimized)

    public func encode(_ normalized: [UInt8]) -> [TokenID] {
        var out: [TokenID] = []
        normalized.withUnsafeBufferPointer { encode($0, into: &out) }
        return out
    }

    package struct BestNode {
        var score: Float = 0
        var startsAt: Int32 = -1
        var id: Int32 = -1
    }

    public func encode(_ t: UnsafeBufferPointer<UInt8>, into out: inout [TokenID]) {
        let n = t.count
        if n == 0 { return }
        if let hf { return hfEncode(t, hf, into: &out) }
        let best = viterbiBest(t)
        // Backtrack, appending in reverse (bytes of an unknown piece too), then flip in place.
        let first = out.count
        let unk = self.unk
        best.withUnsafeBufferPointer { best in
            var e = n
            while e > 0 {
                let node = best[e]
                let s = Int(node.startsAt)
                if node.id == unk, let b = byteIDs {
                    var k = e - 1
                    while k >= s { out.append(TokenID(truncatingIfNeeded: b[Int(t[k])])); k -= 1 }
                } else {
                    out.append(TokenID(truncatingIfNeeded: node.id))
                }
                e = s
            }
        }
        out[first...].reverse()
        fuseUnknown(&out, from: first)
    }

    /// spm merges a run of unknown pieces into one (without byte fallback).
    package func fuseUnknown(_ out: inout [TokenID], from first: Int) {
        guard byteIDs == nil, let u = unkID, hf == nil else { return }
        fuseUnknownRuns(&out, from: first, unk: u)
    }

    // MARK: Lattice (n-best, sampling)

    package struct Lattice {
        /// Byte offset of each character start, plus the end.
        var surface: [Int] = []
        var pos: [Int32] = []
        var length: [Int32] = []
        var id: [Int32] = []
        var score: [Float] = []
        var backtrace: [Float] = []
        var beginNodes: [[Int32]] = []
        var endNodes: [[Int32]] = []
        var chars: Int { surface.count - 1 }
        static let bos: Int32 = 0
        static let eos: Int32 = 1

        mutating func newNode(pos: Int, length: Int, id: Int32, score: Float) -> Int32 {
            let k = Int32(self.pos.count)
            self.pos.append(Int32(pos))
            self.length.append(Int32(length))
            self.id.append(id)
            self.score.append(score)
            backtrace.append(0)
            return k
        }

        /// spm's Lattice::Viterbi, filling `backtrace` (the best score from BOS to each node).
        mutating func viterbi() -> [Int32] {
            for p in 0...chars {
                for r in beginNodes[p] {
                    var bestScore: Float = 0
                    var bestNode: Int32 = -1
                    for l in endNodes[p] {
                        let s = backtrace[Int(l)] + score[Int(r)]
                        if bestNode < 0 || s > bestScore {
                            bestScore = s
                            bestNode = l
                        }
                    }
                    backtrace[Int(r)] = bestScore
                    prev[Int(r)] = bestNode
                }
            }
            var path: [Int32] = []
            var node = prev[Int(Lattice.eos)]
            while node != Lattice.bos && node >= 0 {
                path.append(node)
                node = prev[Int(node)]
            }
            return path.reversed()
        }

        var prev: [Int32] = []
    }

    package func lattice(_ t: UnsafeBufferPointer<UInt8>) -> Lattice {
        var L = Lattice()
        var i = 0
        let n = t.count
        while i < n {
            L.surface.append(i)
            i += min(oneCharLen(t[i]), n - i)
        }
        L.surface.append(n)
        let len = L.chars
        L.beginNodes = Array(repeating: [], count: len + 1)
        L.endNodes = Array(repeating: [], count: len + 1)
        _ = L.newNode(pos: 0, length: 0, id: -1, score: 0)  // BOS
        _ = L.newNode(pos: len, length: 0, id: -1, score: 0)  // EOS
        L.endNodes[0].append(Lattice.bos)
        L.beginNodes[len].append(Lattice.eos)
        let unkScore = minScore - UnigramModel.unkPenalty
        for p in 0..<len {
            let begin = L.surface[p]
            var hasSingle = false
            trie.forEachPrefix(t, begin, n) { blen, value in
                // Length in characters (spm's get_chars_length).
                var q = p
                while L.surface[q] < begin + blen { q += 1 }
                let clen = q - p
                let isUser = value & UnigramModel.userFlag != 0
                let id = value & ~UnigramModel.userFlag
                let score = isUser ? Float(Double(Float(clen) * maxScore) - 0.1) : scores[Int(id)]
                let k = L.newNode(pos: p, length: clen, id: id, score: score)
                L.beginNodes[p].append(k)
                L.endNodes[p + clen].append(k)
                if clen == 1 { hasSingle = true }
            }
            if !hasSingle {
                let k = L.newNode(pos: p, length: 1, id: unk, score: unkScore)
                L.beginNodes[p].append(k)
                L.endNodes[p + 1].append(k)
            }
        }
        L.prev = Array(repeating: -1, count: L.pos.count)
        return L
    }

    /// The `count` best segmentations, best first, each with its score (spm's NBestEncode:
    /// count is clamped to 1…1024; 1 gives the Viterbi result).
    public func nbest(_ normalized: [UInt8], count: Int) -> [(ids: [TokenID], score: Double)] {
        normalized.withUnsafeBufferPointer { t in nbestSegments(t, count: count).map { segs in
            var out: [TokenID] = []
            for (s, e, id) in segs.segments { emit(id, t, s, e, &out) }
            fuseUnknown(&out, from: 0)
            return (out, segs.score)
        } }
    }

    package func nbestSegments(_ t: UnsafeBufferPointer<UInt8>, count: Int) -> [(segments: [(Int, Int, Int32)], score: Double)] {
        if t.isEmpty { return [([], 0)] }
        let count = max(1, min(count, 1024))
        if count == 1 { return [(viterbiSegments(t), 0)] }
        var L = lattice(t)
        _ = L.viterbi()
        // A* from EOS back to BOS with h = Viterbi score from BOS (exact), spm's agenda.
        var hypNode: [Int32] = []
        var hypNext: [Int32] = []
        var hypFx: [Float] = []
        var hypGx: [Float] = []
        func newHyp(_ node: Int32, _ next: Int32, _ fx: Float, _ gx: Float) -> Int32 {
            hypNode.append(node); hypNext.append(next); hypFx.append(fx); hypGx.append(gx)
            return Int32(hypNode.count - 1)
        }
        var agenda = StdHeap { hypFx[Int($0)] < hypFx[Int($1)] }
        agenda.push(newHyp(Lattice.eos, -1, L.backtrace[Int(Lattice.eos)], 0))
        var results: [(segments: [(Int, Int, Int32)], score: Double)] = []
        while let top = agenda.pop() {
            let node = hypNode[Int(top)]
            if node == Lattice.bos {
                var segs: [(Int, Int, Int32)] = []
                var h = hypNext[Int(top)]
                while h >= 0 && hypNext[Int(h)] >= 0 {
                    let nd = Int(hypNode[Int(h)])
                    let p = Int(L.pos[nd])
                    segs.append((L.surface[p], L.surface[p + Int(L.length[nd])], L.id[nd]))
                    h = hypNext[Int(h)]
                }
                results.append((segs, Double(hypFx[Int(top)])))
                if results.count == count { break }
                continue
            }
            let gx = hypGx[Int(top)]
            for l in L.endNodes[Int(L.pos[Int(node)])] {
                let h = newHyp(l, top, L.backtrace[Int(l)] + gx, L.score[Int(l)] + gx)
                agenda.push(h)
            }
            if agenda.count >= 10000 {
                var shrunk = StdHeap { hypFx[Int($0)] < hypFx[Int($1)] }
                for _ in 0..<min(512, count * 10) {
                    guard let h = agenda.pop() else { break }
                    shrunk.push(h)
                }
                agenda = shrunk
            }
        }
        return results
    }

    /// The Viterbi segmentation as (start, end, id) byte ranges, left to right.
    package func viterbiSegments(_ t: UnsafeBufferPointer<UInt8>) -> [(Int, Int, Int32)] {
        let n = t.count
        if n == 0 { return [] }
        let best = viterbiBest(t)
        var segs: [(Int, Int, Int32)] = []
        var e = n
        while e > 0 {
            let node = best[e]
            segs.append((Int(node.startsAt), e, node.id))
            e = Int(node.startsAt)
        }
        segs.reverse()
        return segs
    }

    /// Hugging Face's `encode_optimized` (Viterbi in double precision), unknown runs fused.
    package func hfEncode(_ t: UnsafeBufferPointer<UInt8>, _ hf: HF, into out: inout [TokenID]) {
        var buffers = HFBuffers()
        hfEncode(t, hf, into: &out, buffers: &buffers)
    }

    /// The arrays of `hfEncode`, kept per thread: a pre-tokenized text calls it once per word,
    /// and four allocations per word cost more than the Viterbi pass.
    package struct HFBuffers {
        var score: [Double] = []
        var from: [Int32] = []
        var ids: [Int32] = []
        var segs: [(Int, Int, Int32)] = []
        package init() {}
    }

    package func hfEncode(_ t: UnsafeBufferPointer<UInt8>, _ hf: HF, into out: inout [TokenID], buffers b: inout HFBuffers) {
        let n = t.count
        var score: [Double] = [], from: [Int32] = [], ids: [Int32] = [], segs: [(Int, Int, Int32)] = []
        swap(&score, &b.score); swap(&from, &b.from); swap(&ids, &b.ids); swap(&segs, &b.segs)
        defer { swap(&score, &b.score); swap(&from, &b.from); swap(&ids, &b.ids); swap(&segs, &b.segs) }
        score.removeAll(keepingCapacity: true)
        score.append(contentsOf: repeatElement(0, count: n + 1))
        from.removeAll(keepingCapacity: true)
        from.append(contentsOf: repeatElement(-1, count: n + 1))
        ids.removeAll(keepingCapacity: true)
        ids.append(contentsOf: repeatElement(-1, count: n + 1))
        segs.removeAll(keepingCapacity: true)
        let unkScore = hf.minScore - 10
        let unk = self.unk
        hf.scores.withUnsafeBufferPointer { scores in
            var start = 0
            while start < n {
                let till = score[start]
                let mblen = min(UTF8Scan.decode(t, start).length, n - start)
                var hasSingle = false
                hf.trie.forEachPrefix(t, start, n) { len, id in
                    let e = start + len
                    let cand = scores[Int(id)] + till
                    if from[e] == -1 || cand > score[e] {
                        score[e] = cand
                        from[e] = Int32(start)
                        ids[e] = id
                    }
                    if len == mblen { hasSingle = true }
                }
                if !hasSingle {
                    let e = start + mblen
                    let cand = unkScore + till
                    if from[e] == -1 || cand > score[e] {
                        score[e] = cand
                        from[e] = Int32(start)
                        ids[e] = unk
                    }
                }
                start += mblen
            }
        }
        var e = n
        while e > 0 {
            let s = Int(from[e])
            if ids[e] == unk, unk >= 0, let last = segs.last, last.2 == unk, last.0 == e {
                segs[segs.count - 1].0 = s  // fuse with the unknown run after it
            } else {
                segs.append((s, e, ids[e]))
            }
            e = s
        }
        for (s, e, id) in segs.reversed() {
            if id != unk || unk < 0 {
                out.append(TokenID(truncatingIfNeeded: id))
            } else if let b = byteIDs, (s..<e).allSatisfy({ b[Int(t[$0])] != unk }) {
                for k in s..<e { out.append(TokenID(truncatingIfNeeded: b[Int(t[k])])) }
            } else {
                out.append(TokenID(truncatingIfNeeded: unk))
            }
        }
    }

    /// spm's EncodeOptimized forward pass: the best path ending at each byte position.
    package func viterbiBest(_ t: UnsafeBufferPointer<UInt8>) -> [BestNode] {
        let n = t.count
        var best = [BestNode](repeating: BestNode(), count: n + 1)
        let unkScore = minScore - UnigramModel.unkPenalty
        let unk = self.unk
        let maxScore = self.maxScore
        let userFlag = UnigramModel.userFlag
        trie.units.withUnsafeBufferPointer { u in
            best.withUnsafeMutableBufferPointer { best in
                var start = 0
                while start < n {
                    let till = best[start].score
                    let tillD = Double(till)
                    let mblen = min(oneCharLen(t[start]), n - start)
                    var hasSingle = false
                    // Walk the trie from `start`; every node with a value is a piece.
                    var node = 0
                    var i = start
                    while i < n {
                        let next = Int(u[node].base) &+ Int(t[i])
                        guard next < u.count, u[next].check == Int32(node) else { break }
                        node = next
                        i += 1
                        let unit = u[node]
                        let v = unit.value
                        if v < 0 { continue }
                        let len = i - start
                        let score = v & userFlag != 0 ? Double(Float(len) * maxScore) - 0.1 : Double(unit.score)
                        let cand = score + tillD
                        if best[i].startsAt == -1 || cand > Double(best[i].score) {
                            best[i] = BestNode(score: Float(cand), startsAt: Int32(start), id: v & ~userFlag)
                        }
                        if len == mblen { hasSingle = true }
                    }
                    if !hasSingle {
                        let cand = unkScore + till
                        let e = start + mblen
                        if best[e].startsAt == -1 || cand > best[e].score {
                            best[e] = BestNode(score: cand, startsAt: Int32(start), id: unk)
                        }
                    }
                    start += mblen
                }
            }
        }
        return best
    }

    // MARK: Sampling

    /// A segmentation drawn at random, as spm's SampleEncode: `nbestSize < 0` draws from all
    /// segmentations with probability ∝ P(x)^alpha (forward filtering, backward sampling);
    /// `nbestSize > 1` draws among the n best with probability ∝ exp(alpha · score);
    /// 0 or 1 gives the Viterbi segmentation.
    public func sample(_ normalized: [UInt8], alpha: Double, nbestSize: Int,
                       using rng: inout some RandomNumberGenerator) -> [TokenID] {
        normalized.withUnsafeBufferPointer { t in
            var out: [TokenID] = []
            for (s, e, id) in sampleSegments(t, alpha: alpha, nbestSize: nbestSize, using: &rng) { emit(id, t, s, e, &out) }
            fuseUnknown(&out, from: 0)
            return out
        }
    }

    package func sampleSegments(_ t: UnsafeBufferPointer<UInt8>, alpha: Double, nbestSize: Int,
                        using rng: inout some RandomNumberGenerator) -> [(Int, Int, Int32)] {
        if nbestSize == 0 || nbestSize == 1 { return viterbiSegments(t) }
        if nbestSize > 1 {
            let list = nbestSegments(t, count: nbestSize)
            let logp = list.map { alpha * $0.score }
            let z = logSum(logp)
            let probs = logp.map { exp($0 - z) }
            return list[draw(probs, &rng)].segments
        }
        if t.isEmpty { return [] }
        let L = lattice(t)
        let theta = Float(alpha)
        // Forward algorithm: alpha[node] = log Σ over paths from BOS ending before node.
        var fwd = [Float](repeating: 0, count: L.pos.count)
        for p in 0...L.chars {
            for r in L.beginNodes[p] {
                var first = true
                for l in L.endNodes[p] {
                    let v = theta * L.score[Int(l)] + fwd[Int(l)]
                    fwd[Int(r)] = first ? v : logSumExp(fwd[Int(r)], v)
                    first = false
                }
            }
        }
        var segs: [(Int, Int, Int32)] = []
        var z = fwd[Int(Lattice.eos)]
        var node = Lattice.eos
        var probs: [Double] = []
        while true {
            let ends = L.endNodes[Int(L.pos[Int(node)])]
            probs.removeAll(keepingCapacity: true)
            for l in ends { probs.append(exp(Double(fwd[Int(l)] + theta * L.score[Int(l)] - z))) }
            node = ends[draw(probs, &rng)]
            if node == Lattice.bos { break }
            z = fwd[Int(node)]
            let p = Int(L.pos[Int(node)])
            segs.append((L.surface[p], L.surface[p + Int(L.length[Int(node)])], L.id[Int(node)]))
        }
        return segs.reversed()
    }
}

/// Replaces each run of `unk` in `out[first...]` by one `unk`.
package func fuseUnknownRuns(_ out: inout [TokenID], from first: Int, unk: TokenID) {
    var w = first
    var r = first
    while r < out.count {
        let v = out[r]
        if !(v == unk && w > first && out[w - 1] == unk) {
            out[w] = v
            w += 1
        }
        r += 1
    }
    out.removeLast(out.count - w)
}

@inline(__always)
package func logSumExp(_ x: Float, _ y: Float) -> Float {
    let (lo, hi) = x < y ? (x, y) : (y, x)
    if hi > lo + 50 { return hi }
    return hi + Float(log(exp(Double(lo - hi)) + 1.0))
}

package func logSum(_ xs: [Double]) -> Double {
    guard let m = xs.max(), m.isFinite else { return xs.max() ?? 0 }
    return m + log(xs.reduce(0) { $0 + exp($1 - m) })
}

/// An index drawn with probability proportional to `weights` (std::discrete_distribution).
package func draw(_ weights: [Double], _ rng: inout some RandomNumberGenerator) -> Int {
    let total = weights.reduce(0, +)
    guard total > 0, total.isFinite else { return 0 }
    let u = Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0) * total
    var acc = 0.0
    for (i, w) in weights.enumerated() {
        acc += w
        if u < acc { return i }
    }
    return weights.lastIndex { $0 > 0 } ?? 0
}

/// libstdc++'s std::priority_queue (push_heap / pop_heap with the same sift order), so that
/// hypotheses with equal priority come out in the same order as in spm.
package struct StdHeap {
    package var c: [Int32] = []
    package let less: (Int32, Int32) -> Bool

    package init(_ less: @escaping (Int32, Int32) -> Bool) { self.less = less }

    package var count: Int { c.count }

    package mutating func push(_ v: Int32) {
        c.append(v)
        siftUp(c.count - 1, 0, v)
    }

    private mutating func siftUp(_ hole0: Int, _ top: Int, _ v: Int32) {
        var hole = hole0
        var parent = (hole - 1) / 2
        while hole > top && less(c[parent], v) {
            c[hole] = c[parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        c[hole] = v
    }

    package mutating func pop() -> Int32? {
        guard let first = c.first else { return nil }
        let len = c.count - 1
        if len > 0 {
            let v = c[len]
            c[len] = first
            // __adjust_heap(first, 0, len, v)
            var hole = 0
            var child = 0
            while child < (len - 1) / 2 {
                child = 2 * (child + 1)
                if less(c[child], c[child - 1]) { child -= 1 }
                c[hole] = c[child]
                hole = child
            }
            if len & 1 == 0 && child == (len - 2) / 2 {
                child = 2 * (child + 1)
                c[hole] = c[child - 1]
                hole = child - 1
            }
            siftUp(hole, 0, v)
        }
        c.removeLast()
        return first
    }
}

extension UnigramModel {
    /// The compiled model (tries, scores, byte ids, vocabulary) for the model cache.
    package func write(to w: inout BinaryWriter) {
        w.array(types)
        w.array(scores)
        trie.write(to: &w)
        w.optionalU32(unkID)
        w.bool(byteIDs != nil)
        w.array(byteIDs ?? [])
        w.u32(minScore.bitPattern)
        w.u32(maxScore.bitPattern)
        vocab.write(to: &w)
        w.bool(hf != nil)
        if let hf {
            hf.trie.write(to: &w)
            w.array(hf.scores)
            w.f64(hf.minScore)
        }
    }

    /// Reads what `write(to:)` wrote; ids out of range throw.
    package init(from r: inout BinaryReader) throws {
        typealias Bad = BinaryReader.Malformed
        let types: [UInt8] = try r.array()
        let scores: [Float] = try r.array()
        let n = types.count
        guard scores.count == n else { throw Bad("unigram scores") }
        trie = try PieceTrie(from: &r, values: n, valueMask: ~UnigramModel.userFlag)
        let unk = try r.optionalU32()
        let hasBytes = try r.bool()
        let bytes: [Int32] = try r.array()
        guard unk.map({ Int($0) < n }) ?? true,
              !hasBytes || (bytes.count == 256 && bytes.allSatisfy { $0 >= -1 && Int($0) < n }) else { throw Bad("unigram ids") }
        (self.types, self.scores, unkID, byteIDs) = (types, scores, unk, hasBytes ? bytes : nil)
        minScore = Float(bitPattern: try r.u32())
        maxScore = Float(bitPattern: try r.u32())
        vocab = try TokenTable(from: &r)
        if try r.bool() {
            let t = try PieceTrie(from: &r, values: n)
            let s: [Double] = try r.array()
            guard s.count == n else { throw Bad("unigram scores") }
            hf = HF(trie: t, scores: s, minScore: try r.f64())
        }
    }
}
