
/// A JSON value whose strings stay UTF-8 bytes and whose objects keep key order.
///
/// Foundation's parser turns objects into `[String: Any]`, and Swift `String` keys compare by
/// canonical equivalence, so two vocabulary entries such as U+1F71 and U+03AC ("ά") collapse into
/// one. Vocabularies must be compared byte for byte, hence this parser.
public indirect enum JSON {
    case null
    case bool(Bool)
    case number(Double, integer: Int64?)
    case string([UInt8])
    case array([JSON])
    case object([(key: [UInt8], value: JSON)])

    /// How numbers with a fraction or exponent become doubles.
    public enum Floats: Sendable {
        /// Correctly rounded.
        case exact
        /// As serde_json reads them without its `float_roundtrip` feature (HF tokenizers'
        /// reader): the first 19-20 significant digits as a u64, rounded to a double, then one
        /// multiplication or division by a power of ten. About a third of the 16-17 digit
        /// scores HF writes come out 1 ulp away from the exact value, and Unigram near-ties
        /// follow those bits.
        case serdeJSON
    }

    public static func parse(_ data: [UInt8], floats: Floats = .exact) throws -> JSON {
        try data.withUnsafeBufferPointer { p in
            var parser = Parser(p: p, serde: floats == .serdeJSON)
            parser.skipSpace()
            let v = try parser.value(depth: 0)
            parser.skipSpace()
            if parser.i != p.count { throw parser.error("unexpected data after the JSON value") }
            return v
        }
    }

    public var stringValue: String? {
        if case .string(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    public subscript(key: String) -> JSON? {
        guard case .object(let pairs) = self else { return nil }
        let k = Array(key.utf8)
        return pairs.first { $0.key == k }?.value
    }

    /// Compact JSON text of this value.
    public func serialized() -> String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let d, let i):
            if let i { out += Array(String(i).utf8) } else { out += Array("\(d)".utf8) }
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out += Array(", ".utf8) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (k, p) in pairs.enumerated() {
                if k > 0 { out += Array(", ".utf8) }
                JSON.writeString(p.key, to: &out)
                out += Array(": ".utf8)
                p.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: [UInt8], to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(0x22)
        for b in s {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                out += Array("\\u00".utf8)
                out += [hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(0x22)
    }

    struct Parser {
        let p: UnsafeBufferPointer<UInt8>
        var serde = false
        var i = 0

        init(p: UnsafeBufferPointer<UInt8>, serde: Bool = false) {
            self.p = p
            self.serde = serde
        }

        func error(_ what: String) -> TokenKitError {
            TokenKitError.badInput("not valid JSON at byte offset \(i): \(what)")
        }

        mutating func skipSpace() {
            while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 512 else { throw error("nested too deeply") }
            guard i < p.count else { throw error("unexpected end of file (truncated?)") }
            switch p[i] {
            case UInt8(ascii: "{"):
                i += 1
                var pairs: [(key: [UInt8], value: JSON)] = []
                skipSpace()
                if i < p.count, p[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                while true {
                    skipSpace()
                    guard i < p.count, p[i] == 0x22 else { throw error("expected a string key") }
                    let key = try string()
                    skipSpace()
                    guard i < p.count, p[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    i += 1
                    skipSpace()
                    pairs.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < p.count else { throw error("unexpected end of file (truncated?)") }
                    if p[i] == UInt8(ascii: ",") { i += 1; continue }
                    if p[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSON] = []
                skipSpace()
                if i < p.count, p[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < p.count else { throw error("unexpected end of file (truncated?)") }
                    if p[i] == UInt8(ascii: ",") { i += 1; continue }
                    if p[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw error("expected ',' or ']'")
                }
            case 0x22:
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                return try number()
            }
        }

        mutating func literal(_ word: String, _ v: JSON) throws -> JSON {
            let w = Array(word.utf8)
            guard i + w.count <= p.count, Array(p[i..<(i + w.count)]) == w else { throw error("unexpected character") }
            i += w.count
            return v
        }

        mutating func number() throws -> JSON {
            let start = i
            if i < p.count, p[i] == UInt8(ascii: "-") { i += 1 }
            var integer = true
            while i < p.count {
                let c = p[i]
                if c >= 0x30 && c <= 0x39 { i += 1; continue }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+")
                    || c == UInt8(ascii: "-") {
                    integer = false
                    i += 1
                    continue
                }
                break
            }
            let text = String(decoding: p[start..<i], as: UTF8.self)
            guard i > start, let d = Double(text) else { i = start; throw error("unexpected character") }
            if serde && !integer, d.isFinite { return .number(Self.serdeDouble(p[start..<i]), integer: nil) }
            return .number(d, integer: integer ? Int64(text) : nil)
        }

        /// serde_json's reading of a valid JSON number (see `Floats.serdeJSON`): digits go into a
        /// u64 until the next one would overflow it; later integer digits only raise the
        /// exponent, later fraction digits are dropped.
        static func serdeDouble(_ t: Slice<UnsafeBufferPointer<UInt8>>) -> Double {
            var k = t.startIndex
            let negative = t[k] == UInt8(ascii: "-")
            if negative { k += 1 }
            var significand: UInt64 = 0
            var exponent = 0
            var full = false
            var fraction = false
            while k < t.endIndex {
                let c = t[k]
                if c == UInt8(ascii: ".") { fraction = true; k += 1; continue }
                guard c >= 0x30 && c <= 0x39 else { break }
                let digit = UInt64(c - 0x30)
                if !full && significand > (UInt64.max - digit) / 10 { full = true }
                if full {
                    if !fraction { exponent += 1 }
                } else {
                    significand = significand * 10 + digit
                    if fraction { exponent -= 1 }
                }
                k += 1
            }
            if k < t.endIndex {  // e or E, an optional sign, digits
                k += 1
                var sign = 1
                if t[k] == UInt8(ascii: "-") { sign = -1; k += 1 } else if t[k] == UInt8(ascii: "+") { k += 1 }
                var e = 0
                while k < t.endIndex { e = min(e * 10 + Int(t[k] - 0x30), 100_000); k += 1 }
                exponent += sign * e
            }
            var f = Double(significand)
            while exponent < -308 && f != 0 { f /= 1e308; exponent += 308 }
            if exponent >= 0 {
                f = exponent > 308 ? .infinity : f * Self.power10(exponent)
            } else {
                f /= Self.power10(-exponent)
            }
            return negative ? -f : f
        }

        /// 10^k as the nearest double (serde_json's table of literals 1e0 … 1e308).
        static func power10(_ k: Int) -> Double { k <= 308 ? powers[k] : .infinity }
        static let powers: [Double] = (0...308).map { Double("1e\($0)")! }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= p.count, let v = UInt32(String(decoding: p[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                throw error("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func string() throws -> [UInt8] {
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < p.count else { throw error("unterminated string (truncated?)") }
                let c = p[i]
                if c == 0x22 { i += 1; return out }
                if c != 0x5C { out.append(c); i += 1; continue }
                i += 1
                guard i < p.count else { throw error("unterminated string (truncated?)") }
                let e = p[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if v >= 0xD800 && v < 0xDC00, i + 6 <= p.count, p[i] == 0x5C, p[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let lo = try hex4()
                        if lo >= 0xDC00 && lo < 0xE000 { v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00) } else { v = 0xFFFD }
                    } else if v >= 0xD800 && v < 0xE000 {
                        v = 0xFFFD
                    }
                    UTF8Scan.append(v, to: &out)
                default: out.append(e)
                }
            }
        }
    }
}
