import TokenKit
import TokenKitCore
import TokenKitModels

/// RWKV's "world" vocabulary (`rwkv_vocab_v20230424.txt`, read by the `rwkv` package's
/// `TRIE_TOKENIZER`): a token a line, `ID LITERAL LENGTH`, where LITERAL is a Python str or
/// bytes literal (a str token is its UTF-8 bytes) and LENGTH its size in bytes.
/// - Encoding is greedy longest match over the bytes of the whole text (`LongestMatchModel`);
///   there is no normalizer or pre-tokenizer.
/// - Id 0 is not in the file: RWKV models use it to end a document. It is the special token
///   `<s>` here, the name llama.cpp's conversion gives it; as in the `rwkv` package it is never
///   matched in text, and nothing adds it.
enum RWKVVocab {
    static let endOfText = "<s>"

    /// The first line looks like `1 '\x00' 1`: digits, a space, a quote (or b and a quote).
    static func sniff(_ data: [UInt8]) -> Bool {
        let line = data.prefix { $0 != 0x0A }
        guard let space = line.firstIndex(of: 0x20), space > line.startIndex,
              line[..<space].allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        var q = space + 1
        if q < line.endIndex, line[q] == UInt8(ascii: "b") { q += 1 }
        guard q < line.endIndex, line[q] == UInt8(ascii: "'") || line[q] == UInt8(ascii: "\"") else { return false }
        let tail = line.last == 0x0D ? line.dropLast() : line
        guard let last = tail.lastIndex(of: 0x20), last > q, last + 1 < tail.endIndex else { return false }
        return tail[(last + 1)...].allSatisfy { (0x30...0x39).contains($0) }
    }

    static func load(_ data: [UInt8], name: String) throws -> Tokenizer {
        // The rwkv package reads the file as UTF-8 text.
        if let bad = UTF8Scan.firstInvalid(data) {
            let line = data[..<bad].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            throw TokenKitError.badInput("line \(line): not UTF-8 (byte offset \(bad))")
        }
        var entries: [([UInt8], TokenID)] = []
        var lineOfID: [TokenID: Int] = [:]
        for (n, raw) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = raw.last == 0x0D ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            func fail(_ what: String) -> TokenKitError { TokenKitError.badInput("line \(n + 1): \(what)") }
            guard let first = line.firstIndex(of: 0x20), let last = line.lastIndex(of: 0x20), first < last,
                  let id = decimal(line[..<first]), let length = decimal(line[(last + 1)...]) else {
                throw fail("expected ID LITERAL LENGTH, as in 1 '\\x00' 1")
            }
            guard id < Int(Int32.max) else { throw fail("id \(id) is too large") }
            let bytes: [UInt8]
            do { bytes = try pythonLiteral(line[(first + 1)..<last]) } catch let e as TokenKitError { throw fail(e.message) }
            guard !bytes.isEmpty else { throw fail("an empty token") }
            guard bytes.count == length else { throw fail("the token is \(bytes.count) bytes, the line says \(length)") }
            if let earlier = lineOfID.updateValue(n + 1, forKey: TokenID(id)) { throw fail("id \(id) is given twice (line \(earlier) too)") }
            entries.append((bytes, TokenID(id)))
        }
        guard !entries.isEmpty else { throw TokenKitError.badInput("no tokens") }
        let table = try TokenTable(entries, allowDuplicateBytes: true)
        let specials = table.contains(0) ? [] : [AddedToken(id: 0, content: Array(endOfText.utf8), special: true)]
        return try tokenizer(LongestMatchModel(vocab: table, unk: nil), specials: specials, gguf: false, postProcessor: nil, name: name)
    }

    /// The tokenizer around a model read from a vocabulary file or a GGUF file (also what the
    /// model cache rebuilds). GGUF control tokens are matched in text as llama.cpp does with
    /// `parse_special`; the vocabulary file's `<s>` never is.
    static func tokenizer(_ model: LongestMatchModel, specials: [AddedToken], gguf: Bool, postProcessor: String?,
                          name: String) throws -> Tokenizer {
        let tok = try Tokenizer(name: name, format: .rwkv, model: .longestMatch(model), normalizer: nil, preTokenizer: .none,
                                decoder: nil, addedTokens: specials, patternDescription: "none (greedy longest match over the whole text)",
                                defaultPolicy: gguf ? .huggingFace : .ordinary)
        if let postProcessor {
            var parts = TokenizerJSON.defaultParts(tok)
            parts.postProcessor = postProcessor
            tok.jsonParts = parts
        }
        tok.notes.append(("source", gguf ? ggufSource : "RWKV world vocabulary (the rwkv package's TRIE_TOKENIZER)"))
        return tok
    }

    static let ggufSource = "llama.cpp GGUF tokenizer metadata, kind \"rwkv\""

    static func decimal(_ s: ArraySlice<UInt8>) -> Int? {
        guard !s.isEmpty, s.count <= 10, s.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return s.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// The bytes of a Python string or bytes literal, as `eval` gives them (a str as UTF-8):
    /// the escapes `repr` writes and the rest of Python's (`\a \b \f \v`, octal, `\uXXXX`,
    /// `\UXXXXXXXX`; an unknown escape keeps its backslash). Raw, triple-quoted and named-escape
    /// literals are refused.
    static func pythonLiteral(_ text: ArraySlice<UInt8>) throws -> [UInt8] {
        func bad(_ what: String) -> TokenKitError { TokenKitError.badInput("\(String(decoding: text, as: UTF8.self)) is not a Python string literal: \(what)") }
        var s = text.drop { $0 == 0x20 || $0 == 0x09 }
        while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        var isBytes = false
        if let p = s.first, p == UInt8(ascii: "b") || p == UInt8(ascii: "B") {
            isBytes = true
            s = s.dropFirst()
        } else if let p = s.first, p == UInt8(ascii: "u") || p == UInt8(ascii: "U") {
            s = s.dropFirst()
        }
        guard let quote = s.first, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\""), s.count >= 2, s.last == quote else {
            throw bad("expected a quoted str or bytes literal")
        }
        let body = Array(s.dropFirst().dropLast())
        if body.starts(with: [quote, quote]) { throw bad("triple quotes are not read") }
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        func scalar(_ v: UInt32) throws {
            if isBytes {
                guard v < 256 else { throw bad("escape beyond a byte in a bytes literal") }
                out.append(UInt8(v))
            } else {
                guard let u = Unicode.Scalar(v) else { throw bad("U+\(String(v, radix: 16, uppercase: true)) is not a character") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            }
        }
        func hex(_ from: Int, _ count: Int) throws -> UInt32 {
            guard from + count <= body.count else { throw bad("truncated \\x, \\u or \\U escape") }
            var v: UInt32 = 0
            for c in body[from..<(from + count)] {
                guard let d = Character(Unicode.Scalar(c)).hexDigitValue else { throw bad("bad hex digit in an escape") }
                v = v << 4 | UInt32(d)
            }
            return v
        }
        var i = 0
        while i < body.count {
            let c = body[i]
            if c == quote { throw bad("an unescaped quote inside") }
            if isBytes && c >= 0x80 { throw bad("a bytes literal holds only ASCII characters") }
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            guard i + 1 < body.count else { throw bad("ends with a backslash") }
            let e = body[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "x"): try scalar(try hex(i, 2)); i += 2
            case UInt8(ascii: "u") where !isBytes: try scalar(try hex(i, 4)); i += 4
            case UInt8(ascii: "U") where !isBytes: try scalar(try hex(i, 8)); i += 8
            case UInt8(ascii: "N") where !isBytes: throw bad("named escapes (\\N{…}) are not read")
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - 0x30)
                var k = 0
                while k < 2, i < body.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(body[i]) {
                    v = v * 8 + UInt32(body[i] - 0x30)
                    i += 1
                    k += 1
                }
                // Python takes an octal escape beyond 0o377 in a bytes literal modulo 256.
                try scalar(isBytes ? v & 0xFF : v)
            default: out += [UInt8(ascii: "\\"), e]
            }
        }
        return out
    }

    // MARK: llama.cpp's kind "rwkv"

    /// A GGUF file of kind "rwkv": the tokens are `repr(bytes)` without `b'` and `'`, unescaped as
    /// llama.cpp does (`\t \n \r \xhh`, any other escaped character as itself). llama.cpp puts
    /// every token in its trie, control tokens and the `[PADn]` fillers too, so all are matched.
    static func gguf(_ root: Field, name: String) throws -> Tokenizer {
        let (tokens, types) = try GGUFVocab.tokens(root)
        var entries: [([UInt8], TokenID)] = []
        var specials: [AddedToken] = []
        entries.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            let bytes = unescape(try t.bytes())
            guard !bytes.isEmpty else { throw t.fail("an empty token") }
            entries.append((bytes, TokenID(i)))
            if let type = types?[i], type == 3 || type == 4 { specials.append(AddedToken(id: TokenID(i), content: bytes, special: type == 3)) }
        }
        let table = try TokenTable(entries, allowDuplicateBytes: true)
        let unk = try GGUFVocab.specialID(root, "unknown", count: tokens.count).map(TokenID.init)
        return try tokenizer(LongestMatchModel(vocab: table, unk: unk), specials: specials, gguf: true,
                             postProcessor: try GGUFVocab.bosEOS(root, tokens: tokens, bosDefault: false).serialized(), name: name)
    }

    /// llama.cpp's `llama_unescape_rwkv_token`, byte for byte (its hex digits are lowercase).
    static func unescape(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var escaping = false
        var hexLeft = 0
        var acc: UInt8 = 0
        for c in s {
            if hexLeft > 0 {
                let v = c >= UInt8(ascii: "a") ? c &- UInt8(ascii: "a") &+ 10 : c &- UInt8(ascii: "0")
                acc = acc &<< 4 &+ v
                hexLeft -= 1
                if hexLeft == 0 { out.append(acc); acc = 0 }
            } else if escaping {
                switch c {
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "x"): hexLeft = 2
                default: out.append(c)
                }
                escaping = false
            } else if c == UInt8(ascii: "\\") {
                escaping = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}
