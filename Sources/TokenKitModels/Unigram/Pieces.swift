/// The kinds of piece a Unigram (SentencePiece) vocabulary holds; the raw values are those of
/// SentencePiece's `ModelProto.SentencePiece.Type`.
public enum UnigramPieceType: Int32, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// The byte a byte-fallback piece `<0xNN>` stands for.
public func byteValue(_ piece: [UInt8]) -> UInt8? {
    guard piece.count == 6, piece[0] == UInt8(ascii: "<"), piece[1] == UInt8(ascii: "0"),
          piece[2] == UInt8(ascii: "x"), piece[5] == UInt8(ascii: ">") else { return nil }
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    guard let h = hex(piece[3]), let l = hex(piece[4]) else { return nil }
    return h << 4 | l
}

public func bytePieceName(_ b: UInt8) -> [UInt8] {
    let digits = Array("0123456789ABCDEF".utf8)
    return Array("<0x".utf8) + [digits[Int(b >> 4)], digits[Int(b & 15)], UInt8(ascii: ">")]
}


/// spm's `OneCharLen`: the length of a UTF-8 sequence from its first byte alone.
@inlinable
package func oneCharLen(_ b: UInt8) -> Int {
    // "\1\1\1\1\1\1\1\1\1\1\1\1\2\2\3\4"[b >> 4]
    let hi = b >> 4
    if hi < 12 { return 1 }
    if hi < 14 { return 2 }
    return hi == 14 ? 3 : 4
}

