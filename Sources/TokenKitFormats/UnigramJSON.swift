import TokenKitCore
import TokenKitSentencePiece

extension TokenizerJSON {
    /// A SentencePiece Unigram model as an HF tokenizer.json Unigram model: the same pieces,
    /// scores and ids, and a normalizer that does what spm's does before the lattice (charsmap,
    /// then extra spaces removed, dummy prefix, spaces as ▁). No pre-tokenizer: spm runs one
    /// lattice over the whole sentence, so ▁-only pieces ("▁▁▁") still match. Control and
    /// unknown pieces become special added tokens, user-defined pieces plain added tokens.
    public static func writeUnigram(_ spm: SentencePieceModel) throws -> [UInt8] {
        guard spm.modelType == .unigram else {
            throw TokenKitError.usage("only Unigram SentencePiece models can be written as a tokenizer.json Unigram model")
        }
        guard let unk = spm.unkID else { throw TokenKitError.badInput("the model has no unknown piece") }
        let norm = spm.normalizerSpec
        let replaceSpaces = "{\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\u{2581}\"}"
        var steps: [String] = []
        if !norm.precompiledCharsmap.isEmpty {
            steps.append("{\"type\": \"Precompiled\", \"precompiled_charsmap\": \(jsonString(Base64.encode(norm.precompiledCharsmap)))}")
        }
        if norm.removeExtraWhitespaces {
            // spm's white space here is U+0020 only (after the charsmap), so no Strip (Unicode).
            steps.append("{\"type\": \"Replace\", \"pattern\": {\"Regex\": \"\\\\A +| +\\\\z\"}, \"content\": \"\"}")
            steps.append("{\"type\": \"Replace\", \"pattern\": {\"Regex\": \" {2,}\"}, \"content\": \" \"}")
        }
        if norm.addDummyPrefix { steps.append("{\"type\": \"Prepend\", \"prepend\": \"\u{2581}\"}") }
        if norm.escapeWhitespaces { steps.append(replaceSpaces) }
        let normalizer = steps.isEmpty ? "null" : "{\"type\": \"Sequence\", \"normalizers\": [\(steps.joined(separator: ", "))]}"
        var decoders = ["{\"type\": \"Replace\", \"pattern\": {\"String\": \"\u{2581}\"}, \"content\": \" \"}",
                        "{\"type\": \"ByteFallback\"}", "{\"type\": \"Fuse\"}"]
        if norm.addDummyPrefix { decoders.append("{\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 0}") }

        func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        var added: [String] = []
        for (id, p) in spm.pieces.enumerated() where [.control, .unknown, .userDefined].contains(p.type) {
            let special = p.type != .userDefined
            added.append("\n    {\"id\": \(id), \"content\": \(jsonString(text(p.bytes))), \"single_word\": false, "
                         + "\"lstrip\": false, \"rstrip\": false, \"normalized\": \(!special), \"special\": \(special)}")
        }
        var out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        out += added.joined(separator: ",") + (added.isEmpty ? "],\n" : "\n  ],\n")
        out += "  \"normalizer\": \(normalizer),\n  \"pre_tokenizer\": null,\n  \"post_processor\": null,\n"
        out += "  \"decoder\": {\"type\": \"Sequence\", \"decoders\": [\(decoders.joined(separator: ", "))]},\n"
        out += "  \"model\": {\n    \"type\": \"Unigram\",\n    \"unk_id\": \(unk),\n    \"vocab\": ["
        for (i, p) in spm.pieces.enumerated() {
            // Float's shortest form (≤ 9 digits): every JSON reader, serde_json's fast float
            // path in HF included, parses it to the same double. The 17-digit form of the exact
            // value is parsed 1 ulp off by serde_json at times, which flips near-ties.
            out += (i == 0 ? "\n      [" : ",\n      [") + jsonString(text(p.bytes)) + ", \(p.score)]"
        }
        out += "\n    ],\n    \"byte_fallback\": \(spm.byteFallback)\n  }\n}\n"
        return Array(out.utf8)
    }
}
