import Foundation
import TokenKit
import TokenKitCore

/// BERT's `vocab.txt`: one WordPiece token per line, its line number the id. Read as HF's
/// BertTokenizerFast builds it: BertNormalizer, BertPreTokenizer, WordPiece with `##`
/// continuations and `[UNK]`, `[CLS] … [SEP]` around a text, and BERT's five special tokens as
/// added tokens. `tokenizer_config.json` beside the file may set `do_lower_case` (default true),
/// `strip_accents` and `tokenize_chinese_chars`, as in transformers.
enum BertVocab {
    static let specials = ["[UNK]", "[SEP]", "[CLS]", "[PAD]", "[MASK]"]

    /// A text file of whitespace-free lines that holds `[UNK]` and a `##` continuation.
    /// Stops at the first space, tab or NUL, so a text file given by mistake costs little.
    static func sniff(_ data: [UInt8]) -> Bool {
        var hasUnknown = false, hasContinuation = false
        var start = 0
        while start < data.count {
            var end = start
            while end < data.count, data[end] != 0x0A {
                if data[end] == 0x20 || data[end] == 0x09 || data[end] == 0 { return false }
                end += 1
            }
            let token = data[start..<(end > start && data[end - 1] == 0x0D ? end - 1 : end)]
            if token.elementsEqual("[UNK]".utf8) { hasUnknown = true }
            if token.starts(with: "##".utf8) { hasContinuation = true }
            start = end + 1
        }
        return hasUnknown && hasContinuation && String(validating: data, as: UTF8.self) != nil
    }

    static func load(_ data: [UInt8], path: String, name: String) throws -> Tokenizer {
        typealias G = GGUFVocab
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { $0.last == 0x0D ? Array($0.dropLast()) : Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }  // the file's final newline
        // As transformers' load_vocab: a token listed twice keeps its last line.
        var last: [[UInt8]: Int] = [:]
        for (i, t) in lines.enumerated() { last[t] = i }
        let vocab = lines.enumerated().filter { last[$0.element] == $0.offset }.map { (key: $0.element, value: G.int($0.offset)) }
        func id(_ t: String) -> (Int, [UInt8])? { last[Array(t.utf8)].map { ($0, Array(t.utf8)) } }

        let config = try settings(beside: path)
        let lowercase = try config["do_lower_case"].bool(default: true)
        let stripAccents = config["strip_accents"].isNull ? JSON.null : .bool(try config["strip_accents"].bool(default: false))
        let chinese = try config["tokenize_chinese_chars"].bool(default: true)
        let added = specials.compactMap { t in id(t).map { G.addedToken($0.0, $0.1, special: true) } }
        let root = G.object([
            ("added_tokens", .array(added)),
            ("normalizer", G.object([("type", G.str("BertNormalizer")), ("clean_text", .bool(true)), ("handle_chinese_chars", .bool(chinese)),
                                     ("strip_accents", stripAccents), ("lowercase", .bool(lowercase))])),
            ("pre_tokenizer", G.object([("type", G.str("BertPreTokenizer"))])),
            ("post_processor", G.template(id("[CLS]"), id("[SEP]"))),
            ("decoder", G.object([("type", G.str("WordPiece")), ("prefix", G.str("##")), ("cleanup", .bool(true))])),
            ("model", G.object([("type", G.str("WordPiece")), ("unk_token", G.str("[UNK]")), ("continuing_subword_prefix", G.str("##")),
                                ("max_input_chars_per_word", G.int(100)), ("vocab", .object(vocab))])),
        ])
        let tok = try TokenizerJSON.load(Field(value: root, path: ""), name: name, format: .bertVocab)
        tok.notes.append(("source", "BERT vocab.txt, lowercase \(lowercase)" + (config.value == nil ? "" : " (tokenizer_config.json)")))
        return tok
    }

    /// `tokenizer_config.json` in the vocabulary's folder (errors name it), or an empty field.
    static func settings(beside path: String) throws -> Field {
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let file = dir + "/tokenizer_config.json"
        guard path != "-", fileExists(file) else { return Field(value: nil, path: "") }
        do {
            return Field(value: try JSON.parse(try readFile(file), floats: .serdeJSON), path: "tokenizer_config.json")
        } catch let e as TokenKitError {
            throw e.inFile(file)
        }
    }
}
