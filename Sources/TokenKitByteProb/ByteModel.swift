import Foundation
import TokenKit
import TokenKitCore
import TokenKitText

/// A probability for each next byte and for the end of the text; they sum to 1.
public struct ByteDistribution: Sendable, Equatable {
    public var probs: [Double]
    public var end: Double

    public init(probs: [Double], end: Double) {
        self.probs = probs
        self.end = end
    }

    /// The `k` most likely bytes, most likely first (ties: smaller byte first).
    public func top(_ k: Int) -> [(byte: UInt8, p: Double)] {
        var all: [(byte: UInt8, p: Double)] = []
        for b in 0..<256 where probs[b] > 0 { all.append((byte: UInt8(b), p: probs[b])) }
        all.sort { $0.p != $1.p ? $0.p > $1.p : $0.byte < $1.byte }
        return Array(all.prefix(k))
    }
}

/// One cover of the prefix: anchor tokens + `tail`, whose last token runs past the prefix end.
public struct Cover: Sendable, Equatable {
    /// Tokens after the anchor; the last one straddles the end of the prefix.
    public var tail: [TokenID]
    /// The byte after the prefix that this cover implies.
    public var nextByte: UInt8
    /// log P(tail | anchor tokens).
    public var logWeight: Double
}

/// The covers of a prefix and its canonical encoding (the cover with nothing left over).
public struct CoverSet: Sendable {
    /// Model-space byte offset of the anchor; covers only differ after it.
    public var anchor: Int
    /// Canonical tokens before the anchor, shared by every cover.
    public var anchorTokens: [TokenID]
    public var covers: [Cover]
    /// The valid token sequences after the anchor that spell the prefix exactly: the canonical
    /// encoding, and others where a continuation re-splits the end. Empty for SentencePiece's
    /// bare dummy prefix.
    public var exact: [[TokenID]]
    public var exactLogWeights: [Double]
    /// Which of `exact` is the canonical encoding (the only one the text can end with).
    public var canonicalIndex: Int?
}

/// Exact next-byte probabilities of a token LM (Phan et al.'s cover encodings).
///
/// P(x) = Σ over covers T of P(T), where a cover is a valid encoding whose last token alone
/// runs past the end of x. Each cover is encode(x[..<j]) + [t] for a token t starting with
/// x[j...], so only the last `maxTokenLength` positions matter; validity of the appended token
/// is the pair check (BPE with a pre-tokenizer) or a re-encode of the word (SentencePiece).
public final class ByteModel: ByteLevelModel {
    public let space: TokenSpace
    public let lm: TokenLM
    /// Re-encode from the start of the text instead of from an anchor near its end.
    public var exact = false
    /// Bytes kept before the longest token's reach when choosing the anchor.
    public var margin = 24

    public init(space: TokenSpace, lm: TokenLM) {
        self.space = space
        self.lm = lm
    }

    /// Texts appended to a window to see how a continuation re-splits its end: pre-tokenizers
    /// with look-ahead (`\\s+(?!\\S)`) split a trailing run of white space one way at the end of
    /// the text and another way before a letter, so a canonical encoding's prefix need not be
    /// the canonical encoding of its own text.
    static let probes: [[UInt8]] = ["a", "A", "1", ".", "'", "é", " ", "\n", "\t", "\r", " a", "\na"].map { Array($0.utf8) }

    /// Whether `want` (tokens after the window start) is a prefix of the canonical encoding of
    /// `window` + some continuation: the window itself or one of the probes.
    func isValidPrefix(_ window: [UInt8], _ want: [TokenID], probe: Bool = true) -> Bool {
        if let e = space.encode(window[...]), e == want { return true }
        // Models that need whole characters: a window ending inside one (byte-fallback tokens)
        // is judged with the ways to finish that character.
        let finish = space.tokenizer.model.takesAnyBytes ? [] : Self.completions(window)
        if !finish.isEmpty {
            for c in finish {
                if let e = space.encode((window + c)[...]), e.starts(with: want) { return true }
            }
            return false
        }
        guard probe else { return false }
        for c in Self.probes {
            if let e = space.encode((window + c)[...]), e.starts(with: want) { return true }
        }
        return false
    }

    /// Byte strings that complete a UTF-8 character cut at the end of `s` (none when it ends on a
    /// character boundary): every first continuation byte, a few for the later ones.
    static func completions(_ s: [UInt8]) -> [[UInt8]] {
        var i = s.count - 1
        var have = 0
        while i >= 0 && s[i] & 0xC0 == 0x80 && have < 3 { i -= 1; have += 1 }
        guard i >= 0 else { return [] }
        let lead = s[i]
        let size = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        let missing = size - 1 - have
        guard missing > 0 else { return [] }
        let firsts = (0x80...0xBF).map { UInt8($0) }
        let later: [UInt8] = [0x80, 0x95, 0xAA, 0xBF]
        var out: [[UInt8]] = firsts.map { [$0] }
        for _ in 1..<missing { out = out.flatMap { p in later.map { p + [$0] } } }
        return out.filter { String(validating: s[i...] + $0, as: UTF8.self) != nil }
    }

    /// The valid token sequences that spell `window` exactly (usually one; two or more where a
    /// continuation re-splits the end).
    func spellings(_ window: ArraySlice<UInt8>) -> [[TokenID]] {
        if window.isEmpty { return [[]] }
        var out: [[TokenID]] = []
        if let e = space.encode(window), space.spell(e)[...] == window { out.append(e) }
        for c in Self.probes {
            guard let e = space.encode(window + c) else { continue }
            var len = 0, i = 0
            while i < e.count && len < window.count { len += space.tokenBytes[Int(e[i])].count; i += 1 }
            if len == window.count {
                let p = Array(e[..<i])
                if !out.contains(p) { out.append(p) }
            }
        }
        return out
    }

    /// log P(tokens | context), stopping at probability 0.
    func logProb(of tokens: some Collection<TokenID>, after context: [TokenID]) throws -> Double {
        var lp = 0.0
        var ctx = context
        for t in tokens {
            lp += try lm.logProb(t, after: ctx)
            if lp == -.infinity { return lp }
            ctx.append(t)
        }
        return lp
    }

    /// The covers of model-space bytes `m`.
    public func covers(_ m: [UInt8], hint: Anchor? = nil) throws -> CoverSet {
        let n = m.count
        let onlyPrefix = !space.prefix.isEmpty && n == space.prefix.count
        var full: [TokenID]
        if onlyPrefix {
            full = []
        } else if let hint, !exact, hint.offset <= n, let e = space.encode(m[hint.offset...]), space.spell(e)[...] == m[hint.offset...] {
            // The caller knows a stable prefix (its canonical tokens): encode only after it.
            full = hint.tokens + e
        } else {
            guard let e = space.encode(m[...]), space.spell(e) == m else {
                throw TokenKitError.badInput(notRepresentable(m))
            }
            full = e
        }
        var pos = [0]
        for t in full { pos.append(pos.last! + space.tokenBytes[Int(t)].count) }
        // Anchor: a token boundary far enough back that no cover's last token reaches it,
        // whose window re-encodes to the same tokens.
        var k = 0
        if !exact {
            var tries = 0
            var i = full.count
            while i > 0 && tries < 4 {
                i -= 1
                let p = pos[i]
                guard p + space.maxTokenLength + margin <= n else { continue }
                if space.wordAnchored && m[p] != 0x20 { continue }
                tries += 1
                if let w = space.encode(m[p...]), w[...] == full[i...] {
                    k = i
                    break
                }
            }
        }
        let a = pos[k]
        let anchorTokens = Array(full[..<k])
        var covers: [Cover] = []
        for j in max(a, n - space.maxTokenLength)..<n {
            let s = m[j..<n]
            let range = space.tokens(startingWith: s)
            if range.isEmpty { continue }
            let head = Array(m[a..<j])
            for pj in spellings(m[a..<j]) {
                let context = anchorTokens + pj
                // The pair check sees the pieces of last·t alone; it stands for the sequence only
                // where the pre-tokenizer starts a piece at the last token (the window of the last
                // two tokens says): after "(`", "." is inside the piece "(`." and "." + "py" alone
                // is one piece, so [., py] fails the pair check yet follows "(`" canonically.
                let ctx = context.suffix(2)
                let lastLen = ctx.last.map { space.tokenBytes[Int($0)].count } ?? 0
                let ctxLen = ctx.reduce(0) { $0 + space.tokenBytes[Int($1)].count }
                let lastStartsPiece = !exact && startsPiece(m[(j - ctxLen)..<j], at: ctxLen - lastLen)
                let logPj = try logProb(of: pj, after: anchorTokens)
                if logPj == -.infinity { continue }
                for t in range {
                    let tb = space.tokenBytes[Int(t)]
                    guard tb.count > n - j else { continue }
                    let lp = try lm.logProb(t, after: context)
                    if lp == -.infinity { continue }
                    // A valid cover re-encodes to itself, possibly once a continuation is added;
                    // only a token ending in white space can be re-split by what follows. Away
                    // from white space the cached pair check decides (see Followers.fillAll).
                    let last = pj.last ?? anchorTokens.last
                    if !exact, !space.wordAnchored, let last, lastStartsPiece, !Followers.isSpace(j > 0 ? m[j - 1] : nil), !Followers.touchesSpace(tb) {
                        guard space.pairValid(last, t) else { continue }
                    } else {
                        guard isValidPrefix(head + tb, pj + [t], probe: Followers.isSpace(tb.last) || exact) else { continue }
                    }
                    covers.append(Cover(tail: pj + [t], nextByte: tb[n - j], logWeight: logPj + lp))
                }
            }
        }
        var exacts: [[TokenID]] = []
        var weights: [Double] = []
        if onlyPrefix {
            // Tokens that spell just the dummy prefix ("▁" alone, before a byte-fallback character).
            for t in space.tokens(startingWith: m[...]) where space.tokenBytes[Int(t)].count == n && isValidPrefix(m, [t]) {
                exacts.append([t])
                weights.append(try lm.logProb(t, after: anchorTokens))
            }
        } else {
            for tail in spellings(m[a..<n]) {
                exacts.append(tail)
                weights.append(try logProb(of: tail, after: anchorTokens))
            }
        }
        return CoverSet(anchor: a, anchorTokens: anchorTokens, covers: covers, exact: exacts, exactLogWeights: weights,
                        canonicalIndex: exacts.firstIndex(of: Array(full[k...])))
    }

    func notRepresentable(_ m: [UInt8]) -> String { Self.notRepresentable(space, m) }

    static func notRepresentable(_ space: TokenSpace, _ m: [UInt8]) -> String {
        if space.tokenizer.sentencePiece != nil || !space.tokenizer.model.takesAnyBytes, UTF8Scan.firstInvalid(m) != nil {
            return "the text ends inside a UTF-8 character or is not valid UTF-8, which \(space.tokenizer.name) cannot encode"
        }
        return "the tokenizer does not spell this text back byte for byte (its normalizer changes it), so it has no byte-level probability"
    }

    /// Which tokens may follow the valid sequence `tail` (after the anchor) spelling `m[a...]`.
    /// The check re-encodes a short window (the last two tokens, or the last word for
    /// SentencePiece) with the candidate; answers are cached by that window.
    func followers(_ m: [UInt8], anchor a: Int, tail: [TokenID]) -> Followers {
        var starts = [a]
        for t in tail { starts.append(starts.last! + space.tokenBytes[Int(t)].count) }
        var kw = 0
        let from = space.wordAnchored ? tail.count - 1 : max(0, tail.count - 2)
        for i in stride(from: from, through: 0, by: -1) {
            if space.wordAnchored && m[starts[i]] != 0x20 && starts[i] != 0 { continue }
            if isValidPrefix(Array(m[starts[i]...]), Array(tail[i...])) { kw = i; break }
        }
        let key = FollowKey(window: Array(m[starts[kw]...]), tokens: Array(tail[kw...]))
        if let f = followCache[key] { return f }
        let f = Followers(model: self, window: key.window, tokens: key.tokens)
        if followCache.count > 4096 { followCache.removeAll() }
        followCache[key] = f
        return f
    }

    /// Memoized "may token t come next" after one window.
    final class Followers {
        unowned let model: ByteModel
        let window: [UInt8]
        let tokens: [TokenID]
        /// 0 unknown, 1 no, 2 yes.
        var known: [UInt8]
        var filled = false

        init(model: ByteModel, window: [UInt8], tokens: [TokenID]) {
            self.model = model
            self.window = window
            self.tokens = tokens
            known = [UInt8](repeating: 0, count: model.space.vocabSize)
        }

        func check(_ t: Int) -> Bool {
            let space = model.space
            let tb = space.tokenBytes[t]
            // (SentencePiece's lone "▁" does not encode to itself but starts words spelled with
            // byte tokens: the window check decides there.)
            guard !tb.isEmpty, space.reachable[t] || space.wordAnchored else { return false }
            // Only a token ending in white space can be re-split by what follows it.
            let ws = tb.last.map { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) } ?? false
            return model.isValidPrefix(window + tb, tokens + [TokenID(t)], probe: ws)
        }

        func allows(_ t: Int) -> Bool {
            if known[t] == 0 { known[t] = check(t) ? 2 : 1 }
            return known[t] == 2
        }

        static func isSpace(_ b: UInt8?) -> Bool { b.map { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) } ?? false }

        /// White space at a token's edges that a look-ahead pre-tokenizer may split differently:
        /// trailing white space, or leading white space other than one space before a non-space.
        static func touchesSpace(_ tb: [UInt8]) -> Bool {
            if isSpace(tb.last) { return true }
            guard isSpace(tb.first) else { return false }
            return !(tb[0] == 0x20 && tb.count > 1 && !isSpace(tb[1]))
        }

        /// Checks every token at once, in parallel (for LMs that give every token a probability).
        ///
        /// Performance note: re-encoding the window with each of 100k tokens is the cost of a
        /// step. Where white space is not involved (the window does not end with it, the token has
        /// none at its edges but a single leading space) the pre-tokenizer splits at the boundary the same way
        /// in the window and in the pair, so the cached pair row of the last token decides
        /// (BPE: a valid sequence plus a valid pair is valid). `exact` re-encodes every candidate.
        func fillAll() {
            if filled { return }
            filled = true
            let n = known.count
            let space = model.space
            let lastLen = tokens.last.map { space.tokenBytes[Int($0)].count } ?? 0
            let row: [UInt64]? = model.exact || space.wordAnchored || Self.isSpace(window.last)
                || !model.startsPiece(window[...], at: window.count - lastLen) ? nil
                : tokens.last.map { space.pairRow($0) }
            let per = 2048
            known.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                DispatchQueue.concurrentPerform(iterations: (n + per - 1) / per) { c in
                    for t in (c * per)..<min(n, (c + 1) * per) where base[t] == 0 {
                        let tb = space.tokenBytes[t]
                        if let row, !tb.isEmpty, !Self.touchesSpace(tb) {
                            base[t] = row[t >> 6] & (1 << UInt64(t & 63)) != 0 ? 2 : 1
                        } else {
                            base[t] = self.check(t) ? 2 : 1
                        }
                    }
                }
            }
        }
    }

    struct FollowKey: Hashable {
        var window: [UInt8]
        var tokens: [TokenID]
    }
    var followCache: [FollowKey: Followers] = [:]

    /// A model-space offset and the canonical tokens before it, known to stay the prefix of the
    /// encoding of any continuation (far enough back from the end).
    public struct Anchor: Sendable {
        public var offset: Int
        public var tokens: [TokenID]
        public init(offset: Int, tokens: [TokenID]) {
            self.offset = offset
            self.tokens = tokens
        }
    }

    /// An anchor for `text` + anything: the canonical tokens of `text` that end at least
    /// `maxTokenLength + margin` bytes before its end. Recompute it every few hundred bytes.
    public func anchor(for text: [UInt8]) throws -> Anchor {
        let m = space.modelBytes(text)
        guard let e = space.encode(m[...]), space.spell(e) == m else { return Anchor(offset: 0, tokens: []) }
        var pos = 0
        var k = 0
        var best = Anchor(offset: 0, tokens: [])
        while k < e.count {
            pos += space.tokenBytes[Int(e[k])].count
            k += 1
            if pos + space.maxTokenLength + margin > m.count { break }
            if space.wordAnchored && (pos >= m.count || m[pos] != 0x20) { continue }
            best = Anchor(offset: pos, tokens: Array(e[..<k]))
        }
        return best
    }

    /// Unnormalised next-byte masses, natural logs relative to the LM probability of the anchor
    /// tokens (a factor every term shares).
    public struct Masses: Sendable {
        /// Per next byte: the covers implying it, and the exact spellings followed by a valid token starting with it.
        public var bytes: [Double]
        /// The canonical spelling followed by the end of text.
        public var end: Double
        /// W: the prefix's own mass, its covers plus its exact spellings. `bytes` and `end` add
        /// up to W minus the mass of tokens that may not follow an exact spelling (and the end
        /// after a spelling that is not canonical), so the per-byte normalisation is the step
        /// where the LM's mass on non-canonical continuations is dropped.
        public var prefix: Double
    }

    /// The anchor of the last text asked about, reused while texts extend it by under 128 bytes.
    private var rolling: (text: [UInt8], anchor: Anchor)?

    public func distribution(after text: [UInt8]) throws -> ByteDistribution {
        if exact { return try next(text: text) }
        if let r = rolling, text.count >= r.text.count, text.count - r.text.count < 128, text.starts(with: r.text) {
            return try next(text: text, hint: r.anchor)
        }
        let a = try anchor(for: text)
        rolling = (text, a)
        return try next(text: text, hint: a)
    }

    public func logProb(document doc: [UInt8]) throws -> Double {
        var lp = 0.0
        for k in 0...doc.count {
            let d = try distribution(after: Array(doc[..<k]))
            lp += Foundation.log(k == doc.count ? d.end : d.probs[Int(doc[k])])
        }
        return lp
    }

    public var contexts: Int { (lm as? CachedLM)?.calls ?? 0 }

    /// The exact distribution of the byte after `text` (user bytes, not model space).
    public func next(text: [UInt8], hint: Anchor? = nil) throws -> ByteDistribution {
        let ms = try masses(text: text, hint: hint)
        guard ms.prefix > -.infinity else {
            // No distribution to give: say where the text became impossible (error path only).
            let at = try (0..<text.count).first { k in
                let d = try masses(text: Array(text[..<k]))
                return d.prefix > -.infinity && d.bytes[Int(text[k])] == -.infinity
            }
            throw TokenKitError.badInput("the prompt has probability 0 under the LM"
                + (at.map { " (byte \($0) (\(Self.show(text[$0]))) can never follow the bytes before it)" } ?? ""))
        }
        guard ms.bytes.contains(where: { $0 > -.infinity }) || ms.end > -.infinity else {
            throw TokenKitError.badInput("the LM gives no token that may follow the prompt and no end of text: every next byte has probability 0")
        }
        return Self.normalize(ms.bytes, ms.end)
    }

    static func show(_ b: UInt8) -> String { (0x21...0x7E).contains(b) ? "'\(UnicodeScalar(b))'" : String(format: "0x%02X", b) }

    /// What `next` normalises.
    public func masses(text: [UInt8], hint: Anchor? = nil) throws -> Masses {
        let m = space.modelBytes(text)
        let cs = try covers(m, hint: hint)
        var logs: [[Double]] = Array(repeating: [], count: 256)
        for c in cs.covers { logs[Int(c.nextByte)].append(c.logWeight) }
        var endLog = -Double.infinity
        if cs.canonicalIndex == nil && !space.prefix.isEmpty && text.isEmpty {
            endLog = try lm.logEnd(after: cs.anchorTokens)
        }
        for (i, tail) in cs.exact.enumerated() where cs.exactLogWeights[i] > -.infinity {
            let d = try lm.next(cs.anchorTokens + tail)
            let f = followers(m, anchor: cs.anchor, tail: tail)
            let limit = min(d.logprobs.count, space.vocabSize)
            var support = 0
            for t in 0..<limit where d.logprobs[t] > -.infinity { support += 1 }
            if support > 256 { f.fillAll() }
            for t in 0..<limit where d.logprobs[t] > -.infinity {
                guard f.allows(t) else { continue }
                logs[Int(space.tokenBytes[t][0])].append(cs.exactLogWeights[i] + d.logprobs[t])
            }
            if i == cs.canonicalIndex { endLog = cs.exactLogWeights[i] + d.eos }
        }
        let prefix = logSumExp(cs.covers.map(\.logWeight) + cs.exactLogWeights)
        return Masses(bytes: logs.map(logSumExp), end: endLog, prefix: prefix)
    }

    static func normalize(_ byteLogs: [Double], _ endLog: Double) -> ByteDistribution {
        let top = max(byteLogs.max() ?? -.infinity, endLog)
        guard top > -.infinity else { return ByteDistribution(probs: Array(repeating: 0, count: 256), end: 1) }
        var probs = byteLogs.map { Foundation.exp($0 - top) }
        var end = Foundation.exp(endLog - top)
        let z = probs.reduce(0, +) + end
        for i in 0..<256 { probs[i] /= z }
        end /= z
        return ByteDistribution(probs: probs, end: end)
    }

    /// Whether the pre-tokenizer starts a piece at `offset` of `window`.
    func startsPiece(_ window: ArraySlice<UInt8>, at offset: Int) -> Bool {
        if offset <= 0 { return true }
        guard let ends = MergeStructure.pieceEnds(space.tokenizer, Array(window), TextWorkspace()) else { return false }
        return ends.contains(offset)
    }

}
