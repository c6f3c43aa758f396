import TokenKitCore

// SuperBPE's stage-2 split `\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)` with HF's Split
// "isolated": matches are pieces and so is the text between them. Unlike the other patterns
// the matches do not cover the text, so a piece is either a match starting at `i` or the gap up
// to the next position where a match starts (the regex has no look-behind, so whether a match
// starts at `j` depends only on the text from `j` on).

private let L = CharClass.letter, N = CharClass.number, S = CharClass.space

/// End of the match starting at `i`, or nil (alternatives in the pattern's order).
@inline(__always)
func superwordMatch(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
    let n = p.count
    let b = p[i]
    // ASCII letters never start a match: the common case inside a gap.
    if b >= 0x41, b | 0x20 >= 0x61, b | 0x20 <= 0x7A { return nil }
    let (c, l) = classAt(p, i)
    if c & N != 0 {
        var j = i + l, k = 1
        while k < 3, j < n {
            let (c1, l1) = classAt(p, j)
            if c1 & N == 0 { break }
            j += l1
            k += 1
        }
        return j
    }
    // ` ?[^\s\p{L}\p{N}]{2,}[\r\n/]*`: with the space first, then without (at a space that fails).
    let s = b == 0x20 ? i + 1 : i
    if s + 1 < n {
        let (c1, l1) = s == i ? (c, l) : classAt(p, s)
        if c1 & (L | N | S) == 0, s + l1 < n, classAt(p, s + l1).cls & (L | N | S) == 0 {
            var j = s + l1
            while j < n {
                let (c2, l2) = classAt(p, j)
                if c2 & (L | N | S) != 0 { break }
                j += l2
            }
            while j < n, p[j] == 0x0A || p[j] == 0x0D || p[j] == UInt8(ascii: "/") { j += 1 }
            return j
        }
    }
    // ` +(?!\S)`: the whole run before white space or the end, else all but its last space.
    if b == 0x20 {
        var j = i + 1
        while j < n, p[j] == 0x20 { j += 1 }
        if j == n || classAt(p, j).cls & S != 0 { return j }
        if j - i >= 2 { return j - 1 }
    }
    return nil
}

/// End of the superword piece that starts at `i`.
func scanSuperword(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    if let e = superwordMatch(p, i) { return e }
    let n = p.count
    var j = i + classAt(p, i).len
    while j < n {
        if superwordMatch(p, j) != nil { return j }
        j += p[j] < 0x80 ? 1 : classAt(p, j).len
    }
    return n
}
