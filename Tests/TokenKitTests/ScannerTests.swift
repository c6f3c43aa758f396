import Foundation
import Testing
@testable import TokenKitText
import TokenKitCore

/// The hand-written scanners must split exactly as the regexes they replace. ICU runs the same
/// regex (with `\s` and `$` translated to the Rust/Oniguruma meaning) as the oracle.
@Suite struct ScannerTests {
    func scannerPieces(_ pattern: BuiltinPattern, _ text: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        text.withUnsafeBufferPointer { p in
            var s = 0
            pattern.split(p) { e in out.append(s..<e); s = e }
        }
        return out
    }

    /// Split "isolated": the matches and the text between them (none for the covering patterns).
    func regexPieces(_ re: ICURegex, _ text: [UInt8]) -> [Range<Int>] {
        let matches = text.withUnsafeBufferPointer { re.matcher().matches($0) }
        var out: [Range<Int>] = [], last = 0
        for m in matches {
            if m.lowerBound > last { out.append(last..<m.lowerBound) }
            out.append(m)
            last = m.upperBound
        }
        if last < text.count { out.append(last..<text.count) }
        return out
    }

    func check(_ pattern: BuiltinPattern, _ re: ICURegex, _ text: String) {
        let bytes = Array(text.utf8)
        let got = scannerPieces(pattern, bytes)
        let want = regexPieces(re, bytes)
        if got != want {
            let show = { (rs: [Range<Int>]) in rs.map { String(decoding: bytes[$0], as: UTF8.self).debugDescription } }
            Issue.record("\(pattern) differs on \(text.debugDescription):\n scanner \(show(got))\n regex   \(show(want))")
        }
    }

    @Test(arguments: BuiltinPattern.allCases)
    func randomTextMatchesRegex(_ pattern: BuiltinPattern) throws {
        // Both spellings: tiktoken's (possessive) and the one written into tokenizer.json.
        for spelling in [pattern.regex, pattern.hfRegex] {
            let re = try ICURegex(spelling)
            var rng = SplitMix64(seed: 42)
            for round in 0..<3000 {
                check(pattern, re, randomText(&rng, length: 1 + round % 40))
            }
        }
    }

    @Test(arguments: BuiltinPattern.allCases)
    func realTextMatchesRegex(_ pattern: BuiltinPattern) throws {
        let re = try ICURegex(pattern.regex)
        let text = try String(contentsOfFile: fixture("text/golden.txt"), encoding: .utf8)
        check(pattern, re, text)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { check(pattern, re, String(line) + "\n") }
    }

    @Test(arguments: BuiltinPattern.allCases)
    func edgeCases(_ pattern: BuiltinPattern) throws {
        let re = try ICURegex(pattern.regex)
        let cases = ["", " ", "  ", "a  ", "  a", " \n", "x \n\n y", "x\n \n", "'s", "'S", "'ſ", "'ll'LL", "don't",
                     "1234567", " 12", "a\u{0301}b", "\u{0301}A", "\u{0301}ABC", "ABCdef", "abcDEF", "ǅa", "ʰello",
                     "?\n\n", "a//b\n", " ?!", "\t\tx", "\u{00A0}\u{00A0}x", "x\u{0085}y", "\u{000B}\u{000C}",
                     "foo   \n\n   bar", "\r\n\r\n", "Ⅻ½", "😀x", "ŉ'S",
                     "a, b!! c", " ..\n/x", "a  b", "a   ", "x : y", "1234 5", "!?", " !", "a\u{3000}\u{3000}b"]
        for c in cases { check(pattern, re, c) }
    }

    @Test func piecesCoverInvalidUTF8() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for p in BuiltinPattern.allCases {
                let pieces = scannerPieces(p, bytes)
                #expect(pieces.flatMap { bytes[$0] } == bytes)
                #expect(pieces.allSatisfy { !$0.isEmpty })
            }
        }
    }

    @Test func regexTranslationUsesRustMeanings() {
        let letters = ICURegex.categoryAdditions["L"]!
        #expect(letters.hasPrefix(#"\x{1c89}-\x{1c89}"#))
        #expect(ICURegex.translate(#"\s+(?!\S)|[^\s\p{L}]|\\s$"#)
                == #"\p{White_Space}+(?!\P{White_Space})|[^\p{White_Space}[\p{L}"# + letters + #"]]|\\s\z"#)
        #expect(ICURegex.translate("[$]x$") == #"[$]x\z"#)
        // Unicode 16.0 additions: \pN, \P{Lu}, \d, \w; an escaped backslash and other properties are left alone.
        #expect(ICURegex.translate(#"\P{Lu}"#) == "[\\P{Lu}--[" + ICURegex.categoryAdditions["Lu"]! + "]]")
        #expect(ICURegex.translate(#"\pN\d"#) == "[\\pN" + ICURegex.categoryAdditions["N"]! + "][\\d" + ICURegex.categoryAdditions["Nd"]! + "]")
        #expect(ICURegex.translate(#"\\p{L}\p{Han}\p{Zl}"#) == #"\\p{L}\p{Han}\p{Zl}"#)
        // Unicode 16.0 letters (U+1C89/A, Cyrillic Tje) and digits (U+1E5F1/2, Ol Onal) match as such.
        let re = try! ICURegex(#"\p{L}+|\d+"#)
        let text = Array("\u{1C89}\u{1C8A} \u{1E5F1}\u{1E5F2}".utf8)
        let pieces = text.withUnsafeBufferPointer { re.matcher().matches($0) }
        #expect(pieces.count == 2 && pieces[0] == 0..<6, "\(pieces)")
    }

    @Test func gpt2SpellingIsRecognised() {
        #expect(BuiltinPattern.matching(regex: #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#) == .r50k)
        #expect(BuiltinPattern.matching(regex: BuiltinPattern.o200k.regex) == .o200k)
    }
}
