/// Suffix array by prefix doubling with counting sorts (O(n log n)), LCP by Kasai's
/// algorithm, and the enumeration of the suffix tree's internal nodes as LCP intervals: each
/// gives a substring (length `lcp`) that occurs `count` times, which is how the Unigram
/// trainer finds its seed pieces.
enum SuffixArray {
    /// Suffix array of `s` (values must be < `alphabet`), with suffixes sorted by their first
    /// `depth` symbols only (ties in any order) when `depth` is given.
    ///
    /// Performance notes: the trainer only needs the suffix tree down to the longest piece, so
    /// it stops doubling there (5 rounds for 17 symbols) instead of sorting through the longest
    /// repeat; on source code with long repeated lines that halves the seeding time.
    static func build(_ s: [Int32], alphabet: Int, depth: Int = .max) -> [Int32] {
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
        while k < n && Int(classes) < n && k < depth {
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

    /// lcp[i] = min(cap, common prefix of suffixes sa[i-1] and sa[i]), by direct comparison
    /// (Kasai's shortcut needs a fully sorted array).
    static func lcp(_ s: [Int32], _ sa: [Int32], cap: Int) -> [Int32] {
        let n = s.count
        var lcp = [Int32](repeating: 0, count: n)
        s.withUnsafeBufferPointer { t in
            for r in 1..<max(n, 1) {
                let i = Int(sa[r]), j = Int(sa[r - 1])
                var h = 0
                while h < cap && i + h < n && j + h < n && t[i + h] == t[j + h] { h += 1 }
                lcp[r] = Int32(h)
            }
        }
        return lcp
    }

    /// Calls `body(start, length, count)` for each internal node of the suffix tree: a
    /// substring `s[start..<start+length]` shared by `count` ≥ 2 suffixes.
    static func internalNodes(_ sa: [Int32], _ lcp: [Int32], _ body: (Int, Int, Int) -> Void) {
        let n = sa.count
        // Stack of (lcp value, left bound).
        var stack: [(Int32, Int)] = [(0, 0)]
        for i in 1...n {
            let h: Int32 = i < n ? lcp[i] : 0
            var lb = i - 1
            while let top = stack.last, top.0 > h {
                stack.removeLast()
                lb = top.1
                // Interval [lb, i-1] with lcp top.0.
                body(Int(sa[lb]), Int(top.0), i - lb)
            }
            if stack.last!.0 < h { stack.append((h, lb)) }
        }
    }
}
