import TokenKitCore
import TokenKitText

/// A token matched in raw text before normal tokenization: HF `added_tokens` and tiktoken's
/// special tokens.
public struct AddedToken: Sendable, Equatable {
    public var id: TokenID
    public var content: [UInt8]
    /// Special tokens obey `--allowed-special`; plain added tokens always match.
    public var special: Bool
    public var singleWord = false
    public var lstrip = false
    public var rstrip = false
    /// Matched in normalized text (true) or in the raw text (false).
    public var normalized = false

    public init(id: TokenID, content: [UInt8], special: Bool, singleWord: Bool = false, lstrip: Bool = false,
                rstrip: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
    }

    public var text: String { String(decoding: content, as: UTF8.self) }
}

/// Which special tokens are recognised in text (tiktoken's `allowed_special` and
/// `disallowed_special`). A disallowed one found in the text is an error; one that is neither
/// is encoded as ordinary text.
public struct SpecialPolicy: Sendable {
    public enum Selection: Sendable, Equatable {
        case all, none
        case some(Set<String>)

        func contains(_ t: AddedToken) -> Bool {
            switch self {
            case .all: return true
            case .none: return false
            case .some(let names): return names.contains(t.text)
            }
        }
    }

    public var allowed: Selection
    public var disallowed: Selection

    public init(allowed: Selection, disallowed: Selection) {
        self.allowed = allowed
        self.disallowed = disallowed
    }

    /// tiktoken's `encode` default: no special token allowed, and finding one is an error.
    public static let tiktoken = SpecialPolicy(allowed: .none, disallowed: .all)
    /// HF tokenizers' default: every added token is recognised.
    public static let huggingFace = SpecialPolicy(allowed: .all, disallowed: .none)
    /// Everything as ordinary text (tiktoken's `encode_ordinary`).
    public static let ordinary = SpecialPolicy(allowed: .none, disallowed: .none)
}

/// Finds added tokens in text as HF tokenizers does: leftmost-longest matches, not
/// overlapping; a `single_word` match with a word character (Unicode `\w`) next to it is dropped
/// but still consumes its text (HF's Aho-Corasick iterator has moved past it); `lstrip` /
/// `rstrip` then take the white space around an accepted match, back to the previous one.
struct AddedMatcher: Sendable {
    let tokens: [AddedToken]
    /// Every token is special (a policy can then ignore them all).
    let allSpecial: Bool
    /// Candidate token indexes by their first two bytes (tokens of 2+ bytes), longest first,
    /// and the one-byte tokens by their byte.
    let byFirstTwo: [[Int]]
    let single: [[Int]]

    /// What each token matches: its content, or (HF's `normalized` tokens) its content run
    /// through the normalizer, since those are looked for in normalized text.
    let patterns: [[UInt8]]

    init(_ tokens: [AddedToken], patterns: [[UInt8]]? = nil) {
        self.tokens = tokens
        allSpecial = tokens.allSatisfy(\.special)
        let patterns = patterns ?? tokens.map(\.content)
        self.patterns = patterns
        var two = [[Int]](repeating: [], count: tokens.isEmpty ? 0 : 1 << 16)
        var one = [[Int]](repeating: [], count: 256)
        for (i, p) in patterns.enumerated() where !p.isEmpty {
            if p.count == 1 { one[Int(p[0])].append(i) } else { two[Int(p[0]) << 8 | Int(p[1])].append(i) }
        }
        for k in two.indices where two[k].count > 1 { two[k].sort { patterns[$0].count > patterns[$1].count } }
        byFirstTwo = two
        single = one
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Index of the longest token that `accept`s at `i`.
    @inline(__always)
    private func longest(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ accept: (AddedToken) -> Bool) -> Int? {
        if i + 1 < p.count {
            for k in byFirstTwo[Int(p[i]) << 8 | Int(p[i + 1])] {
                let n = patterns[k].count
                if i + n <= p.count, accept(tokens[k]), memcmp(p.baseAddress! + i, patterns[k], n) == 0 { return k }
            }
        }
        for k in single[Int(p[i])] where accept(tokens[k]) { return k }
        return nil
    }

    /// Matches as (range including stripped whitespace, token), in order and not overlapping.
    func matches(_ p: UnsafeBufferPointer<UInt8>, where accept: (AddedToken) -> Bool) -> [(Range<Int>, AddedToken)] {
        var out: [(Range<Int>, AddedToken)] = []
        var i = 0
        var floor = 0
        while i < p.count {
            guard let k = longest(p, i, accept) else { i += 1; continue }
            let t = tokens[k]
            var s = i, e = i + patterns[k].count
            if t.singleWord, !isWordBoundary(p, s, e) {
                i = e
                continue
            }
            if t.lstrip { while s > floor, let l = spaceBefore(p, s) { s -= l } }
            if t.rstrip { while e < p.count, let l = spaceAt(p, e) { e += l } }
            out.append((s..<e, t))
            i = e
            floor = e
        }
        return out
    }

    /// Length of the white-space character at `i`, if it is one (Unicode White_Space).
    private func spaceAt(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let d = UTF8Scan.decode(p, i)
        return d.valid && CharClass.of(d.scalar) & CharClass.space != 0 ? d.length : nil
    }

    /// Start of the character that ends just before `i`.
    private func charStart(_ p: UnsafeBufferPointer<UInt8>, before i: Int) -> Int {
        var k = i - 1
        while k > 0, i - k < 4, p[k] & 0xC0 == 0x80 { k -= 1 }
        return k
    }

    private func spaceBefore(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let k = charStart(p, before: i)
        guard let l = spaceAt(p, k), k + l == i else { return nil }
        return l
    }

    /// Rust regex `\w`: letters, marks, decimal digits, connector punctuation (approximated by
    /// letter, mark or number, and `_`).
    private func isWord(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let b = p[i]
        if b < 0x80 { return (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F }
        let d = UTF8Scan.decode(p, i)
        return d.valid && CharClass.of(d.scalar) & (CharClass.letter | CharClass.mark | CharClass.number) != 0
    }

    private func isWordBoundary(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        if s > 0, isWord(p, charStart(p, before: s)) { return false }
        if e < p.count, isWord(p, e) { return false }
        return true
    }
}

#if canImport(Glibc)
import Glibc
#endif
