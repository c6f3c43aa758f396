import Foundation
import TokenKitCore

/// Hand-written scanners that split text exactly as the OpenAI split regexes do (as run by
/// tiktoken's fancy-regex), without a regex engine. Each scanner returns the end of the piece
/// that starts at byte `i`; the alternatives are tried in the pattern's order.
/// The property tests check them against the ICU regex on random and real text.
///
/// Performance notes: a regex engine spends most of tiktoken's time; these scanners decode each
/// character once and look its class up in a table, with an ASCII fast path.
public enum BuiltinPattern: String, CaseIterable, Sendable {
    /// GPT-2 / r50k_base / p50k_base:
    /// `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s`
    case r50k
    /// cl100k_base: `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|`
    /// ` ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
    case cl100k
    /// o200k_base: cased letter runs with optional contraction suffix, 1–3 digits, punctuation
    /// with trailing newlines or slashes, then the whitespace rules.
    case o200k
    /// Llama 3's tokenizer.json spelling of cl100k, which lacks `\s++$`: a run of white space
    /// at the very end that holds a newline splits after the newline.
    case llama3
    /// Qwen2's: llama3 with single digits.
    case qwen2
    /// SuperBPE's stage-1 split: o200k without the contraction suffixes.
    case superbpe
    /// Mistral's tekken: superbpe with single digits.
    case tekken
    /// SuperBPE's stage-2 ("superword") split, used with Split "isolated": digit groups, runs of
    /// 2+ punctuation and space runs before white space are pieces; the text between them (words
    /// with their single spaces) is one piece.
    case superword

    /// The regex each scanner reproduces (tiktoken's spelling), for tokenizer.json output and
    /// for the ICU cross-check.
    public var regex: String {
        switch self {
        case .r50k:
            return #"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"#
        case .cl100k:
            return #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#
        case .o200k:
            return [
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
                #"\p{N}{1,3}"#,
                #" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
                #"\s*[\r\n]+"#,
                #"\s+(?!\S)"#,
                #"\s+"#,
            ].joined(separator: "|")
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .superbpe:
            return BuiltinPattern.o200k.regex.replacingOccurrences(of: #"(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#, with: "")
        case .tekken:
            return BuiltinPattern.superbpe.regex.replacingOccurrences(of: #"\p{N}{1,3}"#, with: #"\p{N}"#)
        case .superword:
            return #"\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"#
        }
    }

    /// The same split spelled for Oniguruma (HF tokenizers), which reads `{1,3}+` as a repeated
    /// group rather than a possessive quantifier; used when writing tokenizer.json.
    public var hfRegex: String {
        switch self {
        case .r50k: return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        // Not the "(?i:'s|…)|…|\s*[\r\n]+|\s+(?!\S)|\s+" form seen in many tokenizer.json files:
        // without `\s++$` that one splits a trailing "\r\n " differently from tiktoken.
        case .cl100k: return regex.replacingOccurrences(of: "{1,3}+", with: "{1,3}")
        case .o200k, .llama3, .qwen2, .superbpe, .tekken, .superword: return regex
        }
    }

    /// The scanner whose behaviour equals `regex`, if there is one. The original GPT-2 spelling
    /// is equivalent to r50k's (tiktoken rewrote it with possessive quantifiers for speed).
    public static func matching(regex: String) -> BuiltinPattern? {
        if let p = allCases.first(where: { $0.regex == regex }) { return p }
        return allCases.first { $0.hfRegex == regex }
    }

    /// Calls `body` with the end offset of each piece of `p`, in order.
    @inline(__always)
    public func split(_ p: UnsafeBufferPointer<UInt8>, _ body: (Int) -> Void) {
        var i = 0
        let n = p.count
        switch self {
        case .r50k: while i < n { i = scanR50k(p, i); body(i) }
        case .cl100k: while i < n { i = scanCl100k(p, i, maxDigits: 3, endFirst: true); body(i) }
        case .llama3: while i < n { i = scanCl100k(p, i, maxDigits: 3, endFirst: false); body(i) }
        case .qwen2: while i < n { i = scanCl100k(p, i, maxDigits: 1, endFirst: false); body(i) }
        case .o200k: while i < n { i = scanO200k(p, i); body(i) }
        case .superbpe: while i < n { i = scanO200k(p, i, contractions: false); body(i) }
        case .tekken: while i < n { i = scanO200k(p, i, contractions: false, maxDigits: 1); body(i) }
        case .superword: while i < n { i = scanSuperword(p, i); body(i) }
        }
    }
}

private let L = CharClass.letter, N = CharClass.number, S = CharClass.space
private let U = CharClass.upperish, W = CharClass.lowerish

/// End of the run of characters that have any bit of `want`, starting at `j`.
@inline(__always)
private func run(_ p: UnsafeBufferPointer<UInt8>, _ j: Int, _ want: UInt8) -> Int {
    var j = j
    while j < p.count {
        let (c, l) = classAt(p, j)
        if c & want == 0 { break }
        j += l
    }
    return j
}

/// `\p{N}{1,n}`: after the first number at `j - 1`, up to `more` further numbers.
@inline(__always)
private func numberRun(_ p: UnsafeBufferPointer<UInt8>, _ j: Int, _ more: Int) -> Int {
    var j = j, k = 0
    while k < more, j < p.count {
        let (c, l) = classAt(p, j)
        if c & N == 0 { break }
        j += l
        k += 1
    }
    return j
}

/// End of the run of "other" characters (not letter, number or space) from `j`.
@inline(__always)
private func otherRun(_ p: UnsafeBufferPointer<UInt8>, _ j: Int) -> Int {
    var j = j
    while j < p.count {
        let (c, l) = classAt(p, j)
        if c & (L | N | S) != 0 { break }
        j += l
    }
    return j
}

/// The whitespace rules shared by all three patterns, at a whitespace character `i`:
/// `\s++$` (a run reaching the end), optionally `\s*[\r\n]` (up to the last newline in the run),
/// `\s+(?!\S)` (all but the last character of a longer run), else one character
/// (or the whole run, for o200k's trailing `\s+`, which is the same thing there).
@inline(__always)
private func whitespace(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, newlineRule: Bool, endFirst: Bool = true) -> Int {
    let n = p.count
    var j = i, last = i, count = 0, newlineEnd = -1
    while j < n {
        let (c, l) = classAt(p, j)
        if c & S == 0 { break }
        if newlineRule, p[j] == 0x0A || p[j] == 0x0D { newlineEnd = j + 1 }
        last = j
        j += l
        count += 1
    }
    // cl100k tries `\s++$` before the newline rule; o200k has only the newline rule first.
    if endFirst, j == n { return n }
    if newlineEnd > 0 { return newlineEnd }
    if j == n { return n }
    if count >= 2 { return last }
    return j
}

@inline(__always)
private func lower(_ b: UInt8) -> UInt8 { b | 0x20 }

/// `'(?i:[sdmt]|ll|ve|re)` (case-insensitive) or the case-sensitive r50k form, at `i` where p[i] is `'`.
/// Unicode case folding makes `s` also match U+017F (ſ).
@inline(__always)
private func contraction(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, ignoreCase: Bool) -> Int? {
    let n = p.count
    guard i + 1 < n else { return nil }
    let b1 = ignoreCase ? lower(p[i + 1]) : p[i + 1]
    if b1 == UInt8(ascii: "s") || b1 == UInt8(ascii: "d") || b1 == UInt8(ascii: "m") || b1 == UInt8(ascii: "t") {
        if !ignoreCase || p[i + 1] < 0x80 { return i + 2 }
    }
    if ignoreCase, p[i + 1] == 0xC5, i + 2 < n, p[i + 2] == 0xBF { return i + 3 }  // ſ
    guard i + 2 < n else { return nil }
    let b2 = ignoreCase ? lower(p[i + 2]) : p[i + 2]
    if (b1 == UInt8(ascii: "l") && b2 == UInt8(ascii: "l")) || (b1 == UInt8(ascii: "v") && b2 == UInt8(ascii: "e"))
        || (b1 == UInt8(ascii: "r") && b2 == UInt8(ascii: "e")) {
        if !ignoreCase || (p[i + 1] < 0x80 && p[i + 2] < 0x80) { return i + 3 }
    }
    return nil
}

func scanR50k(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let b = p[i]
    if b == UInt8(ascii: "'"), let e = contraction(p, i, ignoreCase: false) { return e }
    var (c, l) = classAt(p, i)
    var start = i
    if b == 0x20, i + 1 < p.count {
        let next = classAt(p, i + 1)
        if next.cls & S == 0 { (c, l) = next; start = i + 1 }
    }
    if c & L != 0 { return run(p, start + l, L) }
    if c & N != 0 { return run(p, start + l, N) }
    if c & S == 0 { return otherRun(p, start + l) }
    return whitespace(p, i, newlineRule: false)
}

/// cl100k and its tokenizer.json relatives: `maxDigits` is the `\p{N}{1,n}` bound, `endFirst`
/// whether `\s++$` comes before the newline rule.
@inline(__always)
func scanCl100k(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, maxDigits: Int, endFirst: Bool) -> Int {
    let n = p.count
    let b = p[i]
    if b == UInt8(ascii: "'"), let e = contraction(p, i, ignoreCase: true) { return e }
    let (c, l) = classAt(p, i)
    if c & L != 0 { return run(p, i + l, L) }
    // [^\r\n\p{L}\p{N}]?+\p{L}++ with a one-character prefix.
    if c & N == 0, b != 0x0A, b != 0x0D, i + l < n {
        let (c1, l1) = classAt(p, i + l)
        if c1 & L != 0 { return run(p, i + l + l1, L) }
    }
    if c & N != 0 { return numberRun(p, i + l, maxDigits - 1) }
    // ` ?[^\s\p{L}\p{N}]++[\r\n]*+`
    var start = -1
    if c & S == 0 {
        start = i + l
    } else if b == 0x20, i + 1 < n {
        let (c1, l1) = classAt(p, i + 1)
        if c1 & (L | N | S) == 0 { start = i + 1 + l1 }
    }
    if start >= 0 {
        var j = otherRun(p, start)
        while j < n, p[j] == 0x0A || p[j] == 0x0D { j += 1 }
        return j
    }
    return whitespace(p, i, newlineRule: true, endFirst: endFirst)
}

/// o200k's optional `(?i:'s|'t|'re|'ve|'m|'ll|'d)` suffix.
@inline(__always)
private func contractionSuffix(_ p: UnsafeBufferPointer<UInt8>, _ j: Int) -> Int {
    if j < p.count, p[j] == UInt8(ascii: "'"), let e = contraction(p, j, ignoreCase: true) { return e }
    return j
}

/// The two cased-word alternatives of o200k from `j` (after the optional prefix):
/// A = `U* W+` and B = `U+ W*`, with the regex's backtracking worked out: A ends after the W-run
/// that follows the U-run, or else after the last W character inside the U-run.
@inline(__always)
private func casedWord(_ p: UnsafeBufferPointer<UInt8>, _ j: Int, tryB: Bool) -> Int? {
    let n = p.count
    var k = j, lastW = -1
    while k < n {
        let (c, l) = classAt(p, k)
        if c & U == 0 { break }
        k += l
        if c & W != 0 { lastW = k }
    }
    if k < n {
        let (c, l) = classAt(p, k)
        if c & W != 0 { return run(p, k + l, W) }
    }
    if lastW > 0 { return lastW }
    if tryB, k > j { return k }
    return nil
}

@inline(__always)
func scanO200k(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, contractions: Bool = true, maxDigits: Int = 3) -> Int {
    let n = p.count
    let b = p[i]
    let (c, l) = classAt(p, i)
    let canPrefix = c & (L | N) == 0 && b != 0x0A && b != 0x0D && i + l < n
    // A (with prefix, then without), then B (with prefix, then without).
    if canPrefix, let e = casedWord(p, i + l, tryB: false) { return contractions ? contractionSuffix(p, e) : e }
    if let e = casedWord(p, i, tryB: false) { return contractions ? contractionSuffix(p, e) : e }
    if canPrefix, let e = casedWord(p, i + l, tryB: true) { return contractions ? contractionSuffix(p, e) : e }
    if let e = casedWord(p, i, tryB: true) { return contractions ? contractionSuffix(p, e) : e }
    if c & N != 0 { return numberRun(p, i + l, maxDigits - 1) }
    // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
    var start = -1
    if c & (L | N | S) == 0 {
        start = i + l
    } else if b == 0x20, i + 1 < n {
        let (c1, l1) = classAt(p, i + 1)
        if c1 & (L | N | S) == 0 { start = i + 1 + l1 }
    }
    if start >= 0 {
        var j = otherRun(p, start)
        while j < n, p[j] == 0x0A || p[j] == 0x0D || p[j] == UInt8(ascii: "/") { j += 1 }
        return j
    }
    return whitespace(p, i, newlineRule: true, endFirst: false)
}
