import Foundation
import TokenKit
import TokenKitCore
import TokenKitText

/// How a category sample is cut into the units the tokenizer's trainer saw.
///
/// HF tokenizers' `train(files)` feeds each line (with its line ending) as its own sequence,
/// so no pre-tokenized word spans a newline followed by more text; tokenkit's trainer reads
/// whole documents, where GPT-2's pattern makes words such as "\n   " (indentation). The two
/// give different whitespace pairs, so the counting must match the training.
public enum SampleUnits: String, Sendable, CaseIterable {
    case lines, documents

    /// A guess from the vocabulary: a token with a newline followed by another byte (other
    /// than "\r\n") can only be learned from documents.
    public static func detect(_ tok: Tokenizer) -> SampleUnits {
        let vocab = tok.model.vocab
        for id in vocab.ids where vocab.length(id) >= 2 {
            let found = vocab.withBytes(id) { b -> Bool in
                for i in 0..<(b.count - 1) where b[i] == 0x0A { return true }
                return false
            }
            if found { return .documents }
        }
        return .lines
    }
}

/// One category's sample: its text reduced to pre-tokenized words with counts.
public struct CategorySample: Sendable {
    public let name: String
    public let path: String
    /// Bytes of text read (the sample size B_i used to turn pair shares into byte shares).
    public let bytes: Int
    public let words: WordCounts
}

enum SampleReader {
    /// Reads at most `limit` bytes of `path`, cut at the last line end before the limit (or at
    /// a UTF-8 character boundary when the first line is longer).
    static func read(_ path: String, limit: Int?) throws -> [UInt8] {
        guard let limit else { return try readFile(path) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TokenKitError.badInput("cannot open for reading", file: path)
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: limit + 1) ?? Data() } catch {
            throw TokenKitError.badInput("read failed: \(error.localizedDescription)", file: path)
        }
        var bytes = [UInt8](data)
        if bytes.count <= limit { return bytes }
        bytes.removeLast(bytes.count - limit)
        if let nl = bytes.lastIndex(of: 0x0A) {
            bytes.removeLast(bytes.count - nl - 1)
        } else {
            while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
            if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        }
        return bytes
    }

    final class State {
        var counts = WordCounts()
        let workspace = TextWorkspace()
        var buf: [UInt8] = []
        var pieces: [Range<Int>] = []
    }

    /// Counts the pre-tokenized words of `text` with the tokenizer's normalizer and
    /// pre-tokenizer, in ~1 MB chunks cut where no split can join across, in parallel.
    static func countWords(_ text: [UInt8], normalizer: Normalizer?, preTokenizer: PreTokenizer, units: SampleUnits,
                           threads: Int) throws -> WordCounts {
        // Chunk boundaries.
        var cuts: [Int] = [0]
        text.withUnsafeBufferPointer { p in
            var start = 0
            while p.count - start > 1 << 20 {
                let rest = UnsafeBufferPointer(rebasing: p[start...])
                guard let cut = ChunkReader.lastBoundary(rest, before: 1 << 20, lines: units == .lines), cut > 0 else { break }
                start += cut
                cuts.append(start)
            }
        }
        cuts.append(text.count)
        let scanner = preTokenizer.scanner
        var states: [State] = []
        _ = try parallelMap(count: cuts.count - 1, threads: threads, states: &states, makeState: { State() }) { k, st in
            text.withUnsafeBufferPointer { whole in
                let chunk = UnsafeBufferPointer(rebasing: whole[cuts[k]..<cuts[k + 1]])
                switch units {
                case .documents:
                    count(chunk, first: k == 0, st, scanner, normalizer, preTokenizer)
                case .lines:
                    var s = 0
                    while s < chunk.count {
                        var e = s
                        while e < chunk.count, chunk[e] != 0x0A { e += 1 }
                        if e < chunk.count { e += 1 }
                        count(UnsafeBufferPointer(rebasing: chunk[s..<e]), first: true, st, scanner, normalizer, preTokenizer)
                        s = e
                    }
                }
            }
        }
        guard var total = states.first?.counts else { return WordCounts() }
        for st in states.dropFirst() { total.merge(st.counts) }
        return total
    }

    private static func count(_ doc: UnsafeBufferPointer<UInt8>, first: Bool, _ st: State, _ scanner: BuiltinPattern?,
                              _ normalizer: Normalizer?, _ preTokenizer: PreTokenizer) {
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
        preTokenizer.split(&st.buf, &st.pieces, first: first, continuation: !first, workspace: st.workspace)
        st.buf.withUnsafeBytes { b in
            for r in st.pieces where !r.isEmpty { st.counts.add(UnsafeRawBufferPointer(rebasing: b[r])) }
        }
    }
}
