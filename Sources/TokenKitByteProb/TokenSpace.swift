// Exact byte-level probabilities from tokenized LMs: Phan et al., "Exact Byte-Level Probabilities
// from Tokenized Language Models for FIM-Tasks and Model Ensembles" (arXiv 2410.09303), and
// Hayase et al., "Sampling from Your Language Model One Byte at a Time" (arXiv 2506.14123).
//
// This file is the tokenizer side: every token as the bytes it adds to the text, canonical
// encoding of text windows, and "can token b follow token a" — all through the public
// `Tokenizer` API (encode, decode, vocab), so that any BPE tokenizer tokenkit loads works.

import Foundation
import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitText

/// A tokenizer seen as a map between byte strings and token sequences ("model space").
///
/// Model space is the text the tokens spell: for SentencePiece models with a dummy prefix it is
/// `" " + text` (each `▁` is a space, `<0xNN>` pieces are their byte); otherwise the text itself.
/// Added and special tokens are left out: byteprob is about ordinary text.
public final class TokenSpace: @unchecked Sendable {
    public let tokenizer: Tokenizer
    /// Bytes before the text in model space (SentencePiece's dummy prefix).
    public let prefix: [UInt8]
    /// What each id spells in model space; empty for ids byteprob leaves out.
    public let tokenBytes: [[UInt8]]
    /// `encode(bytes(t)) == [t]`: tokens that canonical encodings can contain. The others
    /// ("unreachable", glitch-token candidates) never appear in a canonical encoding.
    public let reachable: [Bool]
    public let maxTokenLength: Int
    /// Usable tokens sorted by their bytes, for "tokens starting with s" range queries.
    let sorted: [TokenID]
    /// SentencePiece: pieces never span a space-initial boundary, and a window to encode must
    /// start with a space (the dummy prefix) — so windows are anchored at spaces.
    public let wordAnchored: Bool
    /// Tokens that only occur inside a word (WordPiece continuations, pieces without the space
    /// marker): encoding their bytes alone cannot give them, so reachability does not judge them.
    public let wordInternal: [Bool]
    public var vocabSize: Int { tokenBytes.count }

    /// The merge structure that decides pair validity without re-encoding (nil: pairs are
    /// re-encoded). Built on the first pair question (`inspect` never asks one).
    var structure: MergeStructure? {
        lock.lock()
        defer { lock.unlock() }
        if let s = builtStructure { return s }
        let s = MergeStructure.make(tokenizer, tokenBytes)
        builtStructure = .some(s)
        return s
    }
    private var builtStructure: MergeStructure??
    public var checksPairsStructurally: Bool { structure != nil }

    private let lock = NSLock()
    /// Pair validity by left token: bit b of row a says whether a·b is canonical.
    private var pairRows: [TokenID: [UInt64]] = [:]
    /// Single pairs checked outside a row.
    private var pairCache: [UInt64: Bool] = [:]

    /// `anyModel` admits every model kind (for `inspect`); byteprob needs BPE.
    public init(_ tok: Tokenizer, anyModel: Bool = false) throws {
        tokenizer = tok
        let n = tok.vocabSize
        var bytes = [[UInt8]](repeating: [], count: n)
        var prefix: [UInt8] = []
        let added = Set(tok.addedTokens.map(\.id))
        var anchored = false
        var inside = [Bool](repeating: false, count: n)
        guard anyModel || tok.modelName.hasPrefix("BPE") else {
            throw TokenKitError.badInput("byteprob needs a BPE tokenizer; \(tok.name) is \(tok.modelName)")
        }
        if let spm = tok.sentencePiece {
            if spm.normalizerSpec.addDummyPrefix { prefix = [0x20] }
            let meta: [UInt8] = [0xE2, 0x96, 0x81]
            for (i, p) in spm.pieces.enumerated() {
                switch p.type {
                case .normal, .userDefined:
                    bytes[i] = Self.replacing(meta, with: 0x20, in: p.bytes)
                case .byte:
                    if let v = Self.byteFallbackValue(p.bytes) { bytes[i] = [v] }
                default: break
                }
                // The lone dummy prefix "▁" starts words whose first character has no "▁x" piece.
                inside[i] = p.type == .normal && !prefix.isEmpty && bytes[i] == prefix
            }
            anchored = spm.trainerSpec.splitByWhitespace && !spm.trainerSpec.treatWhitespaceAsSuffix
        } else if let marker = Self.wordMarker(tok), !marker.continuation {
            // A SentencePiece model converted to tokenizer.json (Metaspace, or Prepend + Replace
            // in the normalizer): the same model space as the .model file gives, so the same ids
            // get the same byte probabilities.
            if Self.prependsMarker(tok, marker.bytes) { prefix = [0x20] }
            for id in tok.model.vocab.ids where !added.contains(id) {
                let v = tok.model.vocab.bytes(id)
                if let b = Self.byteFallbackValue(v) {
                    bytes[Int(id)] = [b]
                } else {
                    bytes[Int(id)] = Self.replacing(marker.bytes, with: 0x20, in: v)
                    inside[Int(id)] = !v.starts(with: marker.bytes) || v == marker.bytes
                }
            }
            anchored = true
        } else {
            let marker = Self.wordMarker(tok)
            for id in tok.model.vocab.ids where !added.contains(id) {
                // Decoding one token gives the bytes it adds, for any decoder that works token by token.
                bytes[Int(id)] = tok.model.isByteLevel ? tok.model.vocab.bytes(id) : ((try? tok.decode([id])) ?? [])
                if let marker {
                    let v = tok.model.vocab.bytes(id)
                    // The lone "▁" counts as inside a word too: it is used before a character
                    // that has no piece starting with the marker, never on its own.
                    inside[Int(id)] = marker.continuation ? v.starts(with: marker.bytes) && v.count > marker.bytes.count
                        : !v.starts(with: marker.bytes) || v == marker.bytes
                    if marker.continuation && inside[Int(id)] && tok.model.isByteLevel { bytes[Int(id)] = Array(v.dropFirst(marker.bytes.count)) }
                }
            }
            anchored = false
        }
        wordInternal = inside
        wordAnchored = anchored
        self.prefix = prefix
        tokenBytes = bytes
        maxTokenLength = bytes.map(\.count).max() ?? 1
        sorted = (0..<n).filter { !bytes[$0].isEmpty }.map { TokenID($0) }.sorted {
            bytes[Int($0)].lexicographicallyPrecedes(bytes[Int($1)])
        }
        // Reachability: encode each token's own bytes (in parallel; 100k encodes).
        var reach = [Bool](repeating: false, count: n)
        let chunk = 4096
        let chunks = (n + chunk - 1) / chunk
        reach.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                for i in (c * chunk)..<min(n, (c + 1) * chunk) where !bytes[i].isEmpty {
                    // (inspect only: byteprob judges word-internal pieces in their window)
                    if anyModel && inside[i] { base[i] = true; continue }
                    let m = (anchored || prefix.isEmpty || bytes[i].first == 0x20) ? bytes[i] : nil
                    if let m, let ids = Self.encodeModel(tok, prefix: prefix, m[...]) {
                        base[i] = ids == [TokenID(i)] || Self.mergesAsPartOfACharacter(tok, m, TokenID(i))
                    } else {
                        // A word-internal SentencePiece piece: judged in its word's window instead.
                        base[i] = true
                    }
                }
            }
        }
        reachable = reach
    }

    /// How a non-byte-level tokenizer marks word position in its vocabulary: WordPiece marks
    /// continuations ("##"), Metaspace marks word starts ("▁"). Nil: no marker.
    static func wordMarker(_ tok: Tokenizer) -> (bytes: [UInt8], continuation: Bool)? {
        if case .wordPiece(let w) = tok.model { return (w.continuingSubwordPrefix, true) }
        guard !tok.model.takesAnyBytes else { return nil }
        func find(_ p: PreTokenizer) -> [UInt8]? {
            switch p {
            case .metaspace(let r, let prepend, _): return prepend == .never ? nil : r
            case .sequence(let steps): return steps.lazy.compactMap(find).first
            default: return nil
            }
        }
        // Newer SentencePiece conversions mark spaces in the normalizer (Prepend "▁", then Replace " " → "▁").
        func replacement(_ n: Normalizer?) -> [UInt8]? {
            switch n {
            case .replace(.literal([0x20]), let content)?: return content
            case .sequence(let steps)?: return steps.lazy.compactMap { replacement($0) }.first
            default: return nil
            }
        }
        return (find(tok.preTokenizer) ?? replacement(tok.normalizer)).map { ($0, false) }
    }

    /// The byte a `<0xNN>` byte-fallback piece stands for.
    static func byteFallbackValue(_ piece: [UInt8]) -> UInt8? {
        guard piece.count == 6, piece.starts(with: Array("<0x".utf8)), piece[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: piece[3..<5], as: UTF8.self), radix: 16)
    }

    /// Whether the tokenizer puts the marker before the text (Metaspace's prepend scheme, or a
    /// Prepend normalizer), as SentencePiece's dummy prefix does.
    static func prependsMarker(_ tok: Tokenizer, _ marker: [UInt8]) -> Bool {
        func pre(_ p: PreTokenizer) -> Bool {
            switch p {
            case .metaspace(_, let prepend, _): return prepend != .never
            case .sequence(let steps): return steps.contains(where: pre)
            default: return false
            }
        }
        func norm(_ n: Normalizer?) -> Bool {
            switch n {
            case .prepend(let c)?: return c == marker
            case .sequence(let steps)?: return steps.contains { norm($0) }
            default: return false
            }
        }
        return pre(tok.preTokenizer) || norm(tok.normalizer)
    }

    static func replacing(_ pattern: [UInt8], with b: UInt8, in s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            if i + pattern.count <= s.count, s[i..<i + pattern.count].elementsEqual(pattern) {
                out.append(b)
                i += pattern.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// Model-space bytes of a text.
    public func modelBytes(_ text: [UInt8]) -> [UInt8] { prefix + text }

    /// The canonical encoding of a model-space window that starts at a boundary (for
    /// SentencePiece, at a space). Nil when the window cannot be encoded on its own.
    public func encode(_ m: ArraySlice<UInt8>) -> [TokenID]? {
        Self.encodeModel(tokenizer, prefix: prefix, m)
    }

    /// A byte-level token that is part of a character (invalid UTF-8 alone, r50k's `ー` + half of
    /// `ダ`): the pre-tokenizer splits its bytes when they stand alone, but in text they sit inside
    /// one piece, so the BPE model alone judges it.
    static func mergesAsPartOfACharacter(_ tok: Tokenizer, _ bytes: [UInt8], _ id: TokenID) -> Bool {
        guard tok.model.isByteLevel, let bpe = tok.model.bpe, UTF8Scan.firstInvalid(bytes) != nil else { return false }
        var ids: [TokenID] = []
        var scratch = BPEScratch()
        bytes.withUnsafeBufferPointer { bpe.encode($0, into: &ids, scratch: &scratch) }
        return ids == [id]
    }

    static func encodeModel(_ tok: Tokenizer, prefix: [UInt8], _ m: ArraySlice<UInt8>) -> [TokenID]? {
        if m.isEmpty { return [] }
        if prefix.isEmpty { return try? tok.encode(Array(m), policy: .ordinary) }
        guard m.starts(with: prefix) else { return nil }
        return try? tok.encode(Array(m.dropFirst(prefix.count)), policy: .ordinary)
    }

    /// The bytes a token sequence spells.
    public func spell(_ ids: some Sequence<TokenID>) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids { out += tokenBytes[Int(id)] }
        return out
    }

    /// Usable tokens whose bytes start with `s`, in byte order.
    public func tokens(startingWith s: ArraySlice<UInt8>) -> ArraySlice<TokenID> {
        func lower(_ strict: Bool) -> Int {
            // First index whose first |s| bytes are ≥ s (strict: > s).
            var lo = 0, hi = sorted.count
            while lo < hi {
                let mid = (lo + hi) / 2
                let t = tokenBytes[Int(sorted[mid])]
                let head = t.prefix(s.count)
                let less = strict ? !s.lexicographicallyPrecedes(head) : head.lexicographicallyPrecedes(s)
                if less { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        if s.isEmpty { return sorted[...] }
        return sorted[lower(false)..<lower(true)]
    }

    /// Whether token b may follow token a in a canonical encoding: `encode(bytes(a)+bytes(b)) == [a, b]`.
    /// Rows are built once per left token (one encode per right token) and cached.
    public func pairValid(_ a: TokenID, _ b: TokenID) -> Bool {
        let key = UInt64(a) << 32 | UInt64(b)
        lock.lock()
        if let row = pairRows[a] {
            lock.unlock()
            return row[Int(b) >> 6] & (1 << UInt64(Int(b) & 63)) != 0
        }
        if let v = pairCache[key] { lock.unlock(); return v }
        lock.unlock()
        let v = reachable[Int(b)] && pairValidComputed(a, b, workspace: TextWorkspace())
        lock.lock()
        if pairCache.count > 1 << 22 { pairCache.removeAll() }
        pairCache[key] = v
        lock.unlock()
        return v
    }

    /// The validity row of left token `a` (bit per right token).
    public func pairRow(_ a: TokenID) -> [UInt64] {
        lock.lock()
        if let r = pairRows[a] { lock.unlock(); return r }
        lock.unlock()
        let row = buildRow(a)
        lock.lock()
        if pairRows.count > 4096 { pairRows.removeAll() }
        pairRows[a] = row
        lock.unlock()
        return row
    }

    /// The pair check from the merge structure (re-encoding where it cannot decide), uncached.
    public func pairValidComputed(_ a: TokenID, _ b: TokenID, workspace: TextWorkspace) -> Bool {
        pairValid(a, b, structure, workspace)
    }

    private func pairValid(_ a: TokenID, _ b: TokenID, _ structure: MergeStructure?, _ workspace: TextWorkspace) -> Bool {
        guard let structure else { return pairValidDirect(a, b) }
        // A window must start with the dummy prefix (see `encode`).
        if !prefix.isEmpty && !tokenBytes[Int(a)].starts(with: prefix) { return false }
        return structure.valid(a, b, workspace: workspace) ?? pairValidDirect(a, b)
    }

    /// The merge-structure answer alone (nil where it cannot decide), for tests.
    public func pairValidStructural(_ a: TokenID, _ b: TokenID) -> Bool? {
        structure?.valid(a, b, workspace: TextWorkspace())
    }

    /// The pair check by re-encoding, without the cache: `encode(bytes(a)+bytes(b)) == [a, b]`.
    public func pairValidDirect(_ a: TokenID, _ b: TokenID) -> Bool {
        let left = tokenBytes[Int(a)], right = tokenBytes[Int(b)]
        if left.isEmpty || right.isEmpty { return false }
        guard let ids = encode((left + right)[...]) else { return false }
        return ids == [a, b]
    }

    private func buildRow(_ a: TokenID) -> [UInt64] {
        let n = vocabSize
        let words = (n + 63) / 64
        var row = [UInt64](repeating: 0, count: words)
        let left = tokenBytes[Int(a)]
        if left.isEmpty { return row }
        let per = 16
        let chunks = (words + per - 1) / per
        let st = structure
        row.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let ws = TextWorkspace()
                for w in (c * per)..<min(words, (c + 1) * per) {
                    var bits: UInt64 = 0
                    for b in (w * 64)..<min(n, w * 64 + 64) where !tokenBytes[b].isEmpty && reachable[b] {
                        if pairValid(a, TokenID(b), st, ws) { bits |= 1 << UInt64(b & 63) }
                    }
                    base[w] = bits
                }
            }
        }
        return row
    }
}
