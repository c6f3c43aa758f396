import Foundation
import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitSentencePiece
import TokenKitText

/// Loads any supported tokenizer file, choosing the format from the content, not the name.
public enum TokenizerLoader {
    public struct Options: Sendable {
        /// Split pattern for tiktoken files: r50k, p50k, cl100k, o200k or a regex.
        public var pattern: String?
        /// Where compiled models are kept between runs (nil: parse the file every time).
        public var cache: ModelCache?
        public init(pattern: String? = nil, cache: ModelCache? = nil) {
            self.pattern = pattern
            self.cache = cache
        }
    }

    public static func load(_ path: String, options: Options = Options()) throws -> Tokenizer {
        try loadReporting(path, options: options).tokenizer
    }

    /// Loads a model and tells what the cache did: served it, was filled, had a bad entry
    /// replaced, or was not used.
    public static func loadReporting(_ path: String, options: Options) throws -> (tokenizer: Tokenizer, cache: ModelCache.Outcome) {
        let path = try modelFile(path)
        do {
            // A GGUF model file is gigabytes of tensors behind the metadata: only the metadata is
            // read, and it alone is the cache key.
            if path != "-", let head = try GGUFBinary.readHead(path: path) {
                return try head.withUnsafeBytes { try cached($0, path: path, options: options) }
            }
            guard options.cache != nil else { return (try load(data: try readFile(path), path: path, options: options), .uncached) }
            return try withMappedFile(path) { try cached($0, path: path, options: options) }
        } catch let e as TokenKitError {
            throw e.inFile(path)
        }
    }

    /// The tokenizer of a model file's bytes, from the cache when it holds them.
    static func cached(_ bytes: UnsafeRawBufferPointer, path: String, options: Options) throws -> (tokenizer: Tokenizer, cache: ModelCache.Outcome) {
        guard let cache = options.cache else { return (try load(data: Array(bytes), path: path, options: options), .uncached) }
        let digest = SHA256.digest(bytes)
        let key = SHA256.hex(digest: digest)
        let (cached, bad) = cache.read(key: key, digest: digest, name: displayName(path), options: options)
        if let cached { return (cached, .hit) }
        let tok = try load(data: Array(bytes), path: path, options: options)
        guard cache.write(tok, key: key, digest: digest) else { return (tok, .uncached) }
        return (tok, bad ? .rebuilt : .written)
    }

    /// A display name: the file name, or the folder's name for generic file names.
    public static func displayName(_ path: String) -> String {
        let parts = path.split(separator: "/").map(String.init)
        guard let file = parts.last else { return path }
        let generic = ["tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer.tiktoken", "tekken.json", "vocab.txt"]
        if generic.contains(file), parts.count >= 2 { return parts[parts.count - 2] }
        return file
    }

    static func load(data: [UInt8], path: String, options: Options) throws -> Tokenizer {
        let name = displayName(path)
        guard let first = data.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
            throw TokenKitError.badInput("empty file, not a tokenizer")
        }
        if data.starts(with: GGUFBinary.magic) {
            let root = try data.withUnsafeBytes { try GGUFBinary.parse($0, fileSize: $0.count) }
            return try GGUFVocab.load(Field(value: root, path: ""), name: name)
        }
        if first == UInt8(ascii: "{") {
            let root = try TokenizerJSON.parse(data)
            if TokenizerJSON.isTokenizerJSON(root) { return try TokenizerJSON.load(root, name: name) }
            if GGUFVocab.isGGUF(root) { return try GGUFVocab.load(root, name: name) }
            if TekkenFormat.isTekken(root) { return try TekkenFormat.load(root, name: name) }
            if case .object(let vocab)? = root.value, vocab.allSatisfy({ if case .number = $0.value { return true } else { return false } }) {
                return try GPT2Files.load(vocab: vocab, path: path, name: name)
            }
            throw TokenKitError.badInput("JSON file is neither a tokenizer.json (no \"model\" field), a tekken.json nor a GPT-2 vocab.json")
        }
        if TiktokenFormat.sniff(data) { return try TiktokenFormat.load(data, name: name, pattern: options.pattern) }
        if looksLikeSentencePiece(data) { return try Tokenizer(sentencePiece: try SentencePieceModel.parse(data), name: name) }
        if RWKVVocab.sniff(data) { return try RWKVVocab.load(data, name: name) }
        if BertVocab.sniff(data) { return try BertVocab.load(data, path: path, name: name) }
        // Other files tokenkit makes or reads, named so that the mix-up is plain.
        let head = data.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if head.starts(with: Array("\\data\\".utf8)) {
            throw TokenKitError.badInput("not a tokenizer: looks like an ARPA language model (give it with --lm)")
        }
        if data.starts(with: Array("TKBYTELM".utf8)) { throw TokenKitError.badInput("not a tokenizer: a tokenkit byte LM (from train lm --bytes)") }
        if data.starts(with: Array("#tokenkit-word-counts".utf8)) { throw TokenKitError.badInput("not a tokenizer: a tokenkit word-count file (from count-words)") }
        throw TokenKitError.badInput("unrecognised model format (expected tokenizer.json, tiktoken ranks, tekken.json, a GPT-2 vocab.json, a BERT vocab.txt, an RWKV vocabulary, a SentencePiece .model or a GGUF file)")
    }

    /// A SentencePiece ModelProto starts with field 1 (pieces, length-delimited: tag 0x0A), a
    /// varint length that fits the file, and the piece's own field 1 (its text, tag 0x0A).
    /// Text files that start with a newline (ARPA's "\n\\data\\") fail the second check.
    static func looksLikeSentencePiece(_ data: [UInt8]) -> Bool {
        guard data.count > 2, data[0] == 0x0A else { return false }
        var length = 0, shift = 0, i = 1
        while i < data.count, i <= 10 {
            length |= Int(data[i] & 0x7F) << shift
            shift += 7
            i += 1
            if data[i - 1] & 0x80 == 0 { break }
        }
        guard i < data.count, data[i - 1] & 0x80 == 0, length >= 0, length <= data.count - i else { return false }
        return length == 0 || data[i] == 0x0A
    }
}

/// GPT-2's original pair of files: `vocab.json` (token → id) and `merges.txt` beside it.
enum GPT2Files {
    static func load(vocab: [(key: [UInt8], value: JSON)], path: String, name: String) throws -> Tokenizer {
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let mergesPath = dir + "/merges.txt"
        guard fileExists(mergesPath) else {
            throw TokenKitError.badInput("a GPT-2 vocab.json needs merges.txt beside it (\(mergesPath) not found)")
        }
        var entries: [([UInt8], TokenID)] = []
        var spellings: [([UInt8], TokenID)] = []
        for (token, v) in vocab {
            guard case .number(_, let n?) = v, n >= 0, n < Int64(UInt32.max) else {
                throw TokenKitError.badInput("id of \(String(decoding: token, as: UTF8.self).debugDescription) is not a non-negative integer")
            }
            entries.append((ByteLevelAlphabet.decode(String(decoding: token, as: UTF8.self)) ?? token, TokenID(n)))
            spellings.append((token, TokenID(n)))
        }
        let table = try TokenTable(entries)
        let spelled = try TokenTable(spellings)
        var merges: [(TokenID, TokenID, TokenID)] = []
        let text = try readFile(mergesPath)
        for (n, line) in text.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let l = line.last == 0x0D ? line.dropLast() : line
            if l.isEmpty || (n == 0 && l.starts(with: Array("#version".utf8))) { continue }
            let parts = l.split(separator: 0x20)
            guard parts.count == 2, let a = spelled.lookup(Array(parts[0])), let b = spelled.lookup(Array(parts[1])),
                  let m = spelled.lookup(Array(parts[0] + parts[1])) else {
                throw TokenKitError.badInput("line \(n + 1): not a merge of two vocabulary tokens", file: mergesPath)
            }
            merges.append((a, b, m))
        }
        let model = BPEModel(vocab: table, merges: merges, symbols: .bytes, wholePieceFirst: false)
        let specials = ["<|endoftext|>"].compactMap { s in spelled.lookup(Array(s.utf8)).map { AddedToken(id: $0, content: Array(s.utf8), special: true) } }
        return try Tokenizer(name: name, format: .gpt2Files, model: .bpe(model), normalizer: nil,
                             preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: true), decoder: .byteLevel,
                             addedTokens: specials, patternDescription: "r50k (GPT-2)", defaultPolicy: .huggingFace)
    }
}
