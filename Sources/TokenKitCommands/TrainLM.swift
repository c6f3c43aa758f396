import ArgumentParser
import Foundation
import TokenKit
import TokenKitByteProb
import TokenKitCore
import TokenKitFormats
import TokenKitLM

struct TrainLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Train a language model: --bytes for a byte n-gram model, -m TOKENIZER for a token n-gram model (ARPA).",
        discussion: """
            --bytes trains a byte n-gram model with interpolated Kneser-Ney smoothing: every n-gram of up
            to ORDER+1 bytes is counted exactly (no hashing), and the file is memory-mapped when used
            (header, version and checksum are checked on load). Score it with `tokenkit lm score`, look at
            it with `tokenkit surprisal`, build vocabularies with `tokenkit train bytespan --lm`.

            -m TOKENIZER trains a token n-gram LM (interpolated modified Kneser-Ney, written as ARPA, words
            are token ids): each file (or document, with --document-separator) is encoded and becomes
            <s> ids </s>; unigrams are interpolated with the uniform distribution over every id.

            Examples:
              tokenkit train lm --bytes --order 6 -o corpus.bytelm corpus.txt
              tokenkit train lm -m cl100k_base.tiktoken --order 3 -o code.arpa src/*.py
              tokenkit train lm --bytes --order 4 --threads 2 -o small.bytelm a.txt b.txt
            """)

    @Flag(help: "Train tokenkit's byte-level n-gram LM.")
    var bytes = false

    @Option(name: [.short, .customLong("model")], help: "Tokenizer whose ids a token n-gram LM predicts.")
    var model: String?

    @OptionGroup var patternOptions: PatternOptions

    @Option(help: "Token LM: split files into documents at this separator (escapes \\n, \\t, \\xNN). Default: a file is one document.")
    var documentSeparator: String?

    @Option(help: "Byte LM (--bytes): the longest context in bytes (1-7). Token LM (-m): the n-gram order (1-6).")
    var order = ByteLMBuilder.Configuration.default.order

    @Option(name: .shortAndLong, help: "Output model file (written atomically).")
    var output: String

    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Training text files; - for stdin.")
    var files: [String] = []

    func validate() throws {
        if !bytes && model == nil { throw ValidationError("give --bytes (byte-level LM) or -m TOKENIZER (token LM)") }
        if bytes && model != nil { throw ValidationError("--bytes and -m exclude each other") }
        try PatternOptions.requireOneModel()
        if files.isEmpty { throw ValidationError("give training files") }
        if bytes && !(1...7).contains(order) { throw ValidationError("--order must be between 1 and 7") }
        if model != nil && !(1...6).contains(order) { throw ValidationError("--order must be between 1 and 6 for a token LM") }
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: files + (model.map { [$0] } ?? []))
        if let model { return try trainTokenLM(model) }
        let start = Date()
        let data = try files.map { try readFile($0) }
        var config = ByteLMBuilder.Configuration()
        config.order = order
        config.threads = runOptions.threads
        let quiet = runOptions.quiet
        let progress = Progress(total: 0, label: "train lm", quiet: quiet)
        let image = try withBuffers(data) { texts in
            try ByteLMBuilder.build(texts, config) { progress.status($0) }
        }
        progress.finish()
        try writeFileAtomically(output, image, userOutput: true)
        note(String(format: "order-%d byte LM of %d bytes trained in %.1f s", order, image.count, Date().timeIntervalSince(start)), quiet: quiet)
    }
}

extension TrainLM {
    /// A token n-gram LM over `model`'s ids.
    func trainTokenLM(_ model: String) throws {
        let tok = try patternOptions.load(model)
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
        try writeFileAtomically(output, lm.arpa(), userOutput: true)
        note("\(docs.count) documents, \(docs.reduce(0) { $0 + $1.count }) tokens from \(bytes) bytes; order \(order) written to \(output)",
             quiet: runOptions.quiet)
    }
}

/// Runs `body` with unsafe views of byte arrays.
func withBuffers<R>(_ arrays: [[UInt8]], _ body: ([UnsafeBufferPointer<UInt8>]) throws -> R) rethrows -> R {
    var views: [UnsafeBufferPointer<UInt8>] = []
    func go(_ i: Int) throws -> R {
        if i == arrays.count { return try body(views) }
        return try arrays[i].withUnsafeBufferPointer { p in
            views.append(p)
            return try go(i + 1)
        }
    }
    return try go(0)
}

struct LM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Use a language model.",
        subcommands: [LMScore.self])
}

struct LMScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Bits per byte of text under a byte LM.",
        discussion: """
            Each byte is predicted from the bytes before it in its file (the first bytes of a file have
            shorter contexts). JSON: {"bits_per_byte": B, "bits": total, "bytes": n, "order": N}.

            Examples:
              tokenkit lm score corpus.bytelm held-out.txt
              tokenkit lm score --format json corpus.bytelm a.txt b.txt
            """)

    @Argument(help: "Byte LM file (from train lm --bytes).")
    var lm: String

    @Argument(help: "Text files; - for stdin.")
    var files: [String] = ["-"]

    @Option(help: "Output format: text, json, or tsv (a header, a row per file, then the total).")
    var format: DataFormat = .text

    @OptionGroup var runOptions: RunOptions

    mutating func run() throws {
        let model = try ByteLMFile.load(lm)
        var bits = 0.0, bytes = 0
        var rows: [(file: String, bits: Double, bytes: Int)] = []
        let start = Date()
        for f in files {
            let data = try readFile(f)
            let b = data.withUnsafeBufferPointer { model.bitsPerByte($0, threads: runOptions.threads) } * Double(data.count)
            rows.append((f, b, data.count))
            bits += b
            bytes += data.count
        }
        let seconds = Date().timeIntervalSince(start)
        let bpb = bytes > 0 ? bits / Double(bytes) : 0
        if format == .json {
            try Output.write(Array("{\"bits_per_byte\": \(bpb), \"bits\": \(bits), \"bytes\": \(bytes), \"order\": \(model.order)}\n".utf8), to: nil)
        } else if format == .tsv {
            var out = "file\tbytes\tbits\tbits_per_byte\n"
            for r in rows + [("total", bits, bytes)] {
                out += "\(Info.tsvField(r.file))\t\(r.bytes)\t\(r.bits)\t\(r.bytes > 0 ? r.bits / Double(r.bytes) : 0)\n"
            }
            try Output.write(Array(out.utf8), to: nil)
        } else {
            try Output.write(Array(String(format: "%.4f bits/byte\n", bpb).utf8), to: nil)
        }
        note(String(format: "%d bytes in %.2f s (%.1f MB/s)", bytes, seconds, Double(bytes) / max(seconds, 1e-9) / 1e6), quiet: runOptions.quiet)
    }
}

/// Size of a regular file (nil for stdin, pipes and missing files).
func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard path != "-", stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int(st.st_size)
}

func isTTY(_ fd: Int32) -> Bool { isatty(fd) != 0 }
