import Foundation
import TokenKit
import TokenKitByteProb
import TokenKitCore
import TokenKitFormats

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixture(_ relative: String) -> String { fixtures + "/" + relative }

/// Loaded once per process: the big vocabularies take a moment.
final class Spaces: @unchecked Sendable {
    static let shared = Spaces()
    private var cache: [String: TokenSpace] = [:]
    private let lock = NSLock()

    func get(_ relative: String) throws -> TokenSpace {
        lock.lock()
        defer { lock.unlock() }
        if let t = cache[relative] { return t }
        let t = try TokenSpace(TokenizerLoader.load(fixture(relative)))
        cache[relative] = t
        return t
    }
}

/// A Markov chain over a few text units (strings), cut at `maxUnits` units: every string it can
/// produce, with its exact probability. It stops with probability `stop` before each unit.
struct Chain {
    var units: [[UInt8]]
    var start: [Double]
    var trans: [[Double]]
    var stop = 0.2
    var maxUnits: Int

    init(units: [String], maxUnits: Int, seed: UInt64, noStart: Set<String> = []) {
        self.units = units.map { Array($0.utf8) }
        self.maxUnits = maxUnits
        var g = SplitMix64(seed: seed)
        func weights() -> [Double] {
            let w = units.map { _ in 0.2 + Double(g.next() % 1000) / 1000 }
            let z = w.reduce(0, +)
            return w.map { $0 / z }
        }
        var s = weights()
        for (i, u) in units.enumerated() where noStart.contains(u) { s[i] = 0 }
        let z = s.reduce(0, +)
        start = s.map { $0 / z }
        trans = units.map { _ in weights() }
    }

    /// Every string of at most `maxUnits` units with its probability (strings from different unit
    /// sequences are distinct because unit boundaries don't matter: probabilities add up).
    func strings() -> [[UInt8]: Double] {
        var out: [[UInt8]: Double] = [:]
        func walk(_ s: [UInt8], _ last: Int?, _ p: Double, _ depth: Int) {
            out[s, default: 0] += p * stop
            guard depth < maxUnits else { return }
            for u in units.indices {
                let q = last.map { trans[$0][u] } ?? start[u]
                if q > 0 { walk(s + units[u], u, p * (1 - stop) * q, depth + 1) }
            }
        }
        walk([], nil, 1, 0)
        return out
    }
}

/// The exact next-byte distribution of the chain's (finite) string set after `x`.
struct ChainReference {
    var prefixMass: [[UInt8]: Double] = [:]
    var exact: [[UInt8]: Double]

    init(_ strings: [[UInt8]: Double]) {
        exact = strings
        for (s, p) in strings {
            for i in 0...s.count { prefixMass[Array(s[..<i]), default: 0] += p }
        }
    }

    func next(_ x: [UInt8]) -> ByteDistribution? {
        guard let z = prefixMass[x], z > 0 else { return nil }
        var probs = [Double](repeating: 0, count: 256)
        for b in 0..<256 { probs[b] = (prefixMass[x + [UInt8(b)]] ?? 0) / z }
        return ByteDistribution(probs: probs, end: (exact[x] ?? 0) / z)
    }
}

/// The perfect token LM of a finite string set: P(t | context) is the mass of strings whose
/// canonical encoding starts with context + [t], over the mass of those starting with context.
final class PerfectLM: TokenLM {
    var mass: [[TokenID]: Double] = [:]
    var complete: [[TokenID]: Double] = [:]
    var children: [[TokenID]: [TokenID: Double]] = [:]
    let vocabSize: Int

    init(_ strings: [[UInt8]: Double], tokenizer: Tokenizer) throws {
        vocabSize = tokenizer.vocabSize
        for (s, p) in strings {
            let ids = try tokenizer.encode(s, policy: .ordinary)
            for i in 0...ids.count {
                mass[Array(ids[..<i]), default: 0] += p
                if i < ids.count { children[Array(ids[..<i]), default: [:]][ids[i], default: 0] += p }
            }
            complete[ids, default: 0] += p
        }
    }

    func next(_ context: [TokenID]) throws -> NextTokens {
        var lp = [Double](repeating: -.infinity, count: vocabSize)
        guard let z = mass[context], z > 0 else { return NextTokens(logprobs: lp, eos: -.infinity) }
        for (t, m) in children[context] ?? [:] { lp[Int(t)] = Foundation.log(m / z) }
        return NextTokens(logprobs: lp, eos: Foundation.log((complete[context] ?? 0) / z))
    }

    var answersTokensCheaply: Bool { true }

    func logProb(_ token: TokenID, after context: [TokenID]) throws -> Double {
        guard let z = mass[context], z > 0, let m = children[context]?[token] else { return -.infinity }
        return Foundation.log(m / z)
    }
}

/// Any LM with full support: log-probabilities from a hash of the last two tokens, so that every
/// cover counts and no structure helps. For comparing two ways of computing the same thing.
final class HashLM: TokenLM {
    let vocabSize: Int
    init(vocabSize: Int) { self.vocabSize = vocabSize }

    private func score(_ t: Int, _ context: [TokenID]) -> Double {
        var h = UInt64(t) &* 0x9E37_79B9_7F4A_7C15
        for c in context.suffix(2) { h = (h ^ UInt64(c)) &* 0xBF58_476D_1CE4_E5B9 }
        h ^= h >> 29
        return 0.05 + Double(h % 1000) / 1000
    }

    func next(_ context: [TokenID]) throws -> NextTokens {
        var w = (0..<vocabSize).map { score($0, context) }
        let eos = 0.5
        let z = w.reduce(eos, +)
        for i in w.indices { w[i] = Foundation.log(w[i] / z) }
        return NextTokens(logprobs: w, eos: Foundation.log(eos / z))
    }
}

func maxError(_ a: ByteDistribution, _ b: ByteDistribution) -> Double {
    var e = abs(a.end - b.end)
    for i in 0..<256 { e = max(e, abs(a.probs[i] - b.probs[i])) }
    return e
}
