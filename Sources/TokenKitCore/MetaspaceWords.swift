import Glibc

/// SentencePiece-style text, where U+2581 (▁) stands for a space: its words, and a cache of
/// the ids of words already encoded. Shared by spm's BPE (`.model`) and character-level BPE
/// from tokenizer.json, which run the same kind of vocabulary.
public enum MetaspaceWords {
    /// Whether a token has ▁ right after a character other than ▁. When no token of a
    /// vocabulary does, no merge joins a character to a following ▁, so a text can be encoded
    /// word by word (see `forEach`) with the same result as whole.
    public static func joinsBeforeMetaspace(_ b: UnsafeRawBufferPointer) -> Bool {
        var k = 1
        while k + 2 < b.count {
            if b[k] == 0xE2 && b[k + 1] == 0x96 && b[k + 2] == 0x81
                && !(k >= 3 && b[k - 3] == 0xE2 && b[k - 2] == 0x96 && b[k - 1] == 0x81) { return true }
            k += 1
        }
        return false
    }

    /// Calls `body` with each word of `t`: the text is cut before every ▁ that follows a
    /// character other than ▁, so a run of ▁ stays with the word after it.
    @inline(__always)
    public static func forEach(_ t: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let n = t.count
        var start = 0, i = 0
        var prevIsSpace = false
        while i < n {
            if i + 2 < n && t[i] == 0xE2 && t[i + 1] == 0x96 && t[i + 2] == 0x81 {
                if !prevIsSpace && i > start {
                    body(start..<i)
                    start = i
                }
                prevIsSpace = true
                i += 3
            } else {
                prevIsSpace = false
                i += 1
            }
        }
        if start < n { body(start..<n) }
    }
}

/// Word → ids of words met before (words repeat: a few thousand distinct ones cover most of
/// a text). Deterministic encodings only. Words longer than `longest` are not kept; when the
/// cache holds `byteLimit` bytes of words (or 2^20 words) it starts over, so a long stream keeps what is
/// frequent lately in bounded memory.
public struct WordCache {
    private var index = U64Map(capacity: 4096)
    private var words: [UInt8] = []
    private var ids: [TokenID] = []
    /// (word start, word length, ids start, ids count) in the arenas.
    private var entries: [(Int32, Int32, Int32, Int32)] = []
    public let longest: Int
    let byteLimit: Int
    static let entryLimit = 1 << 20

    public init(longest: Int = 48, byteLimit: Int = 48 << 20) {
        self.longest = longest
        self.byteLimit = byteLimit
    }

    /// Appends the cached ids of `word` to `out`, or calls `encode` (which appends them) and
    /// keeps its result.
    @inline(__always)
    public mutating func encode(_ word: UnsafeBufferPointer<UInt8>, into out: inout [TokenID],
                                _ encode: (inout [TokenID]) -> Void) {
        let len = word.count
        guard len <= longest else {
            encode(&out)
            return
        }
        var h = hashBytes(UnsafeRawBufferPointer(word))
        if h == .max { h = 0 }
        if let e = index.get(h) {
            let (ws, wl, is_, ic) = entries[Int(e)]
            if Int(wl) == len && words.withUnsafeBufferPointer({ a in
                memcmp(a.baseAddress! + Int(ws), word.baseAddress!, len) == 0 }) {
                out.append(contentsOf: ids[Int(is_)..<Int(is_ + ic)])
            } else {
                encode(&out)  // a hash collision: encoded every time, never cached
            }
            return
        }
        if words.count + len > byteLimit || entries.count >= WordCache.entryLimit {
            index = U64Map(capacity: 4096)
            words.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            entries.removeAll(keepingCapacity: true)
        }
        let first = out.count
        encode(&out)
        index.set(h, UInt64(entries.count))
        entries.append((Int32(words.count), Int32(len), Int32(ids.count), Int32(out.count - first)))
        words.append(contentsOf: word)
        ids.append(contentsOf: out[first...])
    }
}
