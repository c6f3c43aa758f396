import ArgumentParser
import Foundation
import TokenKit
import TokenKitAnalysis
import TokenKitCore
import TokenKitFormats

extension PremiumFormat: ExpressibleByArgument {}

extension Output {
    func writeAndFinish(_ text: String) throws {
        try write(text)
        try finish()
    }
}
extension PremiumAnalysis.RenyiVocabulary: ExpressibleByArgument {}

struct Premium: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Token premiums and per-language tokenizer metrics on a parallel corpus.",
        discussion: """
            The corpus is a folder with one aligned text file per language, named by its code (eng.txt,
            tha.txt …; files starting with an upper-case letter, such as MANIFEST.tsv, are skipped), or a
            TSV file whose header row holds the codes. Each line is encoded by itself, without its newline
            and without added special tokens (tiktoken encode_ordinary, HF encode(add_special_tokens=False)),
            and a language's token count is the sum over its lines.

            Per language and tokenizer: tokens; premium = tokens / the pivot's tokens over the lines both
            have and neither leaves empty (Petrov et al. 2023); bytes and characters per token; fertility
            (tokens per ICU word) and the share of words split into 2+ tokens; the share of unknown tokens
            and of byte-fallback tokens (SentencePiece <0xNN>, or byte-level tokens that are not whole
            characters); Rényi efficiency (Zouhar et al. 2023, α = 2.5, |V| = the vocabulary size).
            Pairs with more than 10 % unknown tokens get no premium. Per tokenizer: mean, median, spread
            (standard deviation), min, max and the worst languages.

            With --train and --train-sizes, trains a byte-level BPE (or, with --algorithm unigram, a
            SentencePiece Unigram) tokenizer per language at each size,
            counts the corpus with each, fits tokens = a·V^b (least squares in log-log) and gives the
            vocabulary size at which each language reaches the target count (Arnett et al. 2025).

            Examples:
              tokenkit premium --corpus udhr/ -m cl100k_base.tiktoken -m qwen2.5/tokenizer.json
              tokenkit premium --corpus udhr/ -m o200k_base.tiktoken --format json --plot premiums.svg --html report.html
              tokenkit premium --corpus flores.tsv -m tokenizer.json --pivot fra --languages fra,deu,tha
              tokenkit premium --corpus udhr/ --train train/ --train-sizes 8k,16k,32k,64k
            """)

    @Option(help: "Parallel corpus: a folder of CODE.txt files or a TSV file with a header row of codes.")
    var corpus: String

    @Option(name: [.short, .customLong("model")], help: "Tokenizer file; repeat for several.")
    var models: [String] = []

    @OptionGroup var patternOptions: PatternOptions

    @Option(help: "Language the premiums are relative to.")
    var pivot = "eng"

    @Option(help: "Comma-separated language codes to measure (default: every language of the corpus).")
    var languages: String?

    @Option(help: "Output: text, csv, json or markdown.")
    var format: PremiumFormat = .text

    @Option(name: .shortAndLong, help: "Write the output to this file (atomically) instead of stdout.")
    var output: String?

    @Option(help: "Also write an SVG chart of the premiums.")
    var plot: String?

    @Option(help: "Also write a self-contained HTML report (tables and chart).")
    var html: String?

    @Option(help: "Rényi efficiency order α.")
    var renyiAlpha = 2.5

    @Option(help: "|V| for the Rényi efficiency: full (the vocabulary size) or observed (ids seen in the language).")
    var renyiVocab: PremiumAnalysis.RenyiVocabulary = .full

    @Option(help: "Give no premium to pairs with a larger share of unknown tokens.")
    var unknownThreshold = 0.10

    @Option(help: "How many worst languages each tokenizer's summary lists.")
    var worst = 5

    @Option(help: "Per-language training files (CODE.txt), for --train-sizes.")
    var train: String?

    @Option(help: "Vocabulary sizes to train, e.g. 8k,16k,32k,64k (k = 1024).")
    var trainSizes: String?

    @Option(help: "Training algorithm for --train: bpe (byte-level BPE) or unigram (SentencePiece Unigram).")
    var algorithm: VocabularyStudy.Algorithm = .bpe

    @Option(help: "Target corpus token count for the optimal vocabulary size (default: the pivot's count at the middle size).")
    var targetTokens: Int?

    /// The pre-tokenizer and normalizer of the tokenizers trained with --train.
    @OptionGroup var pipelineOptions: PipelineOptions

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if trainSizes != nil || train != nil {
            if trainSizes == nil { throw ValidationError("--train needs --train-sizes") }
            if train == nil { throw ValidationError("--train-sizes needs --train DIR with per-language training files") }
        } else if models.isEmpty {
            throw ValidationError("give at least one tokenizer with -m")
        }
        if !(renyiAlpha > 0) { throw ValidationError("--renyi-alpha must be positive") }
        if !(0...1).contains(unknownThreshold) { throw ValidationError("--unknown-threshold must be between 0 and 1") }
        if worst < 0 { throw ValidationError("--worst must not be negative") }
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output, plot, html], inputs: [corpus])
        if let trainSizes { return try runTraining(sizes: trainSizes) }
        let only = try languageList()
        // Tokenizers, loaded in parallel; a file that cannot be loaded stops the run.
        let measured = try MeasuredTokenizer.load(models, options: patternOptions.loaderOptions, threads: runOptions.threads)
        let corpusData = try ParallelCorpus.load(corpus, only: only)
        // A language asked for by name and not found is an error, not a warning.
        let asked = Set((languages ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let unknown = corpusData.missing.filter { asked.contains($0.code) }
        if !unknown.isEmpty {
            throw TokenKitError.badInput("--languages: " + unknown.map(\.message).joined(separator: "; "), file: corpus)
        }
        if corpusData.language(pivot) == nil {
            // Said before the measuring, which takes a while on a large corpus.
            throw TokenKitError.badInput("the pivot \(pivot) is not in the corpus (choose another with --pivot)", file: corpus)
        }
        var options = PremiumAnalysis.Options()
        options.pivot = pivot
        options.threads = runOptions.threads
        options.renyiAlpha = renyiAlpha
        options.renyiVocabulary = renyiVocab
        options.unknownThreshold = unknownThreshold
        options.worst = worst
        let start = Date()
        let bar = Progress(total: corpusData.languages.count * measured.count, label: "measuring", quiet: runOptions.quiet)
        let report = try PremiumAnalysis(options: options).run(corpus: corpusData, tokenizers: measured) { bar.advance() }
        bar.finish()
        for p in report.problems { warn(p.description) }
        note("\(corpusData.languages.count) languages × \(measured.count) tokenizers in \(String(format: "%.2f", Date().timeIntervalSince(start))) s",
             quiet: runOptions.quiet)

        try emit(report.render(format))
        if let plot { try writeOutput(plot, report.svg()) }
        if let html { try writeOutput(html, report.html()) }
        if !report.pivotFound {
            throw TokenKitError.badInput("no premiums: the pivot \(pivot) is missing or could not be measured (see the warnings; choose another with --pivot)",
                                         file: corpus)
        }
    }

    func languageList() throws -> [String]? {
        guard let languages else { return nil }
        let list = languages.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if list.isEmpty { throw TokenKitError.usage("--languages is empty") }
        // The pivot is always measured.
        return list.contains(pivot) ? list : [pivot] + list
    }

    func warn(_ message: String) {
        if !runOptions.quiet { FileHandle.standardError.write(Data("tokenkit: warning: \(message)\n".utf8)) }
    }

    func emit(_ text: String) throws {
        if let output { return try writeOutput(output, text) }
        let out = try Output(path: nil)
        try out.write(text)
        try out.finish()
    }

    /// Writes a file atomically; devices and pipes (-o /dev/stdout, /dev/null) are written in place,
    /// never renamed over.
    func writeOutput(_ path: String, _ text: String) throws {
        var st = stat()
        if path == "-" { return try Output(path: nil).writeAndFinish(text) }
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            guard let h = FileHandle(forWritingAtPath: path) else {
                throw TokenKitError.badInput("cannot open for writing", file: path)
            }
            h.write(Data(text.utf8))
            try? h.close()
            return
        }
        try writeFileAtomically(path, Array(text.utf8), userOutput: true)
    }

    // MARK: Vocabulary-size study

    mutating func runTraining(sizes: String) throws {
        var algorithm = algorithm
        // `-m bpe` / `-m unigram` name the algorithm in this mode.
        for m in models where !fileExists(m) {
            if let a = VocabularyStudy.Algorithm(rawValue: m.lowercased()) { algorithm = a }
        }
        let parsed = try VocabularyStudy.parseSizes(sizes)
        var options = VocabularyStudy.Options()
        options.sizes = parsed
        options.algorithm = algorithm
        options.pivot = pivot
        options.targetTokens = targetTokens
        options.threads = runOptions.threads
        options.pipeline = try pipelineOptions.pipeline()
        let corpusData = try ParallelCorpus.load(corpus, only: try languageList())
        let quiet = runOptions.quiet
        let start = Date()
        let bar = Progress(total: 0, label: "training languages", quiet: quiet)
        let study = try VocabularyStudy(options: options).run(corpus: corpusData, trainingDir: train!) { bar.update($0, of: $1) }
        bar.finish()
        for p in study.problems { warn(p.description) }
        note("\(study.rows.count) languages trained at \(parsed.count) sizes in \(String(format: "%.1f", Date().timeIntervalSince(start))) s", quiet: quiet)
        try emit(study.render(format))
    }
}

extension VocabularyStudy.Algorithm: ExpressibleByArgument {}
