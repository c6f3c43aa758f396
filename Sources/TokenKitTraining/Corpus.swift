import TokenKitCore
import TokenKitText

/// Reads training corpora and counts their pre-tokenized pieces ("words"): the one
/// normalize → split → count loop, shared by every trainer and by mixture sampling, so that
/// mixture inference counts words exactly as the trainer did.
///
/// By default training reads whole documents, not lines, so pieces such as "\n    " are
/// learned as in real LLM tokenizers. A document is a whole file, or the text between
/// `separator`s, or the string `field` of each JSONL record, or (`unit = .lines`) each line
/// with its line ending, as HF tokenizers' `train(files)` feeds them.
public struct CorpusReader {
    public enum Unit: String, Sendable, CaseIterable {
        case documents, lines
    }

    public var normalizer: Normalizer?
    public var preTokenizer: PreTokenizer
    public var separator: [UInt8]?
    public var jsonField: String?
    public var unit: Unit
    public var threads: Int

    public init(normalizer: Normalizer?, preTokenizer: PreTokenizer, separator: [UInt8]? = nil, jsonField: String? = nil,
                unit: Unit = .documents, threads: Int) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.separator = separator
        self.jsonField = jsonField
        self.unit = unit
        self.threads = threads
    }

    final class State {
        var counts = WordCounts()
        let text = TextWorkspace()
        var buf: [UInt8] = []
        var pieces: [Range<Int>] = []
    }

    /// Chunks are cut at line ends when each line is a unit of its own (JSONL records, lines).
    private var cutsAtLines: Bool { jsonField != nil || unit == .lines }

    /// Counts the words of every file, streaming each in ~1 MB chunks on all threads.
    /// Errors name the file and, for JSONL, the line.
    public func countWords(_ paths: [String], progress: (Int, Int?) -> Void = { _, _ in }) throws -> WordCounts {
        var states: [State] = []
        let scanner = preTokenizer.scanner
        for path in paths {
            var reader = try ChunkReader(path: path, chunkSize: 1 << 20, lines: cutsAtLines, whole: false)
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
                do {
                    _ = try parallelMap(count: batch.count, threads: threads, states: &states, makeState: { State() }) { i, st in
                        try batch[i].bytes.withUnsafeBufferPointer { p in
                            try forEachDocument(p, atStart: batch[i].offset == 0, firstLine: firstLines[i]) { doc, first in
                                count(doc, first: first, st, scanner)
                            }
                        }
                    }
                } catch let e as TokenKitError {
                    throw e.inFile(path)
                }
                progress(reader.bytesRead, size)
            }
        }
        return merged(states)
    }

    /// Counts the words of a text held in memory, cut into ~1 MB chunks where no split can
    /// join across, on all threads.
    public func countWords(text: [UInt8]) throws -> WordCounts {
        var cuts: [Int] = [0]
        text.withUnsafeBufferPointer { p in
            var start = 0
            while p.count - start > 1 << 20 {
                let rest = UnsafeBufferPointer(rebasing: p[start...])
                guard let cut = ChunkReader.lastBoundary(rest, before: 1 << 20, lines: cutsAtLines), cut > 0 else { break }
                start += cut
                cuts.append(start)
            }
        }
        cuts.append(text.count)
        let scanner = preTokenizer.scanner
        var states: [State] = []
        _ = try parallelMap(count: cuts.count - 1, threads: threads, states: &states, makeState: { State() }) { k, st in
            try text.withUnsafeBufferPointer { whole in
                let chunk = UnsafeBufferPointer(rebasing: whole[cuts[k]..<cuts[k + 1]])
                try forEachDocument(chunk, atStart: k == 0, firstLine: 1) { doc, first in count(doc, first: first, st, scanner) }
            }
        }
        return merged(states)
    }

    private func merged(_ states: [State]) -> WordCounts {
        guard var total = states.first?.counts else { return WordCounts() }
        for st in states.dropFirst() { total.merge(st.counts) }
        return total
    }

    /// Calls `body` with each document (or part of one) in a chunk, and whether it starts
    /// its document (false for the rest of a document cut at a chunk boundary).
    private func forEachDocument(_ p: UnsafeBufferPointer<UInt8>, atStart: Bool, firstLine: Int,
                                 _ body: (UnsafeBufferPointer<UInt8>, Bool) -> Void) throws {
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
                    text.withUnsafeBufferPointer { body($0, true) }
                }
                s = e + 1
                line += 1
            }
            return
        }
        if unit == .lines {
            var s = 0
            while s < p.count {
                var e = s
                while e < p.count, p[e] != 0x0A { e += 1 }
                if e < p.count { e += 1 }
                body(UnsafeBufferPointer(rebasing: p[s..<e]), true)
                s = e
            }
            return
        }
        guard let sep = separator, !sep.isEmpty else { body(p, atStart); return }
        var s = 0, i = 0
        var first = atStart
        while i + sep.count <= p.count {
            if p[i] == sep[0], memcmp(p.baseAddress! + i, sep, sep.count) == 0 {
                body(UnsafeBufferPointer(rebasing: p[s..<i]), first)
                first = true
                i += sep.count
                s = i
            } else {
                i += 1
            }
        }
        body(UnsafeBufferPointer(rebasing: p[s..<p.count]), first)
    }

    private func count(_ doc: UnsafeBufferPointer<UInt8>, first: Bool, _ st: State, _ scanner: BuiltinPattern?) {
        if doc.isEmpty { return }
        if normalizer == nil, let scanner {
            var s = 0
            scanner.split(doc) { e in
                st.counts.add(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(doc)[s..<e]))
                s = e
            }
            return
        }
        st.buf = normalizer?.apply(Array(doc), continuation: !first) ?? Array(doc)
        st.pieces = [0..<st.buf.count]
        preTokenizer.split(&st.buf, &st.pieces, first: first, continuation: !first, workspace: st.text)
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
        // Every line ends with a newline: a last line without one is a cut copy (its count or
        // word may be cut short and still parse).
        if data.last != 0x0A {
            throw TokenKitError.badInput("line \(lines.count): the file ends inside a line (no final newline): truncated", file: path)
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
