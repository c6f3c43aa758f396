import CICU
import TokenKitCore
#if canImport(Glibc)
import Glibc
#endif

/// A regular expression run by ICU, for split patterns that have no hand-written scanner.
///
/// Patterns in tokenizer.json are written for Oniguruma (HF) or fancy-regex (tiktoken), where
/// `\s` is Unicode White_Space and `$` is the end of the text. ICU's `\s` omits U+000B and U+0085
/// and its `$` also matches before a final line break, so `translate` rewrites both. Both know
/// Unicode 16.0 and ICU 72 knows 15.0, so `translate` also adds the characters `unicodeUpdate`
/// lists to the general categories (`\p{L}`, `\p{Lu}`, `\P{N}`, …) and to `\w` and `\d`.
public final class ICURegex: @unchecked Sendable {
    public let pattern: String
    let compiled: OpaquePointer

    public init(_ pattern: String) throws {
        guard !pattern.isEmpty else { throw TokenKitError.badInput("invalid regex \"\": the pattern is empty") }
        self.pattern = pattern
        let translated = Array(ICURegex.translate(pattern).utf8)
        var err = [CChar](repeating: 0, count: 256)
        guard let re = translated.withUnsafeBufferPointer({ p in
            p.withMemoryRebound(to: CChar.self) { tk_regex_open($0.baseAddress, $0.count, &err, 256) }
        }) else {
            let message = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TokenKitError.badInput("invalid regex \(pattern.debugDescription): \(message)")
        }
        compiled = re
    }

    deinit { tk_regex_close(compiled) }

    /// A matcher for one thread (ICU regex objects keep match state).
    public func matcher() -> Matcher { Matcher(tk_regex_clone(compiled)!, pattern: pattern) }

    /// Called when a match runs past ICU's backtracking limit (a catastrophic pattern such as
    /// `(a+)+$`). Matching sits on non-throwing paths, so this reports the pattern on stderr and
    /// exits with status 1, as for any other bad input.
    static func runaway(_ pattern: String, _ what: String) -> Never {
        let message = "tokenkit: error: regex \(pattern.debugDescription): \(what)\n"
        _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        exit(1)
    }

    public final class Matcher {
        let re: OpaquePointer
        let pattern: String
        init(_ re: OpaquePointer, pattern: String) {
            self.re = re
            self.pattern = pattern
        }
        deinit { tk_regex_close(re) }

        /// Byte ranges of all matches in valid UTF-8 text.
        public func matches(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
            if text.isEmpty { return [] }
            var out: UnsafeMutablePointer<Int64>?
            let n = tk_regex_find_all(re, text.baseAddress, text.count, &out)
            if n == -2 { ICURegex.runaway(pattern, "matching takes too long (catastrophic backtracking); simplify the pattern") }
            if n == -3 { ICURegex.runaway(pattern, "matching overflows the backtrack stack; simplify the pattern") }
            guard n > 0, let out else {
                if let out { tk_free(out) }
                return []
            }
            defer { tk_free(out) }
            return (0..<Int(n)).map { Int(out[2 * $0])..<Int(out[2 * $0 + 1]) }
        }
    }

    /// Rewrites Rust/Oniguruma escapes into their ICU equivalents (see the type's comment).
    public static func translate(_ pattern: String) -> String {
        var out = ""
        var inClass = 0
        var chars = Array(pattern.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if c == "\\", let next = chars.first {
                chars.removeFirst()
                switch next {
                case "s": out += #"\p{White_Space}"#
                case "S": out += #"\P{White_Space}"#
                case "w", "d": out += updated("\\" + String(next), extra: next == "w" ? "w" : "Nd", negated: false)
                case "p", "P":
                    // \pL or \p{Name}: a general category gets the Unicode 16.0 additions.
                    var name = ""
                    if chars.first == "{" {
                        let body = chars.dropFirst().prefix { $0 != "}" }
                        if chars.dropFirst(body.count + 1).first == "}" { name = String(String.UnicodeScalarView(body)) }
                    } else if let letter = chars.first {
                        name = String(letter)
                    }
                    let spelled = chars.first == "{" ? "{\(name)}" : name
                    if !name.isEmpty, ICURegex.categoryAdditions[name] != nil {
                        chars.removeFirst(spelled.unicodeScalars.count)
                        out += updated("\\" + String(next) + spelled, extra: name, negated: next == "P")
                    } else {
                        out.unicodeScalars.append(c); out.unicodeScalars.append(next)
                    }
                default: out.unicodeScalars.append(c); out.unicodeScalars.append(next)
                }
                continue
            }
            if c == "[" { inClass += 1 } else if c == "]", inClass > 0 { inClass -= 1 }
            if c == "$", inClass == 0 { out += #"\z"#; continue }
            out.unicodeScalars.append(c)
        }
        return out
    }

    /// `item` as a set with the Unicode 16.0 additions of `extra` (removed when `negated`).
    static func updated(_ item: String, extra: String, negated: Bool) -> String {
        guard let add = categoryAdditions[extra], !add.isEmpty else { return item }
        return negated ? "[\(item)--[\(add)]]" : "[\(item)\(add)]"
    }

    /// ICU set ranges of the characters `unicodeUpdate` assigns to each general category, by
    /// one- and two-letter name, and to `\w` (letters, marks, Nd, Pc).
    static let categoryAdditions: [String: String] = {
        let names = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Me", "Mc", "Nd", "Nl", "No", "Zs", "Zl", "Zp", "Cc", "Cf", "Co",
                     "Cs", "Pd", "Ps", "Pe", "Pc", "Po", "Sm", "Sc", "Sk", "So", "Pi", "Pf"]
        var sets: [String: String] = [:]
        for name in names + ["L", "M", "N", "P", "S", "Z", "w"] { sets[name] = "" }
        for run in unicodeUpdate where run.category > 0 && Int(run.category) < names.count {
            let name = names[Int(run.category)]
            let range = "\\x{\(String(run.first, radix: 16))}-\\x{\(String(run.last, radix: 16))}"
            sets[name]! += range
            sets[String(name.prefix(1))]! += range
            if "LM".contains(name.prefix(1)) || name == "Nd" || name == "Pc" { sets["w"]! += range }
        }
        return sets
    }()

    /// ICU pattern for a literal string.
    public static func literal(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.properties.isAlphabetic || u.properties.numericType != nil || u.value >= 0x80 {
                out.unicodeScalars.append(u)
            } else {
                out += "\\x{\(String(u.value, radix: 16))}"
            }
        }
        return out
    }
}
