/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast and fully determined by its seed, so every
/// stochastic feature is reproducible from `--seed`. Swift's system generator is not seedable.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for stream `index` that does not overlap others derived from the same seed:
    /// used to give each chunk or epoch its own stream, independent of thread count.
    public func derived(_ index: UInt64) -> SplitMix64 {
        var g = SplitMix64(seed: state ^ (index &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return g
    }

    /// Uniform double in [0, 1).
    @inline(__always)
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
