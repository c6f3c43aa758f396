import CICU

/// Words by ICU's word-break rules (UAX #29 with ICU's dictionaries for Thai, Lao, Khmer,
/// Burmese, Chinese and Japanese): the segments that hold a letter, number, kana or ideograph.
/// Punctuation, spaces and symbols between words are not words.
public enum WordSegmenter {
    /// Byte ranges of the words of valid UTF-8 text, as (start, end) pairs in one flat array.
    /// Returns nil if ICU fails (e.g. on invalid UTF-8).
    public static func words(_ text: UnsafeBufferPointer<UInt8>) -> [Int32]? {
        if text.isEmpty { return [] }
        var out: UnsafeMutablePointer<Int64>?
        let n = tk_word_segments(text.baseAddress!, text.count, &out)
        guard n >= 0, let out else { return nil }
        defer { tk_free(out) }
        var flat = [Int32](repeating: 0, count: Int(n) * 2)
        for i in 0..<Int(n) * 2 { flat[i] = Int32(truncatingIfNeeded: out[i]) }
        return flat
    }

    public static func words(_ text: [UInt8]) -> [Int32]? {
        text.withUnsafeBufferPointer { words($0) }
    }
}
