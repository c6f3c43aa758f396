import TokenKitCore

/// BPE-dropout (Provilkov et al. 2020, SentencePiece's variant): when the best merge comes up
/// it is skipped with probability p and discarded. `BPEModel.encode` takes these paths when
/// `scratch.dropout > 0`; a self-merging token draws once whether it stays whole, and otherwise
/// its first skipped merge from that merge's conditional law, replaying the merges before it
/// from a per-thread trace or (for tiktoken rank models) from its substring table.
extension BPEModel {
    /// The first merge that dropout skips in a self-merging token of `length` bytes: nil when
    /// none is (probability (1 − p)^(L − 1), one draw), else J in 1…L − 1 from its conditional law.
    @inline(__always)
    func firstSkip(_ length: Int, _ scratch: inout BPEScratch) -> Int? {
        if scratch.rng.next() >> 11 < scratch.keepWhole[length] { return nil }
        let keep = 1 - scratch.dropout
        var u = scratch.rng.nextUnit() * (1 - Double(scratch.keepWhole[length]) / 9_007_199_254_740_992.0)
        var j = 1, w = scratch.dropout
        while j < length - 1, u >= w {
            u -= w
            w *= keep
            j += 1
        }
        return j
    }

    /// Where the deterministic merge trace of token `id` (bytes `piece`) starts in
    /// `scratch.trace`, or nil when its bytes do not merge back into it (a token may also merge
    /// into other tokens). Made on first use, per thread. Layout: the two tokens the last merge
    /// joins (left << 32 | right), the L − 1 initial pair values, then (position, renewed left
    /// pair value, renewed right pair value) for each of the first L − 2 merges.
    func selfMergeTrace(_ id: TokenID, _ piece: UnsafeBufferPointer<UInt8>, _ scratch: inout BPEScratch) -> Int? {
        if scratch.traceOwner !== identity {
            scratch.traceStart = [Int32](repeating: -2, count: vocab.count)
            // Room for the traces of a large vocabulary, on huge pages (they are read at random).
            scratch.trace = .onHugePages(capacity: 1 << 22)
            scratch.traceOwner = identity
        }
        let known = scratch.traceStart[Int(id)]
        if known != -2 { return known >= 0 ? Int(known) : nil }
        let base = scratch.trace.count
        scratch.symbols.removeAll(keepingCapacity: true)
        for b in piece where byteIDs[Int(b)] != BPEModel.noID { scratch.symbols.append(byteIDs[Int(b)]) }
        let n = scratch.symbols.count
        var found = false
        if n == piece.count, n >= 2, base + 4 * n < Int(Int32.max) {
            scratch.trace.append(0)
            if scratch.ranks.count < n { scratch.ranks = [UInt64](repeating: 0, count: max(n, 64)) }
            for i in 0..<(n - 1) {
                scratch.ranks[i] = pairValue(scratch.symbols[i], scratch.symbols[i + 1])
                scratch.trace.append(scratch.ranks[i])
            }
            let threshold = scratch.dropThreshold
            scratch.dropThreshold = 0
            mergeLoop(&scratch, stopAt: 2, recording: true)
            scratch.dropThreshold = threshold
            let syms = scratch.symbols
            if syms.count == 2, case let last = pairValue(syms[0], syms[1]), last != .max,
               TokenID(truncatingIfNeeded: last) == id {
                scratch.trace[base] = UInt64(syms[0]) << 32 | UInt64(syms[1])
                found = true
            }
        }
        if !found { scratch.trace.removeLast(scratch.trace.count - base) }
        scratch.traceStart[Int(id)] = found ? Int32(base) : -1
        return found ? base : nil
    }

    /// Dropout on a self-merging token whose first skipped merge is merge `j` (1 ≤ j ≤ L − 2):
    /// the j − 1 merges before it replayed from the trace, that pair discarded, and the rest
    /// merged as usual.
    func mergeAfterSkip(_ piece: UnsafeBufferPointer<UInt8>, trace base: Int, skip j: Int, _ scratch: inout BPEScratch) {
        let length = piece.count
        scratch.symbols.removeAll(keepingCapacity: true)
        for b in piece { scratch.symbols.append(byteIDs[Int(b)]) }
        if scratch.ranks.count < length { scratch.ranks = [UInt64](repeating: 0, count: max(length, 64)) }
        var n = length
        scratch.symbols.withUnsafeMutableBufferPointer { s in
            scratch.ranks.withUnsafeMutableBufferPointer { r in
                scratch.trace.withUnsafeBufferPointer { t in
                    for i in 0..<(length - 1) { r[i] = t[base + 1 + i] }
                    var rec = base + length
                    for _ in 0..<(j - 1) {
                        let at = Int(t[rec])
                        BPEModel.merge(at: at, into: TokenID(truncatingIfNeeded: r[at]), s, r, count: &n)
                        if at > 0 { r[at - 1] = t[rec + 1] }
                        if at < n - 1 { r[at] = t[rec + 2] }
                        rec += 3
                    }
                    r[Int(t[rec])] = .max
                }
            }
        }
        scratch.symbols.removeLast(length - n)
        mergeLoop(&scratch, stopAt: 1, recording: false)
    }

    // MARK: Dropout over a token's substring table (`pairsByConcatenation` models)

    /// Longest piece given dropout's one-draw shortcut (and a block, or a trace); longer ones
    /// take a draw per merge.
    static let shortcutLength = 48
    static let unresolved: UInt32 = 0xFFFF_FFFE
    static let noPair: UInt32 = .max

    /// Index of the substring [i, j) in a block's table (0 ≤ i < j ≤ L).
    @inline(__always)
    static func tri(_ i: Int, _ j: Int) -> Int { j &* (j &- 1) / 2 &+ i }

    /// Where token `id`'s dropout block starts in `scratch.blocks`, or nil when its bytes do not
    /// merge back into it. Made on first use, per thread. Layout (UInt32): the two tokens the
    /// last merge joins, the positions of the first L − 2 deterministic merges, then the table:
    /// for each substring [i, j) the token it is when two adjacent symbols spanning it merge, or
    /// `noPair`. Entries are filled from `pairs` the first time they are needed, so a token's
    /// later dropouts read a few cache lines of its own instead of probing the big pair table.
    func dropoutBlock(_ id: TokenID, _ piece: UnsafeBufferPointer<UInt8>, _ scratch: inout BPEScratch) -> Int? {
        if scratch.blockOwner !== identity {
            scratch.blockStart = [Int32](repeating: -2, count: vocab.count)
            scratch.selfMerging = [UInt64](repeating: 0, count: vocab.count / 64 + 1)
            // Room for the blocks of a large vocabulary, on huge pages (they are read at random).
            scratch.blocks = .onHugePages(capacity: 1 << 22)
            scratch.blockOwner = identity
        }
        let known = scratch.blockStart[Int(id)]
        if known != -2 { return known >= 0 ? Int(known) : nil }
        let length = piece.count
        let base = scratch.blocks.count
        guard base + 2 * length * length < Int(Int32.max) else { return nil }
        scratch.blocks.append(contentsOf: repeatElement(BPEModel.unresolved, count: length + length * (length + 1) / 2))
        let found = withBlockState(base, length: length, &scratch) { blk, s, r, rng in
            let t = blk + length
            for i in 0..<length {
                let b = byteIDs[Int(piece[i])]
                if b == BPEModel.noID { return false }
                t[BPEModel.tri(i, i + 1)] = b
            }
            for i in 0..<(length - 1) { r[i] = resolve(t, i, i + 1, i + 2) }
            var n = length
            mergeBlock(t, s, r, count: &n, stopAt: 2, record: blk + 2, threshold: 0, &rng)
            guard n == 2, r[0] == id else { return false }
            blk[0] = t[BPEModel.tri(0, Int(s[1]))]
            blk[1] = t[BPEModel.tri(Int(s[1]), length)]
            return true
        }
        if !found { scratch.blocks.removeLast(scratch.blocks.count - base) }
        scratch.blockStart[Int(id)] = found ? Int32(base) : -1
        if found { scratch.selfMerging[Int(id) >> 6] |= 1 << (UInt64(id) & 63) }
        return found ? base : nil
    }

    /// BPE-dropout of a self-merging token from its block once merge `j` is the first skipped:
    /// the same draws and outcomes as `mergeAfterSkip` on the trace, with pair values read from
    /// the block's table.
    @inline(__always)
    func dropoutFromBlock(_ base: Int, length: Int, skip j: Int, into out: inout [TokenID], _ scratch: inout BPEScratch) {
        if j == length - 1 {
            out.append(scratch.blocks[base])
            out.append(scratch.blocks[base + 1])
            return
        }
        let threshold = scratch.dropThreshold
        withBlockState(base, length: length, &scratch) { blk, s, r, rng in
            let t = blk + length
            var n = length
            for i in 0..<(length - 1) { r[i] = t[BPEModel.tri(i, i + 2)] }
            for m in 0..<(j - 1) { mergeSymbols(at: Int(blk[2 + m]), t, s, r, count: &n) }
            r[Int(blk[2 + j - 1])] = BPEModel.noPair
            mergeBlock(t, s, r, count: &n, stopAt: 1, record: nil, threshold: threshold, &rng)
            for k in 0..<n { out.append(t[BPEModel.tri(Int(s[k]), Int(s[k + 1]))]) }
            return true
        }
    }

    /// Runs `body` on the block at `base` of a token of `length` bytes, with symbol starts `s`
    /// (set to 0 … L), room for the pair values `r`, and the dropout stream.
    @inline(__always)
    @discardableResult
    func withBlockState(_ base: Int, length: Int, _ scratch: inout BPEScratch,
                                _ body: (UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>,
                                         inout SplitMix64) -> Bool) -> Bool {
        if scratch.blockState.isEmpty { scratch.blockState = [UInt32](repeating: 0, count: 2 * BPEModel.shortcutLength + 2) }
        return scratch.blocks.withUnsafeMutableBufferPointer { b in
            scratch.blockState.withUnsafeMutableBufferPointer { st in
                let s = st.baseAddress!, r = s + BPEModel.shortcutLength + 1
                for i in 0...length { s[i] = UInt32(i) }
                return body(b.baseAddress! + base, s, r, &scratch.rng)
            }
        }
    }

    /// The pair value of adjacent symbols [i, m) and [m, j): the table entry, filled from
    /// `pairs` on first use (the same for every m, since pairs merge by concatenation).
    @inline(__always)
    func resolve(_ t: UnsafeMutablePointer<UInt32>, _ i: Int, _ m: Int, _ j: Int) -> UInt32 {
        let k = BPEModel.tri(i, j)
        if t[k] == BPEModel.unresolved {
            let key = UInt64(t[BPEModel.tri(i, m)]) << 32 | UInt64(t[BPEModel.tri(m, j)])
            t[k] = pairs.get(key).map { TokenID(truncatingIfNeeded: $0) } ?? BPEModel.noPair
        }
        return t[k]
    }

    /// Merges symbols `at` and `at + 1` (starts `s`, pair values `r`, `n` symbols) and renews
    /// the two pair values around the new symbol.
    @inline(__always)
    func mergeSymbols(at: Int, _ t: UnsafeMutablePointer<UInt32>, _ s: UnsafeMutablePointer<UInt32>,
                      _ r: UnsafeMutablePointer<UInt32>, count n: inout Int) {
        var k = at + 1
        while k < n {
            s[k] = s[k + 1]
            if k < n - 1 { r[k] = r[k + 1] }
            k += 1
        }
        n -= 1
        if at > 0 { r[at - 1] = resolve(t, Int(s[at - 1]), Int(s[at]), Int(s[at + 1])) }
        if at < n - 1 { r[at] = resolve(t, Int(s[at]), Int(s[at + 1]), Int(s[at + 2])) }
    }

    /// `mergeLoop` over a block: lowest id (= rank) first, leftmost on ties, a draw per merge
    /// when `threshold > 0`; `record` receives each merge's position.
    @inline(__always)
    func mergeBlock(_ t: UnsafeMutablePointer<UInt32>, _ s: UnsafeMutablePointer<UInt32>, _ r: UnsafeMutablePointer<UInt32>,
                            count n: inout Int, stopAt: Int, record: UnsafeMutablePointer<UInt32>?, threshold: UInt64,
                            _ rng: inout SplitMix64) {
        var m = 0
        while n > stopAt {
            let at = BPEModel.lowest(r, n - 1)
            if at < 0 { break }
            if threshold > 0, rng.next() >> 11 < threshold {
                r[at] = BPEModel.noPair
                continue
            }
            mergeSymbols(at: at, t, s, r, count: &n)
            if let record {
                record[m] = UInt32(at)
                m += 1
            }
        }
    }
}
