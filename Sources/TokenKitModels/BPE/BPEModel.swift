import TokenKitCore

/// Byte pair encoding (Sennrich et al. 2016; byte-level as in GPT-2, Radford et al. 2019).
///
/// A piece starts as symbols (one per byte, or one per character for SentencePiece-style
/// vocabularies) and the adjacent pair with the lowest merge rank is merged until no pair has a
/// rank; ties go to the leftmost pair. This is both tiktoken's rule (rank of the concatenated
/// bytes) and HF tokenizers' rule (rank of the pair in the merge list): the loaders express each
/// as a table from (left id, right id) to (rank, merged id).
public struct BPEModel: Sendable {
    /// How a piece becomes initial symbols.
    public enum Symbols: Sendable, Equatable {
        /// One symbol per byte (GPT-2, tiktoken, Qwen, Llama 3 …).
        case bytes
        /// One symbol per UTF-8 character (SentencePiece BPE, Llama 2); characters missing from
        /// the vocabulary become `<0xNN>` byte tokens when `byteFallback`, else `unk`.
        case characters(byteFallback: Bool, unk: TokenID?, fuseUnk: Bool)
    }

    public let vocab: TokenTable
    public let symbols: Symbols
    /// (left << 32 | right) → (rank << 32 | merged id).
    public let pairs: U64Map
    /// Number of merges (the largest rank + 1).
    public let mergeCount: Int
    /// Look the whole piece up before merging (tiktoken, and HF `ignore_merges`).
    public let wholePieceFirst: Bool
    /// Single-byte token ids for `.bytes`, and `<0xNN>` fallback ids for `.characters`.
    let byteIDs: [TokenID]
    /// HF `continuing_subword_prefix` / `end_of_word_suffix` (rare for byte-level models).
    public let continuingSubwordPrefix: [UInt8]
    public let endOfWordSuffix: [UInt8]
    /// A pair of tokens merges exactly when their concatenated bytes are a token, whose id is
    /// the merge's rank (tiktoken ranks). Dropout then keeps each token's pair values in a small
    /// table of its substrings instead of probing `pairs` (see `dropoutBlock`).
    public let pairsByConcatenation: Bool
    /// A `.characters` model none of whose tokens has ▁ after another character (SentencePiece
    /// vocabularies): no merge crosses the start of a "▁…" word, so long pieces (a whole text
    /// when there is no pre-tokenizer, as in Llama 2's tokenizer.json) are encoded word by word
    /// through a word cache, as spm's own BPE does.
    public let splitsAtMetaspace: Bool

    public static let noID = TokenID.max

    /// Identifies this model to per-thread caches in `BPEScratch` (held strongly there, so the
    /// address is not reused while a cache refers to it).
    final class Identity: Sendable {}
    let identity = Identity()

    /// - Parameter merges: (left, right, merged) ids in rank order.
    public init(vocab: TokenTable, merges: [(TokenID, TokenID, TokenID)], symbols: Symbols,
                wholePieceFirst: Bool, continuingSubwordPrefix: [UInt8] = [], endOfWordSuffix: [UInt8] = []) {
        var map = U64Map(capacity: merges.count)
        for (rank, m) in merges.enumerated() {
            let key = UInt64(m.0) << 32 | UInt64(m.1)
            // The first occurrence wins, as HF keeps the lowest rank of a repeated merge.
            if map.get(key) == nil { map.set(key, UInt64(rank) << 32 | UInt64(m.2)) }
        }
        self.init(vocab: vocab, pairs: map, mergeCount: merges.count, symbols: symbols,
                  wholePieceFirst: wholePieceFirst, continuingSubwordPrefix: continuingSubwordPrefix,
                  endOfWordSuffix: endOfWordSuffix)
    }

    public init(vocab: TokenTable, pairs: U64Map, mergeCount: Int, symbols: Symbols, wholePieceFirst: Bool,
                continuingSubwordPrefix: [UInt8] = [], endOfWordSuffix: [UInt8] = [], pairsByConcatenation: Bool = false) {
        self.vocab = vocab
        self.pairsByConcatenation = pairsByConcatenation && symbols == .bytes
            && continuingSubwordPrefix.isEmpty && endOfWordSuffix.isEmpty
        self.pairs = pairs
        self.mergeCount = mergeCount
        self.symbols = symbols
        self.wholePieceFirst = wholePieceFirst
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        var ids = [TokenID](repeating: BPEModel.noID, count: 256)
        for b in 0..<256 {
            switch symbols {
            case .bytes:
                ids[b] = vocab.lookup([UInt8(b)]) ?? BPEModel.noID
            case .characters:
                let name = Array("<0x\(hex2(UInt8(b)))>".utf8)
                ids[b] = vocab.lookup(name) ?? BPEModel.noID
            }
        }
        byteIDs = ids
        if case .characters = symbols, continuingSubwordPrefix.isEmpty, endOfWordSuffix.isEmpty,
           vocab.lookup(Array("\u{2581}".utf8)) != nil {
            // The ▁ token itself keeps unknown characters from fusing across a word start.
            splitsAtMetaspace = !(0..<vocab.count).contains { k in
                vocab.contains(TokenID(k)) && vocab.withBytes(TokenID(k)) { MetaspaceWords.joinsBeforeMetaspace($0) }
            }
        } else {
            splitsAtMetaspace = false
        }
    }

    /// A tiktoken-style model from ranks alone: every split of a token into two tokens is a
    /// merge whose rank is the rank of the whole token, so merging follows tiktoken exactly.
    public static func fromRanks(_ vocab: TokenTable) -> BPEModel {
        // The splits are gathered first so the table is sized to them: every encode probes it,
        // and a table sparser than needed spreads those probes over more cache lines.
        var splits: [(key: UInt64, id: TokenID)] = []
        // Only cuts into two lengths that some token has can name two tokens: without this
        // filter one long token would cost a hash of each of its prefixes (quadratic).
        var lengths = Set<Int>()
        for k in 0..<vocab.count where vocab.contains(TokenID(k)) { lengths.insert(vocab.length(TokenID(k))) }
        // Every token of two or more bytes is one merge of the equivalent merge list, as a
        // tokenizer.json counts them.
        var merges = 0
        for k in 0..<vocab.count {
            let id = TokenID(k)
            guard vocab.contains(id), vocab.length(id) >= 2 else { continue }
            vocab.withBytes(id) { raw in
                for cut in 1..<raw.count where lengths.contains(cut) && lengths.contains(raw.count - cut) {
                    guard let a = vocab.lookup(UnsafeRawBufferPointer(rebasing: raw[..<cut])),
                          let b = vocab.lookup(UnsafeRawBufferPointer(rebasing: raw[cut...])) else { continue }
                    splits.append((UInt64(a) << 32 | UInt64(b), id))
                }
            }
            merges += 1
        }
        var map = U64Map(capacity: splits.count)
        for s in splits { map.set(s.key, UInt64(s.id) << 32 | UInt64(s.id)) }
        return BPEModel(vocab: vocab, pairs: map, mergeCount: merges, symbols: .bytes, wholePieceFirst: true,
                        pairsByConcatenation: true)
    }

    public var isByteLevel: Bool { symbols == .bytes }

    @inline(__always)
    func rank(_ a: TokenID, _ b: TokenID) -> (rank: UInt32, id: TokenID) {
        guard let v = pairs.get(UInt64(a) << 32 | UInt64(b)) else { return (.max, 0) }
        return (UInt32(truncatingIfNeeded: v >> 32), TokenID(truncatingIfNeeded: v))
    }

    /// Merged id of a pair, if the pair is a merge.
    public func merged(_ a: TokenID, _ b: TokenID) -> TokenID? {
        let r = rank(a, b)
        return r.rank == .max ? nil : r.id
    }

    /// Merge rank of a pair, if any.
    public func mergeRank(_ a: TokenID, _ b: TokenID) -> Int? {
        let r = rank(a, b)
        return r.rank == .max ? nil : Int(r.rank)
    }

    /// Encodes one pre-tokenized piece, appending ids to `out`.
    /// Throws only for `.characters` models that meet invalid UTF-8 with no byte fallback.
    ///
    /// With `scratch.dropout > 0` this is BPE-dropout (Provilkov et al. 2020) in SentencePiece's
    /// variant: whenever the best remaining merge comes up it is skipped with probability p, and a
    /// skipped merge is discarded (it returns only if a later merge re-creates the pair).
    public func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout BPEScratch) {
        if splitsAtMetaspace, piece.count > BPEModel.wordSplitLength {
            // Dropout draws per merge, so its words are encoded every time (same distribution:
            // no merge crosses a word start), deterministic ones once per distinct word.
            let cached = scratch.dropout == 0
            var cache = cached ? WordCache() : nil
            MetaspaceWords.forEach(piece) { w in
                let word = UnsafeBufferPointer(rebasing: piece[w])
                if cached {
                    cache!.encode(word, into: &out) { encodePiece(word, into: &$0, scratch: &scratch) }
                } else {
                    encodePiece(word, into: &out, scratch: &scratch)
                }
            }
            return
        }
        if scratch.dropout == 0, piece.count >= BPEModel.cachedPieceLength {
            // Long pieces (SuperBPE's phrases, code lines, whitespace runs) cost a merge per
            // byte and repeat often enough in text that remembering their ids pays.
            if scratch.pieceCacheOwner !== identity { scratch.pieceCache = nil }
            // Taken out of the scratch while in use, since encoding needs the scratch too.
            var cache = scratch.pieceCache ?? WordCache(longest: BPEModel.wordSplitLength, byteLimit: 8 << 20)
            scratch.pieceCache = nil
            cache.encode(piece, into: &out) { encodePiece(piece, into: &$0, scratch: &scratch) }
            scratch.pieceCache = cache
            scratch.pieceCacheOwner = identity
            return
        }
        encodePiece(piece, into: &out, scratch: &scratch)
    }

    /// Pieces longer than this are cut into words when `splitsAtMetaspace`.
    static let wordSplitLength = 256
    /// Deterministic pieces of this many bytes or more go through the scratch's piece cache.
    static let cachedPieceLength = 16

    private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout BPEScratch) {
        if piece.isEmpty { return }
        let dropout = scratch.dropout > 0
        if dropout {
            if symbols == .bytes, continuingSubwordPrefix.isEmpty, endOfWordSuffix.isEmpty, piece.count <= BPEModel.shortcutLength,
               !scratch.direct, let id = vocab.lookup(UnsafeRawBufferPointer(piece)) {
                // A token whose bytes merge back into it takes L − 1 merges, and dropout returns
                // the token unless one of them is skipped: probability (1 − p)^(L − 1), one draw.
                // Otherwise the first skip J is drawn from its conditional law, and the J − 1
                // merges before it come from the token's cached deterministic trace. Same
                // distribution as a draw per merge, for a fraction of the draws and lookups.
                let length = piece.count
                if length == 1 {
                    out.append(id)
                    return
                }
                if pairsByConcatenation {
                    // A bit per token says its block exists, so the common outcome (the token
                    // whole) costs a lookup in a bitmap that stays in cache, not in `blockStart`.
                    let known = scratch.blockOwner === identity
                        && scratch.selfMerging.withUnsafeBufferPointer { $0[Int(id) >> 6] >> (UInt64(id) & 63) & 1 != 0 }
                    if known || dropoutBlock(id, piece, &scratch) != nil {
                        guard let j = firstSkip(length, &scratch) else {
                            out.append(id)
                            return
                        }
                        dropoutFromBlock(Int(scratch.blockStart[Int(id)]), length: length, skip: j, into: &out, &scratch)
                        return
                    }
                } else if let base = selfMergeTrace(id, piece, &scratch) {
                    guard let j = firstSkip(length, &scratch) else {
                        out.append(id)
                        return
                    }
                    if j == length - 1 {
                        // The last merge skipped: the two tokens it would have joined.
                        let split = scratch.trace[base]
                        out.append(TokenID(truncatingIfNeeded: split >> 32))
                        out.append(TokenID(truncatingIfNeeded: split))
                        return
                    }
                    mergeAfterSkip(piece, trace: base, skip: j, &scratch)
                    if scratch.symbols.count == 1 { out.append(scratch.symbols[0]) } else { out.append(contentsOf: scratch.symbols) }
                    return
                }
            }
        } else if wholePieceFirst, continuingSubwordPrefix.isEmpty, endOfWordSuffix.isEmpty,
                  let id = vocab.lookup(UnsafeRawBufferPointer(piece)) {
            out.append(id)
            return
        }
        scratch.symbols.removeAll(keepingCapacity: true)
        switch symbols {
        case .bytes where !continuingSubwordPrefix.isEmpty || !endOfWordSuffix.isEmpty:
            // Affixes (CLIP's "</w>"): each byte is a one-character symbol, spelled with the affix.
            var sym: [UInt8] = []
            for (k, b) in piece.enumerated() {
                sym.removeAll(keepingCapacity: true)
                if k > 0 { sym += continuingSubwordPrefix }
                sym.append(b)
                if k == piece.count - 1 { sym += endOfWordSuffix }
                if let id = vocab.lookup(sym) { scratch.symbols.append(id) }
            }
        case .bytes:
            for b in piece {
                let id = byteIDs[Int(b)]
                if id != BPEModel.noID { scratch.symbols.append(id) }
            }
        case .characters(let byteFallback, let unk, let fuseUnk):
            initialCharacters(piece, byteFallback: byteFallback, unk: unk, fuseUnk: fuseUnk, into: &scratch.symbols)
        }
        if scratch.symbols.count > 1 {
            if scratch.symbols.count <= 128 {
                mergeSmall(&scratch)
            } else if scratch.symbols.count <= BPEModel.mediumLength, scratch.dropThreshold == 0 {
                mergeMedium(&scratch)
            } else {
                mergeLarge(&scratch)
            }
        }
        // One symbol is the common result; appending a sequence costs a memmove call.
        if scratch.symbols.count == 1 { out.append(scratch.symbols[0]) } else { out.append(contentsOf: scratch.symbols) }
    }

    private func initialCharacters(_ piece: UnsafeBufferPointer<UInt8>, byteFallback: Bool, unk: TokenID?,
                                   fuseUnk: Bool, into syms: inout [TokenID]) {
        var i = 0
        // As HF: an unknown character's unk waits until the next known character (or the end),
        // so byte-fallback tokens in between come first, and fuse_unk joins across them.
        var pendingUnk = false
        let hasAffixes = !continuingSubwordPrefix.isEmpty || !endOfWordSuffix.isEmpty
        var charBuf: [UInt8] = []
        while i < piece.count {
            let len = UTF8Scan.decode(piece, i).length
            var found: TokenID?
            if hasAffixes {
                charBuf.removeAll(keepingCapacity: true)
                if i > 0 { charBuf.append(contentsOf: continuingSubwordPrefix) }
                charBuf.append(contentsOf: piece[i..<(i + len)])
                if i + len == piece.count { charBuf.append(contentsOf: endOfWordSuffix) }
                found = vocab.lookup(charBuf)
            } else {
                found = vocab.lookup(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(piece)[i..<(i + len)]))
            }
            if let id = found {
                if pendingUnk, let unk { syms.append(unk) }
                pendingUnk = false
                syms.append(id)
            } else if byteFallback, (i..<(i + len)).allSatisfy({ byteIDs[Int(piece[$0])] != BPEModel.noID }) {
                for k in i..<(i + len) { syms.append(byteIDs[Int(piece[k])]) }
            } else if let unk {
                if pendingUnk && !fuseUnk { syms.append(unk) }
                pendingUnk = true
            }
            i += len
        }
        if pendingUnk, let unk { syms.append(unk) }
    }

    @inline(__always)
    func pairValue(_ a: TokenID, _ b: TokenID) -> UInt64 {
        pairs.get(UInt64(a) << 32 | UInt64(b)) ?? .max
    }

    /// Linear-scan merging for short pieces: cache-friendly and allocation-free.
    @inline(__always)
    private func mergeSmall(_ scratch: inout BPEScratch) {
        let n = scratch.symbols.count
        if scratch.ranks.count < n { scratch.ranks = [UInt64](repeating: 0, count: max(n, 64)) }
        scratch.symbols.withUnsafeMutableBufferPointer { s in
            scratch.ranks.withUnsafeMutableBufferPointer { r in
                for i in 0..<(n - 1) { r[i] = pairValue(s[i], s[i + 1]) }
            }
        }
        mergeLoop(&scratch, stopAt: 1, recording: false)
    }

    /// Replaces s[at], s[at + 1] by `id` and closes the gap in both arrays (r[at] and the
    /// neighbours' pair values are the caller's to renew).
    @inline(__always)
    static func merge(at: Int, into id: TokenID, _ s: UnsafeMutableBufferPointer<TokenID>,
                      _ r: UnsafeMutableBufferPointer<UInt64>, count n: inout Int) {
        s[at] = id
        var k = at + 1
        while k < n - 1 {
            s[k] = s[k + 1]
            r[k] = r[k + 1]
            k += 1
        }
        n -= 1
    }

    /// Position of the lowest of `count` pair values (leftmost on ties), or -1 if all are `max`.
    @inline(__always)
    static func lowest<V: FixedWidthInteger & UnsignedInteger>(_ r: UnsafeMutablePointer<V>, _ count: Int) -> Int {
        var best = V.max, at = -1
        for i in 0..<count where r[i] < best {
            best = r[i]
            at = i
        }
        return at
    }

    /// The merging of `mergeSmall` from the state in `scratch.symbols` and `scratch.ranks`
    /// (r[i] is (rank << 32 | merged id) of the pair (s[i], s[i+1]), or max), until `stopAt`
    /// symbols are left or no pair merges. `recording` appends each merge's position and the two
    /// pair values it renews to `scratch.trace` (see `selfMergeTrace`).
    @inline(__always)
    func mergeLoop(_ scratch: inout BPEScratch, stopAt: Int, recording: Bool) {
        var n = scratch.symbols.count
        scratch.symbols.withUnsafeMutableBufferPointer { s in
            scratch.ranks.withUnsafeMutableBufferPointer { r in
                while n > stopAt {
                    let at = BPEModel.lowest(r.baseAddress!, n - 1)
                    if at < 0 { break }
                    let best = r[at]
                    // Dropout: the skipped pair is discarded until a neighbouring merge renews it,
                    // exactly as a skipped heap entry in `mergeLarge`.
                    if scratch.dropThreshold > 0, scratch.rng.next() >> 11 < scratch.dropThreshold {
                        r[at] = .max
                        continue
                    }
                    BPEModel.merge(at: at, into: TokenID(truncatingIfNeeded: best), s, r, count: &n)
                    if at > 0 { r[at - 1] = pairValue(s[at - 1], s[at]) }
                    if at < n - 1 { r[at] = pairValue(s[at], s[at + 1]) }
                    if recording {
                        scratch.trace.append(UInt64(at))
                        scratch.trace.append(at > 0 ? r[at - 1] : .max)
                        scratch.trace.append(at < n - 1 ? r[at] : .max)
                    }
                }
            }
        }
        scratch.symbols.removeLast(scratch.symbols.count - n)
    }

    /// Merging for long pieces in O(n log n): a min-heap of the distinct ranks present, each
    /// with the positions where a pair of that rank sits. All pairs of the lowest rank are merged
    /// in one left-to-right sweep, which is exactly "lowest rank, then leftmost" since a merge
    /// never creates another pair of its own rank. If a merge creates a pair of lower rank (only
    /// in vocabularies whose merges are out of order), the sweep stops and that rank goes first.
    ///
    /// Performance notes: a heap of (rank, position) entries costs a pop per merge and per stale
    /// entry; on 1 MB of one repeated letter that is ~4M heap operations. Grouping by rank turns
    /// them into ~20 sweeps over sorted position lists, 5× faster there and no slower on text.
    private func mergeLarge(_ scratch: inout BPEScratch) {
        let n = scratch.symbols.count
        scratch.prev.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.heap.removeAll(keepingCapacity: true)
        for i in 0..<n {
            scratch.prev.append(Int32(i - 1))
            scratch.next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        var lists: [UInt32: [Int32]] = [:]
        func add(_ r: UInt32, _ i: Int, _ scratch: inout BPEScratch) {
            if lists[r]?.append(Int32(i)) == nil {
                lists[r] = [Int32(i)]
                scratch.heap.push(UInt64(r))
            }
        }
        for i in 0..<(n - 1) {
            let r = rank(scratch.symbols[i], scratch.symbols[i + 1]).rank
            if r != .max { add(r, i, &scratch) }
        }
        while let top = scratch.heap.pop() {
            let r = UInt32(top)
            guard var positions = lists.removeValue(forKey: r) else { continue }
            positions.sort()
            var k = 0
            while k < positions.count {
                let i = Int(positions[k])
                k += 1
                let j = Int(scratch.next[i])
                // A merged-away symbol has prev == -2.
                if scratch.prev[i] == -2 || j < 0 { continue }
                let cur = rank(scratch.symbols[i], scratch.symbols[j])
                if cur.rank != r { continue }
                if scratch.dropThreshold > 0, scratch.rng.next() >> 11 < scratch.dropThreshold { continue }
                scratch.symbols[i] = cur.id
                let after = Int(scratch.next[j])
                scratch.next[i] = Int32(after)
                if after >= 0 { scratch.prev[after] = Int32(i) }
                scratch.prev[j] = -2
                var lower = false
                let p = Int(scratch.prev[i])
                if p >= 0 {
                    let rp = rank(scratch.symbols[p], cur.id).rank
                    if rp != .max { add(rp, p, &scratch); lower = lower || rp < r }
                }
                if after >= 0 {
                    let rn = rank(cur.id, scratch.symbols[after]).rank
                    if rn != .max { add(rn, i, &scratch); lower = lower || rn < r }
                }
                if lower, k < positions.count {
                    for q in positions[k...] { add(r, Int(q), &scratch) }
                    break
                }
            }
        }
        var w = 0
        var i = 0
        while i >= 0 && i < n {
            scratch.symbols[w] = scratch.symbols[i]
            w += 1
            i = Int(scratch.next[i])
        }
        scratch.symbols.removeLast(n - w)
    }
}

/// Reusable buffers for one thread's encoding, so the hot path does not allocate.
public struct BPEScratch {
    public var symbols: [TokenID] = []
    /// WordPiece's lookup key (prefix + candidate bytes).
    var keyBuffer: [UInt8] = []
    /// BPE-dropout probability (0 = deterministic) and its random stream.
    public var dropout = 0.0 {
        didSet {
            let p = min(max(dropout, 0), 1)
            dropThreshold = UInt64((p * 9_007_199_254_740_992.0).rounded(.up))
            var q = 1.0
            keepWhole = [UInt64((9_007_199_254_740_992.0).rounded(.down))]
            for _ in 1...BPEModel.shortcutLength {
                keepWhole.append(UInt64((q * 9_007_199_254_740_992.0).rounded(.down)))
                q *= 1 - p
            }
        }
    }
    /// keepWhole[L]: a self-merging token of L bytes comes out whole when the top 53 bits of a
    /// draw are below this, i.e. with probability (1 − p)^(L − 1).
    var keepWhole: [UInt64] = []
    /// Dropout with one draw per merge for every piece (tests compare the two paths).
    public var direct = false
    /// A merge is skipped when the top 53 bits of the next draw are below this: exactly
    /// `rng.nextUnit() < dropout`, without the conversion to Double.
    var dropThreshold: UInt64 = 0
    /// Per token id: where its merge trace starts in `trace` (-2 not yet made, -1 none), for
    /// the model `traceOwner` (see `BPEModel.selfMergeTrace`).
    var traceStart: [Int32] = []
    var trace: [UInt64] = []
    var traceOwner: AnyObject?
    /// Per token id: where its dropout block starts in `blocks` (-2 not yet made, -1 none), for
    /// the model `blockOwner` (see `BPEModel.dropoutBlock`); `blockState` holds a block's symbols.
    var blockStart: [Int32] = []
    var blocks: [UInt32] = []
    var blockOwner: AnyObject?
    var selfMerging: [UInt64] = []
    var blockState: [UInt32] = []
    public var rng = SplitMix64(seed: 0)
    var ranks: [UInt64] = []
    var prev: [Int32] = []
    var next: [Int32] = []
    var heap = MinHeap<UInt64>()
    /// Ids of long pieces already encoded by the model `pieceCacheOwner`.
    var pieceCache: WordCache?
    var pieceCacheOwner: AnyObject?
    /// Unigram (tokenizer.json) Viterbi arrays.
    var unigram = UnigramModel.HFBuffers()
    public init() {}
}

@inline(__always)
func hex2(_ b: UInt8) -> String {
    let d = Array("0123456789ABCDEF".utf8)
    return String(decoding: [d[Int(b >> 4)], d[Int(b & 15)]], as: UTF8.self)
}
