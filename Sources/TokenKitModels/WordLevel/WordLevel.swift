import TokenKitCore

/// HF tokenizers' `models.WordLevel`: each pre-tokenized piece is one token if the vocabulary
/// has it, else the unknown token.
public struct WordLevelModel: TokenModel {
    /// Token keys as the vocabulary spells them (raw bytes for byte-level vocabularies).
    public let vocab: TokenTable
    public let unk: TokenID
    public let byteLevel: Bool

    public init(vocab: TokenTable, unk: TokenID, byteLevel: Bool = false) {
        self.vocab = vocab
        self.unk = unk
        self.byteLevel = byteLevel
    }

    public func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout ModelScratch) {
        if piece.isEmpty { return }
        out.append(vocab.lookup(UnsafeRawBufferPointer(piece)) ?? unk)
    }
}
