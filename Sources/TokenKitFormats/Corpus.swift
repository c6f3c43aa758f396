import TokenKit
import TokenKitCore
import TokenKitText

/// Reads training corpora and counts their pre-tokenized pieces ("words").
///
/// Training reads whole documents, not lines, so pieces such as "\n    " are learned as in
/// real LLM tokenizers. A document is a whole file, or the text between `separator`s, or the
/// string `field` of each JSONL record.
public struct CorpusReader {
    public var normalizer: Normalizer?
    public var preTokenizer: PreTokenizer
    public var separator: [UInt8]?
    public var jsonField: String?
    public var threads: Int

    public init(normalizer: Normalizer?, preTokenizer: PreTokenizer, separator: [UInt8]? = nil, jsonField: String? = nil,
                threads: Int) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.separator = separator
        self.jsonField = jsonField
        self.threads = threads
    }

    final class State {
        var counts = WordCounts()
        let text = TextWorkspace()
        var buf: [UInt8] = []
        var pieces: [Range<Int>] = []
    }

    /// Counts the words of every file. Errors name the file and, for JSONL, the line.
    public func countWords(_ paths: [String], progress: (Int, Int?) -> Void = { _, _ in }) throws -> WordCounts {
        var states: [State] = []
        let scanner = preTokenizer.scanner
        for path in paths {
            var reader = try ChunkReader(path: path, chunkSize: 1 << 20, lines: jsonField != nil, whole: false)
            defer { reader.close() }
            let size = reader.size
            var done = false
            var lineBase = 1
            while !done {
                var batch: [(bytes: [UInt8], offset: Int)] = []
                while batch.count < max(2, threads * 2), let c = try reader.next() { batch.append(c) }
                if batch.count < max(2, threads * 2) { done = true }
                if batch.isEmpty { break }
                // Line numbers of each chunk's first line, for JSONL error messages.
                var firstLines: [Int] = []
                for c in batch {
                    firstLines.append(lineBase)
                    if jsonField != nil { lineBase += c.bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
                }
                _ = try parallelMap(count: batch.count, threads: threads, states: &states, makeState: { State() }) { i, st in
                    try batch[i].bytes.withUnsafeBufferPointer { p in
                        try forEachDocument(p, firstLine: firstLines[i]) { doc in count(doc, st, scanner) }
                    }
                }
                progress(reader.bytesRead, size)
            }
        }
        guard var total = states.first?.counts else { return WordCounts() }
        for st in states.dropFirst() { total.merge(st.counts) }
        return total
    }

    private func forEachDocument(_ p: UnsafeBufferPointer<UInt8>, firstLine: Int,
                                 _ body: (UnsafeBufferPointer<UInt8>) -> Void) throws {
        if let field = jsonField {
            var s = 0, line = firstLine
            while s < p.count {
                var e = s
                while e < p.count, p[e] != 0x0A { e += 1 }
                let raw = Array(p[s..<e])
                if raw.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) {
                    let value: JSON
                    do { value = try JSON.parse(raw) } catch let err as TokenKitError {
                        throw TokenKitError.badInput("line \(line): \(err.message)")
                    }
                    guard case .string(let text)? = value[field] else {
                        throw TokenKitError.badInput("line \(line): no string field \(field.debugDescription)")
                    }
                    text.withUnsafeBufferPointer { body($0) }
                }
                s = e + 1
                line += 1
            }
            return
        }
        guard let sep = separator, !sep.isEmpty else { body(p); return }
        var s = 0, i = 0
        while i + sep.count <= p.count {
            if p[i] == sep[0], memcmp(p.baseAddress! + i, sep, sep.count) == 0 {
                body(UnsafeBufferPointer(rebasing: p[s..<i]))
                i += sep.count
                s = i
            } else {
                i += 1
            }
        }
        body(UnsafeBufferPointer(rebasing: p[s..<p.count]))
    }

    private func count(_ doc: UnsafeBufferPointer<UInt8>, _ st: State, _ scanner: BuiltinPattern?) {
        if doc.isEmpty { return }
        if normalizer == nil, let scanner {
            var s = 0
            scanner.split(doc) { e in
                st.counts.add(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(doc)[s..<e]))
                s = e
            }
            return
        }
        st.buf = normalizer?.apply(Array(doc)) ?? Array(doc)
        st.pieces = [0..<st.buf.count]
        preTokenizer.split(&st.buf, &st.pieces, first: true, workspace: st.text)
        st.buf.withUnsafeBytes { b in
            for r in st.pieces where !r.isEmpty { st.counts.add(UnsafeRawBufferPointer(rebasing: b[r])) }
        }
    }
}

/// The word-count file of `tokenkit count-words`: a header naming the pre-tokenizer and
/// normalizer, then `count<TAB>base64(word)` lines sorted by word bytes, so files from shards
/// can be summed by `merge-counts` and checked for matching settings.
public enum WordCountFile {
    public static func write(_ counts: WordCounts, settings: String) -> [UInt8] {
        var out = Array("#tokenkit-word-counts 1 \(settings)\n".utf8)
        for w in counts.sortedIndexes() {
            out += Array("\(counts.counts[w])\t".utf8)
            out += Array(Base64.encode(counts.word(w)).utf8)
            out.append(0x0A)
        }
        return out
    }

    /// Reads a file; returns its counts and settings line.
    public static func read(_ path: String) throws -> (WordCounts, String) {
        let data = try readFile(path)
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let header = String(decoding: lines.first ?? [], as: UTF8.self)
        let prefix = "#tokenkit-word-counts 1 "
        guard header.hasPrefix(prefix) else {
            throw TokenKitError.badInput("line 1: not a tokenkit word-count file (expected \(prefix.debugDescription))", file: path)
        }
        var counts = WordCounts()
        for (k, line) in lines.dropFirst().enumerated() where !line.isEmpty {
            guard let tab = line.firstIndex(of: 0x09), let n = Int64(String(decoding: line[line.startIndex..<tab], as: UTF8.self)),
                  n > 0, let word = Array(line[(tab + 1)...]).withUnsafeBufferPointer({ Base64.decode($0) }) else {
                throw TokenKitError.badInput("line \(k + 2): expected count<TAB>base64(word)", file: path)
            }
            counts.add(word, n)
            if counts.overflowed {
                throw TokenKitError.badInput("line \(k + 2): the counts of one word sum past 64 bits", file: path)
            }
        }
        return (counts, String(header.dropFirst(prefix.count)))
    }
}

#if canImport(Glibc)
import Glibc
#endif
