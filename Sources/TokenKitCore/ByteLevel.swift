/// GPT-2's reversible byte ↔ character alphabet, used by byte-level tokenizer.json files.
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the other 68 bytes
/// map in order to U+0100, U+0101, … so that every vocabulary string is printable.
/// tokenkit keeps tokens as raw bytes internally and uses this map only at the file boundary.
public enum ByteLevelAlphabet {
    /// `scalar[b]` is the character that stands for byte `b`.
    public static let scalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var extra: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = extra
                extra += 1
            }
        }
        return table
    }()

    /// Inverse of `scalar`, indexed by code point (< 324); -1 where no byte maps.
    public static let byte: [Int16] = {
        var inv = [Int16](repeating: -1, count: 324)
        for (b, s) in scalar.enumerated() { inv[Int(s)] = Int16(b) }
        return inv
    }()

    /// The alphabet form of raw bytes, e.g. `" hello"` → `"Ġhello"`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(scalar[Int(b)])!) }
        return String(s)
    }

    /// Raw bytes of an alphabet string, or nil if a character is outside the alphabet.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars {
            let v = Int(u.value)
            guard v < byte.count, byte[v] >= 0 else { return nil }
            out.append(UInt8(byte[v]))
        }
        return out
    }
}
