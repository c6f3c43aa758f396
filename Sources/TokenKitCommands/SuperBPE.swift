import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitModels
import TokenKitSuperwords

struct TrainSuperBPE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "superbpe",
        abstract: "Train a SuperBPE tokenizer: BPE up to --transition merges, then merges that may span spaces.",
        discussion: """
            Stage 1 is byte-level BPE under --pre-tokenizer (default: superbpe, the paper's o200k-style
            pattern without contractions) up to T = --transition merges, or the first T merges of
            --from-merges (tokenizer.json, merges.txt or tiktoken ranks). Stage 2 re-counts the text
            under the superword split (\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]{2,}[\\r\\n/]*| +(?!\\S)), replays
            the T merges in order and keeps merging up to --vocab-size, refusing new tokens that contain
            ": " or more than --max-words words. Each line is a document (as HF tokenizers trains),
            unless --document-separator is given.

            T counts merges (the reference's `head -n T merges.txt` keeps T - 1, its header being a
            line). An inherited merge that never occurs in stage 2 is kept, so the first ids are the
            stage-1 tokenizer's; --drop-unused-merges drops it and renumbers later tokens, as the
            reference does. Ties go to the smaller left id, then right id (bytes are ids 0–255).

            Examples:
              tokenkit train superbpe --vocab-size 32000 --transition 22400 -o super.json corpus.txt
              tokenkit train superbpe --vocab-size 200000 --transition 80000 --from-merges bpe.json -o super.json --tiktoken super.tiktoken data/*.txt
              tokenkit train superbpe --vocab-size 32000 --transition 16000 --from-stage2-counts shard*.counts --from-merges bpe.json -o super.json
            """)

    @Option(help: "Vocabulary size: 256 bytes + merges + special tokens.")
    var vocabSize = 32_768

    @Option(help: "Transition point: the number of stage-1 merges kept before superword merges start.")
    var transition: Int

    @Option(name: .shortAndLong, help: "Output tokenizer.json (written atomically).")
    var output: String

    @Option(help: "Also write tiktoken ranks to this file.")
    var tiktoken: String?

    @Option(help: "Take stage 1's merges from this tokenizer (tokenizer.json, merges.txt or tiktoken ranks) instead of training them.")
    var fromMerges: String?

    @Option(parsing: .upToNextOption, help: "Stage-2 word counts (from count-superwords / merge-counts) instead of re-reading the text; needs --from-merges.")
    var fromStage2Counts: [String] = []

    @Option(help: "Most space-separated words in a stage-2 token (the paper's 4).")
    var maxWords = 4

    @Flag(help: "Allow stage-2 tokens containing \": \" (the paper forbids them).")
    var allowColonSpace = false

    @Flag(help: "Drop inherited merges that never occur in stage 2 (the reference's behaviour; later ids shift).")
    var dropUnusedMerges = false

    @Option(help: "Stop when the best pair occurs fewer times than this.")
    var minFrequency: Int64 = 2

    @Option(help: "Comma-separated special tokens, added after the merges.")
    var specialTokens: String?

    @Option(help: "Stage-1 pre-tokenizer: superbpe, r50k, cl100k, o200k, whitespace or regex:PATTERN.")
    var preTokenizer = "superbpe"

    @Option(help: "Normalizer: none, nfc, nfd, nfkc, nfkd or lowercase.")
    var normalizer = "none"

    @Option(help: "Split files into documents at this separator (escapes \\n, \\t, \\xNN allowed). Default: each line is a document.")
    var documentSeparator: String?

    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Training text files.")
    var files: [String] = []

    func validate() throws {
        // Ids are 32-bit: a larger vocabulary could not be written, however long training ran.
        try requireRange("--vocab-size", vocabSize, 1...Int(Int32.max))
        if files.isEmpty && fromStage2Counts.isEmpty { throw ValidationError("give training files or --from-stage2-counts") }
        if !fromStage2Counts.isEmpty && fromMerges == nil { throw ValidationError("--from-stage2-counts needs --from-merges (stage 1 needs the text)") }
        if !fromStage2Counts.isEmpty && !files.isEmpty { throw ValidationError("give training files or --from-stage2-counts, not both") }
        if transition < 0 { throw ValidationError("--transition must be at least 0") }
        if maxWords < 1 { throw ValidationError("--max-words must be at least 1") }
        if minFrequency < 1 { throw ValidationError("--min-frequency must be at least 1") }
        try refuseRepeatedSpecials(specialTokens)
        // Stage 2 reads the text a second time, which standard input cannot give.
        if files.contains("-") { throw ValidationError("train superbpe reads its text twice: give files, not - (e.g. save stdin to a file first)") }
        // Written so that no sum can overflow (--transition 2^63-1 is a number like any other).
        if vocabSize < 256 || transition > vocabSize - 256 { throw ValidationError("--transition \(transition) leaves no room: 256 + T must not exceed --vocab-size \(vocabSize)") }
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output, tiktoken], inputs: files)
        let specials = specialTokens.map { $0.split(separator: ",").map(String.init) } ?? []
        let quiet = runOptions.quiet
        let separator = try SuperwordCorpus.separator(documentSeparator)
        var clock = Date()
        func lap() -> String {
            let s = String(format: "%.1f s", Date().timeIntervalSince(clock))
            clock = Date()
            return s
        }

        // Stage 1.
        var inherited: [([UInt8], [UInt8])]
        if let fromMerges {
            inherited = try MergeSource.read(fromMerges)
            guard inherited.count >= transition else {
                throw TokenKitError.badInput("has \(inherited.count) merges, fewer than --transition \(transition)", file: fromMerges)
            }
            inherited = Array(inherited.prefix(transition))
        } else {
            let pipeline = try TrainingPipeline(preTokenizer: preTokenizer, normalizer: normalizer)
            let words = try SuperwordCorpus.count(files, pipeline: pipeline, separator: separator, threads: runOptions.threads, quiet: quiet)
            if words.count == 0 { throw TokenKitError.badInput("the corpus is empty: no text to train on", file: files.first) }
            var config = BPETrainer.Configuration()
            config.vocabSize = 256 + transition
            config.minFrequency = minFrequency
            let progress = Progress(total: 0, label: "stage 1", quiet: quiet)
            let r = try BPETrainer(config).train(words: words) { progress.update($0, of: $1) }
            progress.finish()
            inherited = r.merges.map { (r.tokens[Int($0.0)], r.tokens[Int($0.1)]) }
            note("stage 1: \(words.count) unique words, \(inherited.count) merges in \(lap())", quiet: quiet)
        }

        // Stage 2.
        let superword = try TrainingPipeline(preTokenizer: "superword", normalizer: normalizer)
        let words: WordCounts
        if fromStage2Counts.isEmpty {
            words = try SuperwordCorpus.count(files, pipeline: superword, separator: separator, threads: runOptions.threads, quiet: quiet)
        } else {
            words = try MergeCounts.sum(fromStage2Counts, expecting: SuperwordCorpus.settings(superword, separator: separator))
        }
        if words.count == 0 { throw TokenKitError.badInput("the corpus is empty: no text to train on", file: (files + fromStage2Counts).first) }
        note("stage 2: \(words.count) unique superword pieces (\(words.totalBytes) bytes) counted in \(lap())", quiet: quiet)
        var config = SuperBPETrainer.Configuration()
        config.vocabSize = vocabSize
        config.minFrequency = minFrequency
        config.maxWords = maxWords
        config.forbidColonSpace = !allowColonSpace
        config.dropUnusedMerges = dropUnusedMerges
        config.specialTokens = specials
        config.threads = runOptions.threads
        let progress = Progress(total: 0, label: "stage 2", quiet: quiet)
        let result: BPETrainer.Result
        do {
            result = try SuperBPETrainer(config).train(words: words, inherited: inherited) { progress.update($0, of: $1) }
        } catch let e as TokenKitError {
            throw e.kind == .usage ? e : e.inFile(fromMerges ?? (files + fromStage2Counts).joined(separator: ", "))
        }
        progress.finish()
        note("stage 2: \(result.merges.count) merges in \(lap())", quiet: quiet)
        if result.tokens.count + specials.count < vocabSize {
            note("stopped at \(result.tokens.count + specials.count) tokens: no allowed pair occurs \(minFrequency)+ times", quiet: quiet)
        }
        let tok = try superword.tokenizer(result, specials: specials, name: TokenizerLoader.displayName(output))
        try writeFileAtomically(output, try TokenizerJSON.write(tok), userOutput: true)
        if let tiktoken {
            try writeFileAtomically(tiktoken, try TiktokenFormat.write(tok), userOutput: true)
            rankFileNotes(tok, path: tiktoken, quiet: quiet)
        }
    }
}

struct CountSuperwords: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count-superwords",
        abstract: "Count SuperBPE stage-2 pieces (lines as documents) into a word-count file, for sharded training.",
        discussion: """
            Shards are counted separately, summed with merge-counts, and trained with
            train superbpe --from-stage2-counts --from-merges.

            Examples:
              tokenkit count-superwords -o shard1.counts part-0001.txt
              tokenkit merge-counts -o all.counts shard*.counts
            """)

    @Option(name: .shortAndLong, help: "Output word-count file (- for stdout).")
    var output: String

    @Option(help: "Normalizer: none, nfc, nfd, nfkc, nfkd or lowercase.")
    var normalizer = "none"

    @Option(help: "Split files into documents at this separator. Default: each line is a document.")
    var documentSeparator: String?

    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Text files; - for stdin.")
    var files: [String] = ["-"]

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: files)
        let pipeline = try TrainingPipeline(preTokenizer: "superword", normalizer: normalizer)
        let separator = try SuperwordCorpus.separator(documentSeparator)
        let words = try SuperwordCorpus.count(files, pipeline: pipeline, separator: separator, threads: runOptions.threads, quiet: runOptions.quiet)
        try Output.write(WordCountFile.write(words, settings: SuperwordCorpus.settings(pipeline, separator: separator)), to: output)
    }
}

enum SuperwordCorpus {
    static func separator(_ s: String?) throws -> [UInt8]? {
        guard let s else { return nil }
        var options = try CorpusOptions.parse([])
        options.documentSeparator = s
        return try options.separator()
    }

    static func settings(_ pipeline: TrainingPipeline, separator: [UInt8]?) -> String {
        pipeline.settings + " documents=" + (separator.map { "separator:" + $0.map { String(format: "%02x", $0) }.joined() } ?? "lines")
    }

    static func count(_ files: [String], pipeline: TrainingPipeline, separator: [UInt8]?, threads: Int, quiet: Bool) throws -> WordCounts {
        var all = WordCounts()
        for file in files {
            let progress = Progress(total: 0, label: "counting \(file)", quiet: quiet)
            do {
                // Each line is a document (as HF `train(files)`, which the SuperBPE reference
                // uses) unless a separator says otherwise.
                let counts = try CorpusReader(normalizer: pipeline.normalizer, preTokenizer: pipeline.preTokenizer, separator: separator,
                                              unit: separator == nil ? .lines : .documents, threads: threads)
                    .countWords([file]) { progress.update($0, of: $1) }
                if files.count == 1 { all = counts } else { all.merge(counts) }
            } catch let e as TokenKitError {
                throw e.inFile(file)
            }
            progress.finish()
        }
        return all
    }
}
