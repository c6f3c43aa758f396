import CICU
import TokenKitCore

/// Text normalization before splitting, as in HF tokenizers' normalizers. Works on UTF-8 bytes;
/// invalid byte sequences pass through untouched, so byte-level models stay lossless.
public indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    /// Remove combining marks (HF StripAccents; usually after NFD).
    case stripAccents
    /// Replace every occurrence of a literal string or a regex with `content`.
    case replace(ReplacePattern, content: [UInt8])
    /// Prepend `content` to non-empty text.
    case prepend([UInt8])
    /// Strip leading/trailing whitespace.
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])
    /// A normalizer from another module (SentencePiece's precompiled map).
    case custom(any ByteNormalizer)

    /// Whether normalizing chunks cut at line starts equals normalizing the whole text
    /// (stripping looks at the far ends of the text, so it is not).
    public var isChunkSafe: Bool {
        switch self {
        case .strip: return false
        case .sequence(let steps): return steps.allSatisfy(\.isChunkSafe)
        default: return true
        }
    }

    public enum ReplacePattern: Sendable {
        case literal([UInt8])
        case regex(ICURegex)
        /// Runs of at least `min` U+0020 spaces: the regexes ` +` and ` {n,}`.
        case spaces(min: Int)
        /// Spaces at the start and at the end of the text: `\A +| +\z`.
        case edgeSpaces

        /// The pattern of a Replace regex. The two whitespace regexes HF's SentencePiece
        /// converter writes (spm's remove_extra_whitespaces) run natively: through ICU they
        /// cost a quarter of a Unigram tokenizer.json's encode time.
        public static func parse(regex pattern: String) throws -> ReplacePattern {
            switch pattern {
            case " +": return .spaces(min: 1)
            case #"\A +| +\z"#: return .edgeSpaces
            default:
                if pattern.hasPrefix(" {"), pattern.hasSuffix(",}"), let n = Int(pattern.dropFirst(2).dropLast(2)), n >= 1, n <= 1000 {
                    return .spaces(min: n)
                }
                return .regex(try ICURegex(pattern))
            }
        }
    }

    /// `continuation` marks text that continues a segment cut into chunks: it gets no prefix.
    public func apply(_ text: [UInt8], continuation: Bool = false) -> [UInt8] {
        switch self {
        case .nfc: return Normalizer.unicode(0, text)
        case .nfd: return Normalizer.unicode(1, text)
        case .nfkc: return Normalizer.unicode(2, text)
        case .nfkd: return Normalizer.unicode(3, text)
        case .lowercase: return Normalizer.lowercase(text)
        case .stripAccents: return Normalizer.stripMarks(text)
        case .replace(let pattern, let content): return Normalizer.replace(text, pattern, content)
        case .prepend(let content): return text.isEmpty || continuation ? text : content + text
        case .strip(let left, let right): return Normalizer.strip(text, left: left, right: right)
        case .sequence(let steps): return steps.reduce(text) { $1.apply($0, continuation: continuation) }
        case .custom(let n): return n.normalize(text)
        }
    }

    /// Applies an ICU transform to each valid UTF-8 run, keeping invalid bytes as they are.
    /// ASCII text is returned as is: every form and lowercase fix it except uppercase letters.
    /// With `keepNewerThanUnicode9`, characters assigned after Unicode 9.0 are also kept as they
    /// are, between runs: HF tokenizers normalizes with Unicode 9.0 tables, where they have no
    /// decomposition and combining class 0, so nothing moves or composes across them.
    static func eachValidRun(_ text: [UInt8], keepNewerThanUnicode9: Bool = false,
                             _ transform: (UnsafeBufferPointer<UInt8>) -> [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { p in
            var out: [UInt8] = []
            out.reserveCapacity(p.count)
            var start = 0, i = 0
            while i < p.count {
                if p[i] < 0x80 { i += 1; continue }
                let d = UTF8Scan.decode(p, i)
                if d.valid && !(keepNewerThanUnicode9 && CharClass.of(d.scalar) & CharClass.newerThanUnicode9 != 0) {
                    i += d.length
                    continue
                }
                let length = d.valid ? d.length : 1
                out += transform(UnsafeBufferPointer(rebasing: p[start..<i]))
                out += UnsafeBufferPointer(rebasing: p[i..<(i + length)])
                i += length
                start = i
            }
            out += transform(UnsafeBufferPointer(rebasing: p[start..<p.count]))
            return out
        }
    }

    static func icu(_ p: UnsafeBufferPointer<UInt8>, _ f: (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<Int>) -> UnsafeMutablePointer<UInt8>?) -> [UInt8] {
        if p.isEmpty { return [] }
        var n = 0
        guard let out = f(p.baseAddress, p.count, &n) else { return Array(p) }
        defer { tk_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: n))
    }

    static func unicode(_ form: Int32, _ text: [UInt8]) -> [UInt8] {
        if text.withUnsafeBufferPointer({ UTF8Scan.isASCII($0) }) { return text }
        return eachValidRun(text, keepNewerThanUnicode9: true) { p in icu(p) { tk_normalize(form, $0, $1, $2) } }
    }

    static func lowercase(_ text: [UInt8]) -> [UInt8] {
        if text.withUnsafeBufferPointer({ UTF8Scan.isASCII($0) }) {
            return text.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 | 0x20 : $0 }
        }
        return eachValidRun(text) { p in icu(p) { tk_lowercase($0, $1, $2) } }
    }

    static func replace(_ text: [UInt8], _ pattern: ReplacePattern, _ content: [UInt8]) -> [UInt8] {
        switch pattern {
        case .spaces(let min):
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            var i = 0
            while i < text.count {
                if text[i] != 0x20 {
                    out.append(text[i])
                    i += 1
                    continue
                }
                var e = i
                while e < text.count, text[e] == 0x20 { e += 1 }
                if e - i >= min { out += content } else { out += text[i..<e] }
                i = e
            }
            return out
        case .edgeSpaces:
            var s = 0, e = text.count
            while s < e, text[s] == 0x20 { s += 1 }
            while e > s, text[e - 1] == 0x20 { e -= 1 }
            if s == 0 && e == text.count { return text }
            return (s > 0 ? content : []) + text[s..<e] + (e < text.count ? content : [])
        case .literal(let needle):
            return replacingAll(text, needle, with: content)
        case .regex(let re):
            let m = re.matcher()
            return text.withUnsafeBufferPointer { p in
                var out: [UInt8] = []
                var last = 0
                for r in m.matches(p) where !r.isEmpty {
                    out += p[last..<r.lowerBound]
                    out += content
                    last = r.upperBound
                }
                out += p[last..<p.count]
                return out
            }
        }
    }

    static func stripMarks(_ text: [UInt8]) -> [UInt8] {
        mapScalars(text) { c, out in
            if CharClass.of(c) & CharClass.mark == 0 { UTF8Scan.append(c, to: &out) }
        }
    }

    /// Runs `body` on each scalar of valid UTF-8 (it appends what the scalar becomes); invalid
    /// bytes are copied through.
    static func mapScalars(_ text: [UInt8], _ body: (UInt32, inout [UInt8]) -> Void) -> [UInt8] {
        text.withUnsafeBufferPointer { p in
            var out: [UInt8] = []
            out.reserveCapacity(p.count)
            var i = 0
            while i < p.count {
                let d = UTF8Scan.decode(p, i)
                if d.valid { body(d.scalar, &out) } else { out += p[i..<(i + d.length)] }
                i += d.length
            }
            return out
        }
    }

    static func strip(_ text: [UInt8], left: Bool, right: Bool) -> [UInt8] {
        text.withUnsafeBufferPointer { p in
            var s = 0, e = p.count
            if left {
                while s < e {
                    let d = UTF8Scan.decode(p, s)
                    guard d.valid, CharClass.of(d.scalar) & CharClass.space != 0 else { break }
                    s += d.length
                }
            }
            if right {
                while e > s {
                    var k = e - 1
                    while k > s, p[k] & 0xC0 == 0x80 { k -= 1 }
                    let d = UTF8Scan.decode(p, k)
                    guard d.valid, k + d.length == e, CharClass.of(d.scalar) & CharClass.space != 0 else { break }
                    e = k
                }
            }
            return Array(p[s..<e])
        }
    }
}

