import Foundation
import TokenKitCore

/// Controlled experiments for mixture inference (Hayase et al. 2024, §4.1): draw a mixture
/// uniformly from the simplex, build training text with those byte shares, train a tokenizer,
/// infer the mixture from held-out samples and score it by the mean squared error.
public enum MixtureEvaluation {
    /// n weights uniform on the simplex: the gaps between n − 1 sorted uniform draws.
    public static func uniformSimplex(_ n: Int, _ rng: inout SplitMix64) -> [Double] {
        var cuts = (0..<(n - 1)).map { _ in rng.nextUnit() }
        cuts.sort()
        var out: [Double] = []
        var last = 0.0
        for c in cuts {
            out.append(c - last)
            last = c
        }
        out.append(1 - last)
        return out
    }

    /// k distinct indexes of 0..<n in random order.
    public static func choose(_ k: Int, of n: Int, _ rng: inout SplitMix64) -> [Int] {
        var all = Array(0..<n)
        for i in 0..<min(k, n) {
            let j = i + Int(rng.next() % UInt64(n - i))
            all.swapAt(i, j)
        }
        return Array(all.prefix(k))
    }

    /// Mean squared error between two share vectors.
    public static func mse(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(max(1, a.count))
    }

    /// Splits a text at a line end near `fraction` of its length: (training part, sample part).
    public static func split(_ text: [UInt8], fraction: Double = 0.5) -> ([UInt8], [UInt8]) {
        var cut = Int(Double(text.count) * fraction)
        while cut < text.count, text[cut - 1] != 0x0A { cut += 1 }
        return (Array(text[..<cut]), Array(text[cut...]))
    }

    /// The first `bytes` bytes of `pool` repeated as often as needed, cut at a line end (the
    /// paper duplicates categories that are too small for their share).
    public static func take(_ bytes: Int, from pool: [UInt8]) -> [UInt8] {
        guard !pool.isEmpty, bytes > 0 else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 4096)
        while out.count + pool.count <= bytes { out += pool }
        var cut = bytes - out.count
        while cut < pool.count, cut > 0, pool[cut - 1] != 0x0A { cut += 1 }
        out += pool[..<cut]
        return out
    }
}
