import TokenKit
import TokenKitCore
import TokenKitTraining

/// TokenAdapt's supertoken learning (Sharthak et al. 2025): the text is cut into random windows
/// of characters and each window is a training word, so BPE merges may cross spaces in a single
/// pass. At inference the whole input is one piece.
public struct RandomChunks: Sendable {
    /// Window lengths in characters (white space included), with weights.
    public let lengths: [(ClosedRange<Int>, Double)]

    /// The paper's distribution (`train.yaml`): bins of two lengths, uniform inside a bin, 4–23 chars.
    public static let paper = RandomChunks(lengths: [
        (4...5, 0.044), (6...7, 0.091), (8...9, 0.146), (10...11, 0.171), (12...13, 0.185),
        (14...15, 0.171), (16...17, 0.146), (18...19, 0.091), (20...21, 0.044), (22...23, 0.011),
    ])

    public init(lengths: [(ClosedRange<Int>, Double)]) { self.lengths = lengths }

    /// `paper` or `MIN-MAX` (uniform).
    public static func parse(_ spec: String) throws -> RandomChunks {
        if spec == "paper" { return .paper }
        let parts = spec.split(separator: "-")
        guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]), lo >= 1, hi >= lo else {
            throw TokenKitError.usage("--random-chunks must be paper or MIN-MAX with 1 <= MIN <= MAX, e.g. 4-23 (got \(spec.debugDescription))")
        }
        return RandomChunks(lengths: [(lo...hi, 1)])
    }

    func draw(_ rng: inout SplitMix64) -> Int {
        let total = lengths.reduce(0) { $0 + $1.1 }
        var u = rng.nextUnit() * total
        for (range, w) in lengths {
            if u < w { return range.lowerBound + Int(rng.next() % UInt64(range.count)) }
            u -= w
        }
        let last = lengths[lengths.count - 1].0
        return last.lowerBound + Int(rng.next() % UInt64(last.count))
    }

    final class State {
        var counts = WordCounts()
    }

    /// Counts the windows of every file. Block k of a file (1 MB, cut at a line end) draws from
    /// its own stream seeded by (seed, file, k), so the counts do not depend on `threads`.
    public func countWords(_ paths: [String], seed: UInt64, threads: Int) throws -> WordCounts {
        var states: [State] = []
        for (f, path) in paths.enumerated() {
            var reader = try ChunkReader(path: path, chunkSize: 1 << 20, lines: true, whole: false)
            defer { reader.close() }
            var block = 0
            while true {
                var batch: [[UInt8]] = []
                while batch.count < max(2, threads * 2), let c = try reader.next() { batch.append(c.bytes) }
                if batch.isEmpty { break }
                let first = block
                block += batch.count
                _ = try parallelMap(count: batch.count, threads: threads, states: &states, makeState: { State() }) { i, st in
                    var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(f + 1) &+ UInt64(first + i) &* 0xBF58_476D_1CE4_E5B9)
                    batch[i].withUnsafeBytes { p in
                        var s = 0
                        while s < p.count {
                            var e = s, chars = 0
                            let want = draw(&rng)
                            while e < p.count, chars < want {
                                e += 1
                                while e < p.count, p[e] & 0xC0 == 0x80 { e += 1 }
                                chars += 1
                            }
                            st.counts.add(UnsafeRawBufferPointer(rebasing: p[s..<e]))
                            s = e
                        }
                    }
                }
            }
        }
        guard var total = states.first?.counts else { return WordCounts() }
        for st in states.dropFirst() { total.merge(st.counts) }
        return total
    }
}
