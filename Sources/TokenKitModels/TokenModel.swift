import TokenKitCore

/// Per-thread mutable state of a model's encoder: BPE's symbols, pair values and dropout
/// stream. Models that need none ignore it.
public typealias ModelScratch = BPEScratch

/// What every tokenization model provides to the pipeline: the bytes of each token, and the
/// ids of one pre-tokenized piece. A new model is a folder beside BPE/ and Unigram/ with a
/// type conforming to this, plus one case of `TokenizerModel` (module TokenKit).
public protocol TokenModel: Sendable {
    /// Every token's bytes, by id.
    var vocab: TokenTable { get }
    /// Appends the ids of one piece (already normalized and pre-tokenized).
    func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout ModelScratch)
}

extension TokenModel {
    /// Number of ids (one past the largest).
    public var vocabSize: Int { vocab.count }
}

extension BPEModel: TokenModel {}

extension UnigramModel: TokenModel {
    @inline(__always)
    public func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout ModelScratch) {
        if let hf, !piece.isEmpty { return hfEncode(piece, hf, into: &out, buffers: &scratch.unigram) }
        encode(piece, into: &out)
    }
}
