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
