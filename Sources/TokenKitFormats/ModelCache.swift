#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TokenKit
import TokenKitCore
import TokenKitModels

/// Compiled models kept on disk, keyed by the SHA-256 of the model file: loading a cached
/// model reads its tables back (one copy per array out of the mapped entry) instead of parsing
/// JSON or base64 and rebuilding hash tables.
///
/// An entry is `DIR/<sha256>.tkmodel`: a 64-byte header (magic, format version, payload
/// length, a checksum of the payload, the model file's SHA-256), then the payload. An entry
/// that fails any check (other version, truncated, damaged, another file's) is ignored and
/// rebuilt; entries are written through `AtomicOutput`, so a reader never sees half of one.
/// SentencePiece `.model` files (their own protobuf, written back byte for byte) and GPT-2
/// vocab.json + merges.txt pairs (two files) are not cached.
public struct ModelCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// `$XDG_CACHE_HOME/tokenkit`, else `~/.cache/tokenkit` (nil without a home).
    public static func defaultDirectory() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_CACHE_HOME"], x.hasPrefix("/") { return x + "/tokenkit" }
        guard let home = env["HOME"], !home.isEmpty else { return nil }
        return home + "/.cache/tokenkit"
    }

    static let magic = Array("TKMODEL\u{1A}".utf8)
    /// Bump when the payload layout or any serialized model changes. (2: Unigram tokenizer.json
    /// scores are read as HF reads them, so entries of version 1 hold other bits.)
    static let formatVersion: UInt32 = 2
    static let headerSize = 64

    public func path(forKey key: String) -> String { directory + "/" + key + ".tkmodel" }

    /// What happened to the cache on the last load, for `--load-timing` and tests.
    public enum Outcome: String, Sendable {
        case hit, written, rebuilt, uncached
    }

    // MARK: Reading

    /// The cached tokenizer for `key`, or nil when there is no usable entry (`bad` tells
    /// whether an entry existed and was refused).
    func read(key: String, digest: [UInt8], name: String, options: TokenizerLoader.Options) -> (Tokenizer?, bad: Bool) {
        let file = path(forKey: key)
        let fd = open(file, O_RDONLY)
        if fd < 0 { return (nil, false) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size >= ModelCache.headerSize else { return (nil, true) }
        let size = Int(st.st_size)
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), base != MAP_FAILED else { return (nil, true) }
        defer { munmap(base, size) }
        let entry = UnsafeRawBufferPointer(start: base, count: size)
        do {
            let payload = try ModelCache.checkHeader(entry, digest: digest)
            var r = BinaryReader(payload)
            let tok = try ModelCache.decode(&r, key: key, name: name, options: options)
            guard r.isAtEnd else { throw BinaryReader.Malformed("bytes after the model") }
            return (tok, false)
        } catch {
            return (nil, true)
        }
    }

    /// The payload of an entry whose header is in order.
    static func checkHeader(_ entry: UnsafeRawBufferPointer, digest: [UInt8]) throws -> UnsafeRawBufferPointer {
        typealias Bad = BinaryReader.Malformed
        var h = BinaryReader(UnsafeRawBufferPointer(rebasing: entry[..<min(entry.count, headerSize)]))
        guard entry.count >= headerSize, Array(UnsafeRawBufferPointer(rebasing: entry[..<8])) == magic else { throw Bad("not a tokenkit model cache entry") }
        _ = try h.u64()
        guard try h.u32() == formatVersion else { throw Bad("another format version") }
        _ = try h.u32()
        let length = try h.u64()
        let sum = try h.u64()
        guard length == UInt64(entry.count - headerSize) else { throw Bad("truncated") }
        guard Array(UnsafeRawBufferPointer(rebasing: entry[32..<64])) == digest else { throw Bad("entry of another model file") }
        let payload = UnsafeRawBufferPointer(rebasing: entry[headerSize...])
        guard checksum64(payload) == sum else { throw Bad("checksum mismatch") }
        return payload
    }

    // MARK: Writing

    /// Writes the entry for `tok`, loaded from the file with SHA-256 `digest`. Returns false
    /// for a tokenizer the cache does not hold, and when the directory cannot be written (a
    /// cache is an optimisation: failing to fill one is not an error).
    @discardableResult
    func write(_ tok: Tokenizer, key: String, digest: [UInt8]) -> Bool {
        var w = BinaryWriter()
        guard ModelCache.encode(tok, into: &w) else { return false }
        var header = BinaryWriter()
        for b in ModelCache.magic { header.u8(b) }
        header.u32(ModelCache.formatVersion)
        header.u32(UInt32(ModelCache.headerSize))
        header.u64(UInt64(w.bytes.count))
        header.u64(w.bytes.withUnsafeBytes { checksum64($0) })
        for b in digest { header.u8(b) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let out = try AtomicOutput(path: path(forKey: key))
            try out.write(header.bytes)
            try out.write(w.bytes)
            try out.commit()
            return true
        } catch {
            return false
        }
    }

    // MARK: Payload

    /// Payload: the format, the model, then what the format needs around it.
    static func encode(_ tok: Tokenizer, into w: inout BinaryWriter) -> Bool {
        switch tok.format {
        case .tiktoken:
            guard let bpe = tok.model.bpe else { return false }
            w.u8(0)
            write(bpe, to: &w)
        case .tokenizerJSON:
            guard let parts = tok.jsonParts else { return false }
            w.u8(1)
            switch tok.model {
            case .bpe(let m): w.u8(0); write(m, to: &w)
            case .unigram(let m): w.u8(1); m.write(to: &w)
            case .wordPiece(let m): w.u8(2); write(m, to: &w)
            case .sentencePiece, .wordLevel, .longestMatch: return false  // (WordLevel parses as fast as it loads)
            }
            for s in [parts.normalizer, parts.preTokenizer, parts.postProcessor, parts.decoder, parts.modelOptions] { w.string(s) }
            w.bool(parts.model != nil)
            w.string(parts.model ?? "")
            w.int(tok.addedTokens.count)
            for t in tok.addedTokens {
                w.u32(t.id)
                w.data(t.content)
                w.u8((t.special ? 1 : 0) | (t.singleWord ? 2 : 0) | (t.lstrip ? 4 : 0) | (t.rstrip ? 8 : 0) | (t.normalized ? 16 : 0))
            }
        case .tekken:
            guard let bpe = tok.model.bpe else { return false }
            w.u8(2)
            write(bpe, to: &w)
            w.string(tok.patternDescription)
            w.string(tok.notes.first { $0.0 == TekkenFormat.versionNote }?.1 ?? "")
            w.int(tok.addedTokens.count)
            for t in tok.addedTokens {
                w.u32(t.id)
                w.data(t.content)
            }
        case .rwkv:
            guard case .longestMatch(let m) = tok.model else { return false }
            w.u8(3)
            m.write(to: &w)
            let post = tok.jsonParts?.postProcessor
            w.bool(post != nil)
            w.string(post ?? "")
            w.int(tok.addedTokens.count)
            for t in tok.addedTokens {
                w.u32(t.id)
                w.data(t.content)
                w.bool(t.special)
            }
        // (A GPT-2 vocab.json and a BERT vocab.txt are read with the file beside them, which the key does not cover.)
        case .sentencePiece, .gpt2Files, .bertVocab:
            return false
        }
        return true
    }

    static func decode(_ r: inout BinaryReader, key: String, name: String, options: TokenizerLoader.Options) throws -> Tokenizer {
        typealias Bad = BinaryReader.Malformed
        switch try r.u8() {
        case 0:
            return try TiktokenFormat.tokenizer(try readBPE(&r), hash: key, name: name, pattern: options.pattern)
        case 1:
            let model: TokenizerModel
            switch try r.u8() {
            case 0: model = .bpe(try readBPE(&r))
            case 1: model = .unigram(try UnigramModel(from: &r))
            case 2: model = .wordPiece(try readWordPiece(&r))
            default: throw Bad("unknown model kind")
            }
            let s = try (0..<5).map { _ in try r.string() }
            var parts = JSONParts(normalizer: s[0], preTokenizer: s[1], postProcessor: s[2], decoder: s[3], modelOptions: s[4])
            let hasModel = try r.bool()
            let verbatim = try r.string()
            if hasModel { parts.model = verbatim }
            var added: [AddedToken] = []
            for _ in 0..<(try r.count(elementSize: 13)) {
                let id = try r.u32()
                let content = try r.data()
                let f = try r.u8()
                added.append(AddedToken(id: id, content: content, special: f & 1 != 0, singleWord: f & 2 != 0, lstrip: f & 4 != 0,
                                        rstrip: f & 8 != 0, normalized: f & 16 != 0))
            }
            return try TokenizerJSON.assemble(model: model, parts: parts, addedTokens: added, name: name)
        case 2:
            let model = try readBPE(&r)
            let pattern = try r.string()
            let version = try r.string()
            var specials: [AddedToken] = []
            for _ in 0..<(try r.count(elementSize: 12)) {
                let id = try r.u32()
                specials.append(AddedToken(id: id, content: try r.data(), special: true))
            }
            return try TekkenFormat.tokenizer(model, specials: specials, pre: try TiktokenFormat.preTokenizer(for: pattern),
                                              name: name, version: version)
        case 3:
            let model = try LongestMatchModel(from: &r)
            let gguf = try r.bool()
            let post = try r.string()
            var specials: [AddedToken] = []
            for _ in 0..<(try r.count(elementSize: 13)) {
                let id = try r.u32()
                specials.append(AddedToken(id: id, content: try r.data(), special: try r.bool()))
            }
            return try RWKVVocab.tokenizer(model, specials: specials, gguf: gguf, postProcessor: gguf ? post : nil, name: name)
        default:
            throw Bad("unknown format")
        }
    }

    static func write(_ m: BPEModel, to w: inout BinaryWriter) {
        m.vocab.write(to: &w)
        m.pairs.write(to: &w)
        w.int(m.mergeCount)
        switch m.symbols {
        case .bytes:
            w.u8(0)
        case .characters(let byteFallback, let unk, let fuseUnk):
            w.u8(1)
            w.bool(byteFallback)
            w.optionalU32(unk)
            w.bool(fuseUnk)
        }
        w.bool(m.wholePieceFirst)
        w.data(m.continuingSubwordPrefix)
        w.data(m.endOfWordSuffix)
        w.bool(m.pairsByConcatenation)
    }

    static func readBPE(_ r: inout BinaryReader) throws -> BPEModel {
        typealias Bad = BinaryReader.Malformed
        let vocab = try TokenTable(from: &r)
        // Encoding emits merged ids and indexes tables with them: all must be vocabulary ids.
        let pairs = try U64Map(from: &r, idLimit: UInt64(vocab.count))
        let mergeCount = try r.int()
        guard mergeCount >= 0, mergeCount <= Int(Int32.max) else { throw Bad("merge count") }
        let symbols: BPEModel.Symbols
        switch try r.u8() {
        case 0: symbols = .bytes
        case 1:
            let byteFallback = try r.bool()
            let unk = try r.optionalU32()
            guard unk.map({ vocab.contains($0) }) ?? true else { throw Bad("unk id") }
            symbols = .characters(byteFallback: byteFallback, unk: unk, fuseUnk: try r.bool())
        default: throw Bad("symbols")
        }
        return BPEModel(vocab: vocab, pairs: pairs, mergeCount: mergeCount, symbols: symbols, wholePieceFirst: try r.bool(),
                        continuingSubwordPrefix: try r.data(), endOfWordSuffix: try r.data(), pairsByConcatenation: try r.bool())
    }

    static func write(_ m: WordPieceModel, to w: inout BinaryWriter) {
        m.vocab.write(to: &w)
        w.u32(m.unk)
        w.data(m.continuingSubwordPrefix)
        w.int(m.maxInputChars)
        w.bool(m.byteLevel)
    }

    static func readWordPiece(_ r: inout BinaryReader) throws -> WordPieceModel {
        let vocab = try TokenTable(from: &r)
        let unk = try r.u32()
        guard vocab.contains(unk) else { throw BinaryReader.Malformed("unk id") }
        return WordPieceModel(vocab: vocab, unk: unk, continuingSubwordPrefix: try r.data(), maxInputChars: try r.int(), byteLevel: try r.bool())
    }
}
