import ArgumentParser
import Foundation
import TokenKit
import TokenKitAnalysis
import TokenKitCore
import TokenKitFormats
import TokenKitLM

extension ByteSpanTrainer.Signal: ExpressibleByArgument {}
extension ByteSpanTrainer.Constraint: ExpressibleByArgument {}
extension ByteSpanTrainer.Mode: ExpressibleByArgument {}

struct TrainByteSpan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bytespan",
        abstract: "Train a ByteSpan vocabulary (byte spans a byte LM finds predictable) as a WordPiece tokenizer.json.",
        discussion: """
            The signal comes from --lm LM (which must not have been trained on these files), or from two
            order-N byte LMs trained here on the two halves of the text, each scoring the other half
            (--order N, cross-fitted). The output is an HF WordPiece tokenizer.json over the GPT-2
            ByteLevel pre-tokenizer (prefix space): 256 bytes, ##+byte, Ġ+byte, learned spans, then
            <|unk|> <|padding|> <|endoftext|>. Word-initial spans whose text starts with ## are skipped
            (they would read as continuation tokens). --mode seeding --seed-fraction 0 learns the whole
            vocabulary by BPE inside pre-tokens (the paper's BPE-vocabulary-with-WordPiece baseline).

            Examples:
              tokenkit train bytespan --order 6 --vocab-size 32000 -o bytespan.json corpus.txt
              tokenkit train bytespan --lm other.bytelm --signal surprisal --constraint monotonic -o bs.json corpus.txt
              tokenkit train bytespan --order 6 --mode seeding --seed-fraction 0.5 --vocab-size 64000 -o bs64k.json corpus.txt
              tokenkit train bytespan --mode seeding --seed-fraction 0 --vocab-size 32000 -o bpe-wordpiece.json corpus.txt
            """)

    @Option(help: "Byte LM giving the signal (trained on other text).")
    var lm: String?

    @Option(help: "Without --lm: order of the two cross-fitted byte LMs trained on the fly (1-7).")
    var order: Int?

    @Option(help: "Per-byte signal: surprisal or entropy.")
    var signal = ByteSpanTrainer.Configuration.default.signal

    @Option(help: "Grouping constraint: global, monotonic or combined.")
    var constraint = ByteSpanTrainer.Configuration.default.constraint

    @Option(help: "θ as a percentile of the non-zero signal values (global and combined).")
    var percentile = ByteSpanTrainer.Configuration.default.percentile

    @Option(help: "frequency (most frequent spans) or seeding (top spans, then BPE).")
    var mode = ByteSpanTrainer.Configuration.default.mode

    @Option(help: "Seeding mode: share of the vocabulary taken from spans.")
    var seedFraction = ByteSpanTrainer.Configuration.default.seedFraction

    @Option(help: "Vocabulary size, base and special tokens included.")
    var vocabSize = ByteSpanTrainer.Configuration.default.vocabSize

    @Option(name: .shortAndLong, help: "Output tokenizer.json (written atomically).")
    var output: String

    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Training text files.")
    var files: [String] = []

    func validate() throws {
        // Ids are 32-bit: a larger vocabulary could not be written, however long training ran.
        try requireRange("--vocab-size", vocabSize, 1...Int(Int32.max))
        if files.isEmpty { throw ValidationError("give training files") }
        if lm != nil && order != nil { throw ValidationError("give --lm LM or --order N, not both") }
        if needsSignal && lm == nil && order == nil { throw ValidationError("give --lm LM or --order N") }
        if let order, !(1...7).contains(order) { throw ValidationError("--order must be between 1 and 7") }
        if !(0...100).contains(percentile) { throw ValidationError("--percentile must be between 0 and 100") }
        if !(0...1).contains(seedFraction) { throw ValidationError("--seed-fraction must be between 0 and 1") }
    }

    /// `--mode seeding --seed-fraction 0` is plain BPE with WordPiece inference (the paper's
    /// BPEWP baseline): no spans, so no signal.
    var needsSignal: Bool { !(mode == .seeding && seedFraction == 0) }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: files)
        var config = ByteSpanTrainer.Configuration()
        config.vocabSize = vocabSize
        config.signal = signal
        config.constraint = constraint
        config.percentile = percentile
        config.mode = mode
        config.seedFraction = seedFraction
        config.threads = runOptions.threads
        let quiet = runOptions.quiet
        let start = Date()
        let model = try lm.map { try ByteLMFile.load($0) }
        var raw: [UInt8] = []
        for f in files {
            let d = try readFile(f)
            if !raw.isEmpty && raw.last != 0x0A { raw.append(0x0A) }
            raw += d
        }
        if raw.isEmpty { throw TokenKitError.badInput("the corpus is empty: no text to train on", file: files[0]) }
        let (text, starts) = raw.withUnsafeBufferPointer { ByteWordPiece.preTokenize($0) }
        raw = []
        let result: ByteSpanTrainer.Result = try text.withUnsafeBufferPointer { t in
            let sig: [Float]
            if !needsSignal {
                sig = [Float](repeating: 0, count: t.count)
            } else if let model {
                sig = ByteSpanSignals.compute(model, text: t, signal: signal, threads: runOptions.threads)
            } else {
                let progress = Progress(total: 0, label: "train bytespan", quiet: quiet)
                sig = try ByteSpanSignals.crossFitted(text: t, order: order!, signal: signal, threads: runOptions.threads) { progress.status($0) }
                progress.finish()
            }
            if needsSignal {
                note(String(format: "%@ signal of %d bytes in %.1f s", signal.rawValue, t.count, Date().timeIntervalSince(start)), quiet: quiet)
            }
            return try sig.withUnsafeBufferPointer { try ByteSpanTrainer(config).train(text: t, starts: starts, signal: $0) }
        }
        try writeFileAtomically(output, Array(result.vocabulary.json().utf8), userOutput: true)
        note(String(format: "θ = %.3f bits; %d span types (%d occurrences); %d tokens from spans, %d from BPE; %.1f s",
                    result.threshold, result.spanTypes, result.spanOccurrences, result.learnedFromSpans, result.learnedFromBPE,
                    Date().timeIntervalSince(start)), quiet: quiet)
    }
}

enum SignalFormat: String, ExpressibleByArgument { case tsv, jsonl }

struct Surprisal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "surprisal",
        abstract: "Per-byte surprisal and next-byte entropy (bits) under a byte LM.",
        discussion: """
            TSV columns: offset, byte (0-255), surprisal −log2 P(byte | bytes before), entropy of the
            next-byte distribution before the byte. --html writes the text coloured by surprisal, with
            the ByteSpan span starts (per --signal/--constraint, θ from this text) marked by a bar.

            Examples:
              tokenkit surprisal -m corpus.bytelm notes.txt | head
              tokenkit surprisal -m corpus.bytelm --format jsonl -o bytes.jsonl notes.txt
              tokenkit surprisal -m corpus.bytelm --html notes.html notes.txt
            """)

    @Option(name: [.short, .customLong("model")], help: "Byte LM file.")
    var model: String

    @Option(help: "Output format: tsv or jsonl.")
    var format = SignalFormat.tsv

    @Option(name: .shortAndLong, help: "Write the table here instead of stdout.")
    var output: String?

    @Option(help: "Also write an HTML view of the text coloured by surprisal.")
    var html: String?

    @Option(help: "HTML span boundaries: signal (surprisal or entropy).")
    var signal = ByteSpanTrainer.Signal.entropy

    @Option(help: "HTML span boundaries: constraint (global, monotonic, combined).")
    var constraint = ByteSpanTrainer.Constraint.combined

    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Text file; - for stdin.")
    var file = "-"

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output, html], inputs: [model])
        let lm = try ByteLMFile.load(model)
        let text = try readFile(file)
        let (s, e) = text.withUnsafeBufferPointer { lm.signals($0, threads: runOptions.threads, surprisal: true, entropy: true) }
        if html == nil || output != nil {
            let out = try Output(path: output)
            var line = ""
            for i in 0..<text.count {
                if format == .tsv {
                    line = "\(i)\t\(text[i])\t\(fmt(s[i]))\t\(fmt(e[i]))\n"
                } else {
                    line = "{\"offset\": \(i), \"byte\": \(text[i]), \"surprisal\": \(fmt(s[i])), \"entropy\": \(fmt(e[i]))}\n"
                }
                try out.write(line)
            }
            try out.finish()
        }
        if let html {
            let sig = signal == .surprisal ? s : e
            let theta = sig.withUnsafeBufferPointer { ByteSpanTrainer.threshold($0, percentile: 30) }
            let (_, startsP) = text.withUnsafeBufferPointer { ByteWordPiece.preTokenize($0) }
            // Pre-token starts in this text's coordinates (preTokenize may add a leading space).
            let shift = text.first == 0x20 ? 0 : 1
            let starts = startsP.map { $0 - shift }.filter { $0 >= 0 }
            let cont = sig.withUnsafeBufferPointer { ByteSpanTrainer.continuation(signal: $0, starts: starts, constraint: constraint, threshold: theta) }
            try writeFileAtomically(html, Array(SurprisalHTML.render(text: text, surprisal: s, continuation: cont, title: file).utf8), userOutput: true)
        }
    }

    func fmt(_ x: Float) -> String { String(format: "%.4f", x) }
}

/// The HTML view: one <span> per character, background from white (0 bits) to red (≥ 12
/// bits), a left bar where a ByteSpan span starts; the title shows the surprisal.
enum SurprisalHTML {
    static func render(text: [UInt8], surprisal: [Float], continuation: [Bool], title: String) -> String {
        var out = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>surprisal: \(escape(Array(title.utf8)))</title><style>"
        out += "body{font-family:monospace;white-space:pre-wrap;line-height:1.6}span.b{border-left:2px solid #246}"
        out += "</style></head><body><p>Background: surprisal (white 0 bits → red ≥ 12 bits). Bar: a span starts.</p><div>"
        var i = 0
        while i < text.count {
            let n = utf8Length(text[i], remaining: text.count - i)
            var bits: Float = 0
            for k in i..<(i + n) { bits = max(bits, surprisal[k]) }
            let level = Int(min(1, bits / 12) * 100)
            let cls = continuation[i] ? "" : " class=\"b\""
            out += "<span\(cls) style=\"background:hsl(0,90%,\(100 - level / 2)%)\" title=\"\(String(format: "%.2f", bits)) bits\">"
            out += escape(Array(text[i..<(i + n)]))
            out += "</span>"
            i += n
        }
        out += "</div></body></html>\n"
        return out
    }

    static func utf8Length(_ b: UInt8, remaining: Int) -> Int {
        let n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return min(n, remaining)
    }

    static func escape(_ bytes: [UInt8]) -> String {
        var s = ""
        for ch in String(decoding: bytes, as: UTF8.self) {
            switch ch {
            case "<": s += "&lt;"
            case ">": s += "&gt;"
            case "&": s += "&amp;"
            case "\"": s += "&quot;"
            default: s.append(ch)
            }
        }
        return s
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Compare tokenizers on a text: bytes/token, fertility, Rényi efficiency, MorphScore.",
        discussion: """
            Fertility is the mean number of tokens overlapping each word (ICU words), "continued" the
            share of words cut into two or more; for tokens that spell the text another way (SentencePiece's
            ▁ and dummy prefix) the words are those of the tokens' own text, as premium counts them, and
            MorphScore is left out. Rényi efficiency uses α = 2.5 over the whole vocabulary.
            MorphScore (Arnett et al.) reads CSV rows full_word,pt1,rest: each word is tokenized after a
            space; a word of two or more tokens scores 1 when a token boundary falls at the pt1|rest
            split, and one-token words are left out. Byte-level WordPiece files from train bytespan and
            everything tokenkit loads can be compared.

            Examples:
              tokenkit evaluate --text corpus10.txt -m bpe.json -m bytespan.json
              tokenkit evaluate --text corpus10.txt --morph english.csv --format json -m a.json -m b.json
            """)

    @Option(help: "Text to measure on.")
    var text: String

    @Option(parsing: .singleValue, help: "MorphScore CSV (full_word,pt1,rest); may be repeated.")
    var morph: [String] = []

    @Option(name: [.short, .customLong("model")], parsing: .singleValue, help: "Tokenizer; repeat for several.")
    var models: [String] = []

    @Option(help: "Output format: text, json or tsv.")
    var format: DataFormat = .text

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if models.isEmpty { throw ValidationError("give at least one -m TOKENIZER") }
    }

    mutating func run() throws {
        let data = try readFile(text)
        var morphWords: [TokenizerEvaluation.MorphWord] = []
        for m in morph { morphWords += try TokenizerEvaluation.readMorphCSV(try readFile(m), path: m) }
        let words = WordSegmenter.words(data) ?? []
        let segmenters: [TokenizerEvaluation.Segmenter] = try models.map { path in
            let name = TokenizerLoader.displayName(path)
            let bytes = try readFile(path)
            if bytes.first == UInt8(ascii: "{"), let wp = try ByteWordPiece.load(bytes, path: path) {
                return TokenizerEvaluation.Segmenter(wp, name: name)
            }
            return TokenizerEvaluation.Segmenter(try TokenizerLoader.load(path), name: name)
        }
        var states: [Int] = []
        let rows = try parallelMap(count: segmenters.count, threads: runOptions.threads, states: &states, makeState: { 0 }) { i, _ in
            do {
                return try TokenizerEvaluation.evaluate(segmenters[i], text: data, words: words, morph: morphWords)
            } catch var e as TokenKitError {
                // Models are loaded by now: what fails here is the text, as this model reads it.
                guard e.file == nil else { throw e }
                e.message = "encoding with \(models[i]): " + e.message
                throw e.inFile(text)
            }
        }
        try Output.write(Array(render(rows).utf8), to: nil)
    }

    func render(_ rows: [TokenizerEvaluation.Row]) -> String {
        func f(_ x: Double?, _ digits: Int = 3) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? (format == .json ? "null" : "-") }
        switch format {
        case .json:
            let items = rows.map { r in
                "{\"tokenizer\": \(jsonString(r.tokenizer)), \"vocab_size\": \(r.vocabSize), \"bytes\": \(r.bytes), \"tokens\": \(r.tokens), "
                    + "\"words\": \(r.words), \"bytes_per_token\": \(f(r.bytesPerToken, 4)), \"fertility\": \(f(r.fertility, 4)), "
                    + "\"continued\": \(f(r.continued, 4)), \"renyi_efficiency\": \(f(r.renyi, 4)), \"morph_score\": \(f(r.morphScore, 4)), "
                    + "\"morph_words\": \(r.morphScored)}"
            }
            return "{\"renyi_alpha\": \(TokenizerEvaluation.renyiAlpha), \"rows\": [\n  " + items.joined(separator: ",\n  ") + "\n]}\n"
        case .tsv:
            var s = "tokenizer\tvocab_size\tbytes_per_token\tfertility\tcontinued\trenyi_efficiency\tmorph_score\tmorph_words\n"
            for r in rows {
                s += "\(r.tokenizer)\t\(r.vocabSize)\t\(f(r.bytesPerToken, 4))\t\(f(r.fertility, 4))\t\(f(r.continued, 4))\t\(f(r.renyi, 4))\t\(f(r.morphScore, 4))\t\(r.morphScored)\n"
            }
            return s
        case .text:
            let header = ["tokenizer", "vocab", "bytes/token", "fertility", "continued", "Rényi(2.5)", "MorphScore"]
            var table = [header]
            for r in rows {
                table.append([r.tokenizer, "\(r.vocabSize)", f(r.bytesPerToken), f(r.fertility), f(r.continued), f(r.renyi),
                              r.morphScore == nil ? "-" : "\(f(r.morphScore)) (\(r.morphScored))"])
            }
            let widths = (0..<header.count).map { c in table.map { $0[c].count }.max()! }
            return table.map { row in
                row.enumerated().map { c, v in c == 0 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  ")
            }.joined(separator: "\n") + "\n"
        }
    }
}
