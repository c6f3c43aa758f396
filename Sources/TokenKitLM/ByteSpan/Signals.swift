import Foundation
import TokenKitCore

/// Per-byte signals for ByteSpan, from a given LM or from LMs trained on the fly.
public enum ByteSpanSignals {
    /// The signal of every byte of `text` under `lm`.
    public static func compute(_ lm: ByteLM, text: UnsafeBufferPointer<UInt8>, signal: ByteSpanTrainer.Signal, threads: Int) -> [Float] {
        let r = lm.signals(text, threads: threads, surprisal: signal == .surprisal, entropy: signal == .entropy)
        return signal == .surprisal ? r.surprisal : r.entropy
    }

    /// Cross-fitted signal: the text is cut in two folds (at a newline near the middle), an
    /// order-`order` LM is trained on each, and each fold is scored by the other fold's LM, so no
    /// byte is scored by a model that saw it (an n-gram model scores its own training text as
    /// nearly certain).
    public static func crossFitted(text: UnsafeBufferPointer<UInt8>, order: Int, signal: ByteSpanTrainer.Signal,
                                   threads: Int, log: ((String) -> Void)? = nil) throws -> [Float] {
        guard text.count >= 2 else { return [Float](repeating: 0, count: text.count) }
        var mid = text.count / 2
        while mid < text.count - 1 && text[mid - 1] != 0x0A { mid += 1 }
        if mid >= text.count - 1 { mid = text.count / 2 }
        let folds = [0..<mid, mid..<text.count]
        var config = ByteLMBuilder.Configuration()
        config.order = order
        config.threads = threads
        var out = [Float](repeating: 0, count: text.count)
        for (k, fold) in folds.enumerated() {
            let start = Date()
            let image = try ByteLMBuilder.build([UnsafeBufferPointer(rebasing: text[fold])], config)
            let lm = try ByteLMFile.read(image)
            let other = folds[1 - k]
            let parts = evenRanges(other.count, parts: threads * 4).map { ($0.lowerBound + other.lowerBound)..<($0.upperBound + other.lowerBound) }
            out.withUnsafeMutableBufferPointer { o in
                let base = o.baseAddress!
                _ = parallelJobs(parts.count, threads: threads) { j in
                    let r = parts[j]
                    lm.signals(text, range: r, surprisal: signal == .surprisal ? base + r.lowerBound : nil,
                               entropy: signal == .entropy ? base + r.lowerBound : nil)
                }
            }
            log?(String(format: "fold %d: trained on %d bytes, scored %d bytes in %.1f s", k + 1, fold.count, other.count, Date().timeIntervalSince(start)))
        }
        return out
    }
}
