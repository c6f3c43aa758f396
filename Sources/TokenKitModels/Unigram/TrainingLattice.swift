import Foundation

/// The lattice of one word (or piece) for Unigram training, in reusable flat buffers: nodes in
/// order of their start position, and Viterbi kept per character position (all nodes ending at
/// a position compete for it, in spm's order, first best wins).
///
/// Performance notes: spm-style per-position node lists ([[Int32]]) built anew for each word
/// spent ~40 % of training in malloc, free and reference counting.
struct TrainingLattice {
    /// Byte offset of each character start, then the end.
    private var surface: [Int32] = []
    private var nodeStart: [Int32] = []
    private var nodeEnd: [Int32] = []
    private var nodeID: [Int32] = []
    private var nodeScore: [Float] = []
    /// First node beginning at each position (nodes are grouped by start).
    private var firstNode: [Int32] = []
    private var best: [Float] = []
    private var bestNode: [Int32] = []

    var chars: Int { surface.count - 1 }
    /// Nodes on the path of the last `viterbi` call (0 when there was none).
    private(set) var pathLength = 0

    /// Fills the lattice of `t` under `model` (as `UnigramModel.lattice`).
    mutating func build(_ model: UnigramModel, _ t: UnsafeBufferPointer<UInt8>) {
        surface.removeAll(keepingCapacity: true)
        nodeStart.removeAll(keepingCapacity: true)
        nodeEnd.removeAll(keepingCapacity: true)
        nodeID.removeAll(keepingCapacity: true)
        nodeScore.removeAll(keepingCapacity: true)
        firstNode.removeAll(keepingCapacity: true)
        let n = t.count
        var i = 0
        while i < n {
            surface.append(Int32(i))
            i += min(oneCharLen(t[i]), n - i)
        }
        surface.append(Int32(n))
        let len = chars
        let unkScore = model.minScore - UnigramModel.unkPenalty
        let unk = model.unk
        surface.withUnsafeBufferPointer { s in
            for p in 0..<len {
                firstNode.append(Int32(nodeStart.count))
                let begin = Int(s[p])
                var hasSingle = false
                model.trie.forEachPrefix(t, begin, n) { blen, value in
                    var q = p
                    while Int(s[q]) < begin + blen { q += 1 }
                    let clen = q - p
                    let isUser = value & UnigramModel.userFlag != 0
                    let id = value & ~UnigramModel.userFlag
                    nodeStart.append(Int32(p))
                    nodeEnd.append(Int32(q))
                    nodeID.append(id)
                    nodeScore.append(isUser ? Float(Double(Float(clen) * model.maxScore) - 0.1) : model.scores[Int(id)])
                    if clen == 1 { hasSingle = true }
                }
                if !hasSingle {
                    nodeStart.append(Int32(p))
                    nodeEnd.append(Int32(p + 1))
                    nodeID.append(unk)
                    nodeScore.append(unkScore)
                }
            }
        }
        firstNode.append(Int32(nodeStart.count))
    }

    /// Calls `body` with the piece id of each node of the Viterbi path, in order (unknown
    /// characters give the model's unk value, -1 when it has none). Ties go to the first
    /// candidate, as in spm's Viterbi. `skipWhole` leaves out nodes spanning the whole text:
    /// when the best path is one such node, this gives the second-best segmentation.
    mutating func viterbi(skipWhole: Bool = false, _ body: (Int32) -> Void) {
        let len = chars
        pathLength = 0
        if len == 0 { return }
        if best.count < len + 1 {
            best = [Float](repeating: 0, count: len + 1)
            bestNode = [Int32](repeating: -1, count: len + 1)
        }
        let count = nodeStart.count
        best.withUnsafeMutableBufferPointer { V in
            bestNode.withUnsafeMutableBufferPointer { back in
                nodeStart.withUnsafeBufferPointer { st in
                    nodeEnd.withUnsafeBufferPointer { en in
                        nodeScore.withUnsafeBufferPointer { sc in
                            V[0] = 0
                            for q in 1...len { back[q] = -1 }
                            for k in 0..<count {
                                let q = Int(en[k])
                                if skipWhole && q == len && st[k] == 0 { continue }
                                let s = V[Int(st[k])] + sc[k]
                                if back[q] < 0 || s > V[q] {
                                    V[q] = s
                                    back[q] = Int32(k)
                                }
                            }
                        }
                    }
                }
                // Walk back from the end, then report front to back.
                var path: [Int32] = []
                var q = len
                while q > 0 {
                    let k = Int(back[q])
                    if k < 0 { return }  // no path (only when skipping the whole span)
                    path.append(Int32(k))
                    q = Int(nodeStart[k])
                }
                for k in path.reversed() { body(nodeID[Int(k)]) }
                pathLength = path.count
            }
        }
    }
}

/// log(e^x + e^y) in Float.
@inline(__always)
func logAddExp(_ x: Float, _ y: Float) -> Float {
    let (lo, hi) = x < y ? (x, y) : (y, x)
    if hi > lo + 50 { return hi }
    return hi + log1p(exp(lo - hi))
}

extension TrainingLattice {
    var nodeCount: Int { nodeStart.count }

    /// Visits the nodes in order: start and end character, piece id (unk value for unknowns).
    func forEachNode(_ body: (Int32, Int32, Int32) -> Void) {
        for k in 0..<nodeStart.count { body(nodeStart[k], nodeEnd[k], nodeID[k]) }
    }
}

/// Every word's lattice, built once from the seed pieces and afterwards only thinned as pieces
/// are dropped, for the E-steps and pruning.
///
/// Performance notes: building a lattice walks the piece trie at every character, ~35 % of an
/// E-step when done anew for each of millions of words in each of ~25 E-steps. A dropped
/// piece's nodes are removed in place; where a dropped single-character piece leaves a
/// position with no single-character node, an unknown node takes its place at the end of that
/// position's nodes, as a fresh build would put it. Nodes are kept per thread's share of the
/// words, so every pass runs on all threads without copying.
final class WordLattices: @unchecked Sendable {
    struct Shard {
        var words: Range<Int>
        /// Node offsets of each word of the shard (count + 1) and its length in characters.
        var offsets: [Int] = [0]
        var chars: [Int32] = []
        var start: [Int32] = []
        var length: [UInt16] = []
        /// Index of the piece in the current piece list, -1 for an unknown character.
        var piece: [Int32] = []
        var maxChars = 0
    }

    private var shards: [Shard]
    let freq: [Double]

    /// `model` must give piece i the id i (as `UnigramTrainer.trainingModel` does).
    init(_ model: UnigramModel, words: [[UInt8]], freq: [Double], threads: Int) {
        self.freq = freq
        let n = words.count, parts = max(1, min(threads, n))
        shards = (0..<parts).map { k in Shard(words: (n * k / parts)..<(n * (k + 1) / parts)) }
        // Two passes: count each word's nodes, then fill arrays of exactly that size (grown by
        // appending, they held up to twice the nodes, and more while being copied).
        forEachShard { s in
            var lattice = TrainingLattice()
            var total = 0
            s.offsets.reserveCapacity(s.words.count + 1)
            s.chars.reserveCapacity(s.words.count)
            for i in s.words {
                words[i].withUnsafeBufferPointer { t in lattice.build(model, t) }
                total += lattice.nodeCount
                s.offsets.append(total)
                s.chars.append(Int32(lattice.chars))
                s.maxChars = max(s.maxChars, lattice.chars)
            }
            s.start.reserveCapacity(total)
            s.length.reserveCapacity(total)
            s.piece.reserveCapacity(total)
            for i in s.words {
                words[i].withUnsafeBufferPointer { t in lattice.build(model, t) }
                lattice.forEachNode { a, b, id in
                    s.start.append(a)
                    s.length.append(UInt16(b - a))
                    s.piece.append(id)
                }
            }
        }
    }

    var nodeCount: Int { shards.reduce(0) { $0 + $1.piece.count } }

    private func forEachShard(_ body: @Sendable (inout Shard) -> Void) {
        shards.withUnsafeMutableBufferPointer { buf in
            let box = UnsafeSendable(buf)
            DispatchQueue.concurrentPerform(iterations: buf.count) { k in body(&box.value[k]) }
        }
    }

    /// Per shard, in shard order.
    private func mapShards<R>(_ body: @Sendable (Shard) -> R) -> [R] {
        let out = UnsafeMutableBufferPointer<R?>.allocate(capacity: shards.count)
        out.initialize(repeating: nil)
        defer { out.deallocate() }
        let box = UnsafeSendable(out), all = shards
        DispatchQueue.concurrentPerform(iterations: all.count) { k in box.value[k] = body(all[k]) }
        return out.map { $0! }
    }

    /// Expected count of each piece under `scores` (forward-backward over every word, as
    /// spm's PopulateMarginal), and the corpus log-likelihood Σ freq · log Z.
    ///
    /// Performance notes: in log space every node costs three exp/log calls. Words are
    /// computed with probabilities (Double) instead: a multiply-add per node, and exp only once
    /// per piece per E-step. Weights are at most 1, so only Z can lose precision, by underflow;
    /// a word whose Z falls below 1e-280 (hundreds of characters) is redone in log space.
    func expectedCounts(scores: [Float], unkScore: Float) -> ([Double], Double) {
        let freq = self.freq
        let weights = scores.map { Double(exp(Double($0))) }
        let unkWeight = exp(Double(unkScore))
        let parts = mapShards { s -> ([Double], Double) in
            var expected = [Double](repeating: 0, count: scores.count)
            var A = [Float](repeating: 0, count: s.maxChars + 1)
            var B = [Float](repeating: 0, count: s.maxChars + 1)
            var P = [Double](repeating: 0, count: s.maxChars + 1)
            var Q = [Double](repeating: 0, count: s.maxChars + 1)
            var ll = 0.0
            scores.withUnsafeBufferPointer { sc in
                s.start.withUnsafeBufferPointer { st in
                    s.length.withUnsafeBufferPointer { ln in
                        s.piece.withUnsafeBufferPointer { pc in
                            expected.withUnsafeMutableBufferPointer { e in
                                for w in 0..<s.chars.count {
                                    let len = Int(s.chars[w])
                                    if len == 0 { continue }
                                    let a = s.offsets[w], b = s.offsets[w + 1]
                                    let f = freq[s.words.lowerBound + w]
                                    linear: do {
                                        @inline(__always) func weight(_ k: Int) -> Double { pc[k] >= 0 ? weights[Int(pc[k])] : unkWeight }
                                        P[0] = 1
                                        for q in 1...len { P[q] = 0 }
                                        for k in a..<b {
                                            let p = Int(st[k])
                                            P[p + Int(ln[k])] += P[p] * weight(k)
                                        }
                                        for p in 0..<len { Q[p] = 0 }
                                        Q[len] = 1
                                        var k = b - 1
                                        while k >= a {
                                            let p = Int(st[k])
                                            Q[p] += weight(k) * Q[p + Int(ln[k])]
                                            k -= 1
                                        }
                                        let z = P[len]
                                        if !(z > 1e-280) { break linear }
                                        let scale = f / z
                                        for k in a..<b where pc[k] >= 0 {
                                            let p = Int(st[k])
                                            e[Int(pc[k])] += scale * P[p] * weights[Int(pc[k])] * Q[p + Int(ln[k])]
                                        }
                                        ll += f * log(z)
                                        continue
                                    }
                                    @inline(__always) func score(_ k: Int) -> Float { pc[k] >= 0 ? sc[Int(pc[k])] : unkScore }
                                    A[0] = 0
                                    for q in 1...len { A[q] = -.infinity }
                                    for k in a..<b {
                                        let p = Int(st[k]), q = p + Int(ln[k])
                                        let v = A[p] + score(k)
                                        A[q] = A[q] == -.infinity ? v : logAddExp(A[q], v)
                                    }
                                    for p in 0..<len { B[p] = -.infinity }
                                    B[len] = 0
                                    var k = b - 1
                                    while k >= a {  // start positions descend, so every B[end] is final
                                        let p = Int(st[k])
                                        let v = score(k) + B[p + Int(ln[k])]
                                        B[p] = B[p] == -.infinity ? v : logAddExp(B[p], v)
                                        k -= 1
                                    }
                                    let z = A[len]
                                    for k in a..<b where pc[k] >= 0 {
                                        let p = Int(st[k])
                                        e[Int(pc[k])] += f * Double(exp(A[p] + sc[Int(pc[k])] + B[p + Int(ln[k])] - z))
                                    }
                                    ll += f * Double(z)
                                }
                            }
                        }
                    }
                }
            }
            return (expected, ll)
        }
        var total = [Double](repeating: 0, count: scores.count)
        for p in parts { for i in 0..<total.count { total[i] += p.0[i] } }
        return (total, parts.reduce(0) { $0 + $1.1 })
    }

    /// How often each piece is on the Viterbi path of the words, weighted by frequency (ties
    /// to the first candidate, as spm's Viterbi).
    func viterbiCounts(scores: [Float], unkScore: Float) -> [Double] {
        let freq = self.freq
        let parts = mapShards { s -> [Double] in
            var f = [Double](repeating: 0, count: scores.count)
            var V = [Float](repeating: 0, count: s.maxChars + 1)
            var back = [Int](repeating: -1, count: s.maxChars + 1)
            for w in 0..<s.chars.count {
                let len = Int(s.chars[w])
                if len == 0 { continue }
                let a = s.offsets[w], b = s.offsets[w + 1]
                V[0] = 0
                for q in 1...len { back[q] = -1 }
                for k in a..<b {
                    let p = Int(s.start[k]), q = p + Int(s.length[k])
                    let v = V[p] + (s.piece[k] >= 0 ? scores[Int(s.piece[k])] : unkScore)
                    if back[q] < 0 || v > V[q] {
                        V[q] = v
                        back[q] = k
                    }
                }
                let weight = freq[s.words.lowerBound + w]
                var q = len
                while q > 0 {
                    let k = back[q]
                    if s.piece[k] >= 0 { f[Int(s.piece[k])] += weight }
                    q = Int(s.start[k])
                }
            }
            return f
        }
        var total = [Double](repeating: 0, count: scores.count)
        for p in parts { for i in 0..<total.count { total[i] += p[i] } }
        return total
    }

    /// Renumbers pieces by `newIndex` (old index → new, -1 = dropped) and removes the nodes of
    /// dropped pieces.
    func remap(_ newIndex: [Int32]) {
        forEachShard { s in
            var w = 0
            let words = s.chars.count
            newIndex.withUnsafeBufferPointer { map in
                s.offsets.withUnsafeMutableBufferPointer { off in
                    s.start.withUnsafeMutableBufferPointer { st in
                        s.length.withUnsafeMutableBufferPointer { ln in
                            s.piece.withUnsafeMutableBufferPointer { pc in
                                var k = 0
                                for word in 0..<words {
                                    let b = off[word + 1]
                                    while k < b {  // one start position's nodes
                                        let p = st[k]
                                        var lostSingle = false
                                        while k < b && st[k] == p {
                                            let old = pc[k]
                                            let now = old >= 0 ? map[Int(old)] : -1
                                            if old >= 0 && now < 0 {
                                                if ln[k] == 1 { lostSingle = true }
                                            } else {
                                                st[w] = p
                                                ln[w] = ln[k]
                                                pc[w] = now
                                                w += 1
                                            }
                                            k += 1
                                        }
                                        if lostSingle {
                                            st[w] = p
                                            ln[w] = 1
                                            pc[w] = -1
                                            w += 1
                                        }
                                    }
                                    off[word + 1] = w  // the old end was read before the nodes moved
                                }
                            }
                        }
                    }
                }
            }
            s.start.removeLast(s.start.count - w)
            s.length.removeLast(s.length.count - w)
            s.piece.removeLast(s.piece.count - w)
        }
    }
}

/// Hands a buffer to concurrent workers that each touch their own elements.
final class UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
