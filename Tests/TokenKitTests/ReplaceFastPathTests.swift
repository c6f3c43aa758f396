import Foundation
import Testing
import TokenKitCore
import TokenKitText

/// The whitespace Replace regexes run natively must give ICU's result on any text.
@Suite struct ReplaceFastPathTests {
    @Test(arguments: [" +", " {2,}", " {3,}", #"\A +| +\z"#])
    func nativeEqualsICU(_ pattern: String) throws {
        let native = try Normalizer.ReplacePattern.parse(regex: pattern)
        if case .regex = native { Issue.record("\(pattern) should run natively") }
        let icu = Normalizer.ReplacePattern.regex(try ICURegex(pattern))
        var rng = SplitMix64(seed: 17)
        let pool: [[UInt8]] = [[0x20], [0x20], [0x20], Array("a".utf8), Array("é".utf8), [0x0A], [0x09], Array("\u{2581}".utf8)]
        for content in [[UInt8](), Array("\u{2581}".utf8), [0x20]] {
            for _ in 0..<500 {
                var text: [UInt8] = []
                for _ in 0..<Int(rng.next() % 12) { text += pool[Int(rng.next() % UInt64(pool.count))] }
                let a = Normalizer.replace(native, content: content).apply(text)
                let b = Normalizer.replace(icu, content: content).apply(text)
                #expect(a == b, "\(pattern) on \(text)")
            }
        }
    }
}
