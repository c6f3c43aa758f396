import TokenKit
import TokenKitCore
import TokenKitSentencePiece

/// llama.cpp's tokenizer metadata (the GGUF keys `tokenizer.ggml.*`) saved as a JSON object, as
/// llama.cpp's vocabulary-only models carry it. The "llama" kind is SentencePiece BPE: pieces
/// with scores (a higher score merges first) and types (1 normal, 2 unknown, 3 control,
/// 4 user-defined, 5 unused, 6 byte), text spelled with ▁, a space prepended unless
/// `add_space_prefix` is false, and no other normalization. It is read as the equivalent
/// SentencePiece model, so it gives Llama's `.model` ids.
enum GGUFVocab {
    static func isGGUF(_ root: Field) -> Bool { !root["tokenizer.ggml.model"].isNull }

    static func load(_ root: Field, name: String) throws -> Tokenizer {
        let kind = try root["tokenizer.ggml.model"].string()
        guard kind == "llama" else {
            throw root["tokenizer.ggml.model"].fail("\"\(kind)\": only \"llama\" (SentencePiece BPE) vocabularies are read; "
                                                    + "convert others to tokenizer.json")
        }
        let tokens = try root["tokenizer.ggml.tokens"].array()
        if tokens.isEmpty { throw root["tokenizer.ggml.tokens"].fail("the vocabulary is empty") }
        let scores = root["tokenizer.ggml.scores"].isNull ? nil : try root["tokenizer.ggml.scores"].array()
        let types = root["tokenizer.ggml.token_type"].isNull ? nil : try root["tokenizer.ggml.token_type"].array()
        for (key, list) in [("scores", scores), ("token_type", types)] where list != nil && list!.count != tokens.count {
            throw root["tokenizer.ggml.\(key)"].fail("\(list!.count) entries for \(tokens.count) tokens")
        }
        var pieces: [SentencePieceModel.Piece] = []
        pieces.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            let score: Float
            if let s = scores?[i] {
                guard case .number(let d, _)? = s.value, d.isFinite else { throw s.fail("expected a finite number") }
                score = Float(d)
            } else {
                score = 0
            }
            var type = SentencePieceModel.PieceType.normal
            if let f = types?[i] {
                let v = try f.int()
                guard let known = SentencePieceModel.PieceType(rawValue: Int32(clamping: v)) else {
                    throw f.fail("token type \(v) is not 1–6")
                }
                type = known
            }
            pieces.append(SentencePieceModel.Piece(bytes: try t.bytes(), score: score, type: type))
        }
        var trainer = TrainerSpec()
        trainer.modelTypeRaw = SentencePieceModel.ModelType.bpe.rawValue
        trainer.byteFallback = pieces.contains { $0.type == .byte }
        func special(_ key: String, _ set: (inout TrainerSpec, Int32, [UInt8]) -> Void) throws {
            let f = root["tokenizer.ggml.\(key)_token_id"]
            if f.isNull { return }
            let id = try f.int()
            guard pieces.indices.contains(id) else { throw f.fail("id \(id) is not in the vocabulary (0..<\(pieces.count))") }
            set(&trainer, Int32(id), pieces[id].bytes)
        }
        try special("unknown") { $0.unkID = $1; $0.unkPiece = $2 }
        try special("bos") { $0.bosID = $1; $0.bosPiece = $2 }
        try special("eos") { $0.eosID = $1; $0.eosPiece = $2 }
        try special("padding") { $0.padID = $1; $0.padPiece = $2 }
        var normalizer = NormalizerSpec()
        normalizer.name = Array("identity".utf8)
        normalizer.addDummyPrefix = try root["tokenizer.ggml.add_space_prefix"].bool(default: true)
        normalizer.removeExtraWhitespaces = false
        normalizer.escapeWhitespaces = true
        let model = SentencePieceModel(pieces: pieces, trainerSpec: trainer, normalizerSpec: normalizer)
        let tok = try Tokenizer(sentencePiece: model, name: name)
        tok.notes.append(("source", "llama.cpp GGUF tokenizer metadata (JSON), read as SentencePiece BPE"))
        return tok
    }
}
