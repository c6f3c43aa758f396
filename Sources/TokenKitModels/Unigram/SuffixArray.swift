import Foundation
/// Suffix array by prefix doubling with counting sorts (O(n log n)), LCP by Kasai's
/// algorithm, and the enumeration of the suffix tree's internal nodes as LCP intervals: each
/// gives a substring (length `lcp`) that occurs `count` times, which is how the Unigram
/// trainer finds its seed pieces.
enum SuffixArray {
    /// Suffix array of `s` (values must be < `alphabet`), fully sorted.
    static func build(_ s: [Int32], alphabet: Int) -> [Int32] {
        let n = s.count
        if n == 0 { return [] }
        var sa = [Int32](repeating: 0, count: n)
        var rank = [Int32](repeating: 0, count: n)
        var tmp = [Int32](repeating: 0, count: n)
        // Initial sort by the first symbol.
        var counts = [Int32](repeating: 0, count: max(alphabet, n) + 1)
        for c in s { counts[Int(c)] += 1 }
        var sum: Int32 = 0
        for i in 0..<counts.count { let c = counts[i]; counts[i] = sum; sum += c }
        for i in 0..<n { sa[Int(counts[Int(s[i])])] = Int32(i); counts[Int(s[i])] += 1 }
        rank[Int(sa[0])] = 0
        var classes: Int32 = 1
        for i in 1..<n {
            if s[Int(sa[i])] != s[Int(sa[i - 1])] { classes += 1 }
            rank[Int(sa[i])] = classes - 1
        }
        var k = 1
        var sa2 = [Int32](repeating: 0, count: n)
        while k < n && Int(classes) < n {
            // Sort by (rank[i], rank[i+k]); suffixes with i+k >= n come first in their class.
            var p = 0
            for i in (n - k)..<n { sa2[p] = Int32(i); p += 1 }
            for i in 0..<n where Int(sa[i]) >= k { sa2[p] = sa[i] - Int32(k); p += 1 }
            counts.withUnsafeMutableBufferPointer { c in
                for i in 0...Int(classes) { c[i] = 0 }
                for i in 0..<n { c[Int(rank[i]) + 1] += 1 }
                for i in 1...Int(classes) { c[i] += c[i - 1] }
                for i in 0..<n {
                    let r = Int(rank[Int(sa2[i])])
                    sa[Int(c[r])] = sa2[i]
                    c[r] += 1
                }
            }
            tmp[Int(sa[0])] = 0
            classes = 1
            for i in 1..<n {
                let a = Int(sa[i]), b = Int(sa[i - 1])
                let ra = a + k < n ? rank[a + k] : -1
                let rb = b + k < n ? rank[b + k] : -1
                if rank[a] != rank[b] || ra != rb { classes += 1 }
                tmp[a] = classes - 1
            }
            swap(&rank, &tmp)
            k <<= 1
        }
        return sa
    }

    /// lcp[i] = length of the common prefix of suffixes sa[i-1] and sa[i] (lcp[0] = 0).
    static func lcp(_ s: [Int32], _ sa: [Int32]) -> [Int32] {
        let n = s.count
        var rank = [Int32](repeating: 0, count: n)
        for i in 0..<n { rank[Int(sa[i])] = Int32(i) }
        var lcp = [Int32](repeating: 0, count: n)
        var h = 0
        for i in 0..<n {
            let r = Int(rank[i])
            if r > 0 {
                let j = Int(sa[r - 1])
                while i + h < n && j + h < n && s[i + h] == s[j + h] { h += 1 }
                lcp[r] = Int32(h)
                if h > 0 { h -= 1 }
            } else {
                h = 0
            }
        }
        return lcp
    }

    /// The suffixes of `s` (values < `alphabet`) sorted by their first `depth` symbols, and
    /// only up to their first 0 (a separator), ties in any order: what the seed search needs,
    /// since it rejects every substring with a separator in it (see `lcp(_:_:cap:)`).
    ///
    /// Performance notes: prefix doubling makes ~7 random accesses per suffix per round, and on
    /// 30M symbols that was 15 s. Here several symbols are packed into one 64-bit key: one LSD
    /// radix sort by the first key orders most suffixes, and only groups that still tie are
    /// sorted again by the next key, until `depth` symbols are compared.
    static func buildShallow(_ s: [Int32], alphabet: Int, depth: Int) -> [Int32] {
        let n = s.count
        if n == 0 { return [] }
        let bits = max(1, (alphabet + 1).bitWidth - (alphabet + 1).leadingZeroBitCount)  // symbol + 1; 0 pads
        let per = max(1, 60 / bits)
        // Symbol + 1 in each field; after a separator (field value 1) only zero padding.
        @inline(__always) func key(_ t: UnsafeBufferPointer<Int32>, _ i: Int, _ level: Int) -> UInt64 {
            var k: UInt64 = 0
            let from = i + level * per
            var ended = false
            for j in from..<(from + per) {
                let v: UInt64 = ended || j >= n ? 0 : UInt64(t[j] + 1)
                if v == 1 { ended = true }
                k = k << UInt64(bits) | v
            }
            return k
        }
        let fieldMask: UInt64 = (1 << UInt64(bits)) - 1
        @inline(__always) func ends(_ k: UInt64) -> Bool {
            for f in 0..<per where (k >> UInt64(f * bits)) & fieldMask <= 1 { return true }
            return false
        }
        var sa = [Int32](repeating: 0, count: n)
        var keys = [UInt64](repeating: 0, count: n)
        s.withUnsafeBufferPointer { t in
            // LSD radix sort of all suffixes by their first key, 11 bits a pass; every pass's
            // histogram comes from one read of the keys.
            var idx = [Int32](repeating: 0, count: n), idx2 = idx
            var keys2 = keys
            let digit = 11, mask: UInt64 = (1 << 11) - 1, passes = (per * bits + digit - 1) / digit
            var hist = [Int](repeating: 0, count: passes << digit)
            keys.withUnsafeMutableBufferPointer { K in
                idx.withUnsafeMutableBufferPointer { I in
                    hist.withUnsafeMutableBufferPointer { H in
                        for i in 0..<n {
                            let k = key(t, i, 0)
                            K[i] = k
                            I[i] = Int32(i)
                            for d in 0..<passes { H[d << digit | Int((k >> UInt64(d * digit)) & mask)] += 1 }
                        }
                    }
                }
            }
            for d in 0..<passes {
                var sum = 0
                for b in 0..<(1 << digit) { let c = hist[d << digit | b]; hist[d << digit | b] = sum; sum += c }
                let shift = UInt64(d * digit)
                keys.withUnsafeBufferPointer { K in
                    idx.withUnsafeBufferPointer { I in
                        keys2.withUnsafeMutableBufferPointer { K2 in
                            idx2.withUnsafeMutableBufferPointer { I2 in
                                hist.withUnsafeMutableBufferPointer { H in
                                    let base = d << digit
                                    for i in 0..<n {
                                        let b = base | Int((K[i] >> shift) & mask)
                                        let at = H[b]
                                        H[b] = at + 1
                                        K2[at] = K[i]
                                        I2[at] = I[i]
                                    }
                                }
                            }
                        }
                    }
                }
                swap(&keys, &keys2)
                swap(&idx, &idx2)
            }
            keys2 = []
            idx2 = []
            sa = idx
            // Refine runs of equal keys by the next key, level by level.
            var level = 1
            var runs: [(Int, Int)] = []
            var i = 0
            while i < n {
                var j = i + 1
                while j < n && keys[j] == keys[i] { j += 1 }
                if j - i > 1 && !ends(keys[i]) { runs.append((i, j)) }
                i = j
            }
            var pairs: [(UInt64, Int32)] = []
            while !runs.isEmpty && level * per < depth {
                var next: [(Int, Int)] = []
                for (lo, hi) in runs {
                    pairs.removeAll(keepingCapacity: true)
                    for r in lo..<hi { pairs.append((key(t, Int(sa[r]), level), sa[r])) }
                    pairs.sort { $0.0 < $1.0 }
                    var r = 0
                    while r < pairs.count {
                        var q = r + 1
                        while q < pairs.count && pairs[q].0 == pairs[r].0 { q += 1 }
                        if q - r > 1 && !ends(pairs[r].0) { next.append((lo + r, lo + q)) }
                        r = q
                    }
                    for (r, p) in pairs.enumerated() { sa[lo + r] = p.1 }
                }
                runs = next
                level += 1
            }
        }
        return sa
    }

    /// lcp[i] = min(cap, common prefix of suffixes sa[i-1] and sa[i], counted up to and with
    /// their first 0), by direct comparison (Kasai's shortcut needs a fully sorted array).
    static func lcp(_ s: [Int32], _ sa: [Int32], cap: Int, threads: Int = 2) -> [Int32] {
        let n = s.count
        var lcp = [Int32](repeating: 0, count: n)
        let parts = max(1, min(threads, n / 65536))
        s.withUnsafeBufferPointer { t in
            sa.withUnsafeBufferPointer { sa in
                lcp.withUnsafeMutableBufferPointer { out in
                    let box = UnsafeSendable((t, sa, out))
                    DispatchQueue.concurrentPerform(iterations: parts) { k in
                        let (t, sa, out) = box.value
                        for r in max(1, n * k / parts)..<(n * (k + 1) / parts) {
                            let i = Int(sa[r]), j = Int(sa[r - 1])
                            var h = 0
                            while h < cap && i + h < n && j + h < n && t[i + h] == t[j + h] {
                                h += 1
                                if t[i + h - 1] == 0 { break }
                            }
                            out[r] = Int32(h)
                        }
                    }
                }
            }
        }
        return lcp
    }

    /// Calls `body(start, length, count)` for each internal node of the suffix tree: a
    /// substring `s[start..<start+length]` shared by `count` ≥ 2 suffixes.
    static func internalNodes(_ sa: [Int32], _ lcp: [Int32], _ body: (Int, Int, Int) -> Void) {
        internalIntervals(sa, lcp) { lo, hi, len in body(Int(sa[lo]), len, hi - lo) }
    }

    /// Calls `body(lo, hi, length)` for each internal node of the suffix tree: the suffixes
    /// `sa[lo..<hi]` (at least 2) share their first `length` symbols.
    static func internalIntervals(_ sa: [Int32], _ lcp: [Int32], _ body: (Int, Int, Int) -> Void) {
        let n = sa.count
        // Stack of (lcp value, left bound).
        var stack: [(Int32, Int)] = [(0, 0)]
        for i in 1...n {
            let h: Int32 = i < n ? lcp[i] : 0
            var lb = i - 1
            while let top = stack.last, top.0 > h {
                stack.removeLast()
                lb = top.1
                body(lb, i, Int(top.0))
            }
            if stack.last!.0 < h { stack.append((h, lb)) }
        }
    }
}
