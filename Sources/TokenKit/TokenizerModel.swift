import TokenKitCore
import TokenKitModels
import TokenKitSentencePiece

/// The one model of a tokenizer. Each case's payload conforms to `TokenModel`; adding a model
/// means a folder in TokenKitModels and a case here.
public enum TokenizerModel: Sendable {
    case bpe(BPEModel)
    /// A tokenizer.json Unigram model, run on each pre-tokenized piece.
    case unigram(UnigramModel)
    /// A SentencePiece `.model` (Unigram or BPE): it brings its own normalizer and encodes the
    /// whole text at once.
    case sentencePiece(SentencePieceModel)
    case wordPiece(WordPieceModel)
    /// A tokenizer.json WordLevel model: whole pieces only.
    case wordLevel(WordLevelModel)
    /// Greedy longest match over the whole text (RWKV's world tokenizer).
    case longestMatch(LongestMatchModel)

    /// The payload as the common model interface.
    public var base: any TokenModel {
        switch self {
        case .bpe(let m): m
        case .unigram(let m): m
        case .sentencePiece(let m): m
        case .wordPiece(let m): m
        case .wordLevel(let m): m
        case .longestMatch(let m): m
        }
    }

    /// Every model token's bytes, by id (added tokens not included).
    public var vocab: TokenTable {
        switch self {
        case .bpe(let m): m.vocab
        case .unigram(let m): m.vocab
        case .sentencePiece(let m): m.vocab
        case .wordPiece(let m): m.vocab
        case .wordLevel(let m): m.vocab
        case .longestMatch(let m): m.vocab
        }
    }

    /// "BPE", "Unigram", "BPE (SentencePiece)", "WordPiece" …
    public var name: String {
        switch self {
        case .bpe: return "BPE"
        case .unigram: return "Unigram"
        case .wordPiece: return "WordPiece"
        case .wordLevel: return "WordLevel"
        case .longestMatch: return "LongestMatch"
        case .sentencePiece(let spm):
            switch spm.modelType {
            case .unigram: return "Unigram"
            case .bpe: return "BPE (SentencePiece)"
            case .word: return "Word"
            case .char: return "Char"
            }
        }
    }

    /// Tokens are raw bytes spelled in GPT-2's byte alphabet in vocabulary files.
    public var isByteLevel: Bool {
        switch self {
        case .bpe(let m): m.isByteLevel
        case .wordPiece(let m): m.byteLevel
        case .wordLevel(let m): m.byteLevel
        case .unigram, .sentencePiece, .longestMatch: false
        }
    }

    /// Encodes any bytes, valid UTF-8 or not: byte-level models, and RWKV's byte tokens.
    public var takesAnyBytes: Bool {
        if case .longestMatch = self { return true }
        return isByteLevel
    }

    /// The BPE model, for what only BPE has (merges, dropout, mixture inference).
    public var bpe: BPEModel? {
        if case .bpe(let m) = self { return m }
        return nil
    }

    /// Number of merges of a BPE model (tokenizer.json merges, or tiktoken's ranks of tokens
    /// longer than one byte); 0 for other models.
    public var mergeCount: Int { bpe?.mergeCount ?? 0 }
}

extension SentencePieceModel: TokenModel {
    public var vocab: TokenTable { compiled.vocab }

    public func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [TokenID], scratch: inout ModelScratch) {
        encode(piece, into: &out)
    }
}
