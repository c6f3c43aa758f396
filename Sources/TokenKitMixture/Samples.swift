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
}
