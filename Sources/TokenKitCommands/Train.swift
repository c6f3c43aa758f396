import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitModels
import TokenKitSentencePiece
import TokenKitSuperwords

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a tokenizer.",
        subcommands: [TrainBPE.self, TrainUnigram.self, TrainSuperBPE.self, TrainLM.self, TrainByteSpan.self])
}

/// Where training text comes from and how it is cut into words.
struct CorpusOptions: ParsableArguments {
    @OptionGroup var pipelineOptions: PipelineOptions

    @Option(help: "Split files into documents at this separator (escapes \\n, \\t, \\xNN allowed), e.g. '\\n\\n'. Default: a file is one document.")
    var documentSeparator: String?

    @Option(help: "Read JSONL: each line is a record whose string FIELD is one document.")
    var field: String?

    @Flag(help: "Each line is a document, with its line ending (as HF tokenizers trains from files). Counts then do not depend on how the text is cut into shards.")
    var lines = false

    func validate() throws {
        if lines && (documentSeparator != nil || field != nil) { throw ValidationError("--lines cannot be combined with --document-separator or --field") }
    }

    func pipeline() throws -> TrainingPipeline { try pipelineOptions.pipeline() }

    func separator() throws -> [UInt8]? {
        guard let s = documentSeparator else { return nil }
        var out: [UInt8] = []
        var chars = Array(s.utf8)[...]
        while let c = chars.popFirst() {
            guard c == UInt8(ascii: "\\"), let e = chars.popFirst() else { out.append(c); continue }
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "0"): out.append(0)
            case UInt8(ascii: "x"):
                guard chars.count >= 2, let v = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) else {
                    throw TokenKitError.usage("--document-separator: \\x needs two hex digits")
                }
                out.append(v)
                chars = chars.dropFirst(2)
            default: out.append(e)
            }
        }
        if out.isEmpty { throw TokenKitError.usage("--document-separator is empty") }
        return out
    }

    func count(_ files: [String], threads: Int, quiet: Bool) throws -> WordCounts {
        let p = try pipeline()
        let reader = CorpusReader(normalizer: p.normalizer, preTokenizer: p.preTokenizer, separator: try separator(),
                                  jsonField: field, unit: lines ? .lines : .documents, threads: threads)
        var all = WordCounts()
        for file in files {
            let progress = Progress(total: 0, label: "counting \(file)", quiet: quiet)
            do {
                let counts = try reader.countWords([file]) { progress.update($0, of: $1) }
                if files.count == 1 { all = counts } else { all.merge(counts) }
            } catch let e as TokenKitError {
                throw e.inFile(file)
            }
            progress.finish()
        }
        return all
    }
}

struct TrainBPE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpe",
        abstract: "Train a byte-level BPE tokenizer (tokenizer.json, optionally tiktoken ranks).",
        discussion: """
            Merges are written in training order. Ties between equally frequent pairs go to the pair with
            the smaller left id, then the smaller right id, so the same input gives the same merges for
            any --threads. Bytes are ids 0–255, merge i is id 256+i, special tokens come last.

            Examples:
              tokenkit train bpe --vocab-size 32000 -o tokenizer.json corpus.txt
              tokenkit train bpe --vocab-size 8000 --pre-tokenizer cl100k --special-tokens '<|endoftext|>' -o tok.json *.txt
              tokenkit train bpe --vocab-size 32000 --field text -o tok.json data.jsonl
              tokenkit train bpe --vocab-size 32000 --from-counts all.counts -o tok.json
              tokenkit train bpe --vocab-size 32000 --random-chunks paper --seed 1 --max-token-length 30 -o super.json corpus.txt

            --random-chunks (TokenAdapt's supertokens) trains on random windows of characters instead
            of pre-tokenized words, so merges may cross spaces; the tokenizer then has no pre-tokenizer.
            """)

    @Option(help: "Vocabulary size: 256 bytes + merges + special tokens.")
    var vocabSize = BPETrainer.Configuration.default.vocabSize

    @Option(name: .shortAndLong, help: "Output tokenizer.json (written atomically).")
    var output: String

    @Option(help: "Also write tiktoken ranks to this file.")
    var tiktoken: String?

    @Option(help: "Stop when the best pair occurs fewer times than this.")
    var minFrequency = BPETrainer.Configuration.default.minFrequency

    @Option(help: "Longest token in bytes (0 = no limit).")
    var maxTokenLength = BPETrainer.Configuration.default.maxTokenLength

    @Option(help: "Comma-separated special tokens, added after the merges.")
    var specialTokens: String?

    @Flag(help: "Character-level BPE with byte fallback (SentencePiece style) instead of byte-level.")
    var characterLevel = false

    @Option(help: "Character-level: the share of character occurrences the alphabet covers; rarer characters become <0xNN> byte tokens.")
    var characterCoverage = BPETrainer.Configuration.default.characterCoverage

    @Option(parsing: .upToNextOption, help: "Train from word-count files (from count-words / merge-counts) instead of text.")
    var fromCounts: [String] = []

    @Option(help: "Train on random character windows (TokenAdapt): paper (its 4–23 character distribution) or MIN-MAX (uniform).")
    var randomChunks: String?

    @Option(help: "Seed for --random-chunks.")
    var seed: UInt64 = 0

    @OptionGroup var corpus: CorpusOptions
    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Training text files.")
    var files: [String] = []

    func validate() throws {
        // Ids are 32-bit: a larger vocabulary could not be written, however long training ran.
        try requireRange("--vocab-size", vocabSize, 1...Int(Int32.max))
        if files.isEmpty && fromCounts.isEmpty { throw ValidationError("give training files or --from-counts") }
        if !files.isEmpty && !fromCounts.isEmpty { throw ValidationError("give training files or --from-counts, not both") }
        if minFrequency < 1 { throw ValidationError("--min-frequency must be at least 1") }
        try refuseRepeatedSpecials(specialTokens)
        if !(0...1).contains(characterCoverage) || characterCoverage == 0 { throw ValidationError("--character-coverage must be in (0, 1]") }
        if !characterLevel && characterCoverage != BPETrainer.Configuration.default.characterCoverage {
            throw ValidationError("--character-coverage applies to --character-level (a byte-level alphabet is all 256 bytes)")
        }
        if maxTokenLength < 0 { throw ValidationError("--max-token-length must be 0 (no limit) or more") }
        if characterLevel && tiktoken != nil { throw ValidationError("--tiktoken needs a byte-level model (drop --character-level)") }
        if randomChunks != nil && (!fromCounts.isEmpty || characterLevel || corpus.field != nil) {
            throw ValidationError("--random-chunks reads text files (not with --from-counts, --character-level or --field)")
        }
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output, tiktoken], inputs: files + fromCounts)
        let specials = specialTokens.map { $0.split(separator: ",").map(String.init) } ?? []
        var config = BPETrainer.Configuration()
        config.vocabSize = vocabSize
        config.minFrequency = minFrequency
        config.maxTokenLength = maxTokenLength
        config.specialTokens = specials
        config.characterLevel = characterLevel
        config.characterCoverage = characterCoverage
        if vocabSize < 256 + specials.count {
            throw TokenKitError.usage("--vocab-size \(vocabSize) is smaller than the 256 byte tokens plus \(specials.count) special tokens")
        }
        let pipeline = randomChunks == nil ? try corpus.pipeline() : try TrainingPipeline(preTokenizer: "none", normalizer: "none")
        let words: WordCounts
        let start = Date()
        if let randomChunks {
            let chunks = try RandomChunks.parse(randomChunks)
            var all = WordCounts()
            for f in files {
                do { all.merge(try chunks.countWords([f], seed: seed, threads: runOptions.threads)) } catch let e as TokenKitError { throw e.inFile(f) }
            }
            words = all
        } else if fromCounts.isEmpty {
            words = try corpus.count(files, threads: runOptions.threads, quiet: runOptions.quiet)
        } else {
            words = try MergeCounts.sum(fromCounts, expecting: pipeline.settings)
        }
        if words.count == 0 {
            throw TokenKitError.badInput("the corpus is empty: no text to train on", file: (files + fromCounts).first)
        }
        note("\(words.count) unique words counted in \(String(format: "%.1f", Date().timeIntervalSince(start))) s", quiet: runOptions.quiet)
        let progress = Progress(total: 0, label: "merging", quiet: runOptions.quiet)
        let result: BPETrainer.Result
        do {
            result = try BPETrainer(config).train(words: words) { progress.update($0, of: $1) }
        } catch let e as TokenKitError {
            throw e.kind == .usage ? e : e.inFile((files + fromCounts).joined(separator: ", "))
        }
        progress.finish()
        if result.tokens.count + specials.count < vocabSize {
            note("stopped at \(result.tokens.count + specials.count) tokens: no pair occurs \(minFrequency)+ times", quiet: runOptions.quiet)
        }
        let name = TokenizerLoader.displayName(output)
        let tok = try pipeline.tokenizer(result, specials: specials, name: name)
        var files = [(path: output, bytes: try TokenizerJSON.write(tok))]
        if let tiktoken { files.append((tiktoken, try TiktokenFormat.write(tok))) }
        try writeFilesAtomically(files, userOutput: true)
        if let tiktoken { rankFileNotes(tok, path: tiktoken, quiet: runOptions.quiet) }
    }
}

struct CountWords: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count-words",
        abstract: "Count pre-tokenized words into a compact file, for sharded training.",
        discussion: """
            Shards of a corpus can be counted on many machines, summed with merge-counts, and trained with
            train bpe --from-counts. The settings (pre-tokenizer, normalizer) are stored in the file and
            must match. With Spark: rdd.pipe("tokenkit count-words -o - -") per partition, or
            Hadoop streaming with this command as the mapper; then merge-counts the outputs.

            Examples:
              tokenkit count-words -o shard1.counts part-0001.txt
              cat part-*.txt | tokenkit count-words -o - -
            """)

    @Option(name: .shortAndLong, help: "Output word-count file (- for stdout).")
    var output: String

    @OptionGroup var corpus: CorpusOptions
    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Text files; - for stdin.")
    var files: [String] = ["-"]

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: files)
        let words = try corpus.count(files, threads: runOptions.threads, quiet: runOptions.quiet)
        try Output.write(WordCountFile.write(words, settings: try corpus.pipeline().settings), to: output)
    }
}

struct MergeCounts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-counts",
        abstract: "Sum word-count files made with the same settings.",
        discussion: """
            Example:
              tokenkit merge-counts -o all.counts shard*.counts
            """)

    @Option(name: .shortAndLong, help: "Output word-count file (- for stdout).")
    var output: String

    @Argument(help: "Word-count files.")
    var files: [String]

    @OptionGroup var quietOption: QuietOption

    static func sum(_ files: [String], expecting: String? = nil) throws -> WordCounts {
        var total = WordCounts()
        var settings = expecting
        for f in files {
            let (counts, s) = try WordCountFile.read(f)
            if let settings, s != settings {
                throw TokenKitError.badInput("counted with \(s), but \(settings) is expected", file: f)
            }
            settings = s
            total.merge(counts)
            if total.overflowed { throw TokenKitError.badInput("a word's summed count passes 64 bits", file: f) }
        }
        return total
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: files)
        guard let first = files.first else { throw TokenKitError.usage("give word-count files") }
        let settings = try WordCountFile.read(first).1
        try Output.write(WordCountFile.write(try MergeCounts.sum(files), settings: settings), to: output)
    }
}

enum UnigramNormalization: String, ExpressibleByArgument, CaseIterable {
    case nmtNfkc = "nmt_nfkc", identity
}

struct TrainUnigram: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unigram",
        abstract: "Train a Unigram LM tokenizer (SentencePiece's method) and write a SentencePiece .model.",
        discussion: """
            Each line of the input is a sentence, as for spm_train. Seed pieces come from frequent
            substrings (a suffix array), then EM with the digamma update and pruning by likelihood loss
            (shrinking factor 0.75) down to the vocabulary size. The .model loads in the sentencepiece
            package. The defaults are spm_train's: nmt_nfkc normalization (the table sentencepiece ships),
            extra white space removed, character coverage 0.9995, pieces up to 16 characters.

            The output's extension picks the format: .json writes an HF tokenizer.json Unigram model
            (same pieces, scores and ids), anything else a .model; --json writes both at once.

            Examples:
              tokenkit train unigram --vocab-size 8000 -o tok.model corpus.txt
              tokenkit train unigram --vocab-size 32000 --byte-fallback --character-coverage 0.9995 -o tok.model --json tokenizer.json *.txt
              tokenkit train unigram --vocab-size 32000 --byte-fallback --no-remove-extra-whitespaces --allow-whitespace-only-pieces -o code.model src.txt
              tokenkit train unigram --vocab-size 16000 --normalization identity -o raw.model corpus.txt
              tokenkit train unigram --vocab-size 16000 --normalization-from t5.model -o t5norm.model corpus.txt
            """)

    @Option(help: "Number of pieces, meta pieces included.")
    var vocabSize = UnigramTrainer.Configuration.default.vocabSize

    @Option(name: .shortAndLong, help: "Output SentencePiece .model (written atomically).")
    var output: String

    @Option(help: "Share of character occurrences the alphabet covers.")
    var characterCoverage = UnigramTrainer.Configuration.default.characterCoverage

    @Flag(help: "Characters outside the alphabet become <0xNN> byte pieces instead of <unk>.")
    var byteFallback = false

    @Option(help: "Longest piece, in characters.")
    var maxPieceLength = UnigramTrainer.Configuration.default.maxSentencepieceLength

    @Option(help: "Share of pieces kept at each pruning step.")
    var shrinkingFactor = UnigramTrainer.Configuration.default.shrinkingFactor

    @Option(help: "Comma-separated user-defined symbols (always single pieces).")
    var userDefinedSymbols: String?

    @Flag(inversion: .prefixedNo, help: "Drop leading and trailing spaces and fold runs of spaces (spm's remove_extra_whitespaces; default on, or the --normalization-from model's setting).")
    var removeExtraWhitespaces: Bool?

    @Flag(help: "Let runs of spaces be pieces of their own (spm's allow_whitespace_only_pieces).")
    var allowWhitespaceOnlyPieces = false

    @Flag(inversion: .prefixedNo, help: "Fail when the text cannot fill the vocabulary (spm's hard_vocab_limit); with --no-hard-vocab-limit the model has fewer pieces.")
    var hardVocabLimit = true

    @Option(help: "Longest sentence trained on, in bytes; longer lines are skipped.")
    var maxSentenceLength = UnigramTrainer.Configuration.default.maxSentenceLength

    @Option(help: "Also write the model as an HF tokenizer.json Unigram model to this path.")
    var json: String?

    @Option(help: "Normalization rule, as spm_train's --normalization_rule_name: nmt_nfkc (spm_train's default: NFKC and its NMT rules) or identity.")
    var normalization: UnigramNormalization = .nmtNfkc

    @Option(help: "Normalize as this SentencePiece .model does (its precompiled charsmap and flags); overrides --normalization.")
    var normalizationFrom: String?

    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Training text files (one sentence per line).")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give training files") }
        if !(0.5...1).contains(characterCoverage) { throw ValidationError("--character-coverage must be between 0.5 and 1") }
        if !(0.1..<1).contains(shrinkingFactor) { throw ValidationError("--shrinking-factor must be in [0.1, 1)") }
        // spm_train's ranges (trainer_interface.cc); the vocabulary size is an int32 in the .model.
        try requireRange("--vocab-size", vocabSize, 1...Int(Int32.max))
        try requireRange("--max-piece-length", maxPieceLength, 1...512)
        try requireRange("--max-sentence-length", maxSentenceLength, 10...(1 << 30))
    }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output, json], inputs: files)
        var config = UnigramTrainer.Configuration()
        config.vocabSize = vocabSize
        config.characterCoverage = characterCoverage
        config.byteFallback = byteFallback
        config.maxSentencepieceLength = maxPieceLength
        config.shrinkingFactor = shrinkingFactor
        config.threads = runOptions.threads
        config.userDefinedSymbols = (userDefinedSymbols ?? "").split(separator: ",").map { Array($0.utf8) }
        var normalizer = normalization == .identity ? UnigramTrainer.identityNormalizer : UnigramTrainer.nmtNfkcNormalizer
        if let normalizationFrom {
            do {
                normalizer = try SentencePieceModel.parse(try readFile(normalizationFrom)).normalizerSpec
            } catch let e as TokenKitError {
                throw e.inFile(normalizationFrom)
            }
        }
        if let removeExtraWhitespaces { normalizer.removeExtraWhitespaces = removeExtraWhitespaces }
        config.allowWhitespaceOnlyPieces = allowWhitespaceOnlyPieces
        config.hardVocabLimit = hardVocabLimit
        config.maxSentenceLength = maxSentenceLength
        let progress = Progress(total: 0, label: "train unigram", quiet: runOptions.quiet)
        if progress.enabled { config.log = { progress.status($0) } }
        var sentences: [[UInt8]] = []
        for file in files {
            let data = try readFile(file)
            for line in data.split(separator: 0x0A) {
                let l = line.last == 0x0D ? line.dropLast() : line
                if !l.isEmpty { sentences.append(Array(l)) }
            }
        }
        if sentences.isEmpty { throw TokenKitError.badInput("the corpus is empty: no text to train on", file: files[0]) }
        note("training on \(sentences.count) sentences", quiet: runOptions.quiet)
        let model: SentencePieceModel
        do {
            // Handed over, so that the lines are freed once their words are counted.
            model = try UnigramTrainer(config).trainModel(sentences: consume sentences, normalizer: normalizer)
            progress.finish()
        } catch let e as TokenKitError {
            progress.finish()
            throw e.kind == .usage ? e : e.inFile(files.joined(separator: ", "))
        }
        var files = [(path: output, bytes: output.hasSuffix(".json") ? try TokenizerJSON.writeSentencePiece(model) : model.serialized())]
        if let json { files.append((json, try TokenizerJSON.writeSentencePiece(model))) }
        try writeFilesAtomically(files, userOutput: true)
    }
}
