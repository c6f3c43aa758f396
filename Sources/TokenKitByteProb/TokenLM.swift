import Foundation
import TokenKitCore

/// The next-token distribution of a token LM after a context: natural-log probabilities, one per
/// id (`-infinity` for probability 0), and the log-probability that the text ends here.
public struct NextTokens: Sendable {
    public var logprobs: [Double]
    public var eos: Double

    public init(logprobs: [Double], eos: Double) {
        self.logprobs = logprobs
        self.eos = eos
    }
}

/// A language model over token ids.
public protocol TokenLM: AnyObject {
    /// The whole next-token distribution after `context` (the ids so far, from the start of the text).
    func next(_ context: [TokenID]) throws -> NextTokens
    /// log P(token | context); models that can answer one token cheaply override this.
    func logProb(_ token: TokenID, after context: [TokenID]) throws -> Double
    /// log P(end of text | context).
    func logEnd(after context: [TokenID]) throws -> Double
    /// Whether one token's probability costs much less than the whole distribution.
    var answersTokensCheaply: Bool { get }
    /// How many of the last context tokens the model reads (nil: all of them).
    var contextLimit: Int? { get }
}

extension TokenLM {
    public var answersTokensCheaply: Bool { false }
    public var contextLimit: Int? { nil }

    public func logProb(_ token: TokenID, after context: [TokenID]) throws -> Double {
        let d = try next(context)
        return Int(token) < d.logprobs.count ? d.logprobs[Int(token)] : -.infinity
    }

    public func logEnd(after context: [TokenID]) throws -> Double { try next(context).eos }
}

/// Caches whole distributions by context and counts the distinct contexts the model is asked
/// about (the forward passes a neural LM would need). Models that answer single tokens cheaply
/// (`cheapTokens`, the n-gram) are asked token by token; the others once per context.
public final class CachedLM: TokenLM {
    public let base: TokenLM
    public let capacity: Int
    public let cheapTokens: Bool
    /// Distinct contexts asked about (cache misses).
    public private(set) var calls = 0
    private var cache: [[TokenID]: NextTokens] = [:]
    private var seen = Set<[TokenID]>()
    private var order: [[TokenID]] = []

    public init(_ base: TokenLM, capacity: Int = 4096) {
        self.base = base
        self.capacity = capacity
        cheapTokens = base.answersTokensCheaply
    }

    public var contextLimit: Int? { base.contextLimit }

    public func next(_ context: [TokenID]) throws -> NextTokens {
        if let d = cache[context] { return d }
        let d = try base.next(context)
        count(context)
        if cache.count >= capacity, !order.isEmpty {
            // Drop the older half: contexts of a moving window are rarely needed again.
            for c in order.prefix(order.count / 2) { cache[c] = nil }
            order.removeFirst(order.count / 2)
        }
        cache[context] = d
        order.append(context)
        return d
    }

    private func count(_ context: [TokenID]) {
        if seen.insert(context).inserted {
            calls += 1
            if seen.count > 1 << 16 { seen.removeAll() }
        }
    }

    public func logProb(_ token: TokenID, after context: [TokenID]) throws -> Double {
        if cheapTokens, cache[context] == nil {
            count(context)
            return try base.logProb(token, after: context)
        }
        let d = try next(context)
        return Int(token) < d.logprobs.count ? d.logprobs[Int(token)] : -.infinity
    }

    public func logEnd(after context: [TokenID]) throws -> Double {
        if cheapTokens, cache[context] == nil {
            count(context)
            return try base.logEnd(after: context)
        }
        return try next(context).eos
    }
}

/// Adds up log-sum-exp terms stably.
func logSumExp(_ xs: [Double]) -> Double {
    guard let m = xs.max(), m > -.infinity else { return -.infinity }
    var s = 0.0
    for x in xs { s += Foundation.exp(x - m) }
    return m + Foundation.log(s)
}
