import TokenKitCore

extension Tokenizer {
    /// Whether a line break survives encoding and decoding. SentencePiece models without byte
    /// fallback or a newline piece turn it into `<unk>` (or fold it into a space), so their
    /// files are encoded a line at a time.
    public var keepsLineBreaks: Bool {
        guard let ids = try? encode(Array("a\nb".utf8), policy: .ordinary),
              let back = try? decode(ids) else { return false }
        return back.contains(0x0A)
    }
}

extension Tokenizer {
    /// Model tokens that hold a newline followed by an ASCII letter. Long inputs are cut into
    /// chunks between such a newline and letter, so a cut must not fall inside an occurrence of
    /// one, or the ids would differ from the whole text's. Tokenizers trained without a
    /// pre-tokenizer (`train bpe --random-chunks`) have them; split patterns cut there anyway.
    public var tokensAcrossLineStarts: [[UInt8]] {
        let vocab = model.vocab
        var out: [[UInt8]] = []
        for id in vocab.ids {
            let spans = vocab.withBytes(id) { raw in
                raw.count > 1 && (0..<(raw.count - 1)).contains { raw[$0] == 0x0A && (raw[$0 + 1] | 0x20) >= 0x61 && (raw[$0 + 1] | 0x20) <= 0x7A }
            }
            if spans { out.append(vocab.bytes(id)) }
        }
        return out
    }
}
