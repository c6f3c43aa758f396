import TokenKitCore

/// Greedy longest match over bytes: at each position, the longest vocabulary token the text
/// starts with. RWKV's "world" tokenizer (its `TRIE_TOKENIZER`) and llama.cpp's `rwkv` kind
/// encode this way, with no normalizer or pre-tokenizer.
/// A position that starts no token becomes `unk`; without one it becomes `TokenID.max`, which
/// the tokenizer reports as an error (RWKV's vocabulary has every byte, so it never happens).
public struct LongestMatchModel: TokenModel {
    public let vocab: TokenTable
    public let unk: TokenID?
    let trie: PieceTrie

    /// `vocab` holds every token the text may match; a spelling given to two ids matches the
    /// larger one, as both references build their lookup in id order, the later id replacing.
    public init(vocab: TokenTable, unk: TokenID?) {
        self.vocab = vocab
        self.unk = unk
        trie = PieceTrie(vocab.ids.reversed().map { (vocab.bytes($0), Int32($0)) })
    }

    public func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout ModelScratch) {
        var i = 0
        while i < piece.count {
            if let (length, id) = trie.longestPrefix(piece, i, piece.count) {
                out.append(TokenID(id))
                i += length
            } else {
                out.append(unk ?? .max)
                i += 1
            }
        }
    }

    /// The model cache: the vocabulary, the unknown id and the trie as built.
    public func write(to w: inout BinaryWriter) {
        vocab.write(to: &w)
        w.optionalU32(unk)
        trie.write(to: &w)
    }

    /// Reads what `write(to:)` wrote; the trie's ids must be the vocabulary's, or it throws.
    public init(from r: inout BinaryReader) throws {
        vocab = try TokenTable(from: &r)
        unk = try r.optionalU32()
        if let unk, !vocab.contains(unk) { throw BinaryReader.Malformed("unk id") }
        trie = try PieceTrie(from: &r, values: vocab.count)
    }
}
