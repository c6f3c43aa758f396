import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitSuperwords

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a tokenizer: format, model, vocabulary, pattern and special tokens.",
        discussion: """
            Examples:
              tokenkit info cl100k_base.tiktoken
              tokenkit info tokenizer.json --format json

            multi_word counts the tokens (added ones included) that span more than one word:
            two or more non-empty parts between spaces or SentencePiece's ▁.
            """)

    @Argument(help: "Tokenizer file.")
    var model: String

    @OptionGroup var patternOptions: PatternOptions
    @OptionGroup var quietOption: QuietOption

    @Option(help: "Output format: text, json or tsv (key<TAB>value a line; special tokens as special_token.ID<TAB>TEXT, tabs and newlines escaped).")
    var format: DataFormat = .text

    /// The normalizer as tokenizer.json spells it (`Sequence[Prepend, Replace]`, `NFC`).
    static func normalizerSpelling(_ tok: Tokenizer) -> String {
        if let text = tok.jsonParts?.normalizer, let json = try? JSON.parse(Array(text.utf8)) {
            return spelling(json) ?? "none"
        }
        return tok.normalizer == nil ? "none" : "\(tok.normalizer!)"
    }

    static func spelling(_ json: JSON) -> String? {
        guard let type = json["type"]?.stringValue else { return nil }
        if case .array(let items)? = json["normalizers"] {
            return type + "[" + items.compactMap(spelling).joined(separator: ", ") + "]"
        }
        return type
    }

    /// A TSV value on one line: backslash, tab, newline and carriage return escaped as \\, \t, \n, \r.
    static func tsvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return s }
        return s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
    }

    mutating func run() throws {
        let tok = try patternOptions.load(model)
        var facts: [(String, String)] = [
            ("name", tok.name), ("format", tok.format.rawValue), ("model", tok.modelName),
            ("vocab_size", "\(tok.vocabSize)"), ("merges", "\(tok.model.mergeCount)"),
            ("byte_level", "\(tok.model.isByteLevel)"), ("pre_tokenizer", tok.patternDescription),
            ("normalizer", Info.normalizerSpelling(tok)),
            ("added_tokens", "\(tok.addedTokens.count)"),
            ("multi_word", "\(MultiWordStats.flags(tok).filter { $0 }.count)"),
        ]
        facts += tok.notes
        let out = try Output(path: nil)
        switch format {
        case .json:
            let numeric: Set = ["vocab_size", "merges", "added_tokens", "multi_word"]
            var parts = facts.map { k, v in "  \(jsonString(k)): " + (numeric.contains(k) ? v : (v == "true" || v == "false") ? v : jsonString(v)) }
            let specials = tok.addedTokens.map { "{\"id\": \($0.id), \"content\": \(jsonString($0.text)), \"special\": \($0.special)}" }
            parts.append("  \"special_tokens\": [" + specials.joined(separator: ", ") + "]")
            try out.write("{\n" + parts.joined(separator: ",\n") + "\n}\n")
        case .tsv:
            // Every row is key<TAB>value: a special token's key holds its id, its value the text.
            for (k, v) in facts { try out.write("\(k)\t\(Info.tsvField(v))\n") }
            for t in tok.addedTokens { try out.write("special_token.\(t.id)\t\(Info.tsvField(t.text))\n") }
        case .text:
            // Line breaks and tabs (in a pattern, say) are shown escaped, one fact per line.
            for (k, v) in facts {
                let shown = v.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\t", with: "\\t")
                try out.write(k.padding(toLength: 14, withPad: " ", startingAt: 0) + shown + "\n")
            }
            let shown = tok.addedTokens.prefix(12).map { "\($0.text)=\($0.id)" }.joined(separator: " ")
            if !tok.addedTokens.isEmpty {
                try out.write("specials      " + shown + (tok.addedTokens.count > 12 ? " …" : "") + "\n")
            }
        }
        try out.finish()
    }
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a tokenizer to tokenizer.json (tokenkit's native format) or tiktoken ranks.",
        discussion: """
            A tokenizer.json written here loads in HF tokenizers and gives the same ids; from tiktoken
            files the merge list is recovered from the ranks.

            Examples:
              tokenkit convert cl100k_base.tiktoken -o cl100k.json
              tokenkit convert tokenizer.json -o model.tiktoken --to tiktoken
            """)

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case tokenizerJSON = "tokenizer.json", tiktoken, spm
    }

    @Argument(help: "Input tokenizer file.")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (written atomically).")
    var output: String

    @Option(help: "Output format: tokenizer.json, tiktoken or spm (default: from the output's extension).")
    var to: Target?

    @OptionGroup var patternOptions: PatternOptions
    @OptionGroup var quietOption: QuietOption

    /// The format an output name asks for; nil for a name that says nothing known.
    static func target(of path: String) -> Target? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".tiktoken") { return .tiktoken }
        if name.hasSuffix(".model") { return .spm }
        if name.hasSuffix(".json") { return .tokenizerJSON }
        return nil
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: [input])
        guard let target = to ?? Convert.target(of: output) else {
            throw TokenKitError.usage("cannot tell the format from \(output)'s name (.json, .tiktoken or .model); give --to tokenizer.json|tiktoken|spm")
        }
        let tok = try patternOptions.load(input)
        let bytes: [UInt8]
        switch target {
        case .tokenizerJSON:
            if let spm = tok.sentencePiece, spm.modelType == .unigram || spm.modelType == .bpe {
                do { bytes = try TokenizerJSON.writeSentencePiece(spm) } catch let e as TokenKitError { throw e.inFile(input) }
            } else {
                bytes = try TokenizerJSON.write(tok)
            }
        case .tiktoken:
            do { bytes = try TiktokenFormat.write(tok) } catch let e as TokenKitError { throw e.inFile(input) }
            rankFileNotes(tok, path: output, quiet: quietOption.quiet)
            // A rank file holds no special tokens: they go to a sidecar, in tiktoken's terms.
            let modelVocab = tok.model.vocab
            let specials = tok.addedTokens.filter { !modelVocab.contains($0.id) }
            if !specials.isEmpty {
                let list = specials.map { "    \(jsonString($0.text)): \($0.id)" }.joined(separator: ",\n")
                let side = "{\n  \"pattern\": \(jsonString(tok.patternDescription)),\n  \"special_tokens\": {\n\(list)\n  }\n}\n"
                try writeFileAtomically(output + ".json", Array(side.utf8), userOutput: true)
                note("\(specials.count) special tokens, which a rank file cannot hold, are in \(output).json (tiktoken's special_tokens)", quiet: quietOption.quiet)
            }
        case .spm:
            if let spm = tok.sentencePiece {
                bytes = spm.serialized()
            } else if case .unigram = tok.model {
                do { bytes = try TokenizerJSON.sentencePieceModel(tok).serialized() } catch let e as TokenKitError { throw e.inFile(input) }
            } else {
                throw TokenKitError.badInput("only SentencePiece models and Unigram tokenizer.json files can be written as .model files", file: input)
            }
        }
        try writeFileAtomically(output, bytes, userOutput: true)
    }
}
