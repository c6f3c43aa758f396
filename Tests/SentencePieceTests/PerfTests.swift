import Foundation
import Testing
import TokenKitCore
import TokenKitSentencePiece
@testable import TokenKitModels

/// Timings, printed only (run with `-c release --filter SPMPerf`); SPM_PERF=1 to enable.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SPM_PERF"] != nil)) struct SPMPerf {
    func time(_ label: String, bytes: Int = 0, _ body: () throws -> Void) rethrows {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if bytes > 0 {
            print(String(format: "%@: %.3f s, %.1f MB/s", label, s, Double(bytes) / s / 1e6))
        } else {
            print(String(format: "%@: %.3f s", label, s))
        }
    }

    @Test func encodeSpeed() throws {
        let text = try readBytes("sentencepiece/botchan.txt") + readBytes("text/golden.txt")
        var big: [UInt8] = []
        for _ in 0..<20 { big += text }
        // SPM_BENCH_MODEL=/path/a.model adds a model from outside the repository.
        var files = ["llama2_tokenizer.model", "botchan_en_unigram_1000.model", "kyoto_ja_unigram_8000.model", "botchan_en_bpe_1000.model"]
        if let extra = ProcessInfo.processInfo.environment["SPM_BENCH_MODEL"] { files.append(extra) }
        for file in files {
            let data = file.hasPrefix("/") ? Array(try Data(contentsOf: URL(fileURLWithPath: file))) : try readBytes("sentencepiece/" + file)
            var m: SentencePieceModel!
            try time("\(file) parse") { m = try SentencePieceModel.parse(data) }
            var n = 0
            time("\(file) normalize", bytes: big.count) { n = m.normalize(big).count }
            time("\(file) encode whole", bytes: big.count) { n += m.encode(big).count }
            let lines = big.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
            time("\(file) encode lines", bytes: big.count) { for l in lines { n += m.encode(l).count } }
            _ = n
        }
    }
}

/// One-off exactness check for a model outside the repository: SPM_CHECK_MODEL=a.model
/// SPM_CHECK_IDS=ids.json ({"whole": [...], "lines": [[...]]} for golden.txt + botchan.txt).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SPM_CHECK_MODEL"] != nil)) struct SPMExternalCheck {
    struct IDs: Decodable { let whole: [UInt32]; let lines: [[UInt32]] }

    @Test func idsMatch() throws {
        let env = ProcessInfo.processInfo.environment
        let m = try SentencePieceModel.parse(Array(try Data(contentsOf: URL(fileURLWithPath: env["SPM_CHECK_MODEL"]!))))
        let want = try JSONDecoder().decode(IDs.self, from: try Data(contentsOf: URL(fileURLWithPath: env["SPM_CHECK_IDS"]!)))
        let text = try readBytes("sentencepiece/botchan.txt") + readBytes("text/golden.txt")
        #expect(m.encode(text) == want.whole)
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        var bad = 0
        for (l, w) in zip(lines, want.lines) where m.encode(l) != w { bad += 1 }
        #expect(bad == 0 && lines.count == want.lines.count)
    }
}
