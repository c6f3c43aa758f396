import TokenKitCore

/// WordPiece inference (HF tokenizers' `models.WordPiece`): greedy longest match from the left.
/// The first part of a piece is looked up as is, every later part with the continuation
/// prefix ("##") in front. A piece with a part that matches nothing, or longer than
/// `maxInputChars` characters, becomes the one unknown token.
public struct WordPieceModel: TokenModel {
    /// Token keys as the vocabulary spells them (continuation tokens with their prefix), as
    /// raw bytes for byte-level vocabularies.
    public let vocab: TokenTable
    public let unk: TokenID
    public let continuingSubwordPrefix: [UInt8]
    public let maxInputChars: Int
    /// Characters are single bytes (the vocabulary is in GPT-2's byte alphabet), not UTF-8
    /// sequences: HF matches on the byte-level characters.
    public let byteLevel: Bool
    /// Longest key in bytes: no match is tried beyond it.
    let longest: Int

    public init(vocab: TokenTable, unk: TokenID, continuingSubwordPrefix: [UInt8] = Array("##".utf8),
                maxInputChars: Int = 100, byteLevel: Bool = false) {
        self.vocab = vocab
        self.unk = unk
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputChars = maxInputChars
        self.byteLevel = byteLevel
        var longest = 0
        for id in vocab.ids { longest = max(longest, vocab.length(id)) }
        self.longest = longest
    }

    public func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout ModelScratch) {
        if piece.isEmpty { return }
        if characterCount(piece, limit: maxInputChars) > maxInputChars {
            out.append(unk)
            return
        }
        let first = out.count
        var key: [UInt8] = []
        swap(&key, &scratch.keyBuffer)
        defer { swap(&key, &scratch.keyBuffer) }
        var start = 0
        while start < piece.count {
            let prefix = start > 0 ? continuingSubwordPrefix.count : 0
            var end = min(piece.count, start + max(0, longest - prefix))
            // End on a character boundary.
            while end > start, !isBoundary(piece, end) { end -= 1 }
            var found: TokenID?
            while end > start {
                key.removeAll(keepingCapacity: true)
                if prefix > 0 { key += continuingSubwordPrefix }
                key.append(contentsOf: UnsafeBufferPointer(rebasing: piece[start..<end]))
                if let id = key.withUnsafeBytes({ vocab.lookup($0) }) {
                    found = id
                    break
                }
                end -= 1
                while end > start, !isBoundary(piece, end) { end -= 1 }
            }
            guard let id = found else {
                out.removeLast(out.count - first)
                out.append(unk)
                return
            }
            out.append(id)
            start = end
        }
    }

    @inline(__always)
    private func isBoundary(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        byteLevel || i == p.count || p[i] & 0xC0 != 0x80
    }

    /// Characters in `p`, counted up to `limit + 1`.
    private func characterCount(_ p: UnsafeBufferPointer<UInt8>, limit: Int) -> Int {
        if byteLevel { return p.count }
        var n = 0
        for b in p where b & 0xC0 != 0x80 {
            n += 1
            if n > limit { break }
        }
        return n
    }
}
