import Foundation
import TokenKitCore

/// Trains a `ByteLM` and writes its file image.
///
/// 1. Count every n-gram of 1...order+1 bytes exactly (orders in parallel, longest first).
/// 2. Continuation counts for n-grams below the top: the number of distinct bytes seen
///    before each (counted from the distinct (n+1)-grams' suffixes).
/// 3. Per order, group the (n+1)-grams by their context, drop zero counts, set the discount,
///    and lay the contexts out in an open-addressing table.
public enum ByteLMBuilder {
    public struct Configuration: Sendable {
        /// Longest context in bytes (1...7: a 7-byte context plus the byte is one 64-bit key).
        public var order = 6
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public init() {}
        public static let `default` = Configuration()
    }

    public static func build(_ texts: [UnsafeBufferPointer<UInt8>], _ config: Configuration,
                             log: ((String) -> Void)? = nil) throws -> [UInt8] {
        let order = config.order
        guard (1...ByteLMFile.maxOrder).contains(order) else {
            throw TokenKitError.usage("--order must be between 1 and \(ByteLMFile.maxOrder) (got \(order))")
        }
        let trainingBytes = texts.reduce(0) { $0 + $1.count }
        guard trainingBytes > 0 else { throw TokenKitError.badInput("no training text") }
        guard trainingBytes < Int(UInt32.max) else {
            throw TokenKitError.badInput("training text of \(trainingBytes) bytes is over the 4 GiB a byte LM counts in 32 bits")
        }
        // 1. Raw counts, longest n-grams first (they take longest).
        let lengths = Array((1...order + 1).reversed())
        let counted = parallelJobs(lengths.count, threads: config.threads) { NgramCounter.count(texts, length: lengths[$0]) }
        var raw = [KeyCounts](repeating: KeyCounts(), count: order + 2)
        for (i, l) in lengths.enumerated() { raw[l] = counted[i] }
        log?("counted n-grams: " + (1...order + 1).map { "\($0): \(raw[$0].count)" }.joined(separator: ", "))

        // 2. Continuation counts of the n-grams of 1...order bytes, aligned with raw[n].keys.
        let below = Array((1...order).reversed())
        let contList = parallelJobs(below.count, threads: config.threads) { i -> [UInt32] in
            let n = below[i]
            let mask = byteMask(n)
            var suffixes = raw[n + 1].keys.map { $0 & mask }
            let s = NgramCounter.countKeys(&suffixes, bytes: n)
            // Every suffix is itself an n-gram: merge the two sorted lists.
            var out = [UInt32](repeating: 0, count: raw[n].count)
            var j = 0
            for (i, k) in raw[n].keys.enumerated() {
                while j < s.count && s.keys[j] < k { j += 1 }
                if j < s.count && s.keys[j] == k { out[i] = s.counts[j] }
            }
            return out
        }
        var cont = [[UInt32]](repeating: [], count: order + 1)
        for (i, n) in below.enumerated() { cont[n] = contList[i] }

        // 3. Per context length k, the children are the (k+1)-grams.
        let levels = parallelJobs(order + 1, threads: config.threads) { k in
            buildLevel(keys: raw[k + 1].keys, counts: k == order ? raw[k + 1].counts : cont[k + 1], contextBytes: k)
        }
        return serialize(levels, order: order, trainingBytes: trainingBytes, threads: config.threads)
    }

    struct BuiltLevel {
        var discount: Double
        var slotBits: Int
        var slots: [ByteLMFile.Slot]
        var contexts: Int
        var children: Int
        var records: [UInt8]
    }

    /// Groups sorted (context, byte) keys by context and hashes the contexts.
    static func buildLevel(keys: [UInt64], counts: [UInt32], contextBytes k: Int) -> BuiltLevel {
        var children: [UInt64] = []
        children.reserveCapacity(keys.count)
        var contexts: [(key: UInt64, total: UInt32, start: UInt32, n: Int)] = []
        var n1 = 0, n2 = 0
        var i = 0
        while i < keys.count {
            let ctx = keys[i] >> 8
            let start = children.count
            var total: UInt64 = 0
            while i < keys.count && keys[i] >> 8 == ctx {
                let c = counts[i]
                if c > 0 {
                    children.append(UInt64(c) << 8 | (keys[i] & 255))
                    total += UInt64(c)
                    if c == 1 { n1 += 1 } else if c == 2 { n2 += 1 }
                }
                i += 1
            }
            if children.count > start {
                contexts.append((ctx, UInt32(clamping: total), UInt32(start), children.count - start))
            }
        }
        // D = n1 / (n1 + 2 n2) (Ney, Essen & Kneser 1994), kept inside (0, 1).
        var d = n1 + 2 * n2 > 0 ? Double(n1) / Double(n1 + 2 * n2) : 0.5
        d = min(max(d, 0.05), 0.95)
        // The records (see ByteLMFile), a context's record kept inside one line when it fits.
        var records: [UInt8] = []
        records.reserveCapacity(children.count * 10)
        for (j, c) in contexts.enumerated() {
            let size = ByteLM.Level.recordSize(c.n)
            var at = records.count  // a multiple of 8: every record's size is
            if size <= 64 && at % 64 + size > 64 { at = (at + 63) & ~63 }
            records.append(contentsOf: repeatElement(0, count: at + size - records.count))
            records.withUnsafeMutableBytes { r in
                // The counts for now; `fillProbabilities` turns them into probabilities.
                for i in 0..<c.n {
                    let child = children[Int(c.start) + i]
                    r[at + i] = UInt8(truncatingIfNeeded: child)
                    r.storeBytes(of: Double(child >> 8), toByteOffset: at + ((c.n + 7) & ~7) + 8 * i, as: Double.self)
                }
            }
            contexts[j].start = UInt32(at)
        }
        var bits = 1
        while (1 << bits) * 6 < contexts.count * 10 { bits += 1 }  // load ≤ 0.6
        var slots = [ByteLMFile.Slot](repeating: ByteLMFile.Slot(keyAndCount: 0, total: 0, childStart: 0), count: 1 << bits)
        let mask = (1 << bits) - 1
        let shift = UInt64(64 - bits)
        slots.withUnsafeMutableBufferPointer { s in
            for c in contexts {
                var j = Int(truncatingIfNeeded: (c.key &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
                while s[j].total != 0 { j = (j + 1) & mask }
                s[j] = ByteLMFile.Slot(keyAndCount: c.key | UInt64(c.n - 1) << 56, total: c.total, childStart: c.start)
            }
        }
        return BuiltLevel(discount: d, slotBits: bits, slots: slots, contexts: contexts.count, children: children.count, records: records)
    }

    /// Replaces the counts in the records by interpolated probabilities, shortest contexts
    /// first: P_k(b | c) = (n(c b) − D_k) / N(c) + γ(c) · P_{k−1}(b | c′), c′ = c without its
    /// oldest byte; b is a child of c′ too (every (k+1)-gram's suffix was seen), so that is one
    /// stored value. Order 0 interpolates with 1/256.
    static func fillProbabilities(_ image: inout [UInt8], threads: Int) {
        let count = image.count
        image.withUnsafeMutableBytes { p in
            let base = UnsafeRawPointer(p.baseAddress!)
            guard let header = try? ByteLMFile.parseHeader(base, count: count, verify: false) else { return }
            for k in 0...header.order {
                // A view of the image as it is: orders below k already hold probabilities.
                let lm = ByteLM(storage: ByteLMFile.Storage(borrowing: base, count: count), header: header)
                let level = lm.levels[k]
                let parts = evenRanges(1 << header.levels[k].slotBits, parts: threads * 8)
                _ = parallelJobs(parts.count, threads: threads) { j -> Int in
                    for i in parts[j] where level.slots[i].total != 0 {
                        let s = level.slots + i
                        let gamma = level.gamma(s), inv = 1 / Double(s.pointee.total), d = level.discount
                        let shorter = k == 0 ? nil : lm.levels[k - 1].find(s.pointee.keyAndCount & ByteLMFile.keyBits & lm.levels[k - 1].keyMask)
                        let probs = UnsafeMutablePointer(mutating: level.childProbabilities(s))
                        for c in 0..<ByteLM.Level.children(s) {
                            let b = level.childByte(s, c)
                            var q = 1.0 / 256
                            if let shorter {
                                let key = s.pointee.keyAndCount & ByteLMFile.keyBits
                                q = lm.levels[k - 1].probability(of: b, shorter)?.pointee
                                    ?? lm.probability(of: b, history: key, available: k - 1)
                            }
                            probs[c] = (probs[c] - d) * inv + gamma * q
                        }
                    }
                    return 0
                }
            }
        }
    }

    /// Computes the entropy of the next-byte distribution after every context, shortest
    /// contexts first. A context's distribution is p = γ q + a, with q its suffix's distribution
    /// (whose entropy H_q is already known) and a non-zero only on its children C, so
    /// H(p) = −Σ_C p log p − γ [(1 − Σ_C q) log γ − H_q − Σ_C q log q]:
    /// the cost is one q(b) per child, not a pass over all 256 bytes.
    static func fillEntropies(_ image: inout [UInt8], threads: Int) {
        let count = image.count
        image.withUnsafeMutableBytes { p in
            let base = UnsafeRawPointer(p.baseAddress!)
            guard let header = try? ByteLMFile.parseHeader(base, count: count, verify: false) else { return }
            let lm = ByteLM(storage: ByteLMFile.Storage(borrowing: base, count: count), header: header)
            for k in 1...header.order {
                let level = lm.levels[k]
                let out = (p.baseAddress! + header.levels[k].entropiesOffset).assumingMemoryBound(to: Float.self)
                let parts = evenRanges(1 << header.levels[k].slotBits, parts: threads * 8)
                _ = parallelJobs(parts.count, threads: threads) { j -> Int in
                    let chain = UnsafeMutablePointer<UnsafePointer<ByteLMFile.Slot>?>.allocate(capacity: 8)
                    defer { chain.deallocate() }
                    for i in parts[j] where level.slots[i].total != 0 {
                        let s = level.slots + i
                        let key = s.pointee.keyAndCount & ByteLMFile.keyBits
                        for d in 1..<k { chain[d - 1] = lm.levels[d].find(key & lm.levels[d].keyMask) }
                        let hq = k == 1 ? -lm.sumP0LogP0 : Double(lm.levels[k - 1].entropy(chain[k - 2].unsafelyUnwrapped))
                        let inv = 1 / Double(s.pointee.total), d = level.discount
                        let n = Int(s.pointee.keyAndCount >> 56) + 1
                        let gamma = d * Double(n) * inv
                        var pLogP = 0.0, sumQ = 0.0, qLogQ = 0.0
                        for c in 0..<n {
                            let q = lm.probability(of: level.childByte(s, c), slots: chain, depth: k - 1)
                            let pb = level.childProbability(s, c)
                            pLogP += pb * log2(pb)
                            sumQ += q
                            qLogQ += q * log2(q)
                        }
                        out[i] = Float(-pLogP - gamma * ((1 - sumQ) * log2(gamma) - hq - qLogQ))
                    }
                    return 0
                }
            }
        }
    }

    static func serialize(_ levels: [BuiltLevel], order: Int, trainingBytes: Int, threads: Int) -> [UInt8] {
        func align(_ x: Int) -> Int { (x + 63) & ~63 }
        var offset = align(ByteLMFile.levelInfoOffset(order + 1))
        var infos: [ByteLMFile.LevelInfo] = []
        for l in levels {
            let slotsOffset = offset
            offset = align(offset + 16 * l.slots.count)
            let recordsOffset = offset
            offset = align(offset + l.records.count)
            let entropiesOffset = offset
            offset = align(offset + 4 * l.slots.count)
            infos.append(.init(discount: l.discount, slotsOffset: slotsOffset, slotBits: l.slotBits, contextCount: l.contexts,
                               recordsOffset: recordsOffset, childCount: l.children, entropiesOffset: entropiesOffset,
                               recordBytes: l.records.count))
        }
        var out = [UInt8](repeating: 0, count: offset)
        out.withUnsafeMutableBytes { p in
            func put<T>(_ v: T, _ o: Int) { p.storeBytes(of: v, toByteOffset: o, as: T.self) }
            for (i, b) in ByteLMFile.magic.enumerated() { p[i] = b }
            put(ByteLMFile.version, 8)
            put(UInt32(order), 12)
            put(UInt64(offset), 16)
            put(UInt64(trainingBytes), 32)
            for (k, l) in infos.enumerated() {
                let o = ByteLMFile.levelInfoOffset(k)
                put(l.discount, o)
                put(UInt64(l.slotsOffset), o + 8)
                put(UInt64(l.slotBits), o + 16)
                put(UInt64(l.contextCount), o + 24)
                put(UInt64(l.recordsOffset), o + 32)
                put(UInt64(l.childCount), o + 40)
                put(UInt64(l.entropiesOffset), o + 48)
                put(UInt64(l.recordBytes), o + 56)
                levels[k].slots.withUnsafeBytes { s in
                    UnsafeMutableRawBufferPointer(rebasing: p[l.slotsOffset..<l.slotsOffset + s.count]).copyMemory(from: s)
                }
                levels[k].records.withUnsafeBytes { r in
                    UnsafeMutableRawBufferPointer(rebasing: p[l.recordsOffset..<l.recordsOffset + r.count]).copyMemory(from: r)
                }
            }
        }
        fillProbabilities(&out, threads: threads)
        fillEntropies(&out, threads: threads)
        out.withUnsafeMutableBytes { p in
            p.storeBytes(of: ByteLMFile.checksum(UnsafeRawPointer(p.baseAddress! + 32), count: offset - 32), toByteOffset: 24, as: UInt64.self)
        }
        return out
    }
}
