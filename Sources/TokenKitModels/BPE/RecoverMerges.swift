import TokenKitCore

extension BPEModel {
    /// The merge that makes each token of a rank-only vocabulary: BPE on the token's own bytes,
    /// with only lower ranks allowed, must stop at exactly two parts. Merges come out in rank order.
    public func recoverMerges() -> [(TokenID, TokenID)] {
        var merges: [(TokenID, TokenID)] = []
        let vocab = self.vocab
        for id in vocab.ids where vocab.length(id) >= 2 {
            var parts: [TokenID] = vocab.bytes(id).compactMap { vocab.lookup([$0]) }
            while parts.count > 2 {
                var best = Int.max, at = -1
                for i in 0..<(parts.count - 1) {
                    if let r = mergeRank(parts[i], parts[i + 1]), r < Int(id), r < best {
                        best = r
                        at = i
                    }
                }
                if at < 0 { break }
                parts[at] = merged(parts[at], parts[at + 1])!
                parts.remove(at: at + 1)
            }
            if parts.count == 2 { merges.append((parts[0], parts[1])) }
        }
        return merges
    }

    /// The merge list in rank order, as (left, right, merged): read from the pair table, or
    /// recovered from the ranks for rank-only (tiktoken) models.
    public func mergeList() -> [(TokenID, TokenID, TokenID)] {
        if pairsByConcatenation {
            var list: [(TokenID, TokenID, TokenID)] = []
            for (a, b) in recoverMerges() {
                if let m = vocab.lookup(vocab.bytes(a) + vocab.bytes(b)) { list.append((a, b, m)) }
            }
            return list.sorted { $0.2 < $1.2 }
        }
        var ranked: [(UInt64, TokenID, TokenID, TokenID)] = []
        pairs.forEach { key, value in
            ranked.append((value >> 32, TokenID(truncatingIfNeeded: key >> 32), TokenID(truncatingIfNeeded: key),
                           TokenID(truncatingIfNeeded: value)))
        }
        ranked.sort { $0.0 < $1.0 }
        return ranked.map { ($0.1, $0.2, $0.3) }
    }
}
