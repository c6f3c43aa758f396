import Foundation
import TokenKit
import TokenKitCore
import TokenKitFormats

/// The repository's Fixtures folder (tests never read outside the repository).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixture(_ relative: String) -> String { fixtures + "/" + relative }

/// Loaded once per process: the big vocabularies take a moment.
final class Models: @unchecked Sendable {
    static let shared = Models()
    private var cache: [String: Tokenizer] = [:]
    private let lock = NSLock()

    func get(_ relative: String) throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let t = cache[relative] { return t }
        let t = try TokenizerLoader.load(fixture(relative))
        cache[relative] = t
        return t
    }
}

/// A temporary directory removed at exit of the test.
func withTempDir<T>(_ body: (String) throws -> T) rethrows -> T {
    let dir = NSTemporaryDirectory() + "tokenkit-test-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Random text drawn from characters of many Unicode categories: letters of several cases
/// and scripts, marks, digits of several kinds, punctuation, symbols, every kind of white space.
func randomText(_ rng: inout SplitMix64, length: Int) -> String {
    let pool: [String] = [
        "a", "b", "s", "t", "d", "m", "l", "v", "e", "r", "S", "T", "D", "L", "V", "E", "R", "A", "Z",
        "'", "'", "'s", "'S", "'ll", "'VE", "'re", "\u{017F}", "é", "É", "ǅ", "ʰ", "ß", "Ω", "ж", "Ж", "α",
        "\u{0301}", "\u{0308}", "\u{0903}", "\u{20DD}", "ก", "\u{0E31}", "中", "文", "カ", "ア", "한",
        "0", "1", "7", "٣", "Ⅻ", "½", "²", "9",
        " ", " ", " ", "  ", "\t", "\n", "\n", "\r", "\r\n", "\u{000B}", "\u{000C}", "\u{0085}", "\u{00A0}", "\u{2028}", "\u{3000}", "\u{200B}",
        ".", ",", "!", "?", "/", "//", "-", "_", "(", ")", "\"", "#", "$", "€", "+", "<", "|", ">",
        "😀", "👍🏽", "🇩🇪", "👨‍👩‍👧", "\u{1F3FD}", "𝔘", "𐐀", "\u{E000}",
    ]
    var s = ""
    for _ in 0..<length { s += pool[Int(rng.next() % UInt64(pool.count))] }
    return s
}
