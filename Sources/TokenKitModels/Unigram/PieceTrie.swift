import TokenKitCore

/// A double-array trie over piece bytes, built here (not darts-clone's layout): the child of
/// node `s` for byte `c` is slot `base[s] + c` when `check` of that slot is `s`. One flat array
/// of 12-byte units keeps a traversal step to one cache line.
///
/// Performance notes: prefix search at every byte of the text is the Viterbi hot loop; a
/// hashed lookup per (start, length) was about 3× slower on a 32k vocabulary.
package struct PieceTrie: Sendable {
    package struct Unit {
        var base: Int32 = 0
        var check: Int32 = -1
        /// The piece id ending at this node, or -1.
        var value: Int32 = -1
        /// The piece's score, when built with scores.
        var score: Float = 0
    }

    private(set) var units: [Unit] = [Unit(base: 0, check: 0, value: -1)]

    package var isEmpty: Bool { units.count <= 1 }

    package init() {}

    /// Builds from keys; a key given twice keeps its first value. Empty keys are ignored.
    package init(_ keys: [([UInt8], Int32)]) { self.init(scored: keys.map { ($0.0, $0.1, 0) }) }

    /// Builds from keys with a score stored beside each value.
    package init(scored keys: [([UInt8], Int32, Float)]) {
        var sorted = keys.filter { !$0.0.isEmpty }.enumerated().map { ($0.element, $0.offset) }
        sorted.sort { a, b in a.0.0.lexicographicallyPrecedes(b.0.0) || (a.0.0 == b.0.0 && a.1 < b.1) }
        // Drop later duplicates.
        var keys: [([UInt8], Int32, Float)] = []
        keys.reserveCapacity(sorted.count)
        for k in sorted where keys.last?.0 != k.0.0 { keys.append(k.0) }
        guard !keys.isEmpty else { return }

        units.reserveCapacity(keys.count * 3)
        var used = [Bool](repeating: false, count: 1)  // bases taken (keeps bases distinct)
        // skip[i]: a slot ≥ i that may be free (path-compressed), so scans jump over full runs.
        var skip: [Int32] = [1]
        func findFree(_ i: Int) -> Int {
            var r = i
            while r < skip.count && Int(skip[r]) != r { r = Int(skip[r]) }
            var k = i
            while k < skip.count && Int(skip[k]) != k {
                let nx = Int(skip[k])
                skip[k] = Int32(r)
                k = nx
            }
            return r
        }
        // Work list: (node slot, depth, key range): keys[lo..<hi] share the node's prefix.
        var stack: [(Int, Int, Int, Int)] = [(0, 0, 0, keys.count)]
        var labels: [Int] = []
        var ranges: [(Int, Int)] = []
        while let (node, depth, lo0, hi) = stack.popLast() {
            var lo = lo0
            if keys[lo].0.count == depth {
                units[node].value = keys[lo].1
                units[node].score = keys[lo].2
                lo += 1
            }
            if lo == hi { continue }
            labels.removeAll(keepingCapacity: true)
            ranges.removeAll(keepingCapacity: true)
            var i = lo
            while i < hi {
                let c = keys[i].0[depth]
                var j = i + 1
                while j < hi && keys[j].0[depth] == c { j += 1 }
                labels.append(Int(c))
                ranges.append((i, j))
                i = j
            }
            // First fit: the smallest base whose slots for all labels are free.
            var pos = findFree(max(1, labels[0] + 1))
            var base = 0
            while true {
                base = pos - labels[0]
                var ok = base >= 1 && !(base < used.count && used[base])
                if ok {
                    for c in labels.dropFirst() {
                        let s = base + c
                        if s < units.count && units[s].check >= 0 { ok = false; break }
                    }
                }
                if ok { break }
                pos = findFree(pos + 1)
            }
            let need = base + labels.last! + 1
            if need > units.count {
                units.append(contentsOf: repeatElement(Unit(), count: need - units.count))
            }
            if need + 1 > skip.count {
                let old = skip.count
                skip.append(contentsOf: (old..<(need + 1)).map { Int32($0) })
            }
            if base >= used.count { used.append(contentsOf: repeatElement(false, count: base - used.count + 1)) }
            used[base] = true
            units[node].base = Int32(base)
            for c in labels {
                units[base + c].check = Int32(node)
                skip[base + c] = Int32(base + c + 1)
            }
            for (k, c) in labels.enumerated().reversed() {
                stack.append((base + c, depth + 1, ranges[k].0, ranges[k].1))
            }
        }
    }

    /// Calls `body(length, id)` for every key that is a prefix of `text[start..<end]`,
    /// shortest first.
    @inline(__always)
    package func forEachPrefix(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int32) -> Void) {
        units.withUnsafeBufferPointer { u in
            var node = 0
            var i = start
            while i < end {
                let next = Int(u[node].base) &+ Int(text[i])
                guard next < u.count, u[next].check == Int32(node) else { return }
                node = next
                i += 1
                let v = u[node].value
                if v >= 0 { body(i - start, v) }
            }
        }
    }

    /// The longest key that is a prefix of `text[start..<end]`.
    @inline(__always)
    package func longestPrefix(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (length: Int, id: Int32)? {
        var best: (Int, Int32)?
        forEachPrefix(text, start, end) { best = ($0, $1) }
        return best
    }

    /// The id of exactly `key`.
    package func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        var found: Int32?
        forEachPrefix(key, 0, key.count) { n, v in if n == key.count { found = v } }
        return found
    }
}

extension PieceTrie.Unit: BitwiseCopyable {}

extension PieceTrie {
    /// The units as they are (the model cache).
    package func write(to w: inout BinaryWriter) { w.array(units) }

    /// Reads a trie written by `write(to:)`. Bases must be non-negative (a traversal indexes
    /// with them) and every value below `values` once `valueMask` is applied, or it throws.
    package init(from r: inout BinaryReader, values: Int, valueMask: Int32 = -1) throws {
        units = try r.array()
        guard !units.isEmpty else { throw BinaryReader.Malformed("empty trie") }
        for u in units {
            guard u.base >= 0, u.value < 0 || Int(u.value & valueMask) < values else { throw BinaryReader.Malformed("trie unit") }
        }
    }
}
