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

/// Finds added tokens in text, leftmost-longest.
struct AddedMatcher: Sendable {
    let tokens: [AddedToken]
    /// Candidate token indexes by first byte, longest first.
    let byFirstByte: [[Int]]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        var table = [[Int]](repeating: [], count: 256)
        for (i, t) in tokens.enumerated() where !t.content.isEmpty { table[Int(t.content[0])].append(i) }
        for b in 0..<256 { table[b].sort { tokens[$0].content.count > tokens[$1].content.count } }
        byFirstByte = table
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Matches as (range including stripped whitespace, token), in order and not overlapping.
    func matches(_ p: UnsafeBufferPointer<UInt8>, where accept: (AddedToken) -> Bool) -> [(Range<Int>, AddedToken)] {
        var out: [(Range<Int>, AddedToken)] = []
        var i = 0
        var floor = 0
        while i < p.count {
            var found: AddedToken?
            for k in byFirstByte[Int(p[i])] {
                let t = tokens[k]
                let n = t.content.count
                if i + n <= p.count, accept(t), memcmp(p.baseAddress! + i, t.content, n) == 0,
                   !t.singleWord || isWordBoundary(p, i, i + n) {
                    found = t
                    break
                }
            }
            guard let t = found else { i += 1; continue }
            var s = i, e = i + t.content.count
            if t.lstrip { while s > floor, isSpace(p, s - 1) { s -= 1 } }
            if t.rstrip { while e < p.count, isSpace(p, e) { e += 1 } }
            out.append((s..<e, t))
            i = e
            floor = e
        }
        return out
    }

    private func isSpace(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let b = p[i]
        return b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }

    private func isWordBoundary(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        func isWord(_ b: UInt8) -> Bool { b >= 0x80 || (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F }
        if s > 0, isWord(p[s - 1]) { return false }
        if e < p.count, isWord(p[e]) { return false }
        return true
    }
}

#if canImport(Glibc)
import Glibc
#endif
