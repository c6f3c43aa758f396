import ArgumentParser
import Foundation
import TokenKit
import TokenKitByteProb
import TokenKitCore
import TokenKitFormats

/// `tokenkit train lm -m TOKENIZER --order N -o LM.arpa FILE...`: a token n-gram LM.
struct TrainLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Train a token n-gram LM (interpolated modified Kneser-Ney, written as ARPA).",
        discussion: """
            Each file (or each document, with --document-separator) is encoded with the tokenizer and
            becomes <s> ids </s>. The ARPA words are token ids. Conventions as KenLM's lmplz; unigrams
            are interpolated with the uniform distribution over every id, so unseen tokens keep a
            small probability.

            Examples:
              tokenkit train lm -m cl100k_base.tiktoken --order 3 -o code.arpa src/*.py
              tokenkit train lm -m tokenizer.json --order 4 --document-separator '\\n\\n' -o lm.arpa corpus.txt
            """)

    @Option(name: [.short, .customLong("model")], help: "Tokenizer whose ids the LM predicts.")
    var model: String?

    @Option(help: "Split pattern for tiktoken files.")
    var pattern: String?

    @Option(help: "N-gram order (1 to 6).")
    var order = 3

    @Option(name: .shortAndLong, help: "Output ARPA file.")
    var output: String

    @Option(help: "Split files into documents at this separator (escapes \\n, \\t, \\xNN). Default: a file is one document.")
    var documentSeparator: String?

    @Flag(name: [.short, .long], help: "No notes on stderr.")
    var quiet = false

    @Argument(help: "Training text files; - for stdin.")
    var files: [String] = []

    mutating func run() throws {
        guard let model else {
            throw TokenKitError.usage("train lm needs -m TOKENIZER (a token n-gram LM)")
        }
        guard (1...6).contains(order) else { throw TokenKitError.usage("--order must be 1 to 6") }
        guard !files.isEmpty else { throw TokenKitError.usage("give training files") }
        let tok = try TokenizerLoader.load(model, options: .init(pattern: pattern))
        let sep = try documentSeparator.map { try parseSeparator($0) }
        var docs: [[TokenID]] = []
        var bytes = 0
        for f in files {
            let data = f == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : try readFile(f)
            bytes += data.count
            do {
                for d in splitDocuments(data, sep) { docs.append(try tok.encode(d, policy: .ordinary)) }
            } catch let e as TokenKitError {
                throw e.inFile(f)
            }
        }
        let lm = try NGramLM.train(documents: docs, order: order, vocabSize: tok.vocabSize)
        try writeFileAtomically(output, lm.arpa())
        note("\(docs.count) documents, \(docs.reduce(0) { $0 + $1.count }) tokens from \(bytes) bytes; order \(order) written to \(output)", quiet: quiet)
    }
}
