import TokenKit
import TokenKitCore
import TokenKitTraining

/// Which tokens span more than one word: those whose bytes hold two or more non-empty parts
/// when cut at spaces (and at SentencePiece's `▁`), e.g. " of the", "▁New▁York"; not " the" or
/// "end ".
public enum MultiWordStats {
    public static func isMultiWord(_ bytes: [UInt8]) -> Bool {
        var words = 0, inWord = false, i = 0
        while i < bytes.count {
            if bytes[i] == 0x20 {
                inWord = false
                i += 1
            } else if bytes[i] == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x96, bytes[i + 2] == 0x81 {
                inWord = false
                i += 3
            } else {
                if !inWord {
                    inWord = true
                    words += 1
                    if words > 1 { return true }
                }
                i += 1
            }
        }
        return false
    }

    /// Per id of `tok`'s vocabulary (added tokens included): whether the token spans words.
    public static func flags(_ tok: Tokenizer) -> [Bool] {
        var out = [Bool](repeating: false, count: tok.vocabSize)
        for id in tok.vocab.ids where Int(id) < out.count { out[Int(id)] = isMultiWord(tok.vocab.bytes(id)) }
        return out
    }
}
