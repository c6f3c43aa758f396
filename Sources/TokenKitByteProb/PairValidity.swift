// "Can token b follow token a in a canonical encoding", decided from the merge structure instead
// of re-encoding the pair. The idea is the one of the `bpe` crate (github/rust-gems): BPE on the
// bytes of a·b evolves each side as BPE on that side alone until some merge joins the two sides,
// so the pair is canonical exactly when no such merge ever comes first. What follows is written
// from that argument, forward in time, with explicit ranks (HF merge lists do not rank by id).

import Foundation
import TokenKit
import TokenKitCore
import TokenKitText

/// Each token's last merge (the two parts BPE on the token's own bytes joins last, and that
/// merge's rank), the merge table, and how the tokenizer cuts a text into pieces that no merge
/// crosses.
public final class MergeStructure: @unchecked Sendable {
    /// Rank of the merge that makes the token from `parts`; -1 for an initial symbol.
    let birth: [Int32]
    /// (left part, right part); a symbol is its own parts.
    let left: [TokenID]
    let right: [TokenID]
    /// BPE merges alone turn the token's bytes into the token.
    let merges: [Bool]
    /// BPE on a piece that is exactly the token's bytes gives the token (merges, or the whole-piece
    /// lookup of tiktoken and HF `ignore_merges`).
    let pieceReach: [Bool]
    /// (left << 32 | right) → (rank << 32 | merged).
    let table: U64Map
    let wholePieceFirst: Bool
    let cutter: Cutter
    let tokenBytes: [[UInt8]]
    /// Token ids by bytes, for the whole-piece lookup.
    let lookup: (ArraySlice<UInt8>) -> TokenID?

    /// How a text is cut into pieces encoded on their own.
    enum Cutter {
        /// The tokenizer's normalizer (which must leave the text alone) and pre-tokenizer.
        case pretokenizer(Tokenizer, plainAdded: [[UInt8]])
        /// SentencePiece BPE in model space (spaces are ▁): a cut before each run of spaces,
        /// since no piece has a space after another character.
        case spaceRuns
    }

    /// Nil when the tokenizer is not one this check covers (then byteprob re-encodes pairs).
    static func make(_ tok: Tokenizer, _ bytes: [[UInt8]]) -> MergeStructure? {
        if let bpe = tok.model.bpe {
            guard bpe.isByteLevel, bpe.continuingSubwordPrefix.isEmpty, bpe.endOfWordSuffix.isEmpty else { return nil }
            let vocab = bpe.vocab
            let symbols: [TokenID?] = (0..<256).map { vocab.lookup([UInt8($0)]) }
            let initial: ([UInt8]) -> [TokenID]? = { b in
                var out: [TokenID] = []
                for c in b { guard let s = symbols[Int(c)] else { return nil }; out.append(s) }
                return out
            }
            let plain = tok.addedTokens.filter { !$0.special }.map(\.content)
            return MergeStructure(bytes: bytes, table: bpe.pairs, initial: initial, wholePieceFirst: bpe.wholePieceFirst,
                                  cutter: .pretokenizer(tok, plainAdded: plain)) { s in
                s.withUnsafeBytes { vocab.lookup($0) }
            }
        }
        if let spm = tok.sentencePiece, spm.modelType == .bpe {
            // Identity normalization only, no user-defined pieces (never merged), words that
            // never have a space after another character: then the pieces are space runs.
            guard spm.normalizerSpec.name == Array("identity".utf8),
                  !spm.pieces.contains(where: { $0.type == .userDefined }),
                  !bytes.contains(where: { b in b.indices.dropFirst().contains { b[$0] == 0x20 && b[$0 - 1] != 0x20 } })
            else { return nil }
            // Merges join two symbols whose bytes make a normal piece; the higher score first.
            var normal: [[UInt8]: TokenID] = [:]
            var scores: [Float] = []
            for (i, p) in spm.pieces.enumerated() where p.type == .normal {
                normal[bytes[i]] = TokenID(i)
                scores.append(p.score)
            }
            let distinct = Array(Set(scores)).sorted(by: >)
            var rankOf: [Float: Int] = [:]
            for (r, s) in distinct.enumerated() { rankOf[s] = r }
            var table = U64Map(capacity: normal.count * 2)
            for (b, id) in normal where b.count > 1 {
                let r = UInt64(rankOf[spm.pieces[Int(id)].score]!)
                for cut in 1..<b.count {
                    if let l = normal[Array(b[..<cut])], let rt = normal[Array(b[cut...])] {
                        table.set(UInt64(l) << 32 | UInt64(rt), r << 32 | UInt64(id))
                    }
                }
            }
            var byteToken: [TokenID?] = Array(repeating: nil, count: 256)
            for (i, p) in spm.pieces.enumerated() where p.type == .byte && bytes[i].count == 1 { byteToken[Int(bytes[i][0])] = TokenID(i) }
            // Symbols are characters; one that is not a piece is spelled with byte pieces, which never merge.
            let initial: ([UInt8]) -> [TokenID]? = { b in
                var out: [TokenID] = []
                var i = 0
                while i < b.count {
                    let c = b[i]
                    let n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2
                    guard i + n <= b.count, String(validating: b[i..<(i + n)], as: UTF8.self) != nil else { return nil }
                    if let id = normal[Array(b[i..<(i + n)])] {
                        out.append(id)
                    } else {
                        for c in b[i..<(i + n)] { guard let t = byteToken[Int(c)] else { return nil }; out.append(t) }
                    }
                    i += n
                }
                return out
            }
            return MergeStructure(bytes: bytes, table: table, initial: initial, wholePieceFirst: false, cutter: .spaceRuns) { s in
                normal[Array(s)]
            }
        }
        return nil
    }

    init(bytes: [[UInt8]], table: U64Map, initial: ([UInt8]) -> [TokenID]?, wholePieceFirst: Bool, cutter: Cutter,
         lookup: @escaping (ArraySlice<UInt8>) -> TokenID?) {
        let n = bytes.count
        var birth = [Int32](repeating: -1, count: n)
        var left = (0..<n).map { TokenID($0) }, right = left
        var merges = [Bool](repeating: false, count: n)
        // BPE on each token's own bytes (lowest rank, leftmost on ties), keeping the last merge.
        for t in 0..<n where !bytes[t].isEmpty {
            guard var syms = initial(bytes[t]) else { continue }
            var last: (l: TokenID, r: TokenID, rank: Int32)? = nil
            while syms.count > 1 {
                var best = UInt64.max, at = -1
                for i in 0..<(syms.count - 1) {
                    if let v = table.get(UInt64(syms[i]) << 32 | UInt64(syms[i + 1])), v >> 32 < best >> 32 { best = v; at = i }
                }
                if at < 0 { break }
                last = (syms[at], syms[at + 1], Int32(best >> 32))
                syms[at] = TokenID(truncatingIfNeeded: best)
                syms.remove(at: at + 1)
            }
            guard syms == [TokenID(t)] else { continue }
            merges[t] = true
            if let last { birth[t] = last.rank; left[t] = last.l; right[t] = last.r }
        }
        self.birth = birth
        self.left = left
        self.right = right
        self.merges = merges
        pieceReach = wholePieceFirst ? bytes.map { !$0.isEmpty } : merges
        self.table = table
        self.wholePieceFirst = wholePieceFirst
        self.cutter = cutter
        tokenBytes = bytes
        self.lookup = lookup
    }

    /// Whether some merge joins the two sides when BPE runs on bytes(a)·bytes(b) as one piece.
    ///
    /// Going back in time from the end, `x` and `y` are the parts of a and b that exist together,
    /// and `dx`/`dy` the ranks at which they get merged into something larger on their own side.
    /// A cross merge (x, y) of rank r happens if both exist at r: on a tie with a's own merge
    /// (same rank, to the left) a's merge goes first; on a tie with b's, the cross merge does.
    func crosses(_ a: TokenID, _ b: TokenID) -> Bool {
        var x = a, y = b
        var dx = Int64.max, dy = Int64.max
        while true {
            let bx = Int64(birth[Int(x)]), by = Int64(birth[Int(y)])
            if let v = table.get(UInt64(x) << 32 | UInt64(y)) {
                let r = Int64(v >> 32)
                if r > bx && r < dx && r > by && r <= dy { return true }
            }
            if bx < 0 && by < 0 { return false }
            if bx > by {
                dx = bx
                x = right[Int(x)]
            } else {
                dy = by
                y = left[Int(y)]
            }
        }
    }

    /// Which rule decided a pair.
    public enum Rule: Sendable {
        /// The text is not spelled back (normalizer, invalid UTF-8), or a piece ends inside a token.
        case cut
        /// A piece ends between the two tokens: each must encode to itself.
        case boundary
        /// One piece: the whole-piece lookup and the merges decide.
        case merges
        /// Not decided here (a plain added token in the text, a pre-tokenizer that rewrites bytes).
        case undecided
    }

    /// The check, and the rule that decided it (`valid` is nil when `.undecided`).
    func decide(_ a: TokenID, _ b: TokenID, workspace: TextWorkspace) -> (valid: Bool?, rule: Rule) {
        let l = tokenBytes[Int(a)], r = tokenBytes[Int(b)]
        if l.isEmpty || r.isEmpty { return (false, .cut) }
        let s = l + r
        let k = l.count
        var atBoundary = false
        switch cutter {
        case .spaceRuns:
            guard String(validating: s, as: UTF8.self) != nil else { return (false, .cut) }
            atBoundary = r[0] == 0x20 && l[k - 1] != 0x20
        case .pretokenizer(let tok, let plain):
            if let norm = tok.normalizer, norm.apply(s) != s { return (false, .cut) }
            for p in plain where s.count >= p.count && s.indices.dropLast(p.count - 1).contains(where: { s[$0..<($0 + p.count)].elementsEqual(p) }) {
                return (nil, .undecided)
            }
            guard let ends = Self.pieceEnds(tok, s, workspace) else { return (nil, .undecided) }
            for e in ends where e != k && e != s.count { return (false, .cut) }
            atBoundary = ends.contains(k)
        }
        if atBoundary { return (pieceReach[Int(a)] && pieceReach[Int(b)], .boundary) }
        if wholePieceFirst, lookup(s[...]) != nil { return (false, .merges) }
        return (merges[Int(a)] && merges[Int(b)] && !crosses(a, b), .merges)
    }

    func valid(_ a: TokenID, _ b: TokenID, workspace: TextWorkspace) -> Bool? { decide(a, b, workspace: workspace).valid }

    /// Where the pre-tokenizer ends its pieces of `s` (nil if the pieces do not tile `s`).
    static func pieceEnds(_ tok: Tokenizer, _ s: [UInt8], _ ws: TextWorkspace) -> [Int]? {
        var ends: [Int] = []
        if let scanner = tok.preTokenizer.scanner {
            s.withUnsafeBufferPointer { p in scanner.split(p) { ends.append($0) } }
            return ends
        }
        var buf = s
        var pieces = [0..<s.count]
        tok.preTokenizer.split(&buf, &pieces, first: true, workspace: ws)
        var at = 0
        for p in pieces where !p.isEmpty {
            guard p.lowerBound == at, p.upperBound <= s.count else { return nil }
            at = p.upperBound
            ends.append(at)
        }
        return at == s.count ? ends : nil
    }
}

/// The structural pair check against `encode(decode([a, b])) == [a, b]` on random pairs.
public struct PairCheckReport: Sendable {
    public var pairs = 0
    public var valid = 0
    public var disagreements = 0
    /// Pairs decided by each rule (cut, boundary, merges, undecided: re-encoded instead).
    public var cut = 0, boundary = 0, merges = 0, undecided = 0
    /// A few disagreeing pairs, for the message.
    public var examples: [[TokenID]] = []

    mutating func add(_ o: PairCheckReport) {
        pairs += o.pairs; valid += o.valid; disagreements += o.disagreements
        cut += o.cut; boundary += o.boundary; merges += o.merges; undecided += o.undecided
        examples += o.examples.prefix(max(0, 5 - examples.count))
    }
}

extension TokenSpace {
    /// Checks `count` random pairs (seeded; with `onePiece`, only pairs whose bytes form one
    /// pre-tokenizer piece, where the merges decide). Left tokens of a model with a dummy prefix
    /// start with a space, as every window byteprob encodes does.
    public func checkPairs(count: Int, seed: UInt64, onePiece: Bool = false) throws -> PairCheckReport {
        guard let structure else {
            throw TokenKitError.badInput("\(tokenizer.name): no merge structure for this tokenizer (pairs are re-encoded)")
        }
        let usable = (0..<vocabSize).filter { !tokenBytes[$0].isEmpty }.map { TokenID($0) }
        let lefts = usable.filter { tokenBytes[Int($0)].starts(with: prefix) }
        let tok = tokenizer
        let chunk = 20_000
        let chunks = (count + chunk - 1) / chunk
        var parts = [PairCheckReport](repeating: PairCheckReport(), count: chunks)
        parts.withUnsafeMutableBufferPointer { out in
        let base = out.baseAddress!
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var g = SplitMix64(seed: seed &+ UInt64(c) &* 0x9E37_79B9_7F4A_7C15)
            let ws = TextWorkspace()
            var r = PairCheckReport()
            for _ in 0..<min(chunk, count - c * chunk) {
                var a: TokenID = 0, b: TokenID = 0
                var d: (valid: Bool?, rule: MergeStructure.Rule) = (nil, .undecided)
                for _ in 0..<1000 {
                    a = lefts[Int(g.next() % UInt64(lefts.count))]
                    b = usable[Int(g.next() % UInt64(usable.count))]
                    d = structure.decide(a, b, workspace: ws)
                    if !onePiece || d.rule == .merges { break }
                }
                switch d.rule {
                case .cut: r.cut += 1
                case .boundary: r.boundary += 1
                case .merges: r.merges += 1
                case .undecided: r.undecided += 1
                }
                let got = d.valid ?? pairValidDirect(a, b)
                let want = ((try? tok.encode(tok.decode([a, b]), policy: .ordinary)) ?? []) == [a, b]
                r.pairs += 1
                if want { r.valid += 1 }
                if got != want {
                    r.disagreements += 1
                    if r.examples.count < 5 { r.examples.append([a, b]) }
                }
            }
            base[c] = r
        }
        }
        var total = PairCheckReport()
        for p in parts { total.add(p) }
        return total
    }
}
