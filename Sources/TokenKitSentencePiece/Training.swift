import TokenKitCore
import TokenKitModels

extension UnigramTrainer {
    /// spm_train's normalizer when none is given: no character map, dummy prefix, extra white
    /// space removed, spaces escaped as ▁.
    public static var identityNormalizer: NormalizerSpec {
        var n = NormalizerSpec()
        n.name = Array("identity".utf8)
        n.addDummyPrefix = true
        n.removeExtraWhitespaces = true
        n.escapeWhitespaces = true
        return n
    }

    /// spm_train's default normalizer: the "nmt_nfkc" charsmap (NFKC plus spm's NMT rules:
    /// control characters dropped, odd spaces folded), dummy prefix, extra white space
    /// removed, spaces escaped as ▁.
    public static var nmtNfkcNormalizer: NormalizerSpec {
        var n = identityNormalizer
        n.name = Array("nmt_nfkc".utf8)
        n.precompiledCharsmap = NormalizerSpec.nmtNfkcCharsmap
        return n
    }

    /// Trains a SentencePiece `.model` on a text's lines (split at "\n").
    public func trainModel(text: [UInt8], normalizer: NormalizerSpec = identityNormalizer) throws -> SentencePieceModel {
        try trainModel(sentences: text.split(separator: UInt8(ascii: "\n")).map(Array.init), normalizer: normalizer)
    }

    /// Trains on `sentences` with `normalizer` (written into the model and applied to the
    /// training text; pass another model's spec, e.g. its nmt_nfkc charsmap, to train with it).
    public func trainModel(sentences: consuming [[UInt8]], normalizer: NormalizerSpec = identityNormalizer) throws -> SentencePieceModel {
        let cfg = configuration
        var normSpec = normalizer
        if !normSpec.precompiledCharsmap.isEmpty {
            do { _ = try PrecompiledCharsMap(normSpec.precompiledCharsmap) } catch let e as TokenKitError {
                throw TokenKitError.badInput("normalizer: \(e.message)")
            }
        }
        // The normalizer alone (no pieces yet; user-defined symbols pass unnormalized).
        normSpec.raw.remove(6)
        let userPieces = cfg.userDefinedSymbols.map { SentencePieceModel.Piece(bytes: $0, score: 0, type: .userDefined) }
        let compiled = Compiled(pieces: userPieces, trainerSpec: TrainerSpec(), normalizerSpec: normSpec)
        let trained = try train(sentences: consume sentences) { compiled.normalize($0) }
        let pieces = trained.map { SentencePieceModel.Piece(bytes: $0.bytes, score: $0.score, type: $0.type) }

        var spec = TrainerSpec()
        spec.modelTypeRaw = 1
        spec.vocabSize = Int32(pieces.count)
        spec.characterCoverage = Float(cfg.characterCoverage)
        spec.seedSentencepieceSize = Int32(cfg.seedSentencepieceSize)
        spec.shrinkingFactor = Float(cfg.shrinkingFactor)
        spec.numSubIterations = Int32(cfg.numSubIterations)
        spec.maxSentenceLength = Int32(cfg.maxSentenceLength)
        spec.maxSentencepieceLength = Int32(cfg.maxSentencepieceLength)
        spec.splitByUnicodeScript = cfg.splitByUnicodeScript
        spec.splitByNumber = cfg.splitByNumber
        spec.splitByWhitespace = cfg.splitByWhitespace
        spec.splitDigits = cfg.splitDigits
        spec.allowWhitespaceOnlyPieces = cfg.allowWhitespaceOnlyPieces
        spec.controlSymbols = cfg.controlSymbols
        spec.userDefinedSymbols = cfg.userDefinedSymbols
        spec.byteFallback = cfg.byteFallback
        spec.hardVocabLimit = cfg.hardVocabLimit
        spec.unkID = Int32(cfg.unkID)
        spec.bosID = Int32(cfg.bosID)
        spec.eosID = Int32(cfg.eosID)
        spec.padID = Int32(cfg.padID)
        let model = SentencePieceModel(pieces: pieces, trainerSpec: spec, normalizerSpec: normalizer)
        try model.validate()
        return model
    }
}

extension NormalizerSpec {
    /// The "nmt_nfkc" charsmap, decoded once from the embedded base64 (NmtNfkc.swift).
    static let nmtNfkcCharsmap: [UInt8] = {
        let text = Array(nmtNfkcBase64.utf8.filter { $0 != 0x0A })
        return text.withUnsafeBufferPointer { Base64.decode($0) } ?? []
    }()
}
