import TokenKitCore

/// HF tokenizers' `Nmt` normalizer, character by character: C0/C1 control characters other than
/// white space are dropped; tab, line feed, form feed, carriage return, Ogham space mark,
/// zero-width spaces and joiners (U+200B–U+200F), line/paragraph separators, "▁", the BOM and
/// U+FFFD become a space. (Mapping taken by running HF's normalizer over every code point.)
public struct HFNmtNormalizer: ByteNormalizer {
    public init() {}

    public func normalize(_ text: [UInt8]) -> [UInt8] {
        Normalizer.mapScalars(text) { c, out in
            switch c {
            case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x8F, 0x9F: break
            case 0x09, 0x0A, 0x0C, 0x0D, 0x1680, 0x200B...0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD: out.append(0x20)
            default: UTF8Scan.append(c, to: &out)
            }
        }
    }
}
