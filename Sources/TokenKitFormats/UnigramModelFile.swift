import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitSentencePiece

extension TokenizerJSON {
    /// A Unigram tokenizer.json in SentencePiece's shape (as `writeSentencePiece` writes it: no
    /// pre-tokenizer; a normalizer of Precompiled, the extra-whitespace Replaces, Prepend ▁ and
    /// Replace " " → ▁, each optional) back as a SentencePiece `.model`: the same pieces and
    /// scores, the unknown piece, added special tokens as control pieces, other added tokens as
    /// user-defined pieces, `<0xNN>` as byte pieces with byte fallback.
    public static func sentencePieceModel(_ tok: Tokenizer) throws -> SentencePieceModel {
        func refuse(_ why: String) -> TokenKitError {
            .badInput("cannot be written as a SentencePiece .model: \(why)")
        }
        guard case .unigram = tok.model, let parts = tok.jsonParts, let modelText = parts.model else {
            throw refuse("only Unigram tokenizer.json models convert to .model")
        }
        guard parts.preTokenizer == "null" || parts.preTokenizer.isEmpty else {
            throw refuse("it has a pre-tokenizer (a .model runs one lattice over the whole sentence)")
        }
        let model = try JSON.parse(Array(modelText.utf8), floats: .serdeJSON)
        guard case .array(let vocab)? = model["vocab"] else { throw refuse("no vocab") }
        guard case .number(_, let unk?)? = model["unk_id"] else { throw refuse("no unk_id (a .model needs an unknown piece)") }
        let byteFallback = model["byte_fallback"].map { if case .bool(true) = $0 { true } else { false } } ?? false
        let added = Dictionary(tok.addedTokens.map { ($0.id, $0.special) }, uniquingKeysWith: { a, _ in a })
        var pieces: [SentencePieceModel.Piece] = []
        for (id, entry) in vocab.enumerated() {
            guard case .array(let pair) = entry, pair.count == 2, case .string(let bytes) = pair[0], case .number(let score, _) = pair[1] else {
                throw refuse("vocab entry \(id) is not [piece, score]")
            }
            var type = SentencePieceModel.PieceType.normal
            if id == Int(unk) { type = .unknown }
            else if let special = added[TokenID(id)] { type = special ? .control : .userDefined }
            else if byteFallback, byteValue(bytes) != nil { type = .byte }
            pieces.append(.init(bytes: bytes, score: Float(score), type: type))
        }
        var norm = NormalizerSpec()
        norm.addDummyPrefix = false
        norm.removeExtraWhitespaces = false
        norm.escapeWhitespaces = false
        if parts.normalizer != "null" && !parts.normalizer.isEmpty {
            let n = try JSON.parse(Array(parts.normalizer.utf8))
            var steps: [JSON] = [n]
            if n["type"]?.stringValue == "Sequence", case .array(let list)? = n["normalizers"] { steps = list }
            for step in steps {
                let pattern = step["pattern"]?["String"]?.stringValue ?? step["pattern"]?["Regex"]?.stringValue
                switch (step["type"]?.stringValue, pattern, step["content"]?.stringValue) {
                case ("Precompiled", _, _):
                    guard let b64 = step["precompiled_charsmap"]?.stringValue, let map = Array(b64.utf8).withUnsafeBufferPointer({ Base64.decode($0) }) else {
                        throw refuse("a Precompiled normalizer without a charsmap")
                    }
                    norm.precompiledCharsmap = map
                case ("Replace", "\\A +| +\\z", ""), ("Replace", " {2,}", " "): norm.removeExtraWhitespaces = true
                case ("Replace", " ", "\u{2581}"): norm.escapeWhitespaces = true
                case ("Prepend", _, _) where step["prepend"]?.stringValue == "\u{2581}": norm.addDummyPrefix = true
                default: throw refuse("its normalizer step \(step.serialized()) has no SentencePiece equivalent")
                }
            }
        }
        norm.name = Array((norm.precompiledCharsmap.isEmpty ? "identity" : "precompiled").utf8)
        var trainer = TrainerSpec()
        trainer.modelTypeRaw = SentencePieceModel.ModelType.unigram.rawValue
        trainer.vocabSize = Int32(pieces.count)
        trainer.byteFallback = byteFallback
        trainer.unkID = Int32(unk)
        trainer.unkPiece = pieces[Int(unk)].bytes
        // The usual control pieces by name; -1 when the model has none.
        func control(_ name: String) -> Int32 {
            Int32(pieces.firstIndex { $0.type == .control && $0.bytes == Array(name.utf8) } ?? -1)
        }
        trainer.bosID = control("<s>")
        trainer.eosID = control("</s>")
        trainer.padID = control("<pad>")
        return SentencePieceModel(pieces: pieces, trainerSpec: trainer, normalizerSpec: norm)
    }
}
