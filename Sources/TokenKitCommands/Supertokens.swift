import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitSuperwords

struct Supertokens: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Multi-word tokens on any tokenizer.",
        subcommands: [SupertokensAdd.self])
}

struct SupertokensAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add the most frequent word n-grams of a corpus as whole-word added tokens (MWT).",
        discussion: """
            Counts n-grams of 2…--max-words words joined by single spaces (a word is a run of ASCII
            letters, digits, _ or non-ASCII bytes; n-grams do not cross lines), ranks them by raw count
            (ties: more words first, then bytes), and adds the top K to the tokenizer as HF added tokens
            with single_word (they match only between non-word characters) and lstrip (the white space
            before them is part of the match, so " of the" is one token). HF tokenizers gives the same
            ids. Decoding such a token gives the n-gram without the white space it absorbed.

            Examples:
              tokenkit supertokens add -m cl100k_base.tiktoken --top 1000 corpus.txt -o mwt.json
              tokenkit supertokens add -m tokenizer.json --top 5000 --max-words 3 --held-out dev.txt --format json train/*.txt -o mwt.json
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Number of n-grams to add.")
    var top: Int

    @Option(help: "Longest n-gram, in words.")
    var maxWords = 3

    @Option(help: "Only n-grams seen at least this many times.")
    var minCount: Int64 = 2

    @Option(name: .shortAndLong, help: "Output tokenizer.json (written atomically).")
    var output: String

    @Option(help: "Report the sequence-length saving on this file.")
    var heldOut: String?

    @Option(help: "Report format: text, json or tsv.")
    var format: DataFormat = .text

    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Corpus files to count n-grams in.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give corpus files") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if maxWords < 2 { throw ValidationError("--max-words must be at least 2") }
        if minCount < 1 { throw ValidationError("--min-count must be at least 1") }
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: files + [model.model] + (heldOut.map { [$0] } ?? []))
        var tok = try model.load()
        if let spm = tok.sentencePiece {
            // Added tokens live in tokenizer.json: a .model is extended through its conversion.
            tok = try TokenizerJSON.load(try TokenizerJSON.writeSentencePiece(spm), name: tok.name)
        }
        var counts = WordCounts()
        for f in files {
            do {
                let c = try MultiWordTokens.count([f], maxWords: maxWords, threads: runOptions.threads)
                if files.count == 1 { counts = c } else { counts.merge(c) }
            } catch let e as TokenKitError {
                throw e.inFile(f)
            }
        }
        let chosen = MultiWordTokens.top(counts, k: top, minCount: minCount)
        if chosen.count < top { note("only \(chosen.count) n-grams occur \(minCount)+ times", quiet: runOptions.quiet) }
        let extended = try MultiWordTokens.extend(tok, with: chosen.map(\.bytes))

        // The summary: what was added, and with --held-out the saving on that file.
        let added = extended.addedTokens.count - tok.addedTokens.count
        var fields: [(key: String, value: String, isNumber: Bool)] = [
            ("output", output, false), ("added", "\(added)", true), ("vocab_size", "\(extended.vocabSize)", true)]
        var text = "\(output): \(added) tokens added (vocabulary \(extended.vocabSize))\n"
        if let heldOut {
            let before = try countTokens(tok, heldOut), after = try countTokens(extended, heldOut)
            let saved = before.tokens - after.tokens
            let share = before.tokens == 0 ? 0 : Double(saved) / Double(before.tokens)
            fields += [("held_out", heldOut, false), ("bytes", "\(before.bytes)", true), ("tokens_before", "\(before.tokens)", true),
                       ("tokens_after", "\(after.tokens)", true), ("tokens_saved", "\(saved)", true), ("saving", fmt(share), true)]
            text += "\(heldOut): \(before.tokens) tokens before, \(after.tokens) after: \(saved) saved (\(fmt(100 * share, digits: 2))%)\n"
        }
        // Written once the held-out file was read: a run that fails leaves the old output alone.
        try writeFileAtomically(output, try TokenizerJSON.write(extended), userOutput: true)
        let out = try Output(path: nil)
        switch format {
        case .json:
            try out.write("{" + fields.map { "\(jsonString($0.key)): " + ($0.isNumber ? $0.value : jsonString($0.value)) }.joined(separator: ", ") + "}\n")
        case .tsv:
            try out.write(fields.map(\.key).joined(separator: "\t") + "\n" + fields.map { Info.tsvField($0.value) }.joined(separator: "\t") + "\n")
        case .text:
            try out.write(text)
        }
        try out.finish()
    }

    func countTokens(_ tok: Tokenizer, _ path: String) throws -> (tokens: Int, bytes: Int) {
        var driver = EncodeDriver(tokenizer: tok, policy: tok.defaultPolicy, threads: runOptions.threads, lines: false)
        var tokens = 0, bytes = 0
        do {
            try driver.run(path, countChars: false, progress: { _, _ in }) { chunk in
                tokens += chunk.documents.reduce(0) { $0 + $1.count }
                bytes += chunk.bytes
            }
        } catch let e as TokenKitError {
            throw e.inFile(path)
        }
        return (tokens, bytes)
    }
}
