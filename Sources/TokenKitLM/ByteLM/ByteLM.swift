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
    let p0LogP0: [Double]
    let sumP0LogP0: Double

    /// One order's hash table of contexts and their sorted (count << 8 | byte) children.
    struct Level {
        let slots: UnsafePointer<ByteLMFile.Slot>
        let mask: Int
        let shift: UInt64
        let children: UnsafePointer<UInt64>
        let childCount: Int
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
            var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
            while true {
                let s = slots + i
                if s.pointee.total == 0 { return nil }
                if s.pointee.keyAndCount & ByteLMFile.keyBits == key {
                    // A child range outside the table can only come from a damaged file.
                    let n = Int(s.pointee.keyAndCount >> 56) + 1
                    return Int(s.pointee.childStart) + n <= childCount ? s : nil
                }
                i = (i + 1) & mask
            }
        }

        /// The count of `byte` among the children of `slot` (0 if absent).
        @inline(__always) func childCount(_ slot: UnsafePointer<ByteLMFile.Slot>, _ byte: UInt8) -> UInt64 {
            var n = Int(slot.pointee.keyAndCount >> 56) + 1
            var base = children + Int(slot.pointee.childStart)
            let b = UInt64(byte)
            // Branch-free binary search (a select per step): which child a byte is, is as
            // unpredictable as the text, so a branching search mispredicts at every order.
            while n > 1 {
                let half = n >> 1
                base = base[half] & 255 <= b ? base + half : base
                n -= half
            }
            let c = base.pointee
            return c & 255 == b ? c >> 8 : 0
        }
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
                children: (base + l.childrenOffset).assumingMemoryBound(to: UInt64.self),
                childCount: l.childCount, discount: l.discount, keyMask: byteMask(k),
                entropies: (base + l.entropiesOffset).assumingMemoryBound(to: Float.self)))
        }
        self.levels = levels
        levelPointer = UnsafeMutablePointer<Level>.allocate(capacity: levels.count)
        levelPointer.initialize(from: levels, count: levels.count)
        // Order 0: the single empty context, interpolated with the uniform distribution.
        var p = [Double](repeating: 1.0 / 256, count: 256)
        let l0 = levels[0]
        if let s = l0.find(0) {
            let total = Double(s.pointee.total)
            let n = Int(s.pointee.keyAndCount >> 56) + 1
            let d = l0.discount
            let gamma = d * Double(n) / total
            for b in 0..<256 { p[b] *= gamma }
            for i in 0..<n {
                let c = l0.children[Int(s.pointee.childStart) + i]
                p[Int(c & 255)] += (Double(c >> 8) - d) / total
            }
        }
        p0 = p
        p0LogP0 = p.map { $0 * log2($0) }
        sumP0LogP0 = p0LogP0.reduce(0, +)
    }

    deinit { levelPointer.deallocate() }

    /// P(byte | the `available` bytes before it), the context being the low bytes of `history`
    /// (the byte just before in the lowest 8 bits).
    @inline(__always)
    public func probability(of byte: UInt8, history: UInt64, available: Int) -> Double {
        var p = p0[Int(byte)]
        let top = min(order, available)
        if top == 0 { return p }
        for k in 1...top {
            let l = levels[k]
            guard let s = l.find(history & l.keyMask) else { break }
            let total = Double(s.pointee.total)
            let u = Double((s.pointee.keyAndCount >> 56) + 1)
            let c = l.childCount(s, byte)
            p = ((c > 0 ? Double(c) - l.discount : 0) + l.discount * u * p) / total
        }
        return p
    }

    /// The whole next-byte distribution after `context` (its last `order` bytes are used).
    public func distribution(after context: some Collection<UInt8>) -> [Double] {
        let (h, avail) = Self.history(context)
        var p = p0
        let top = min(order, avail)
        if top == 0 { return p }
        for k in 1...top {
            let l = levels[k]
            guard let s = l.find(h & l.keyMask) else { break }
            let total = Double(s.pointee.total)
            let n = Int(s.pointee.keyAndCount >> 56) + 1
            let gamma = l.discount * Double(n) / total
            for b in 0..<256 { p[b] *= gamma }
            for i in 0..<n {
                let c = l.children[Int(s.pointee.childStart) + i]
                p[Int(c & 255)] += (Double(c >> 8) - l.discount) / total
            }
        }
        return p
    }

    /// The history word and its length for the last ≤ 8 bytes of `context`.
    static func history(_ context: some Collection<UInt8>) -> (UInt64, Int) {
        var h: UInt64 = 0
        for b in context.suffix(8) { h = (h << 8) | UInt64(b) }
        return (h, min(context.count, 8))
    }

    /// Calls `body(i, slots, depth)` for each position of `text[range]`, with the contexts of
    /// orders 1...depth before byte i already looked up (slots[k − 1] is order k's).
    ///
    /// Performance notes: each order's lookup is a random cache line in a table of hundreds of
    /// MB, then another for its children. Done one after the other, the misses serialize (~1 µs
    /// per byte). Here the lookups run in a three-stage pipeline: the slot lines of position
    /// i + 2A are prefetched, the slots of i + A resolved (their child lines prefetched), and
    /// position i computed from slots already in cache.
    @inline(__always)
    func walk(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>,
              _ body: (Int, UnsafePointer<UnsafePointer<ByteLMFile.Slot>?>, Int) -> Void) {
        let ahead = 8, ring = 32
        let slots = UnsafeMutablePointer<UnsafePointer<ByteLMFile.Slot>?>.allocate(capacity: ring * 8)
        let depths = UnsafeMutablePointer<Int>.allocate(capacity: ring)
        defer { slots.deallocate(); depths.deallocate() }
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
            let r = (j & (ring - 1))
            var d = 0
            let top = min(order, j)
            if top > 0 {
                for k in 1...top {
                    guard let s = lv[k].find(h & lv[k].keyMask) else { break }
                    tk_prefetch(lv[k].children + Int(s.pointee.childStart))
                    slots[r * 8 + k - 1] = s
                    d = k
                }
            }
            depths[r] = d
        }
        let lo = range.lowerBound, hi = range.upperBound
        if lo >= hi { return }
        var h2 = historyBefore(lo), h1 = h2
        for j in lo..<min(hi, lo + 2 * ahead) {
            prefetch(h2, j)
            h2 = (h2 << 8) | UInt64(text[j])
        }
        for j in lo..<min(hi, lo + ahead) {
            resolve(h1, j)
            h1 = (h1 << 8) | UInt64(text[j])
        }
        for i in lo..<hi {
            let j2 = i + 2 * ahead, j1 = i + ahead
            if j2 < hi {
                prefetch(h2, j2)
                h2 = (h2 << 8) | UInt64(text[j2])
            }
            if j1 < hi {
                resolve(h1, j1)
                h1 = (h1 << 8) | UInt64(text[j1])
            }
            let r = i & (ring - 1)
            body(i, UnsafePointer(slots + r * 8), depths[r])
        }
    }

    /// P(byte) given the looked-up contexts of orders 1...depth.
    @inline(__always)
    func probability(of byte: UInt8, slots: UnsafePointer<UnsafePointer<ByteLMFile.Slot>?>, depth: Int) -> Double {
        var p = p0[Int(byte)]
        if depth == 0 { return p }
        let lv = levelPointer
        for k in 1...depth {
            let s = slots[k - 1].unsafelyUnwrapped
            let l = lv[k]
            let total = Double(s.pointee.total)
            let u = Double((s.pointee.keyAndCount >> 56) + 1)
            let c = l.childCount(s, byte)
            p = ((c > 0 ? Double(c) - l.discount : 0) + l.discount * u * p) / total
        }
        return p
    }

    /// Total surprisal in bits of `text[range]`, each byte predicted from the bytes before it in
    /// `text` (also those before `range`).
    public func bits(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> Double {
        // Probabilities are multiplied and their log taken only when the product gets small:
        // one log2 per many bytes instead of one per byte. (A byte's probability is far above
        // 2^-400 — at most a discount ratio per order below the uniform 1/256 — so the product
        // never leaves the normal range.)
        var sum = 0.0, product = 1.0
        walk(text, range: range) { i, slots, depth in
            product *= probability(of: text[i], slots: slots, depth: depth)
            if product < 0x1p-600 {
                sum -= log2(product)
                product = 1
            }
        }
        return sum - log2(product)
    }

    /// Bits per byte of `text`, scored in `threads` parallel pieces (each piece sees the bytes
    /// before it as context, so the result does not depend on the thread count).
    public func bitsPerByte(_ text: UnsafeBufferPointer<UInt8>, threads: Int) -> Double {
        if text.isEmpty { return 0 }
        let parts = evenRanges(text.count, parts: threads * 4)
        let sums = parallelJobs(parts.count, threads: threads) { bits(text, range: parts[$0]) }
        return sums.reduce(0, +) / Double(text.count)
    }

    /// Per-byte surprisal −log2 P(b_t | b_<t) and entropy of the next-byte distribution before
    /// b_t, in bits, for `text[range]` (either output may be skipped); out[0] is text[range.lowerBound].
    public func signals(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>,
                        surprisal: UnsafeMutablePointer<Float>?, entropy: UnsafeMutablePointer<Float>?) {
        let lo = range.lowerBound
        let lv = levelPointer
        walk(text, range: range) { i, slots, depth in
            if let surprisal { surprisal[i - lo] = Float(-log2(probability(of: text[i], slots: slots, depth: depth))) }
            if let entropy {
                entropy[i - lo] = depth == 0 ? Float(-sumP0LogP0) : lv[depth].entropy(slots[depth - 1].unsafelyUnwrapped)
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

    /// Scratch space for `entropy`.
    struct EntropyWork {
        var bytes = [Int](repeating: 0, count: 256)
        var probs = [Double](repeating: 0, count: 256)
    }

    /// Entropy (bits) of the next-byte distribution. Only the bytes seen after the order-1
    /// context (set F) can differ from Γ·p0(b) (Γ the product of the backoff weights), since
    /// every longer context's children are among them; the rest of the sum is
    /// Σ_{b∉F} Γ p0 log(Γ p0) = Γ [(Σ p0 log p0 − Σ_F p0 log p0) + log Γ (1 − Σ_F p0)].
    func entropy(slots: UnsafePointer<UnsafePointer<ByteLMFile.Slot>?>, depth top: Int, work: inout EntropyWork) -> Double {
        if top == 0 { return -sumP0LogP0 }
        let lv = levelPointer
        let l1 = lv[1]
        let s1 = slots[0].unsafelyUnwrapped
        let nF = Int(s1.pointee.keyAndCount >> 56) + 1
        let start1 = Int(s1.pointee.childStart)
        return work.bytes.withUnsafeMutableBufferPointer { fb in
            work.probs.withUnsafeMutableBufferPointer { pf in
                let total1 = Double(s1.pointee.total), d1 = l1.discount
                var gammaAll = d1 * Double(nF) / total1
                var p0F = 0.0, p0LogF = 0.0
                for i in 0..<nF {
                    let c = l1.children[start1 + i]
                    let b = Int(c & 255)
                    fb[i] = b
                    p0F += p0[b]
                    p0LogF += p0LogP0[b]
                    pf[i] = (Double(c >> 8) - d1) / total1 + gammaAll * p0[b]
                }
                if top >= 2 {
                    for k in 2...top {
                        let l = lv[k]
                        let s = slots[k - 1].unsafelyUnwrapped
                        let inv = 1 / Double(s.pointee.total), d = l.discount
                        let n = Int(s.pointee.keyAndCount >> 56) + 1
                        let gamma = d * Double(n) * inv
                        gammaAll *= gamma
                        for i in 0..<nF { pf[i] *= gamma }
                        // Children and F are both sorted by byte: merge.
                        var j = 0
                        for i in 0..<n {
                            let c = l.children[Int(s.pointee.childStart) + i]
                            let b = Int(c & 255)
                            while j < nF && fb[j] < b { j += 1 }
                            if j < nF && fb[j] == b { pf[j] += (Double(c >> 8) - d) * inv }
                        }
                    }
                }
                var h = 0.0
                for i in 0..<nF where pf[i] > 0 { h -= pf[i] * log2(pf[i]) }
                let rest = gammaAll * ((sumP0LogP0 - p0LogF) + log2(gammaAll) * (1 - p0F))
                return h - rest
            }
        }
    }
}
