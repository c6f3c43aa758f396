import TokenKitCore
import TokenKitFormats
import TokenKitText

/// A byte-level WordPiece vocabulary as ByteSpan writes it (HF `models.WordPiece` over the GPT-2
/// ByteLevel pre-tokenizer with a prefix space): token strings are in GPT-2's byte alphabet,
/// continuation tokens carry the `##` prefix.
public struct ByteWordPiece: Sendable {
    public static let prefix = "##"
    public static let unk = "<|unk|>"
    public static let specials = ["<|unk|>", "<|padding|>", "<|endoftext|>"]
    /// Pre-tokens longer than this many characters (= bytes, in the byte alphabet) become
    /// `<|unk|>`, as in HF. The reference keeps HF's default 100; tokenkit writes a larger value
    /// because every byte string has a spelling here and long runs (rules, indentation) are common
    /// in code.
    public static let defaultMaxInputChars = 1000

    /// Token strings by id.
    public let tokens: [String]
    public let maxInputChars: Int
    /// UTF-8 of each token string → id.
    let ids: [[UInt8]: TokenID]
    let unkID: TokenID
    let maxTokenChars: Int
    /// The special tokens present, which HF cuts out of the text before anything else.
    let specialIDs: [([UInt8], TokenID)]

    public init(tokens: [String], maxInputChars: Int = defaultMaxInputChars) {
        self.tokens = tokens
        self.maxInputChars = maxInputChars
        var ids: [[UInt8]: TokenID] = [:]
        var longest = 1
        for (i, t) in tokens.enumerated() where ids[Array(t.utf8)] == nil {
            ids[Array(t.utf8)] = TokenID(i)
            longest = max(longest, t.unicodeScalars.count)
        }
        self.ids = ids
        unkID = ids[Array(Self.unk.utf8)] ?? 0
        specialIDs = Self.specials.compactMap { sp in ids[Array(sp.utf8)].map { (Array(sp.utf8), $0) } }
        maxTokenChars = longest
    }

    /// UTF-8 of each byte's alphabet character.
    static let alphabetUTF8: [[UInt8]] = (0..<256).map { Array(ByteLevelAlphabet.encode([UInt8($0)]).utf8) }

    /// GPT-2 pre-token start offsets of `text` (HF ByteLevel with `add_prefix_space`: a space is
    /// put first unless the text starts with one; the returned text includes it).
    public static func preTokenize(_ text: UnsafeBufferPointer<UInt8>) -> (text: [UInt8], starts: [Int]) {
        if text.isEmpty { return ([], []) }
        var t: [UInt8] = []
        t.reserveCapacity(text.count + 1)
        if text.first != 0x20 { t.append(0x20) }
        t.append(contentsOf: text)
        var starts = [0]
        t.withUnsafeBufferPointer { p in
            BuiltinPattern.r50k.split(p) { end in if end < p.count { starts.append(end) } }
        }
        return (t, starts)
    }

    /// Encodes text as HF does: the special tokens (added tokens) are cut out first, each
    /// other piece is pre-tokenized (with its own prefix space) and every pre-token matched
    /// greedily, longest prefix first (`##` strings after the first token). Returns the ids and
    /// each token's end offset in `text` (a prefix space belongs to the token that follows it).
    public func encode(_ text: [UInt8]) -> (ids: [TokenID], ends: [Int]) {
        var ids: [TokenID] = [], ends: [Int] = []
        ids.reserveCapacity(text.count / 3)
        ends.reserveCapacity(text.count / 3)
        var key: [UInt8] = []
        var segmentStart = 0
        func encodeSegment(_ r: Range<Int>) {
            if r.isEmpty { return }
            let (t, starts) = text[r].withUnsafeBufferPointer { Self.preTokenize($0) }
            let shift = t.count - r.count
            let mark = ids.count
            for (w, s) in starts.enumerated() {
                let e = w + 1 < starts.count ? starts[w + 1] : t.count
                encodeWord(t, s..<e, key: &key, ids: &ids, ends: &ends)
            }
            for i in mark..<ends.count { ends[i] = r.lowerBound + max(0, ends[i] - shift) }
        }
        var i = 0
        while i < text.count {
            if text[i] == UInt8(ascii: "<"), let (id, length) = special(at: i, in: text) {
                encodeSegment(segmentStart..<i)
                ids.append(id)
                ends.append(i + length)
                i += length
                segmentStart = i
            } else {
                i += 1
            }
        }
        encodeSegment(segmentStart..<text.count)
        return (ids, ends)
    }

    /// The special token spelled at `i`, if any.
    func special(at i: Int, in text: [UInt8]) -> (TokenID, Int)? {
        for (s, id) in specialIDs where i + s.count <= text.count && text[i..<(i + s.count)].elementsEqual(s) {
            return (id, s.count)
        }
        return nil
    }

    func encodeWord(_ t: [UInt8], _ r: Range<Int>, key: inout [UInt8], ids: inout [TokenID], ends: inout [Int]) {
        if r.count > maxInputChars {
            ids.append(unkID)
            ends.append(r.upperBound)
            return
        }
        let mark = ids.count
        var start = r.lowerBound
        while start < r.upperBound {
            var end = min(r.upperBound, start + maxTokenChars)
            var found: TokenID?
            while end > start {
                key.removeAll(keepingCapacity: true)
                if start > r.lowerBound { key += [0x23, 0x23] }
                for i in start..<end { key += Self.alphabetUTF8[Int(t[i])] }
                if let id = self.ids[key] { found = id; break }
                end -= 1
            }
            guard let id = found else {
                // As HF: a word with an unmatchable part is one unknown token.
                ids.removeSubrange(mark...)
                ends.removeSubrange(mark...)
                ids.append(unkID)
                ends.append(r.upperBound)
                return
            }
            ids.append(id)
            ends.append(end)
            start = end
        }
    }


    /// The tokenizer.json: WordPiece model, ByteLevel pre-tokenizer (prefix space, GPT-2 regex),
    /// and a decoder that strips `##` from the front of each token before the byte mapping.
    public func json() -> String {
        var s = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [\n"
        let special = tokens.enumerated().filter { Self.specials.contains($0.element) }
        s += special.map { id, t in
            "    {\"id\": \(id), \"content\": \(jsonString(t)), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
        }.joined(separator: ",\n")
        s += "\n  ],\n  \"normalizer\": null,\n"
        s += "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        s += "  \"post_processor\": null,\n"
        s += "  \"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\": {\"Regex\": \"^##\"}, \"content\": \"\"}, {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}]},\n"
        s += "  \"model\": {\n    \"type\": \"WordPiece\",\n    \"unk_token\": \(jsonString(Self.unk)),\n"
        s += "    \"continuing_subword_prefix\": \"##\",\n    \"max_input_chars_per_word\": \(maxInputChars),\n    \"vocab\": {\n"
        var seen = Set<String>()
        var lines: [String] = []
        for (i, t) in tokens.enumerated() where seen.insert(t).inserted { lines.append("      \(jsonString(t)): \(i)") }
        s += lines.joined(separator: ",\n")
        s += "\n    }\n  }\n}\n"
        return s
    }
}

extension ByteWordPiece {
    /// Reads a byte-level WordPiece tokenizer.json (as `json()` writes; nil for anything else). Ids are the file's; a gap in the ids is an error.
    static func isNull(_ v: JSON?) -> Bool {
        guard let v else { return true }
        if case .null = v { return true }
        return false
    }

    public static func load(_ data: [UInt8], path: String) throws -> ByteWordPiece? {
        let root: JSON
        do { root = try JSON.parse(data) } catch let e as TokenKitError { throw e.inFile(path) }
        // Only ByteSpan's shape: other WordPiece files are left to the general loader.
        guard root["model"]?["type"]?.stringValue == "WordPiece", root["pre_tokenizer"]?["type"]?.stringValue == "ByteLevel",
              isNull(root["normalizer"]) else { return nil }
        guard case .object(let pairs)? = root["model"]?["vocab"] else {
            throw TokenKitError.badInput("field model.vocab: expected an object of token → id", file: path)
        }
        var tokens = [String?](repeating: nil, count: pairs.count)
        for (k, v) in pairs {
            guard case .number(_, let id?) = v, id >= 0, Int(id) < pairs.count, tokens[Int(id)] == nil else {
                throw TokenKitError.badInput("field model.vocab.\(String(decoding: k, as: UTF8.self)): ids must be 0..<\(pairs.count), each once", file: path)
            }
            tokens[Int(id)] = String(decoding: k, as: UTF8.self)
        }
        var maxChars = 100
        if case .number(_, let m?)? = root["model"]?["max_input_chars_per_word"] { maxChars = Int(m) }
        return ByteWordPiece(tokens: tokens.map { $0! }, maxInputChars: maxChars)
    }
}
