import Foundation
import Testing
import TokenKitCore
import TokenKitSentencePiece

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
        for file in ["llama2_tokenizer.model", "botchan_en_unigram_1000.model", "kyoto_ja_unigram_8000.model", "botchan_en_bpe_1000.model"] {
            let data = try readBytes("sentencepiece/" + file)
            var m: SentencePieceModel!
            try time("\(file) parse") { m = try SentencePieceModel.parse(data) }
            var n = 0
            time("\(file) normalize", bytes: big.count) { n = m.normalize(big).count }
            time("\(file) encode whole", bytes: big.count) { n += m.encode(big).count }
            _ = n
        }
    }
}
