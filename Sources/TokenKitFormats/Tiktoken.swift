import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitText

/// tiktoken rank files: one `base64(token bytes) rank` pair per line.
public enum TiktokenFormat {
    /// The OpenAI encodings, recognised by the SHA-256 of the rank file.
    struct Known {
        let name: String
        let pattern: BuiltinPattern
        let specials: [(String, TokenID)]
    }

    static let known: [String: Known] = [
        "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930":
            Known(name: "r50k_base", pattern: .r50k, specials: [("<|endoftext|>", 50256)]),
        "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069":
            Known(name: "p50k_base", pattern: .r50k, specials: [("<|endoftext|>", 50256)]),
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7":
            Known(name: "cl100k_base", pattern: .cl100k, specials: [
                ("<|endoftext|>", 100257), ("<|fim_prefix|>", 100258), ("<|fim_middle|>", 100259),
                ("<|fim_suffix|>", 100260), ("<|endofprompt|>", 100276),
            ]),
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d":
            Known(name: "o200k_base", pattern: .o200k, specials: [("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)]),
    ]

    /// Whether the content looks like a rank file (first line is `base64 integer`).
    static func sniff(_ data: [UInt8]) -> Bool {
        let line = data.prefix { $0 != 0x0A }.prefix(4096)
        guard let space = line.firstIndex(of: 0x20) else { return false }
        let digits = line[(space + 1)...].filter { $0 != 0x0D }
        return !digits.isEmpty && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            && line[..<space].allSatisfy { Base64.values[Int($0)] >= 0 || $0 == UInt8(ascii: "=") }
    }

    /// Parses ranks; errors name the line.
    static func parseRanks(_ data: [UInt8]) throws -> TokenTable {
        var entries: [([UInt8], TokenID)] = []
        entries.reserveCapacity(data.count / 12)
        try data.withUnsafeBufferPointer { p in
            var lineStart = 0, lineNo = 0
            while lineStart < p.count {
                lineNo += 1
                var end = lineStart
                while end < p.count, p[end] != 0x0A { end += 1 }
                var lineEnd = end
                if lineEnd > lineStart, p[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                defer { lineStart = end + 1 }
                if lineEnd == lineStart { continue }
                var space = lineStart
                while space < lineEnd, p[space] != 0x20 { space += 1 }
                // Whisper's files end with `= 50256`, an empty token: no text encodes to it,
                // so it is left out (its rank stays unused).
                if space > lineStart, space < lineEnd, p[lineStart..<space].allSatisfy({ $0 == UInt8(ascii: "=") }) { continue }
                guard space > lineStart, space < lineEnd,
                      let bytes = Base64.decode(UnsafeBufferPointer(rebasing: p[lineStart..<space])) else {
                    throw TokenKitError.badInput("line \(lineNo): expected `base64 rank`")
                }
                var rank: UInt64 = 0
                var k = space + 1
                if k == lineEnd { throw TokenKitError.badInput("line \(lineNo): missing rank") }
                while k < lineEnd {
                    let d = p[k]
                    guard d >= 0x30, d <= 0x39, rank < UInt64(UInt32.max) else {
                        throw TokenKitError.badInput("line \(lineNo): rank is not a 32-bit integer")
                    }
                    rank = rank * 10 + UInt64(d - 0x30)
                    k += 1
                }
                guard rank < UInt64(UInt32.max) else { throw TokenKitError.badInput("line \(lineNo): rank too large") }
                entries.append((bytes, TokenID(rank)))
            }
        }
        if entries.isEmpty { throw TokenKitError.badInput("no ranks in the file") }
        return try TokenTable(entries)
    }

    /// The note of a rank file whose split pattern was guessed (the file does not carry one).
    public static let assumedPatternNote = "pattern_assumed"

    /// Loads a rank file. `pattern` (r50k, p50k, cl100k, o200k or a regex) overrides the pattern
    /// of a recognised file and is needed for an unrecognised one; without it an unrecognised
    /// file gets o200k's pattern when it has 199k+ ranks (as Llama 4), cl100k's when 100k+ (as
    /// Llama 3), else GPT-2's, and the note `assumedPatternNote`.
    public static func load(_ data: [UInt8], name: String, pattern: String?) throws -> Tokenizer {
        try tokenizer(BPEModel.fromRanks(try parseRanks(data)), hash: SHA256.hex(data), name: name, pattern: pattern)
    }

    /// The tokenizer around a rank file's model: the split pattern and special tokens come from
    /// `pattern`, else from the file's SHA-256 (`hash`) when it is a known encoding.
    static func tokenizer(_ model: BPEModel, hash: String, name: String, pattern: String?) throws -> Tokenizer {
        let recognised = known[hash]
        let ranks = model.vocab
        let pre: PreTokenizer
        let description: String
        if let pattern {
            (pre, description) = try preTokenizer(for: pattern)
        } else if let recognised {
            pre = .builtin(recognised.pattern)
            description = recognised.pattern.rawValue
        } else {
            let guess: BuiltinPattern = ranks.tokenCount >= 199_000 ? .o200k : ranks.tokenCount >= 100_000 ? .cl100k : .r50k
            pre = .builtin(guess)
            description = guess.rawValue + " (assumed from the vocabulary size)"
        }
        let specials = (recognised?.specials ?? []).map {
            AddedToken(id: $0.1, content: Array($0.0.utf8), special: true)
        }
        let tok = try Tokenizer(name: name, format: .tiktoken, model: .bpe(model), normalizer: nil, preTokenizer: pre,
                                decoder: nil, addedTokens: specials, patternDescription: description,
                                defaultPolicy: .tiktoken)
        tok.notes.append(("sha256", hash))
        if let recognised { tok.notes.append(("encoding", recognised.name)) }
        if pattern == nil && recognised == nil { tok.notes.append((assumedPatternNote, description)) }
        return tok
    }

    /// `r50k|p50k|gpt2|cl100k|o200k` or a regex. tiktoken encodes only a regex's matches (text
    /// between them is dropped: `find_iter`), and so does this unless `matchesOnly` is false
    /// (trained tokenizers, whose tokenizer.json Split keeps that text as pieces).
    public static func preTokenizer(for pattern: String, matchesOnly: Bool = true) throws -> (PreTokenizer, String) {
        switch pattern {
        case "r50k", "r50k_base", "p50k", "p50k_base", "gpt2": return (.builtin(.r50k), "r50k")
        case "cl100k", "cl100k_base": return (.builtin(.cl100k), "cl100k")
        case "o200k", "o200k_base": return (.builtin(.o200k), "o200k")
        case "llama3": return (.builtin(.llama3), "llama3")
        case "qwen2": return (.builtin(.qwen2), "qwen2")
        case "superbpe": return (.builtin(.superbpe), "superbpe")
        case "tekken": return (.builtin(.tekken), "tekken")
        case "superword": return (.builtin(.superword), "superword")
        default:
            if let b = BuiltinPattern.matching(regex: pattern) { return (.builtin(b), b.rawValue) }
            let re = try ICURegex(pattern)
            return (matchesOnly ? .regex(re, .removed, invert: true) : .regex(re, .isolated, invert: false), pattern)
        }
    }

    /// The rank file of a byte-level BPE tokenizer: ids become ranks.
    public static func write(_ tok: Tokenizer) throws -> [UInt8] {
        guard tok.model.isByteLevel else {
            throw TokenKitError.badInput("only byte-level BPE models can be written as tiktoken ranks")
        }
        var out: [UInt8] = []
        for id in tok.model.vocab.ids {
            out += Array(Base64.encode(tok.model.vocab.bytes(id)).utf8)
            out += Array(" \(id)\n".utf8)
        }
        return out
    }
}
