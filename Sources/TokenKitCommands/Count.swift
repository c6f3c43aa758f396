import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitSuperwords

struct Count: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count tokens, bytes and characters per file and in total.",
        discussion: """
            Examples:
              tokenkit count -m cl100k_base.tiktoken *.md
              tokenkit count -m tokenizer.json --format json docs/*.txt
              cat book.txt | tokenkit count -m o200k_base.tiktoken -
              tokenkit count -m superbpe.json --multi-word corpus.txt
              tokenkit count -m ./Qwen2.5-7B/ --include '*.py' --format tsv src/
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var special: SpecialOptions
    @OptionGroup var runOptions: RunOptions

    @Option(help: "Output format: text, json or tsv.")
    var format: DataFormat = .text

    @Flag(help: "Also count the tokens that span more than one word (a multi_word column; see info --help).")
    var multiWord = false

    @Argument(help: "Input files or folders (every file under them); - or none for stdin.")
    var files: [String] = []

    @OptionGroup var inputOptions: InputOptions

    struct Row {
        var name: String
        var tokens = 0, bytes = 0, chars = 0, multiWord = 0
        var bytesPerToken: Double { tokens == 0 ? 0 : Double(bytes) / Double(tokens) }
    }

    mutating func run() throws {
        let tok = try model.load()
        var driver = EncodeDriver(tokenizer: tok, policy: try special.policy(for: tok), threads: runOptions.threads, lines: false)
        var rows: [Row] = []
        let spans = multiWord ? MultiWordStats.flags(tok) : []
        let paths = try inputOptions.expand(files)
        let progress = Progress(total: 0, label: "counting", quiet: runOptions.quiet)
        for (k, path) in paths.enumerated() {
            var row = Row(name: path)
            // Many files: which one of how many, and how far into it.
            if paths.count > 1 { progress.label = "counting \(k + 1)/\(paths.count) \(path)" }
            do {
                try driver.run(path, countChars: true, progress: { progress.update($0, of: $1) }) { chunk in
                    row.tokens += chunk.documents.reduce(0) { $0 + $1.count }
                    row.bytes += chunk.bytes
                    row.chars += chunk.chars
                    if !spans.isEmpty {
                        for d in chunk.documents { for id in d where Int(id) < spans.count && spans[Int(id)] { row.multiWord += 1 } }
                    }
                }
            } catch let e as TokenKitError {
                progress.finish()
                throw e.inFile(path)
            }
            rows.append(row)
        }
        progress.finish()
        var total = Row(name: "total")
        for r in rows {
            total.tokens += r.tokens
            total.bytes += r.bytes
            total.chars += r.chars
            total.multiWord += r.multiWord
        }
        let out = try Output(path: nil)
        switch format {
        case .json:
            func obj(_ r: Row) -> String {
                "{\"tokens\": \(r.tokens), \"bytes\": \(r.bytes), \"chars\": \(r.chars), \"bytes_per_token\": \(fmt(r.bytesPerToken))"
                    + (multiWord ? ", \"multi_word\": \(r.multiWord)}" : "}")
            }
            let files = rows.map { "    {\"file\": \(jsonString($0.name)), " + obj($0).dropFirst() }.joined(separator: ",\n")
            try out.write("{\n  \"model\": \(jsonString(tok.name)),\n  \"files\": [\n\(files)\n  ],\n  \"total\": \(obj(total))\n}\n")
        case .tsv:
            try out.write("file\ttokens\tbytes\tchars\tbytes_per_token" + (multiWord ? "\tmulti_word\n" : "\n"))
            for r in rows + [total] {
                try out.write("\(Info.tsvField(r.name))\t\(r.tokens)\t\(r.bytes)\t\(r.chars)\t\(fmt(r.bytesPerToken))" + (multiWord ? "\t\(r.multiWord)\n" : "\n"))
            }
        case .text:
            let width = max(5, (rows.map(\.name.count).max() ?? 0))
            func line(_ cells: [String]) -> String {
                cells[0].padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + cells.dropFirst().map { String(repeating: " ", count: max(0, 12 - $0.count)) + $0 }.joined(separator: "  ") + "\n"
            }
            let showMulti = multiWord
            func extra(_ r: Row) -> [String] { showMulti ? ["\(r.multiWord)"] : [] }
            try out.write(line(["file", "tokens", "bytes", "chars", "bytes/token"] + (multiWord ? ["multi_word"] : [])))
            for r in rows { try out.write(line([r.name, "\(r.tokens)", "\(r.bytes)", "\(r.chars)", fmt(r.bytesPerToken)] + extra(r))) }
            if rows.count > 1 { try out.write(line(["total", "\(total.tokens)", "\(total.bytes)", "\(total.chars)", fmt(total.bytesPerToken)] + extra(total))) }
        }
        try out.finish()
    }
}

func fmt(_ x: Double, digits: Int = 4) -> String {
    String(format: "%.\(digits)f", x)
}
