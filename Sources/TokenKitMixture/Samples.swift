import Foundation
import TokenKit
import TokenKitCore
import TokenKitText
import TokenKitTraining

/// How a category sample is cut into the units the tokenizer's trainer saw.
///
/// HF tokenizers' `train(files)` feeds each line (with its line ending) as its own sequence,
/// so no pre-tokenized word spans a newline followed by more text; tokenkit's trainer reads
/// whole documents, where GPT-2's pattern makes words such as "\n   " (indentation). The two
/// give different whitespace pairs, so the counting must match the training.
public typealias SampleUnits = CorpusReader.Unit

extension CorpusReader.Unit {
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

/// One category's sample, or one block of it: its text reduced to pre-tokenized words with counts.
public struct CategorySample: Sendable {
    public let name: String
    public let path: String
    /// Bytes of text read (the sample size B_i used to turn pair shares into byte shares).
    public let bytes: Int
    public let words: WordCounts
    /// Index of this block in its category's sample (0 for the first or only one); consecutive
    /// samples from a 0 on are one category.
    public var block = 0
}

enum SampleReader {
    /// Bytes read and counted at a time: memory holds one block (and the word counts), whatever
    /// the sample's size.
    static let block = 16 << 20

    /// Counts the words of at most `limit` bytes of `path` (all when nil), cut at the last line
    /// end before the limit (or at a UTF-8 character boundary when the first line is longer).
    /// The file is streamed in `block`s cut where no pre-tokenized word can span (the cuts
    /// `CorpusReader` makes inside a text), so the counts equal those of the whole prefix;
    /// each block is counted on all of the reader's threads. `progress` gets the bytes read.
    static func count(_ path: String, limit: Int?, reader: CorpusReader, block: Int = SampleReader.block,
                      progress: (Int) -> Void = { _ in }) throws -> (words: WordCounts, bytes: Int) {
        let (parts, bytes) = try count(path, limit: limit, reader: reader, block: block, parts: nil, progress: progress)
        return (parts.first?.words ?? WordCounts(), bytes)
    }

    /// As `count`, but the text is cut into at most `parts.count` consecutive parts of about
    /// `parts.bytes` each (at the last line end before a part's size, or at the first streaming
    /// cut after it when there is none), each counted as its own text; nil gives one part.
    /// Returns each part's words and bytes.
    static func count(_ path: String, limit: Int?, reader: CorpusReader, block: Int = SampleReader.block,
                      parts split: (count: Int, bytes: Int)?, progress: (Int) -> Void = { _ in }) throws -> (parts: [(words: WordCounts, bytes: Int)], bytes: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TokenKitError.badInput("cannot open for reading", file: path)
        }
        defer { try? handle.close() }
        try rejectDirectory(handle.fileDescriptor, path: path)
        let lines = reader.unit == .lines
        var words = WordCounts()
        var parts: [(words: WordCounts, bytes: Int)] = []
        var pending: [UInt8] = []
        // Bytes before pending[0] (all counted), read so far, and where the current part began.
        var base = 0, read = 0, partStart = 0
        var atEnd = false
        func countRange(_ range: Range<Int>) throws {
            if !range.isEmpty { words.merge(try reader.countWords(text: Array(pending[range]))) }
        }
        func countPrefix(_ end: Int) throws {
            guard end > 0 else { return }
            var done = 0
            while let split, parts.count < split.count - 1, base + end >= partStart + split.bytes {
                let target = min(partStart + split.bytes - base, end)
                // At a line end in both units: a block only models which text the training saw, and
                // documents' own boundaries can be rare (none in Cyrillic text), so a word of white
                // space across the cut may count as two.
                let found = pending.withUnsafeBufferPointer { ChunkReader.lastBoundary($0, before: target, lines: true) }
                // Every prefix counted ends at a boundary, so `end` is the fallback.
                let cut = found.flatMap { $0 > done ? $0 : nil } ?? end
                guard cut > done else { break }
                try countRange(done..<cut)
                parts.append((words, base + cut - partStart))
                words = WordCounts()
                partStart = base + cut
                done = cut
            }
            try countRange(done..<end)
            pending.removeFirst(end)
            base += end
        }
        while !atEnd {
            // One byte past the limit tells a file longer than the limit from one exactly as long.
            // (Subtracted first: a limit near Int.max must not overflow.)
            let want = min(block, limit.map { $0 - read < block ? $0 - read + 1 : block } ?? block)
            let data: Data
            do { data = try handle.read(upToCount: want) ?? Data() } catch {
                throw TokenKitError.badInput("read failed at offset \(read): \(error.localizedDescription)", file: path)
            }
            pending += data
            read += data.count
            progress(read)
            if data.isEmpty || data.count < want { atEnd = true }
            if let limit, read > limit {
                // Past the limit: keep what ends at the last line end before it.
                pending.removeLast(read - limit)
                if let nl = pending.lastIndex(of: 0x0A) {
                    pending.removeLast(pending.count - nl - 1)
                } else if base > 0 {
                    pending.removeAll()
                } else {
                    while let last = pending.last, last & 0xC0 == 0x80 { pending.removeLast() }
                    if let last = pending.last, last >= 0xC0 { pending.removeLast() }
                }
                atEnd = true
            }
            if atEnd {
                try countPrefix(pending.count)
            } else if let cut = pending.withUnsafeBufferPointer({ ChunkReader.lastBoundary($0, before: $0.count, lines: lines) }) {
                try countPrefix(cut)
            }
        }
        if base > partStart || parts.isEmpty { parts.append((words, base - partStart)) }
        return (parts, base)
    }
}
