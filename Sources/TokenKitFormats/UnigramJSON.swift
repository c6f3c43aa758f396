import TokenKitCore
import TokenKitSentencePiece

extension TokenizerJSON {
    /// A SentencePiece Unigram model as an HF tokenizer.json Unigram model: the same pieces,
    /// scores and ids, and a normalizer that does what spm's does before the lattice (charsmap,
    /// then extra spaces removed, dummy prefix, spaces as ▁). No pre-tokenizer: spm runs one
    /// lattice over the whole sentence, so ▁-only pieces ("▁▁▁") still match. Control and
    /// unknown pieces become special added tokens, user-defined pieces plain added tokens.
    ///
    /// A BPE model becomes an HF BPE model with merges recovered from the pieces: each piece's
    /// splits into two pieces (by the ids of the halves), ordered by the piece's score and then
    /// the longer left half first, as HF's own SentencePiece conversion orders them.
    public static func writeSentencePiece(_ spm: SentencePieceModel) throws -> [UInt8] {
        guard spm.modelType == .unigram || spm.modelType == .bpe else {
            throw TokenKitError.usage("only Unigram and BPE SentencePiece models can be written as tokenizer.json")
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
        if spm.modelType == .bpe { return Array((out + bpeModel(spm, unk: unk)).utf8) }
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

    /// The "model" member for a SentencePiece BPE model (see `writeSentencePiece`).
    static func bpeModel(_ spm: SentencePieceModel, unk: TokenID) -> String {
        func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        var id: [[UInt8]: Int] = [:]
        for (i, p) in spm.pieces.enumerated() where id[p.bytes] == nil { id[p.bytes] = i }
        // (score, left length, right length, generation order), sorted descending but stable.
        var merges: [(left: [UInt8], right: [UInt8], score: Float, leftChars: Int, rightChars: Int, order: Int)] = []
        for p in spm.pieces where p.bytes.count > 1 {
            var local: [(l: Int, r: Int, cut: Int, leftChars: Int, rightChars: Int)] = []
            // Cuts between characters; lengths below count characters (HF's order is by str length).
            let starts = p.bytes.indices.filter { p.bytes[$0] & 0xC0 != 0x80 }
            for (k, cut) in starts.enumerated().dropFirst() {
                if let l = id[Array(p.bytes[..<cut])], let r = id[Array(p.bytes[cut...])] { local.append((l, r, cut, k, starts.count - k)) }
            }
            local.sort { ($0.l, $0.r) < ($1.l, $1.r) }
            for m in local {
                merges.append((Array(p.bytes[..<m.cut]), Array(p.bytes[m.cut...]), p.score, m.leftChars, m.rightChars, merges.count))
            }
        }
        merges.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.leftChars != b.leftChars { return a.leftChars > b.leftChars }
            if a.rightChars != b.rightChars { return a.rightChars > b.rightChars }
            return a.order < b.order
        }
        var out = "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": \(jsonString(text(spm.pieces[Int(unk)].bytes))),\n"
        out += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": true,\n"
        out += "    \"byte_fallback\": \(spm.byteFallback),\n    \"ignore_merges\": false,\n    \"vocab\": {"
        out += spm.pieces.enumerated().map { "\n      \(jsonString(text($1.bytes))): \($0)" }.joined(separator: ",")
        out += "\n    },\n    \"merges\": ["
        out += merges.map { "\n      [\(jsonString(text($0.left))), \(jsonString(text($0.right)))]" }.joined(separator: ",")
        return out + "\n    ]\n  }\n}\n"
    }
}
