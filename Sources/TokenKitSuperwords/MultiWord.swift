import TokenKit
import TokenKitCore
import TokenKitTraining

/// Multi-word tokens (MWT, Gee et al. 2023): the most frequent word n-grams of a corpus, added
/// to an existing tokenizer as HF added tokens that match only whole words.
///
/// A word is a maximal run of word bytes (ASCII letters, digits, `_`, and every non-ASCII byte:
/// HF's `single_word` test), and an n-gram is n words joined by single spaces, so every counted
/// n-gram occurs literally in the text with non-word bytes on both sides, exactly where the added
/// token will match. n-grams do not cross lines.
public enum MultiWordTokens {
    @inline(__always)
    static func isWord(_ b: UInt8) -> Bool {
        b >= 0x80 || (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F
    }

    final class State {
        var counts = WordCounts()
        var starts: [Int] = []
        var ends: [Int] = []
    }

    /// Counts the n-grams of 2…`maxWords` words in every file.
    public static func count(_ paths: [String], maxWords: Int, threads: Int) throws -> WordCounts {
        var states: [State] = []
        for path in paths {
            var reader = try ChunkReader(path: path, chunkSize: 1 << 20, lines: true, whole: false)
            defer { reader.close() }
            while true {
                var batch: [[UInt8]] = []
                while batch.count < max(2, threads * 2), let c = try reader.next() { batch.append(c.bytes) }
                if batch.isEmpty { break }
                _ = try parallelMap(count: batch.count, threads: threads, states: &states, makeState: { State() }) { i, st in
                    batch[i].withUnsafeBufferPointer { countChunk($0, maxWords: maxWords, st) }
                }
            }
        }
        guard var total = states.first?.counts else { return WordCounts() }
        for st in states.dropFirst() { total.merge(st.counts) }
        return total
    }

    static func countChunk(_ p: UnsafeBufferPointer<UInt8>, maxWords: Int, _ st: State) {
        let raw = UnsafeRawBufferPointer(p)
        var i = 0
        while i < p.count {
            // One line: its words, then the chains of words separated by single spaces.
            st.starts.removeAll(keepingCapacity: true)
            st.ends.removeAll(keepingCapacity: true)
            while i < p.count, p[i] != 0x0A {
                if isWord(p[i]) {
                    let s = i
                    while i < p.count, isWord(p[i]) { i += 1 }
                    st.starts.append(s)
                    st.ends.append(i)
                } else {
                    i += 1
                }
            }
            i += 1
            let n = st.starts.count
            for a in 0..<n {
                var b = a
                while b + 1 < n, b - a + 1 < maxWords, st.starts[b + 1] == st.ends[b] + 1, p[st.ends[b]] == 0x20 {
                    b += 1
                    st.counts.add(UnsafeRawBufferPointer(rebasing: raw[st.starts[a]..<st.ends[b]]))
                }
            }
        }
    }

    /// The `k` most frequent n-grams: higher count first, then more words, then bytes.
    public static func top(_ counts: WordCounts, k: Int, minCount: Int64 = 2) -> [(bytes: [UInt8], count: Int64)] {
        var order = (0..<counts.count).filter { counts.counts[$0] >= minCount }
        func words(_ w: Int) -> Int { counts.withWord(w) { $0.reduce(1) { $0 + ($1 == 0x20 ? 1 : 0) } } }
        order.sort { x, y in
            if counts.counts[x] != counts.counts[y] { return counts.counts[x] > counts.counts[y] }
            let (wx, wy) = (words(x), words(y))
            if wx != wy { return wx > wy }
            return counts.withWord(x) { a in counts.withWord(y) { b in a.lexicographicallyPrecedes(b) } }
        }
        return order.prefix(k).map { (counts.word($0), counts.counts[$0]) }
    }

    /// `tok` with `grams` as added tokens (`single_word`, `lstrip`), with the ids HF tokenizers
    /// gives added tokens that are not in the vocabulary: the next free ones, in order.
    public static func extend(_ tok: Tokenizer, with grams: [[UInt8]]) throws -> Tokenizer {
        var added = tok.addedTokens
        let known = Set(added.map(\.content))
        var next = TokenID(tok.vocabSize)
        for g in grams where !known.contains(g) {
            added.append(AddedToken(id: next, content: g, special: false, singleWord: true, lstrip: true))
            next += 1
        }
        let out = try Tokenizer(name: tok.name, format: tok.format, model: tok.model, normalizer: tok.normalizer,
                                preTokenizer: tok.preTokenizer, decoder: tok.decoder, addedTokens: added,
                                patternDescription: tok.patternDescription, defaultPolicy: tok.defaultPolicy)
        out.jsonParts = tok.jsonParts
        return out
    }
}
