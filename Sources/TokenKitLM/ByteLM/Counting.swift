/// Exact n-gram counting for the byte LM. An n-gram of up to 8 bytes is its own 64-bit key
/// (first byte most significant, so sorted keys group n-grams by their context), so counts are
/// exact: no hashing, no collisions. Short n-grams (≤ 3 bytes) are counted in dense arrays,
/// longer ones by an LSD radix sort of all keys followed by run-length counting.
///
/// Performance notes: a radix pass streams the keys once and scatters them into 256 buckets;
/// an n-byte key needs n passes, so counting all orders of a 7-gram model over 90 MB is
/// Σ n passes over 90M keys, split over threads by order.

/// Sorted distinct keys with their counts.
struct KeyCounts {
    var keys: [UInt64] = []
    var counts: [UInt32] = []
    var count: Int { keys.count }
}

@inline(__always) func byteMask(_ bytes: Int) -> UInt64 {
    bytes >= 8 ? ~0 : (UInt64(1) << (8 * UInt64(bytes))) &- 1
}

enum NgramCounter {
    /// Counts every `length`-byte n-gram inside each text (n-grams never span two texts).
    static func count(_ texts: [UnsafeBufferPointer<UInt8>], length: Int) -> KeyCounts {
        if length <= 3 {
            var dense = [UInt32](repeating: 0, count: 1 << (8 * length))
            dense.withUnsafeMutableBufferPointer { d in
                let mask = byteMask(length)
                for t in texts where t.count >= length {
                    var key: UInt64 = 0
                    for i in 0..<(length - 1) { key = (key << 8) | UInt64(t[i]) }
                    for i in (length - 1)..<t.count {
                        key = ((key << 8) | UInt64(t[i])) & mask
                        d[Int(key)] &+= 1
                    }
                }
            }
            return fromDense(dense)
        }
        let total = texts.reduce(0) { $0 + max(0, $1.count - length + 1) }
        var keys = [UInt64](unsafeUninitializedCapacity: total) { buf, initialized in
            var n = 0
            let mask = byteMask(length)
            for t in texts where t.count >= length {
                var key: UInt64 = 0
                for i in 0..<(length - 1) { key = (key << 8) | UInt64(t[i]) }
                for i in (length - 1)..<t.count {
                    key = ((key << 8) | UInt64(t[i])) & mask
                    buf[n] = key
                    n += 1
                }
            }
            initialized = n
        }
        return countKeys(&keys, bytes: length)
    }

    /// Counts keys that fit in their low `bytes` bytes. Destroys `keys`.
    static func countKeys(_ keys: inout [UInt64], bytes: Int) -> KeyCounts {
        if bytes <= 3 {
            var dense = [UInt32](repeating: 0, count: 1 << (8 * bytes))
            dense.withUnsafeMutableBufferPointer { d in
                for k in keys { d[Int(k)] &+= 1 }
            }
            keys = []
            return fromDense(dense)
        }
        radixSort(&keys, bytes: bytes)
        var out = KeyCounts()
        keys.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                var j = i + 1
                while j < p.count && p[j] == p[i] { j += 1 }
                out.keys.append(p[i])
                out.counts.append(UInt32(clamping: j - i))
                i = j
            }
        }
        keys = []
        return out
    }

    static func fromDense(_ dense: [UInt32]) -> KeyCounts {
        var out = KeyCounts()
        for (k, c) in dense.enumerated() where c > 0 {
            out.keys.append(UInt64(k))
            out.counts.append(c)
        }
        return out
    }

    /// LSD radix sort of keys whose values fit in the low `bytes` bytes; passes whose digit is
    /// the same for every key are skipped.
    static func radixSort(_ a: inout [UInt64], bytes: Int) {
        let n = a.count
        if n < 2 { return }
        var hist = [Int](repeating: 0, count: 256 * bytes)
        a.withUnsafeBufferPointer { p in
            hist.withUnsafeMutableBufferPointer { h in
                for k in p {
                    var x = k
                    for d in 0..<bytes {
                        h[d &* 256 &+ Int(x & 255)] &+= 1
                        x >>= 8
                    }
                }
            }
        }
        let tmp = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        defer { tmp.deallocate() }
        a.withUnsafeMutableBufferPointer { ap in
            var src = ap.baseAddress!, dst = tmp
            var offsets = [Int](repeating: 0, count: 256)
            for d in 0..<bytes {
                if hist[d * 256..<(d + 1) * 256].contains(n) { continue }
                var sum = 0
                for b in 0..<256 {
                    offsets[b] = sum
                    sum += hist[d * 256 + b]
                }
                let shift = UInt64(8 * d)
                offsets.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n {
                        let k = src[i]
                        let b = Int((k >> shift) & 255)
                        dst[o[b]] = k
                        o[b] &+= 1
                    }
                }
                swap(&src, &dst)
            }
            if src != ap.baseAddress! { ap.baseAddress!.update(from: src, count: n) }
        }
    }
}
