import CICU
import TokenKitCore

/// The two character passes of HF's BertNormalizer; the rest of it (accents stripped after NFD,
/// lowercase) is made of the ordinary normalizer steps (`Normalizer.bert`).
public struct BertCleanText: ByteNormalizer {
    public init() {}

    /// Drops NUL, U+FFFD and "other" characters (Cc, Cf, Co, Cs) except tab, newline and
    /// carriage return; every white-space character becomes a space. Unassigned code points (Cn)
    /// stay, as in HF tokenizers 0.22 (U+0378, U+FFFE and U+FDD0 are kept there).
    public func normalize(_ text: [UInt8]) -> [UInt8] {
        Normalizer.mapScalars(text) { c, out in
            switch c {
            case 0x09, 0x0A, 0x0D: out.append(0x20)
            case 0, 0xFFFD: break
            default:
                // ICU categories: 15 Cc, 16 Cf, 17 Co, 18 Cs.
                if (15...18).contains(tk_char_type(Int32(bitPattern: c))) { break }
                if tk_is_white_space(Int32(bitPattern: c)) != 0 { out.append(0x20) } else { UTF8Scan.append(c, to: &out) }
            }
        }
    }
}

/// BertNormalizer's accent stripping: nonspacing marks (Mn) only. (HF's StripAccents normalizer
/// drops every mark, so spacing vowel signs such as Devanagari "ा" stay here but not there.)
public struct BertStripNonspacingMarks: ByteNormalizer {
    public init() {}

    public func normalize(_ text: [UInt8]) -> [UInt8] {
        Normalizer.mapScalars(text) { c, out in
            // ICU category 6 is Mn; none is below U+0300.
            if c < 0x300 || tk_char_type(Int32(bitPattern: c)) != 6 { UTF8Scan.append(c, to: &out) }
        }
    }
}

/// Puts a space on each side of every CJK ideograph (BertNormalizer's handle_chinese_chars), so
/// that the pre-tokenizer makes each one a word.
public struct BertChineseChars: ByteNormalizer {
    public init() {}

    static func isIdeograph(_ c: UInt32) -> Bool {
        switch c {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }

    public func normalize(_ text: [UInt8]) -> [UInt8] {
        Normalizer.mapScalars(text) { c, out in
            if Self.isIdeograph(c) {
                out.append(0x20)
                UTF8Scan.append(c, to: &out)
                out.append(0x20)
            } else {
                UTF8Scan.append(c, to: &out)
            }
        }
    }
}

extension Normalizer {
    /// HF's BertNormalizer: clean text, space around ideographs, strip accents (after NFD; by
    /// default when lowercasing), lowercase.
    public static func bert(cleanText: Bool, chineseChars: Bool, stripAccents: Bool?, lowercase: Bool) -> Normalizer {
        var steps: [Normalizer] = []
        if cleanText { steps.append(.custom(BertCleanText())) }
        if chineseChars { steps.append(.custom(BertChineseChars())) }
        if stripAccents ?? lowercase { steps += [.nfd, .custom(BertStripNonspacingMarks())] }
        if lowercase { steps.append(.lowercase) }
        return .sequence(steps)
    }
}
