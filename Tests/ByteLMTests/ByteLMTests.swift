import Foundation
import Testing
import TokenKitCore
@testable import TokenKitLM

/// The repository's Fixtures folder.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixtureText() throws -> [UInt8] { try readFile(fixtures + "/text/golden.txt") }

/// Text with structure at several lengths: words from a small lexicon, punctuation, numbers.
func syntheticText(_ rng: inout SplitMix64, words: Int) -> [UInt8] {
    let lexicon = ["the", "cat", "sat", "on", "mat", "walked", "walking", "talks", "un", "happy", "ness", "re",
                   "build", "ing", "ed", "a", "dog", "ran", "fast", "er", "slow", "ly", "x", "zq"]
    var out: [UInt8] = []
    for i in 0..<words {
        if i > 0 { out.append(rng.next() % 13 == 0 ? 0x0A : 0x20) }
        let n = Int(rng.next() % 3) + 1
        for _ in 0..<n { out += Array(lexicon[Int(rng.next() % UInt64(lexicon.count))].utf8) }
        if rng.next() % 9 == 0 { out.append(UInt8(ascii: ",")) }
        if rng.next() % 31 == 0 { out += Array(String(rng.next() % 1000).utf8) }
    }
    return out
}

func buildLM(_ text: [UInt8], order: Int, threads: Int = 2) throws -> ByteLM {
    var config = ByteLMBuilder.Configuration()
    config.order = order
    config.threads = threads
    let image = try text.withUnsafeBufferPointer { try ByteLMBuilder.build([$0], config) }
    return try ByteLMFile.read(image)
}

func withTempDir<T>(_ body: (String) throws -> T) rethrows -> T {
    let dir = NSTemporaryDirectory() + "tokenkit-bytelm-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

@Suite struct ByteLMTests {
    /// At random contexts (seen and unseen), the 256 probabilities are positive, sum to 1, and
    /// the single-byte path agrees with the full distribution.
    @Test(arguments: [1, 3, 6])
    func distributionsSumToOne(order: Int) throws {
        var rng = SplitMix64(seed: UInt64(order))
        let text = syntheticText(&rng, words: 5000)
        let lm = try buildLM(text, order: order)
        for trial in 0..<300 {
            var ctx: [UInt8]
            if trial % 2 == 0 {
                let s = Int(rng.next() % UInt64(text.count - 10))
                ctx = Array(text[s..<(s + Int(rng.next() % 9))])
            } else {
                ctx = (0..<Int(rng.next() % 9)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            let p = lm.distribution(after: ctx)
            #expect(p.allSatisfy { $0 > 0 })
            #expect(abs(p.reduce(0, +) - 1) < 1e-9, "context \(ctx)")
            let (h, avail) = ByteLM.history(ctx)
            for b in [0, 32, 97, 116, 255] {
                #expect(abs(lm.probability(of: UInt8(b), history: h, available: avail) - p[b]) < 1e-12)
            }
        }
    }

    /// The pipelined signals equal −log2 p and −Σ p log2 p of the full distribution.
    @Test func signalsMatchDistribution() throws {
        var rng = SplitMix64(seed: 7)
        let train = syntheticText(&rng, words: 8000)
        let test = syntheticText(&rng, words: 400)
        let lm = try buildLM(train, order: 5)
        let (s, e) = test.withUnsafeBufferPointer { lm.signals($0, threads: 2, surprisal: true, entropy: true) }
        #expect(s.count == test.count && e.count == test.count)
        for i in stride(from: 0, to: test.count, by: 7) {
            let p = lm.distribution(after: test[max(0, i - 8)..<i])
            let h = -p.reduce(0) { $0 + $1 * log2($1) }
            #expect(abs(Double(s[i]) + log2(p[Int(test[i])])) < 1e-3, "surprisal at \(i)")
            #expect(abs(Double(e[i]) - h) < 1e-3, "entropy at \(i)")
        }
        // Bits per byte is the mean surprisal, for any thread count.
        let bpb1 = test.withUnsafeBufferPointer { lm.bitsPerByte($0, threads: 1) }
        let bpb3 = test.withUnsafeBufferPointer { lm.bitsPerByte($0, threads: 3) }
        #expect(abs(bpb1 - bpb3) < 1e-9)
        #expect(abs(bpb1 - s.reduce(0.0) { $0 + Double($1) } / Double(test.count)) < 1e-4)
    }

    /// `lm score` promises the same output for any --threads: the same pieces, summed in order.
    @Test func bitsPerByteIgnoresThreadCount() throws {
        var rng = SplitMix64(seed: 11)
        let lm = try buildLM(syntheticText(&rng, words: 4000), order: 4)
        var test: [UInt8] = []
        while test.count < 3 << 20 { test += syntheticText(&rng, words: 20000) }  // several pieces
        let bpb = [1, 2, 3, 8].map { t in test.withUnsafeBufferPointer { lm.bitsPerByte($0, threads: t) } }
        #expect(Set(bpb).count == 1, "\(bpb)")
    }

    /// Held-out bits/byte beats an add-one order-1 model computed here from scratch.
    @Test func beatsOrderOneReference() throws {
        let text = try fixtureText()
        let cut = text.count * 3 / 4
        let train = Array(text[..<cut]), test = Array(text[cut...])
        var counts = [[Double]](repeating: [Double](repeating: 1, count: 256), count: 256)
        for i in 1..<train.count { counts[Int(train[i - 1])][Int(train[i])] += 1 }
        var refBits = 0.0
        for i in 0..<test.count {
            let prev = i == 0 ? train.last! : test[i - 1]
            let row = counts[Int(prev)]
            refBits -= log2(row[Int(test[i])] / row.reduce(0, +))
        }
        let ref = refBits / Double(test.count)
        for order in [2, 4] {
            let lm = try buildLM(train, order: order)
            let bpb = test.withUnsafeBufferPointer { lm.bitsPerByte($0, threads: 2) }
            #expect(bpb > 0.5 && bpb < ref, "order \(order): \(bpb) vs order-1 add-one \(ref)")
        }
    }

    @Test func saveLoadRoundTrip() throws {
        var rng = SplitMix64(seed: 3)
        let text = syntheticText(&rng, words: 3000)
        var config = ByteLMBuilder.Configuration()
        config.order = 4
        let image = try text.withUnsafeBufferPointer { try ByteLMBuilder.build([$0], config) }
        // The same text gives the same file for any thread count.
        config.threads = 1
        #expect(try text.withUnsafeBufferPointer { try ByteLMBuilder.build([$0], config) } == image)
        try withTempDir { dir in
            let path = dir + "/m.bytelm"
            try writeFileAtomically(path, image)
            let a = try ByteLMFile.read(image), b = try ByteLMFile.load(path)
            #expect(a.order == 4 && b.order == 4 && b.trainingBytes == text.count)
            #expect(a.entryCounts == b.entryCounts && a.discounts == b.discounts)
            let probe = Array(text.prefix(500))
            let x = probe.withUnsafeBufferPointer { a.bitsPerByte($0, threads: 1) }
            let y = probe.withUnsafeBufferPointer { b.bitsPerByte($0, threads: 1) }
            #expect(x == y)
        }
    }

    @Test func damagedFilesAreRejected() throws {
        var rng = SplitMix64(seed: 4)
        let text = syntheticText(&rng, words: 2000)
        var config = ByteLMBuilder.Configuration()
        config.order = 3
        let image = try text.withUnsafeBufferPointer { try ByteLMBuilder.build([$0], config) }
        func message(_ bytes: [UInt8]) -> String? {
            withTempDir { dir in
                let path = dir + "/bad.bytelm"
                try? writeFileAtomically(path, bytes)
                do {
                    _ = try ByteLMFile.load(path)
                    return nil
                } catch let e as TokenKitError {
                    #expect(e.file == path && e.kind == .badInput)
                    return e.message
                } catch { return "\(error)" }
            }
        }
        #expect(message(Array(image.prefix(image.count - 64)))?.contains("truncated") == true)
        #expect(message(Array(image.prefix(20)))?.contains("shorter than") == true)
        var flipped = image
        flipped[image.count / 2] ^= 0x10
        #expect(message(flipped)?.contains("checksum mismatch") == true)
        var magic = image
        magic[0] = UInt8(ascii: "X")
        #expect(message(magic)?.contains("not a tokenkit byte LM") == true)
        var version = image
        version[8] = 9
        #expect(message(version)?.contains("version 9") == true)
        #expect(message(image) == nil)
        // Random damage anywhere is caught (never a crash).
        for _ in 0..<50 {
            var d = image
            d[Int(rng.next() % UInt64(d.count))] ^= UInt8(1 << (rng.next() % 8))
            #expect(message(d) != nil)
        }
    }

    @Test func orderAndEmptyInputErrors() throws {
        var config = ByteLMBuilder.Configuration()
        config.order = 8
        let text: [UInt8] = Array("abc".utf8)
        #expect(throws: TokenKitError.self) { try text.withUnsafeBufferPointer { try ByteLMBuilder.build([$0], config) } }
        config.order = 3
        let empty: [UInt8] = []
        #expect(throws: TokenKitError.self) { try empty.withUnsafeBufferPointer { try ByteLMBuilder.build([$0], config) } }
    }

    @Test func radixSortSorts() {
        var rng = SplitMix64(seed: 9)
        for bytes in [4, 5, 8] {
            var keys = (0..<5000).map { _ in rng.next() & byteMask(bytes) }
            let expected = keys.sorted()
            NgramCounter.radixSort(&keys, bytes: bytes)
            #expect(keys == expected)
        }
    }
}
