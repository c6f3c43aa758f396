import TokenKitCore

/// Turns token byte strings back into text bytes (HF tokenizers' decoders). Tokens are bytes
/// already, so the ByteLevel decoder has nothing to do; the others undo SentencePiece-style
/// markers. Byte fallback yields raw bytes, never U+FFFD, so decoding is exact.
public indirect enum Decoder: Sendable {
    case byteLevel
    case replace(pattern: [UInt8], content: [UInt8])
    /// A Replace whose regex is `^LITERAL`: the literal at the start of each token (ByteSpan's
    /// `^##`, which strips the continuation prefix token by token).
    case replacePrefix(pattern: [UInt8], content: [UInt8])
    case byteFallback
    case fuse
    case strip(content: [UInt8], start: Int, stop: Int)
    case metaspace(replacement: [UInt8], prependScheme: PreTokenizerPrepend)
    /// End-of-word suffixes (CLIP's "</w>") become spaces, the last one nothing.
    case bpeSuffix([UInt8])
    /// WordPiece: a token after the first loses its continuation prefix, or else gets a space
    /// in front; `cleanup` then rejoins English punctuation and contractions, as HF does.
    case wordPiece(prefix: [UInt8], cleanup: Bool)
    /// CTC (speech models' character vocabularies): repeated tokens collapse to one, the pad
    /// token is removed and, with `cleanup`, WordPiece's cleanup runs and the word delimiter
    /// becomes a space; tokens left empty are dropped.
    case ctc(pad: [UInt8], wordDelimiter: [UInt8], cleanup: Bool)
    case sequence([Decoder])

    public typealias PreTokenizerPrepend = String

    public func decode(_ tokens: [[UInt8]]) -> [[UInt8]] {
        switch self {
        case .byteLevel:
            return tokens
        case .replace(let pattern, let content):
            return tokens.map { replacingAll($0, pattern, with: content) }
        case .replacePrefix(let pattern, let content):
            return tokens.map { $0.starts(with: pattern) ? content + $0.dropFirst(pattern.count) : $0 }
        case .byteFallback:
            return tokens.map { t in
                if t.count == 6, t.starts(with: Array("<0x".utf8)), t[5] == UInt8(ascii: ">"),
                   let v = UInt8(String(decoding: t[3..<5], as: UTF8.self), radix: 16) {
                    return [v]
                }
                return t
            }
        case .fuse:
            return [tokens.flatMap { $0 }]
        case .strip(let content, let start, let stop):
            return tokens.map { t in
                // Loops stop at the first mismatch, so a huge count costs no more than the token.
                var s = 0, e = t.count, n = 0
                while n < start, !content.isEmpty, e - s >= content.count, t[s..<(s + content.count)].elementsEqual(content) {
                    s += content.count
                    n += 1
                }
                n = 0
                while n < stop, !content.isEmpty, e - s >= content.count, t[(e - content.count)..<e].elementsEqual(content) {
                    e -= content.count
                    n += 1
                }
                return Array(t[s..<e])
            }
        case .metaspace(let replacement, let prepend):
            // As HF: every marker of the first token is dropped (not only a leading one), unless
            // no space was prepended.
            return tokens.enumerated().map { i, t in
                replacingAll(t, replacement, with: i == 0 && prepend != "never" ? [] : [0x20])
            }
        case .bpeSuffix(let suffix):
            return tokens.enumerated().map { i, t in replacingAll(t, suffix, with: i == tokens.count - 1 ? [] : [0x20]) }
        case .wordPiece(let prefix, let cleanup):
            return tokens.enumerated().map { i, t in
                var r = t
                if i > 0 {
                    if !prefix.isEmpty, r.starts(with: prefix) { r.removeFirst(prefix.count) } else { r.insert(0x20, at: 0) }
                }
                if cleanup {
                    for (from, to) in Decoder.wordPieceCleanup { r = replacingAll(r, from, with: to) }
                }
                return r
            }
        case .ctc(let pad, let delimiter, let cleanup):
            var out: [[UInt8]] = []
            var previous: [UInt8]?
            for t in tokens where t != previous {
                previous = t
                var r = replacingAll(t, pad, with: [])
                if cleanup {
                    for (from, to) in Decoder.wordPieceCleanup { r = replacingAll(r, from, with: to) }
                    r = replacingAll(r, delimiter, with: [0x20])
                }
                if !r.isEmpty { out.append(r) }
            }
            return out
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.decode($0) }
        }
    }

    /// HF's `cleanup` replacements, in its order.
    static let wordPieceCleanup: [([UInt8], [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }
}
