import CICU
import Glibc
import TokenKitCore

/// How a split keeps the text it matched (HF `SplitDelimiterBehavior`).
public enum SplitBehavior: String, Sendable {
    case isolated = "Isolated", removed = "Removed"
    case mergedWithPrevious = "MergedWithPrevious", mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// Splits normalized text into pieces that the model encodes independently
/// (HF tokenizers' pre-tokenizers; a closed set, dispatched by `switch`).
///
/// Pieces are byte ranges into a buffer. A step that changes bytes (a prefix space, Metaspace's
/// `▁`) appends the changed piece to the end of the buffer and points the range there, so every
/// other step stays a pure split.
public indirect enum PreTokenizer: Sendable {
    case none
    /// A hand-written scanner equal to a known regex (r50k, cl100k, o200k).
    case builtin(BuiltinPattern)
    /// Any other split regex, run by ICU.
    case regex(ICURegex, SplitBehavior, invert: Bool)
    /// GPT-2's ByteLevel step: optional prefix space, then (if `useRegex`) the GPT-2 split.
    /// The byte → character mapping itself is not needed: tokenkit's tokens are bytes.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// Runs of digits, or each digit alone.
    case digits(individual: Bool)
    /// SentencePiece's space marker: spaces become `replacement`, optionally prefixed, and the
    /// text is split before each marker when `split`.
    case metaspace(replacement: [UInt8], prepend: PrependScheme, split: Bool)
    /// Whitespace-separated runs with the whitespace removed.
    case whitespaceSplit
    /// HF's UnicodeScripts: a cut wherever the script changes (see `scriptCuts`).
    case unicodeScripts
    /// Chunks of this many characters (HF's FixedLength).
    case fixedLength(Int)
    case sequence([PreTokenizer])

    public enum PrependScheme: String, Sendable { case always, first, never }

    /// The one scanner this pre-tokenizer amounts to, if so (the fast path).
    public var scanner: BuiltinPattern? {
        switch self {
        case .builtin(let p): return p
        case .byteLevel(false, true): return .r50k
        case .sequence(let steps):
            let real = steps.filter { if case .byteLevel(false, false) = $0 { return false } else { return true } }
            return real.count == 1 ? real[0].scanner : nil
        default: return nil
        }
    }

    /// Refines `pieces` (ranges into `buf`). `first` says whether the text starts the input
    /// (Metaspace's "first" scheme); `continuation` that it continues a segment cut into chunks,
    /// so its first piece gets no prefix space.
    public func split(_ buf: inout [UInt8], _ pieces: inout [Range<Int>], first: Bool, continuation: Bool = false,
                      workspace: TextWorkspace) {
        switch self {
        case .none:
            return
        case .builtin(let pattern):
            refine(&pieces) { r, out in
                buf.withUnsafeBufferPointer { p in
                    var s = r.lowerBound
                    pattern.split(UnsafeBufferPointer(rebasing: p[r])) { e in
                        out.append(s..<(r.lowerBound + e))
                        s = r.lowerBound + e
                    }
                }
            }
        case .regex(let re, let behavior, let invert):
            let matcher = workspace.matcher(re)
            refine(&pieces) { r, out in
                let matches = buf.withUnsafeBufferPointer { regexMatches(matcher, UnsafeBufferPointer(rebasing: $0[r])) }
                PreTokenizer.apply(behavior, invert: invert, matches: matches.map { ($0.lowerBound + r.lowerBound)..<($0.upperBound + r.lowerBound) },
                                   in: r, into: &out)
            }
        case .byteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace {
                for k in pieces.indices where !(continuation && k == 0) && (pieces[k].isEmpty || buf[pieces[k].lowerBound] != 0x20) {
                    let start = buf.count
                    buf.append(0x20)
                    buf.append(contentsOf: buf[pieces[k]])
                    pieces[k] = start..<buf.count
                }
            }
            if useRegex { PreTokenizer.builtin(.r50k).split(&buf, &pieces, first: first, workspace: workspace) }
        case .digits(let individual):
            refine(&pieces) { r, out in
                var matches: [Range<Int>] = []
                buf.withUnsafeBufferPointer { p in
                    var i = r.lowerBound
                    while i < r.upperBound {
                        let d = UTF8Scan.decode(UnsafeBufferPointer(rebasing: p[..<r.upperBound]), i)
                        if d.valid, CharClass.of(d.scalar) & CharClass.number != 0 { matches.append(i..<(i + d.length)) }
                        i += d.length
                    }
                }
                PreTokenizer.apply(individual ? .isolated : .contiguous, invert: false, matches: matches, in: r, into: &out)
            }
        case .metaspace(let replacement, let prepend, let split):
            for k in pieces.indices {
                let r = pieces[k]
                let start = buf.count
                let doPrepend = (prepend == .always && !(continuation && k == 0)) || (prepend == .first && first && k == 0)
                // HF checks after spaces became markers: a leading space counts as one.
                if doPrepend, !buf[r].starts(with: replacement), buf[r].first != 0x20 { buf += replacement }
                for i in r { if buf[i] == 0x20 { buf += replacement } else { buf.append(buf[i]) } }
                pieces[k] = start..<buf.count
            }
            if split {
                let m = replacement.count
                var matches: [Range<Int>] = []
                refine(&pieces) { r, out in
                    matches.removeAll(keepingCapacity: true)
                    // Raw bytes: comparing array slices here cost more than the model itself.
                    buf.withUnsafeBufferPointer { b in
                        replacement.withUnsafeBufferPointer { rep in
                            guard m > 0 else { return }
                            var i = r.lowerBound
                            while i + m <= r.upperBound {
                                if b[i] == rep[0] && memcmp(b.baseAddress! + i, rep.baseAddress!, m) == 0 {
                                    matches.append(i..<(i + m))
                                    i += m
                                } else {
                                    i += 1
                                }
                            }
                        }
                    }
                    PreTokenizer.apply(.mergedWithNext, invert: false, matches: matches, in: r, into: &out)
                }
            }
        case .whitespaceSplit:
            refine(&pieces) { r, out in
                buf.withUnsafeBufferPointer { p in
                    var i = r.lowerBound, start = -1
                    while i < r.upperBound {
                        let d = UTF8Scan.decode(UnsafeBufferPointer(rebasing: p[..<r.upperBound]), i)
                        let isSpace = d.valid && CharClass.of(d.scalar) & CharClass.space != 0
                        if isSpace, start >= 0 { out.append(start..<i); start = -1 }
                        if !isSpace, start < 0 { start = i }
                        i += d.length
                    }
                    if start >= 0 { out.append(start..<r.upperBound) }
                }
            }
        case .unicodeScripts:
            refine(&pieces) { r, out in
                buf.withUnsafeBufferPointer { p in PreTokenizer.scriptCuts(UnsafeBufferPointer(rebasing: p[r]), base: r.lowerBound, into: &out) }
            }
        case .fixedLength(let n):
            refine(&pieces) { r, out in
                buf.withUnsafeBufferPointer { p in
                    var start = r.lowerBound, i = r.lowerBound, count = 0
                    while i < r.upperBound {
                        if count == n { out.append(start..<i); start = i; count = 0 }
                        i += UTF8Scan.decode(UnsafeBufferPointer(rebasing: p[..<r.upperBound]), i).length
                        count += 1
                    }
                    if start < r.upperBound { out.append(start..<r.upperBound) }
                }
            }
        case .sequence(let steps):
            for step in steps { step.split(&buf, &pieces, first: first, continuation: continuation, workspace: workspace) }
        }
    }

    /// HF's UnicodeScripts on one piece: a cut before each character whose script differs from
    /// the last script seen (`hfScript`; characters of no script join any). Pieces run from cut
    /// to cut, so what comes before the first cut is dropped (HF does so too). Invalid bytes
    /// form a script of their own.
    static func scriptCuts(_ p: UnsafeBufferPointer<UInt8>, base: Int, into out: inout [Range<Int>]) {
        var cuts: [Int] = []
        var last: Int32? = nil
        var i = 0
        while i < p.count {
            let d = UTF8Scan.decode(p, i)
            if let script = d.valid ? hfScript(d.scalar) : -2 {
                if script != last { cuts.append(i) }
                last = script
            }
            i += d.length
        }
        cuts.append(p.count)
        for k in cuts.indices.dropLast() where cuts[k] < cuts[k + 1] { out.append((base + cuts[k])..<(base + cuts[k + 1])) }
    }

    /// The script HF's UnicodeScripts gives a character, as an ICU script code; nil for "any"
    /// (the space, and characters its table lacks). Measured against HF tokenizers 0.22 over every
    /// code point: its table is Unicode 9's Script property, so characters assigned later, and
    /// private-use ones, join any script; four characters keep their Unicode 9 script;
    /// Hiragana, Katakana and U+30FC count as Han.
    static func hfScript(_ c: UInt32) -> Int32? {
        switch c {
        case 0x20: return nil
        case 0x30FC: return 17                 // Han
        case 0x589, 0x61C: return 0            // Common in Unicode 9
        case 0x953, 0x954: return 10           // Devanagari in Unicode 9
        default: break
        }
        let v = Int32(bitPattern: c)
        if tk_char_age(v) > 900 { return nil }
        let s = Int32(tk_script(v))
        if s == 103 || s < 0 { return nil }    // Unknown
        return s == 20 || s == 22 ? 17 : s     // Hiragana, Katakana → Han
    }

    /// Replaces each piece by the pieces `body` makes of it.
    @inline(__always)
    private func refine(_ pieces: inout [Range<Int>], _ body: (Range<Int>, inout [Range<Int>]) -> Void) {
        var out: [Range<Int>] = []
        out.reserveCapacity(pieces.count * 2)
        for r in pieces where !r.isEmpty { body(r, &out) }
        pieces = out
    }

    /// Turns the matches inside `r` into pieces according to `behavior` (HF `split`).
    static func apply(_ behavior: SplitBehavior, invert: Bool, matches: [Range<Int>], in r: Range<Int>,
                      into out: inout [Range<Int>]) {
        // (range, isMatch) covering r in order.
        var parts: [(Range<Int>, Bool)] = []
        var last = r.lowerBound
        for m in matches where !m.isEmpty {
            if m.lowerBound > last { parts.append((last..<m.lowerBound, invert)) }
            parts.append((m, !invert))
            last = m.upperBound
        }
        if last < r.upperBound { parts.append((last..<r.upperBound, invert)) }
        switch behavior {
        case .isolated:
            out += parts.map(\.0)
        case .removed:
            out += parts.filter { !$0.1 }.map(\.0)
        case .mergedWithPrevious:
            // A match joins the piece before it, unless that piece was itself a match.
            var merged: [Range<Int>] = []
            var previousMatch = false
            for (range, isMatch) in parts {
                if isMatch, !previousMatch, let prev = merged.last {
                    merged[merged.count - 1] = prev.lowerBound..<range.upperBound
                } else {
                    merged.append(range)
                }
                previousMatch = isMatch
            }
            out += merged
        case .mergedWithNext:
            // A match joins the piece after it, unless that piece is itself a match.
            var merged: [Range<Int>] = []
            var nextMatch = false
            for (range, isMatch) in parts.reversed() {
                if isMatch, !nextMatch, let next = merged.last {
                    merged[merged.count - 1] = range.lowerBound..<next.upperBound
                } else {
                    merged.append(range)
                }
                nextMatch = isMatch
            }
            out += merged.reversed()
        case .contiguous:
            var pending: Range<Int>?
            for (range, isMatch) in parts {
                if isMatch, let p = pending {
                    pending = p.lowerBound..<range.upperBound
                } else {
                    if let p = pending { out.append(p) }
                    pending = isMatch ? range : nil
                    if !isMatch { out.append(range) }
                }
            }
            if let p = pending { out.append(p) }
        }
    }
}

/// Runs a regex over text that may hold invalid UTF-8: valid runs go to ICU, and each invalid
/// byte becomes a match of its own so byte-level models keep every byte.
/// A loop, not recursion: a run of invalid bytes (a Latin-1 file) would nest a call per byte.
func regexMatches(_ m: ICURegex.Matcher, _ p: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var start = 0
    while start < p.count {
        let rest = UnsafeBufferPointer(rebasing: p[start...])
        let bad = UTF8Scan.firstInvalid(rest).map { start + $0 }
        let end = bad ?? p.count
        if end > start {
            out += m.matches(UnsafeBufferPointer(rebasing: p[start..<end])).map { ($0.lowerBound + start)..<($0.upperBound + start) }
        }
        guard let bad else { break }
        out.append(bad..<(bad + 1))
        start = bad + 1
    }
    return out
}

/// Per-thread state for text processing: ICU regex matchers are not thread-safe.
public final class TextWorkspace {
    private var matchers: [ObjectIdentifier: ICURegex.Matcher] = [:]
    public init() {}

    public func matcher(_ re: ICURegex) -> ICURegex.Matcher {
        if let m = matchers[ObjectIdentifier(re)] { return m }
        let m = re.matcher()
        matchers[ObjectIdentifier(re)] = m
        return m
    }
}
