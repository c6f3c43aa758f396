import Foundation
import TokenKit
import TokenKitCore
import TokenKitText

/// A vocabulary report: tokens canonical encoding never produces, tokens that are not whole
/// UTF-8 characters, duplicates after normalization, scripts, leading spaces.
public struct VocabularyReport: Sendable {
    public var name: String
    public var size: Int
    /// Model tokens inspected (added/special and byte-fallback tokens are counted apart).
    public var modelTokens: Int
    public var addedTokens: Int
    /// Encoding the token's own bytes does not give the token: glitch-token candidates.
    public var unreachable: [TokenID]
    /// Not valid UTF-8 because a character is cut at either end (the start or the rest of one).
    public var partial: [TokenID]
    /// Not valid UTF-8 in any other way.
    public var invalid: [TokenID]
    /// Groups of tokens equal after NFKC and lowercasing.
    public var duplicateGroups: [[TokenID]]
    /// Tokens by the script of their first letter ("none" without letters), most frequent first.
    public var scripts: [(String, Int)]
    public var leadingSpace: Int
    public let space: TokenSpace

    public init(_ space: TokenSpace) {
        self.space = space
        let tok = space.tokenizer
        name = tok.name
        size = tok.vocabSize
        addedTokens = tok.addedTokens.count
        var model: [TokenID] = []
        for id in 0..<space.vocabSize where !space.tokenBytes[id].isEmpty { model.append(TokenID(id)) }
        modelTokens = model.count
        let checkable: (TokenID) -> Bool = { id in
            // SentencePiece pieces inside a word cannot be encoded alone (the dummy prefix).
            !space.wordInternal[Int(id)] && (!space.wordAnchored || space.tokenBytes[Int(id)].first == 0x20 || space.prefix.isEmpty)
        }
        unreachable = model.filter { checkable($0) && !space.reachable[Int($0)] }
        var partial: [TokenID] = []
        var invalid: [TokenID] = []
        var scriptCounts: [String: Int] = [:]
        var lead = 0
        var byNorm: [[UInt8]: [TokenID]] = [:]
        let norm = Normalizer.sequence([.nfkc, .lowercase])
        for id in model {
            let b = space.tokenBytes[Int(id)]
            if b.first == 0x20 { lead += 1 }
            guard let s = String(validating: b, as: UTF8.self) else {
                if Self.isPartial(b) { partial.append(id) } else { invalid.append(id) }
                scriptCounts["(not UTF-8)", default: 0] += 1
                continue
            }
            scriptCounts[Self.script(of: s), default: 0] += 1
            byNorm[norm.apply(b), default: []].append(id)
        }
        self.partial = partial
        self.invalid = invalid
        leadingSpace = lead
        duplicateGroups = byNorm.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        scripts = scriptCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Bytes that are whole characters except for a cut character at the start (continuation
    /// bytes) and/or at the end (a lead byte without all its continuations).
    static func isPartial(_ b: [UInt8]) -> Bool {
        var i = 0
        while i < b.count && b[i] & 0xC0 == 0x80 { i += 1 }
        var j = b.count
        // Back up over an incomplete last character.
        var k = b.count - 1
        var cont = 0
        while k >= i && b[k] & 0xC0 == 0x80 { k -= 1; cont += 1 }
        if k >= i {
            let need = b[k] >= 0xF0 ? 3 : b[k] >= 0xE0 ? 2 : b[k] >= 0xC0 ? 1 : 0
            if cont < need && b[k] >= 0xC0 { j = k }
        }
        if i == 0 && j == b.count { return false }
        return i >= j || String(validating: b[i..<j], as: UTF8.self) != nil
    }

    /// The script of the first letter, from code point ranges.
    static func script(of s: String) -> String {
        for u in s.unicodeScalars where u.properties.isAlphabetic {
            let v = u.value
            switch v {
            case 0x41...0x24F, 0x1E00...0x1EFF, 0x2C60...0x2C7F, 0xA720...0xA7FF, 0xFF21...0xFF5A: return "Latin"
            case 0x370...0x3FF, 0x1F00...0x1FFF: return "Greek"
            case 0x400...0x52F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: return "Cyrillic"
            case 0x530...0x58F: return "Armenian"
            case 0x590...0x5FF: return "Hebrew"
            case 0x600...0x6FF, 0x750...0x77F, 0x8A0...0x8FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF: return "Arabic"
            case 0x900...0x97F: return "Devanagari"
            case 0x980...0x9FF: return "Bengali"
            case 0xA00...0xDFF: return "Indic (other)"
            case 0xE00...0xE7F: return "Thai"
            case 0x10A0...0x10FF: return "Georgian"
            case 0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: return "Hangul"
            case 0x3040...0x309F: return "Hiragana"
            case 0x30A0...0x30FF, 0x31F0...0x31FF: return "Katakana"
            case 0x2E80...0x2FDF, 0x3005...0x3007, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3FFFF: return "Han"
            default: return "other"
            }
        }
        return "none"
    }

    /// Tokens (by their bytes) shared with another vocabulary.
    public func overlap(with other: VocabularyReport) -> (shared: Int, onlyHere: Int, onlyThere: Int) {
        let mine = Set(space.tokenBytes.filter { !$0.isEmpty })
        let theirs = Set(other.space.tokenBytes.filter { !$0.isEmpty })
        let shared = mine.intersection(theirs).count
        return (shared, mine.count - shared, theirs.count - shared)
    }

    /// A token as readable text: valid UTF-8 escaped, other bytes as \xNN.
    public func show(_ id: TokenID) -> String {
        var out = ""
        for c in String(decoding: space.tokenBytes[Int(id)], as: UTF8.self).unicodeScalars {
            switch c {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{FFFD}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        if String(validating: space.tokenBytes[Int(id)], as: UTF8.self) == nil {
            out = space.tokenBytes[Int(id)].map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
        }
        return out
    }
}
