import Foundation
import TokenKitCore
import TokenKitModels

extension SentencePieceModel {
    /// spm's normalizer: user-defined pieces kept as they are, the precompiled charsmap
    /// (longest match; invalid UTF-8 becomes U+FFFD one byte at a time), leading, trailing and
    /// repeated spaces removed (remove_extra_whitespaces), the dummy prefix, and spaces
    /// escaped as U+2581.
    public func normalize(_ text: [UInt8]) -> [UInt8] { compiled.normalize(text) }

    /// The ids `sp.encode(text)` gives (no bos/eos, no sampling).
    public func encode(_ text: [UInt8]) -> [TokenID] {
        var out: [TokenID] = []
        text.withUnsafeBufferPointer { encode($0, into: &out) }
        return out
    }

    /// Appends the ids `sp.encode(text)` gives to `out`.
    public func encode(_ text: UnsafeBufferPointer<UInt8>, into out: inout [TokenID]) {
        let normalized = compiled.normalize(text)
        let first = out.count
        normalized.withUnsafeBufferPointer { t in
            switch compiled.modelType {
            case .unigram: compiled.unigram.encode(t, into: &out)
            case .bpe:
                var none = SplitMix64(seed: 0)
                compiled.bpe(t, alpha: 0, rng: &none, into: &out)
            case .word, .char: compiled.wordOrChar(t, into: &out)
            }
        }
        compiled.fuseUnknown(&out, from: first)
    }

    /// A sampled encoding, with spm's `encode(..., enable_sampling=True, alpha, nbest_size)`
    /// semantics. Unigram: `nbestSize < 0` samples from all segmentations (∝ P^alpha),
    /// `nbestSize > 1` among the n best, 0/1 is `encode`. BPE: BPE-dropout, each merge skipped
    /// with probability `alpha` (nbestSize is ignored).
    public func encode(_ text: [UInt8], alpha: Double, nbestSize: Int,
                       using rng: inout some RandomNumberGenerator) -> [TokenID] {
        let normalized = compiled.normalize(text)
        switch compiled.modelType {
        case .unigram:
            return compiled.unigram.sample(normalized, alpha: alpha, nbestSize: min(nbestSize, 512), using: &rng)
        case .bpe:
            var out: [TokenID] = []
            normalized.withUnsafeBufferPointer { t in compiled.bpe(t, alpha: alpha, rng: &rng, into: &out) }
            compiled.fuseUnknown(&out)
            return out
        case .word, .char:
            return encode(text)
        }
    }

    /// The `count` best encodings, best first (`sp.nbest_encode_as_ids`); Unigram models only,
    /// other types give their one encoding.
    public func nbest(_ text: [UInt8], count: Int) -> [[TokenID]] {
        nbestWithScores(text, count: count).map(\.ids)
    }

    public func nbestWithScores(_ text: [UInt8], count: Int) -> [(ids: [TokenID], score: Double)] {
        guard compiled.modelType == .unigram else { return [(encode(text), 0)] }
        return compiled.unigram.nbest(compiled.normalize(text), count: count)
    }

    /// The text of `ids`, as `sp.decode`: control pieces vanish, the unknown piece becomes
    /// `trainer_spec.unk_surface` (" ⁇ "), U+2581 becomes a space, the dummy-prefix space of the
    /// first piece is dropped, and byte pieces give their bytes (raw, never U+FFFD).
    public func decode(_ ids: [TokenID]) throws -> [UInt8] {
        var out: [UInt8] = []
        var isBosWS = true
        var bosWSSeen = false
        let space = Compiled.space
        let stripLeading = normalizerSpec.addDummyPrefix || normalizerSpec.removeExtraWhitespaces
        let removeExtra = normalizerSpec.removeExtraWhitespaces
        for raw in ids {
            guard Int(raw) < pieces.count else {
                throw TokenKitError.badInput("id \(raw) is out of range (vocabulary size \(pieces.count))")
            }
            let piece = pieces[Int(raw)].bytes
            let id = pieceToID(piece)
            let type = compiled.type(id) ?? .normal
            if type == .byte {
                if let b = byteValue(piece) { out.append(b) }
                continue
            }
            if bosWSSeen || !out.isEmpty { isBosWS = false }
            switch type {
            case .control:
                bosWSSeen = false
            case .unknown:
                out.append(contentsOf: compiled.unkSurface)
                bosWSSeen = false
            default:
                var start = 0
                var hasBosWS = false
                if isBosWS && stripLeading && piece.starts(with: space) {
                    start = 3
                    hasBosWS = !removeExtra
                }
                var k = start
                while k < piece.count {
                    if k + 3 <= piece.count && piece[k] == 0xE2 && piece[k + 1] == 0x96 && piece[k + 2] == 0x81 {
                        out.append(0x20)
                        k += 3
                    } else {
                        out.append(piece[k])
                        k += 1
                    }
                }
                bosWSSeen = hasBosWS
            }
        }
        return out
    }

    /// The piece of an id, or nil when out of range.
    public func piece(_ id: TokenID) -> Piece? { Int(id) < pieces.count ? pieces[Int(id)] : nil }
}

extension Compiled {
    // MARK: BPE (bpe_model.cc)

    struct Symbol {
        var prev: Int32
        var next: Int32
        var start: Int32
        var len: Int32
        var freeze: Bool
    }

    struct Pair: Comparable {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32
        /// Higher score first, then the leftmost.
        static func < (a: Pair, b: Pair) -> Bool { a.score > b.score || (a.score == b.score && a.left < b.left) }
    }

    /// spm's BPE: merge the adjacent pair whose merged piece has the highest score (leftmost
    /// on ties) until none is a piece; user-defined pieces are never merged; with `alpha > 0`
    /// each merge is skipped with that probability (BPE-dropout).
    func bpe<G: RandomNumberGenerator>(_ t: UnsafeBufferPointer<UInt8>, alpha: Double, rng: inout G,
                                       into out: inout [TokenID]) {
        let n = t.count
        if n == 0 { return }
        var work = BPEWork()
        if !bpeSegmentable || alpha > 0 {
            bpeSegment(t, 0, n, alpha: alpha, rng: &rng, work: &work, into: &out)
            return
        }
        // No piece has U+2581 after another character, so no merge crosses the start of a
        // "▁…" word: encoding word by word (a run of ▁ stays with the word after it) gives the
        // same result with small heaps; words repeat, so long texts go through a word cache.
        var cache = n > 4096 ? WordCache() : nil
        MetaspaceWords.forEach(t) { w in
            if cache != nil {
                cache!.encode(UnsafeBufferPointer(rebasing: t[w]), into: &out) { o in
                    bpeSegment(t, w.lowerBound, w.upperBound, alpha: 0, rng: &rng, work: &work, into: &o)
                }
            } else {
                bpeSegment(t, w.lowerBound, w.upperBound, alpha: 0, rng: &rng, work: &work, into: &out)
            }
        }
    }

    struct BPEWork {
        var symbols: [Symbol] = []
        var heap = MinHeap<Pair>()
        var revMerge: [[UInt8]: ([UInt8], [UInt8])] = [:]
    }

    @inline(__always)
    func bpeAdd(_ l: Int32, _ r: Int32, _ t: UnsafeBufferPointer<UInt8>, _ work: inout BPEWork) {
        if l < 0 || r < 0 { return }
        let a = work.symbols[Int(l)], b = work.symbols[Int(r)]
        if a.freeze || b.freeze { return }
        let s = Int(a.start), e = Int(a.start + a.len + b.len)
        guard let id = normal.lookup(UnsafeBufferPointer(rebasing: t[s..<e])) else { return }
        work.heap.push(Pair(score: scores[Int(id)], left: l, right: r, size: Int32(e - s)))
        if types[Int(id)] == 5 {
            work.revMerge[Array(t[s..<e])] = (Array(t[s..<(s + Int(a.len))]), Array(t[(s + Int(a.len))..<e]))
        }
    }

    /// spm's BPE on `t[lo..<hi]`.
    func bpeSegment<G: RandomNumberGenerator>(_ t: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int, alpha: Double,
                                              rng: inout G, work: inout BPEWork, into out: inout [TokenID]) {
        work.symbols.removeAll(keepingCapacity: true)
        work.heap.removeAll(keepingCapacity: true)
        var i = lo
        while i < hi {
            var len = min(oneCharLen(t[i]), hi - i)
            var freeze = false
            if !userDefined.isEmpty, let m = userDefined.longestPrefix(t, i, hi) {
                len = m.length
                freeze = true
            }
            let k = Int32(work.symbols.count)
            work.symbols.append(Symbol(prev: k - 1, next: i + len < hi ? k + 1 : -1, start: Int32(i), len: Int32(len), freeze: freeze))
            i += len
        }
        let count = work.symbols.count
        if count == 0 { return }
        for k in 1..<max(1, count) { bpeAdd(Int32(k - 1), Int32(k), t, &work) }
        while let top = work.heap.pop() {
            let l = Int(top.left), r = Int(top.right)
            let ll = work.symbols[l].len, rl = work.symbols[r].len
            if ll == 0 || rl == 0 || ll + rl != top.size { continue }
            if alpha > 0 {
                if alpha >= 1 { continue }
                let u = Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
                if u < alpha { continue }
            }
            let next = work.symbols[r].next
            work.symbols[l].len = ll + rl
            work.symbols[l].next = next
            if next >= 0 { work.symbols[Int(next)].prev = Int32(l) }
            work.symbols[r].len = 0
            bpeAdd(work.symbols[l].prev, Int32(l), t, &work)
            bpeAdd(Int32(l), next, t, &work)
        }
        var k: Int32 = 0
        while k >= 0 {
            let s = work.symbols[Int(k)]
            let piece = UnsafeBufferPointer(rebasing: t[Int(s.start)..<Int(s.start + s.len)])
            if work.revMerge.isEmpty {
                emit(pieceToID(piece), piece, into: &out)
            } else {
                resegment(piece, work.revMerge, t, Int(s.start), into: &out)
            }
            k = s.next
        }
    }

    func resegment(_ w: UnsafeBufferPointer<UInt8>, _ revMerge: [[UInt8]: ([UInt8], [UInt8])],
                   _ t: UnsafeBufferPointer<UInt8>, _ start: Int, into out: inout [TokenID]) {
        let id = pieceToID(w)
        if id >= 0 && types[id] == 5, let (a, b) = revMerge[Array(w)] {
            a.withUnsafeBufferPointer { resegment($0, revMerge, t, start, into: &out) }
            b.withUnsafeBufferPointer { resegment($0, revMerge, t, start, into: &out) }
            return
        }
        emit(id, w, into: &out)
    }

    /// Appends `id`, or the byte pieces of `w` when `id` is the unknown piece and byte fallback is on.
    @inline(__always)
    func emit(_ id: Int, _ w: UnsafeBufferPointer<UInt8>, into out: inout [TokenID]) {
        if id >= 0, id == unkID, let b = byteIDs {
            for c in w { out.append(TokenID(truncatingIfNeeded: b[Int(c)])) }
        } else {
            out.append(TokenID(truncatingIfNeeded: id))
        }
    }

    /// spm merges a run of unknown pieces into one (without byte fallback).
    func fuseUnknown(_ out: inout [TokenID], from first: Int = 0) {
        guard byteIDs == nil, modelType != .unigram, let u = unkID else { return }
        fuseUnknownRuns(&out, from: first, unk: TokenID(u))
    }

    // MARK: WORD and CHAR models

    func wordOrChar(_ t: UnsafeBufferPointer<UInt8>, into out: inout [TokenID]) {
        let n = t.count
        var i = 0
        if modelType == .char {
            while i < n {
                let len = min(oneCharLen(t[i]), n - i)
                let w = UnsafeBufferPointer(rebasing: t[i..<(i + len)])
                emit(pieceToID(w), w, into: &out)
                i += len
            }
            return
        }
        // spm's SplitIntoWords: a new word at the start and before each U+2581.
        var wordStart = 0
        while i < n {
            let len = min(oneCharLen(t[i]), n - i)
            let isWS = len == 3 && t[i] == 0xE2 && t[i + 1] == 0x96 && t[i + 2] == 0x81
            if isWS && i > wordStart {
                let w = UnsafeBufferPointer(rebasing: t[wordStart..<i])
                emit(pieceToID(w), w, into: &out)
                wordStart = i
            }
            i += len
        }
        if wordStart < n {
            let w = UnsafeBufferPointer(rebasing: t[wordStart..<n])
            emit(pieceToID(w), w, into: &out)
        }
    }
}

