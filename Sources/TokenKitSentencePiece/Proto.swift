import TokenKitCore
import TokenKitModels

// A hand-written reader and writer for the small part of the protobuf wire format that
// SentencePiece's `.model` files use: varints, 32/64-bit fixed values and length-delimited
// fields (strings, bytes, nested messages). No code generation, no reflection.
//
// Every error names the field being read (e.g. `pieces[12].score`) and the absolute byte
// offset in the file, and nothing here traps on malformed input.

/// Protobuf wire types (groups, 3 and 4, are not used by SentencePiece and rejected).
enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5

    var name: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "fixed64"
        case .lengthDelimited: "length-delimited"
        case .fixed32: "fixed32"
        }
    }
}

/// One field as read from the wire, kept raw so that unknown fields survive a round trip.
struct ProtoField: Sendable, Equatable {
    var number: Int
    var wire: WireType
    /// The value of a varint, fixed32 or fixed64 field.
    var scalar: UInt64 = 0
    /// The payload of a length-delimited field.
    var bytes: [UInt8] = []
}

/// Reads fields from `data[start..<end]`; offsets in errors are absolute in `data`.
struct ProtoReader {
    let data: [UInt8]
    var pos: Int
    let end: Int
    /// The name of the message being read, for errors ("trainer_spec", "pieces[3]", "").
    let path: String

    init(_ data: [UInt8], range: Range<Int>? = nil, path: String = "") {
        self.data = data
        self.pos = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? data.count
        self.path = path
    }

    var atEnd: Bool { pos >= end }

    func fieldName(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func fail(_ field: String, _ what: String, at offset: Int) -> TokenKitError {
        TokenKitError.badInput("field \(field): \(what) at byte offset \(offset)")
    }

    mutating func varint(_ field: String) throws -> UInt64 {
        let start = pos
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < end else { throw fail(field, "truncated varint", at: start) }
            let b = data[pos]
            pos += 1
            if shift == 63 && b > 1 { throw fail(field, "varint longer than 64 bits", at: start) }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw fail(field, "varint longer than 10 bytes", at: start) }
        }
    }

    mutating func fixed32(_ field: String) throws -> UInt32 {
        guard end - pos >= 4 else { throw fail(field, "truncated fixed32", at: pos) }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(data[pos + k]) << (8 * UInt32(k)) }
        pos += 4
        return v
    }

    mutating func fixed64(_ field: String) throws -> UInt64 {
        guard end - pos >= 8 else { throw fail(field, "truncated fixed64", at: pos) }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(data[pos + k]) << (8 * UInt64(k)) }
        pos += 8
        return v
    }

    /// The range of a length-delimited payload (the length varint is read here).
    mutating func lengthDelimited(_ field: String) throws -> Range<Int> {
        let (r, overrun) = try nestedMessage(field)
        if let e = overrun { throw e }
        return r
    }

    /// For a nested message: the payload range clipped to the data, and the error to throw if
    /// the clipped payload parses cleanly (so a truncated file names the innermost field cut).
    mutating func nestedMessage(_ field: String) throws -> (Range<Int>, TokenKitError?) {
        let start = pos
        let n = try varint(field)
        guard n <= UInt64(end - pos) else {
            let e = fail(field, "length \(n) runs past the end of its message (\(end - pos) bytes left)", at: start)
            let r = pos..<end
            pos = end
            return (r, e)
        }
        let r = pos..<(pos + Int(n))
        pos += Int(n)
        return (r, nil)
    }

    /// The next tag, or nil at the end of the message.
    mutating func tag() throws -> (number: Int, wire: WireType, offset: Int)? {
        if atEnd { return nil }
        let start = pos
        let name = path.isEmpty ? "(tag)" : "\(path) (tag)"
        let t = try varint(name)
        let number = t >> 3
        guard number >= 1, number <= 536_870_911 else { throw fail(name, "invalid field number \(number)", at: start) }
        guard let wire = WireType(rawValue: UInt8(t & 7)) else {
            throw fail(fieldName("#\(number)"), "unsupported wire type \(t & 7)", at: start)
        }
        return (Int(number), wire, start)
    }

    /// Reads the value of a field whose tag was just read, as a raw field.
    mutating func raw(number: Int, wire: WireType, field: String) throws -> ProtoField {
        var f = ProtoField(number: number, wire: wire)
        switch wire {
        case .varint: f.scalar = try varint(field)
        case .fixed32: f.scalar = UInt64(try fixed32(field))
        case .fixed64: f.scalar = try fixed64(field)
        case .lengthDelimited: f.bytes = Array(data[try lengthDelimited(field)])
        }
        return f
    }

    func expect(_ wire: WireType, _ got: WireType, field: String, at offset: Int) throws {
        if wire != got { throw fail(field, "wire type \(got.name), expected \(wire.name)", at: offset) }
    }
}

/// Appends protobuf encodings to a byte array.
struct ProtoWriter {
    var out: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    mutating func tag(_ number: Int, _ wire: WireType) { varint(UInt64(number) << 3 | UInt64(wire.rawValue)) }

    mutating func field(_ f: ProtoField) {
        tag(f.number, f.wire)
        switch f.wire {
        case .varint: varint(f.scalar)
        case .fixed32: for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: f.scalar >> (8 * UInt64(k)))) }
        case .fixed64: for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: f.scalar >> (8 * UInt64(k)))) }
        case .lengthDelimited:
            varint(UInt64(f.bytes.count))
            out.append(contentsOf: f.bytes)
        }
    }

    mutating func bytesField(_ number: Int, _ bytes: [UInt8]) {
        tag(number, .lengthDelimited)
        varint(UInt64(bytes.count))
        out.append(contentsOf: bytes)
    }

    mutating func floatField(_ number: Int, _ v: Float) {
        field(ProtoField(number: number, wire: .fixed32, scalar: UInt64(v.bitPattern)))
    }

    mutating func varintField(_ number: Int, _ v: UInt64) {
        tag(number, .varint)
        varint(v)
    }
}

/// A message kept as its list of raw fields in file order, with typed access by field number:
/// scalars read the last occurrence (protobuf's rule), writes replace every occurrence, and a
/// new field is inserted in field-number order, so re-serializing an unmodified message gives
/// back the same bytes.
struct RawMessage: Sendable, Equatable {
    var fields: [ProtoField] = []

    func last(_ number: Int) -> ProtoField? { fields.last { $0.number == number } }

    func all(_ number: Int) -> [ProtoField] { fields.filter { $0.number == number } }

    mutating func set(_ f: ProtoField) {
        if let i = fields.firstIndex(where: { $0.number == f.number }) {
            fields[i] = f
            var k = fields.count - 1
            while k > i {
                if fields[k].number == f.number { fields.remove(at: k) }
                k -= 1
            }
        } else {
            let i = fields.firstIndex { $0.number > f.number } ?? fields.count
            fields.insert(f, at: i)
        }
    }

    mutating func remove(_ number: Int) { fields.removeAll { $0.number == number } }

    /// Replaces all occurrences of a repeated field.
    mutating func setRepeated(_ number: Int, _ values: [ProtoField]) {
        let i = fields.firstIndex { $0.number == number } ?? fields.firstIndex { $0.number > number } ?? fields.count
        fields.removeAll { $0.number == number }
        fields.insert(contentsOf: values, at: min(i, fields.count))
    }

    func serialized() -> [UInt8] {
        var w = ProtoWriter()
        for f in fields { w.field(f) }
        return w.out
    }

    /// The kind of value a known field holds, used to check wire types when parsing.
    enum Kind { case int32, uint64, bool, float, string }

    static func parse(_ data: [UInt8], range: Range<Int>, path: String, schema: [Int: (String, Kind)]) throws -> RawMessage {
        var r = ProtoReader(data, range: range, path: path)
        var m = RawMessage()
        while let (number, wire, offset) = try r.tag() {
            let name = r.fieldName(schema[number]?.0 ?? "#\(number)")
            if let (_, kind) = schema[number] {
                let want: WireType = kind == .float ? .fixed32 : kind == .string ? .lengthDelimited : .varint
                try r.expect(want, wire, field: name, at: offset)
            }
            m.fields.append(try r.raw(number: number, wire: wire, field: name))
        }
        return m
    }
}
