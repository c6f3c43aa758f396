import CPrefetch
import Foundation
import TokenKitCore

/// A byte-level n-gram language model with interpolated Kneser–Ney smoothing
/// (Chen & Goodman 1998, "An Empirical Study of Smoothing Techniques for Language Modeling").
///
/// P(b | c) for a context c of k bytes interpolates the order-k estimate with the order-(k−1)
/// one: P_k(b) = (n_k(c b) − D_k) / N_k(c) + D_k · u_k(c) / N_k(c) · P_{k−1}(b), where n is the
/// raw count at the highest order and the continuation count (number of distinct bytes seen
/// before c b) below it, N the sum of n over b, u the number of b with n > 0, and D_k one
/// discount per order, n1 / (n1 + 2 n2). Order 0 interpolates with the uniform distribution,
/// so every byte has a probability above 0 and the 256 probabilities sum to 1 at every
/// context. A context never seen stops the recursion (its longer contexts are not seen either).
///
/// The file stores the model in backoff form: with each (context, byte) seen in training, the
/// interpolated P(byte | context) itself, so that P of a byte seen after its longest known
/// context is one lookup, and otherwise γ times its P after the shorter context (γ = D·u/N,
/// from the context's own counts). The distributions are those of the recursion above.
///
/// The model lives in one read-only buffer in the file format of `ByteLMFile` (memory-mapped
/// when loaded), so opening a model does not rebuild anything.
public final class ByteLM: @unchecked Sendable {
    /// Longest context, in bytes.
    public let order: Int
    /// Bytes of training text.
    public let trainingBytes: Int
    /// Number of contexts and of (context, byte) entries per order 0...order.
    public let contextCounts: [Int]
    public let entryCounts: [Int]
    /// The discount D_k of each order.
    public let discounts: [Double]

    let storage: ByteLMFile.Storage
    let levels: [Level]
    /// The same levels without array bounds checks or retains in the hot loops.
    let levelPointer: UnsafeMutablePointer<Level>
    /// The order-0 distribution, log2 of it, and Σ p log2 p.
    let p0: [Double]
    /// The same, where the scoring walk can point at it.
    let p0Pointer: UnsafeMutablePointer<Double>
    let p0LogP0: [Double]
    let sumP0LogP0: Double

    /// One order's hash table of contexts and their records (children's bytes and probabilities).
    struct Level {
        let slots: UnsafePointer<ByteLMFile.Slot>
        let mask: Int
        let shift: UInt64
        let records: UnsafeRawPointer
        let recordBytes: Int
        let discount: Double
        let keyMask: UInt64
        /// Entropy of the distribution after each slot's context (filled in by the builder).
        let entropies: UnsafePointer<Float>

        @inline(__always) func entropy(_ slot: UnsafePointer<ByteLMFile.Slot>) -> Float { entropies[slot - slots] }

        @inline(__always) func prefetch(_ key: UInt64) {
            tk_prefetch(slots + (Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask))
        }

        /// The slot of context `key` (its last byte in the low bits), or nil.
        @inline(__always) func find(_ key: UInt64) -> UnsafePointer<ByteLMFile.Slot>? {
            // The first two probes are compared without branching on which one holds the key
            // (a collision is as unpredictable as the text); a longer run of probes is rare.
            let i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
            let s0 = slots + i, s1 = slots + ((i + 1) & mask)
            // Both tests in one word: `&&` would branch on the second.
            let hit0 = ((s0.pointee.keyAndCount & ByteLMFile.keyBits) ^ key) | UInt64(s0.pointee.total == 0 ? 1 : 0) == 0
            let s = hit0 ? s0 : s1
            if s.pointee.keyAndCount & ByteLMFile.keyBits == key && s.pointee.total != 0 && (hit0 || s0.pointee.total != 0) {
                return checked(s)
            }
            if s0.pointee.total == 0 || s1.pointee.total == 0 { return nil }
            var j = (i + 2) & mask
            while true {
                let s = slots + j
                if s.pointee.total == 0 { return nil }
                if s.pointee.keyAndCount & ByteLMFile.keyBits == key { return checked(s) }
                j = (j + 1) & mask
            }
        }

        /// A child range outside the table can only come from a damaged file.
        @inline(__always) func checked(_ s: UnsafePointer<ByteLMFile.Slot>) -> UnsafePointer<ByteLMFile.Slot>? {
            Int(s.pointee.childStart) + Self.recordSize(Self.children(s)) <= recordBytes ? s : nil
        }

        @inline(__always) static func children(_ s: UnsafePointer<ByteLMFile.Slot>) -> Int { Int(s.pointee.keyAndCount >> 56) + 1 }
        /// Bytes of a record of n children: n bytes, padded to 8, and n f64 probabilities.
        @inline(__always) static func recordSize(_ n: Int) -> Int { ((n + 7) & ~7) + 8 * n }
        @inline(__always) func childBytes(_ s: UnsafePointer<ByteLMFile.Slot>) -> UnsafePointer<UInt8> {
            (records + Int(s.pointee.childStart)).assumingMemoryBound(to: UInt8.self)
        }
        @inline(__always) func childProbabilities(_ s: UnsafePointer<ByteLMFile.Slot>) -> UnsafePointer<Double> {
            (records + Int(s.pointee.childStart) + ((Self.children(s) + 7) & ~7)).assumingMemoryBound(to: Double.self)
        }
        @inline(__always) func childByte(_ s: UnsafePointer<ByteLMFile.Slot>, _ i: Int) -> UInt8 { childBytes(s)[i] }
        @inline(__always) func childProbability(_ s: UnsafePointer<ByteLMFile.Slot>, _ i: Int) -> Double { childProbabilities(s)[i] }

        /// The weight of the shorter context's distribution after `slot`'s context: D·u / N.
        @inline(__always) func gamma(_ s: UnsafePointer<ByteLMFile.Slot>) -> Double {
            discount * Double(Self.children(s)) / Double(s.pointee.total)
        }

        /// Where P(byte | `slot`'s context) is stored, or nil if the byte never followed it.
        @inline(__always) func probability(of byte: UInt8, _ s: UnsafePointer<ByteLMFile.Slot>) -> UnsafePointer<Double>? {
            let bytes = childBytes(s)
            let i = tk_byte_position(bytes, Self.children(s), byte)
            return bytes[i] == byte ? childProbabilities(s) + i : nil
        }
    }

    /// A byte as the scoring walk resolves it: the deepest context found (its slot, for the
    /// entropy signal) and P(byte) = scale · probability.pointee, where `probability` is the
    /// value stored with the deepest context that has the byte as a child (or the order-0 one)
    /// and `scale` the product of the weights γ of the deeper contexts that do not.
    struct Lookup {
        var depth = 0
        var top: UnsafePointer<ByteLMFile.Slot>? = nil
        var probability: UnsafePointer<Double>? = nil
        var scale = 1.0
    }

    init(storage: ByteLMFile.Storage, header: ByteLMFile.Header) {
        self.storage = storage
        order = header.order
        trainingBytes = header.trainingBytes
        discounts = header.levels.map(\.discount)
        contextCounts = header.levels.map(\.contextCount)
        entryCounts = header.levels.map(\.childCount)
        let base = storage.base
        var levels: [Level] = []
        for (k, l) in header.levels.enumerated() {
            levels.append(Level(
                slots: (base + l.slotsOffset).assumingMemoryBound(to: ByteLMFile.Slot.self),
                mask: (1 << l.slotBits) - 1, shift: UInt64(64 - l.slotBits),
                records: UnsafeRawPointer(base + l.recordsOffset), recordBytes: l.recordBytes,
                discount: l.discount, keyMask: byteMask(k),
                entropies: (base + l.entropiesOffset).assumingMemoryBound(to: Float.self)))
        }
        self.levels = levels
        levelPointer = UnsafeMutablePointer<Level>.allocate(capacity: levels.count)
        levelPointer.initialize(from: levels, count: levels.count)
        // Order 0: the single empty context, interpolated with the uniform distribution.
        var p = [Double](repeating: 1.0 / 256, count: 256)
        let l0 = levels[0]
        if let s = l0.find(0) {
            let gamma = l0.gamma(s)
            for b in 0..<256 { p[b] *= gamma }
            for i in 0..<Level.children(s) { p[Int(l0.childByte(s, i))] = l0.childProbability(s, i) }
        }
        p0 = p
        p0Pointer = UnsafeMutablePointer<Double>.allocate(capacity: 256)
        p0Pointer.initialize(from: p, count: 256)
        p0LogP0 = p.map { $0 * log2($0) }
        sumP0LogP0 = p0LogP0.reduce(0, +)
    }

    deinit {
        levelPointer.deallocate()
        p0Pointer.deallocate()
    }

    /// P(byte | the `available` bytes before it), the context being the low bytes of `history`
    /// (the byte just before in the lowest 8 bits).
    public func probability(of byte: UInt8, history: UInt64, available: Int) -> Double {
        let chain = UnsafeMutablePointer<UnsafePointer<ByteLMFile.Slot>?>.allocate(capacity: 8)
        defer { chain.deallocate() }
        var depth = 0
        let top = min(order, available)
        if top > 0 {
            for k in 1...top {
                guard let s = levels[k].find(history & levels[k].keyMask) else { break }
                chain[k - 1] = s
                depth = k
            }
        }
        return probability(of: byte, slots: chain, depth: depth)
    }

    /// The whole next-byte distribution after `context` (its last `order` bytes are used): in
    /// backoff form, a context's children have their stored probabilities and every other
    /// byte γ times its probability after the shorter context.
    public func distribution(after context: some Collection<UInt8>) -> [Double] {
        let (h, avail) = Self.history(context)
        var p = p0
        let top = min(order, avail)
        if top == 0 { return p }
        for k in 1...top {
            let l = levels[k]
            guard let s = l.find(h & l.keyMask) else { break }
            let gamma = l.gamma(s)
            for b in 0..<256 { p[b] *= gamma }
            for i in 0..<Level.children(s) { p[Int(l.childByte(s, i))] = l.childProbability(s, i) }
        }
        return p
    }

    /// The history word and its length for the last ≤ 8 bytes of `context`.
    static func history(_ context: some Collection<UInt8>) -> (UInt64, Int) {
        var h: UInt64 = 0
        for b in context.suffix(8) { h = (h << 8) | UInt64(b) }
        return (h, min(context.count, 8))
    }

    /// Calls `body(i, lookup)` for each position of `text[range]`, with byte i already looked up.
    ///
    /// Performance notes: each order's lookup reads random cache lines of tables of hundreds of
    /// MB. Done one after the other the misses serialize, so the lookups run as a pipeline over
    /// the text: slot lines of position i + 3A are prefetched, the slots of i + 2A resolved
    /// (the records of the two deepest contexts prefetched), the byte of i + A searched from
    /// the deepest context down to the first that has it (its probability's line prefetched),
    /// and position i computed from lines already in cache. In backoff form most bytes need one
    /// search (the deepest context has them), not one per order.
    @inline(__always)
    func walk(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>, _ body: (Int, UnsafePointer<Lookup>) -> Void) {
        let ahead = 8, ring = 32
        let slots = UnsafeMutablePointer<UnsafePointer<ByteLMFile.Slot>?>.allocate(capacity: ring * 8)
        let lookups = UnsafeMutablePointer<Lookup>.allocate(capacity: ring)
        lookups.initialize(repeating: Lookup(), count: ring)
        defer { slots.deallocate(); lookups.deallocate() }
        let lv = levelPointer
        let order = order
        func historyBefore(_ j: Int) -> UInt64 {
            var h: UInt64 = 0
            for i in max(0, j - 8)..<j { h = (h << 8) | UInt64(text[i]) }
            return h
        }
        @inline(__always) func prefetch(_ h: UInt64, _ j: Int) {
            let top = min(order, j)
            if top == 0 { return }
            for k in 1...top { lv[k].prefetch(h & lv[k].keyMask) }
        }
        @inline(__always) func resolve(_ h: UInt64, _ j: Int) {
            let r = j & (ring - 1)
            var d = 0
            let top = min(order, j)
            if top > 0 {
                for k in 1...top {
                    guard let s = lv[k].find(h & lv[k].keyMask) else { break }
                    slots[r * 8 + k - 1] = s
                    d = k
                }
            }
            lookups[r].depth = d
            if d > 0 {
                lookups[r].top = slots[r * 8 + d - 1]
                tk_prefetch(lv[d].childBytes(slots[r * 8 + d - 1].unsafelyUnwrapped))
                if d > 1 { tk_prefetch(lv[d - 1].childBytes(slots[r * 8 + d - 2].unsafelyUnwrapped)) }
            }
        }
        @inline(__always) func search(_ j: Int) {
            let r = j & (ring - 1)
            let (q, scale) = locate(text[j], slots: slots + r * 8, depth: lookups[r].depth)
            tk_prefetch(q)
            lookups[r].probability = q
            lookups[r].scale = scale
        }
        let lo = range.lowerBound, hi = range.upperBound
        if lo >= hi { return }
        // Fill the pipeline: positions lo..<lo+3A prefetched, lo..<lo+2A resolved, lo..<lo+A searched.
        var h3 = historyBefore(lo), h2 = h3
        for j in lo..<min(hi, lo + 3 * ahead) {
            prefetch(h3, j)
            h3 = (h3 << 8) | UInt64(text[j])
        }
        for j in lo..<min(hi, lo + 2 * ahead) {
            resolve(h2, j)
            h2 = (h2 << 8) | UInt64(text[j])
        }
        for j in lo..<min(hi, lo + ahead) { search(j) }
        for i in lo..<hi {
            body(i, UnsafePointer(lookups + (i & (ring - 1))))
            let j3 = i + 3 * ahead, j2 = i + 2 * ahead, j1 = i + ahead
            if j3 < hi {
                prefetch(h3, j3)
                h3 = (h3 << 8) | UInt64(text[j3])
            }
            if j2 < hi {
                resolve(h2, j2)
                h2 = (h2 << 8) | UInt64(text[j2])
            }
            if j1 < hi { search(j1) }
        }
    }

    /// P(byte) given the looked-up contexts of orders 1...depth (slots[k − 1] is order k's).
    func probability(of byte: UInt8, slots: UnsafePointer<UnsafePointer<ByteLMFile.Slot>?>, depth: Int) -> Double {
        let (q, scale) = locate(byte, slots: slots, depth: depth)
        return scale * q.pointee
    }

    /// Backoff from the deepest of the looked-up contexts: the stored P(byte) of the first one
    /// that has the byte as a child (or the order-0 one), and the product of the weights γ of
    /// those above it that do not.
    @inline(__always)
    func locate(_ byte: UInt8, slots: UnsafePointer<UnsafePointer<ByteLMFile.Slot>?>, depth: Int) -> (UnsafePointer<Double>, Double) {
        var scale = 1.0
        var k = depth
        while k > 0 {
            let s = slots[k - 1].unsafelyUnwrapped
            if let q = levelPointer[k].probability(of: byte, s) { return (q, scale) }
            scale *= levelPointer[k].gamma(s)
            k -= 1
        }
        return (UnsafePointer(p0Pointer + Int(byte)), scale)
    }

    /// Total surprisal in bits of `text[range]`, each byte predicted from the bytes before it in
    /// `text` (also those before `range`).
    public func bits(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> Double {
        // Probabilities are multiplied and their log taken only when the product gets small:
        // one log2 per many bytes instead of one per byte. (A byte's probability is far above
        // 2^-400 — at most a discount ratio per order below the uniform 1/256 — so the product
        // never leaves the normal range.)
        var sum = 0.0, product = 1.0
        walk(text, range: range) { _, l in
            product *= l.pointee.scale * l.pointee.probability.unsafelyUnwrapped.pointee
            if product < 0x1p-600 {
                sum -= log2(product)
                product = 1
            }
        }
        return sum - log2(product)
    }

    /// Bits per byte of `text`, scored on `threads` threads in pieces of about 1 MiB. Each piece
    /// sees the bytes before it as context, and the pieces do not depend on the thread count,
    /// so neither does the result, to the last bit.
    public func bitsPerByte(_ text: UnsafeBufferPointer<UInt8>, threads: Int) -> Double {
        if text.isEmpty { return 0 }
        let parts = evenRanges(text.count, parts: (text.count + (1 << 20) - 1) >> 20)
        let sums = parallelJobs(parts.count, threads: threads) { bits(text, range: parts[$0]) }
        return sums.reduce(0, +) / Double(text.count)
    }

    /// Per-byte surprisal −log2 P(b_t | b_<t) and entropy of the next-byte distribution before
    /// b_t, in bits, for `text[range]` (either output may be skipped); out[0] is text[range.lowerBound].
    public func signals(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>,
                        surprisal: UnsafeMutablePointer<Float>?, entropy: UnsafeMutablePointer<Float>?) {
        let lo = range.lowerBound
        let lv = levelPointer
        walk(text, range: range) { i, l in
            let l = l.pointee
            if let surprisal { surprisal[i - lo] = Float(-log2(l.scale * l.probability.unsafelyUnwrapped.pointee)) }
            if let entropy {
                entropy[i - lo] = l.depth == 0 ? Float(-sumP0LogP0) : lv[l.depth].entropy(l.top.unsafelyUnwrapped)
            }
        }
    }

    /// Surprisal and entropy of a whole text in parallel pieces (same result for any thread count).
    public func signals(_ text: UnsafeBufferPointer<UInt8>, threads: Int, surprisal: Bool, entropy: Bool) -> (surprisal: [Float], entropy: [Float]) {
        var s = [Float](repeating: 0, count: surprisal ? text.count : 0)
        var e = [Float](repeating: 0, count: entropy ? text.count : 0)
        let parts = evenRanges(text.count, parts: threads * 4)
        s.withUnsafeMutableBufferPointer { sp in
            e.withUnsafeMutableBufferPointer { ep in
                let sb = sp.baseAddress, eb = ep.baseAddress
                _ = parallelJobs(parts.count, threads: threads) { k in
                    let r = parts[k]
                    signals(text, range: r, surprisal: surprisal ? sb! + r.lowerBound : nil, entropy: entropy ? eb! + r.lowerBound : nil)
                }
            }
        }
        return (s, e)
    }
}
