import CICU
import TokenKitCore

/// Unicode properties the split patterns ask about, one bit each, from ICU's character data
/// (Unicode 15.0) brought up to Unicode 16.0 by `unicodeUpdate`, as tiktoken's and HF's regex
/// engines know it. (`ICURegex.translate` gives the ICU regex fallback the same additions.)
public enum CharClass {
    public static let letter: UInt8 = 1        // \p{L}
    public static let number: UInt8 = 2        // \p{N}
    public static let space: UInt8 = 4         // \s (White_Space, as in the Rust regex crate)
    public static let upperish: UInt8 = 8      // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (o200k)
    public static let lowerish: UInt8 = 16     // [\p{Ll}\p{Lm}\p{Lo}\p{M}] (o200k)
    public static let mark: UInt8 = 32         // \p{M}
    public static let punct: UInt8 = 64        // \p{P}
    /// Assigned after Unicode 9.0, the version of HF tokenizers' normalization tables.
    public static let newerThanUnicode9: UInt8 = 128

    /// Classes of code points below `tableLimit`, computed once; the BMP plus the planes that
    /// hold emoji and CJK extensions, so nearly every lookup is one load.
    static let tableLimit: UInt32 = 0x30000
    static let table: [UInt8] = (0..<tableLimit).map { compute($0) }

    static func compute(_ c: UInt32) -> UInt8 {
        var bits: UInt8 = 0
        let t = updatedCategory(c) ?? tk_char_type(Int32(bitPattern: c))
        switch t {
        case 1, 3: bits |= letter | upperish                  // Lu, Lt
        case 2: bits |= letter | lowerish                     // Ll
        case 4, 5: bits |= letter | upperish | lowerish       // Lm, Lo
        case 6, 7, 8: bits |= mark | upperish | lowerish      // Mn, Me, Mc
        case 9, 10, 11: bits |= number                        // Nd, Nl, No
        case 19, 20, 21, 22, 23, 28, 29: bits |= punct        // Pd Ps Pe Pc Po Pi Pf
        default: break
        }
        if tk_is_white_space(Int32(bitPattern: c)) != 0 { bits |= space }
        if tk_char_age(Int32(bitPattern: c)) >= 1000 { bits |= newerThanUnicode9 }
        return bits
    }

    /// The Unicode 16.0 category where it differs from ICU's 15.0 (a binary search of the runs).
    static func updatedCategory(_ c: UInt32) -> Int32? {
        var lo = 0, hi = unicodeUpdate.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if unicodeUpdate[mid].last < c { lo = mid + 1 } else { hi = mid }
        }
        return lo < unicodeUpdate.count && unicodeUpdate[lo].first <= c ? unicodeUpdate[lo].category : nil
    }

    @inline(__always)
    public static func of(_ c: UInt32) -> UInt8 {
        c < tableLimit ? table[Int(c)] : compute(c)
    }
}

/// Class and length of the character at byte `i`. Invalid UTF-8 bytes are one-byte characters
/// with no class ("other"), which keeps byte-level encoding lossless on any input.
@inline(__always)
func classAt(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (cls: UInt8, len: Int) {
    let b = p[i]
    if b < 0x80 { return (asciiClass[Int(b)], 1) }
    let d = UTF8Scan.decode(p, i)
    return d.valid ? (CharClass.of(d.scalar), d.length) : (0, 1)
}

let asciiClass: [UInt8] = (0..<128).map { CharClass.compute(UInt32($0)) }
