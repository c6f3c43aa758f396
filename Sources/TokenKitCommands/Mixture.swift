import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitMixture
import TokenKitModels

/// `--category NAME=PATH`, repeated.
func parseCategories(_ specs: [String]) throws -> [MixtureInference.Category] {
    var out: [MixtureInference.Category] = []
    for spec in specs {
        guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex else {
            throw TokenKitError.usage("--category \(spec): expected NAME=PATH")
        }
        let name = String(spec[..<eq])
        if out.contains(where: { $0.name == name }) { throw TokenKitError.usage("--category \(name) is given twice") }
        out.append(.init(name: name, path: String(spec[spec.index(after: eq)...])))
    }
    return out
}

/// Options shared by `mixture` and `mixture-eval`.
struct MixtureOptions: ParsableArguments {
    @Option(help: "Use the first T merges (default: all, at most 30000).")
    var merges: Int?

    @Option(help: "Read at most B bytes of each category file, cut at a line end (suffixes k, M, G: 1G = 1 GiB). Files are streamed: memory does not grow with B.")
    var sampleBytes: ByteCount?

    @Option(help: "How samples are cut before counting: lines (each line separately, as HF tokenizers' train(files) does), documents (whole files, as tokenkit train does) or auto (lines when the vocabulary suggests an HF-trained tokenizer, else documents).")
    var units: UnitsChoice = .auto

    enum UnitsChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, lines, documents
    }

    @Option(help: "Cut each category's sample into K consecutive blocks (of at least 64 KiB) and let the training text hold any mixture of a category's blocks, weighed on the first 3000 merges; 1 = the whole sample stands for its category (Hayase et al.'s model). Blocks help when the training text holds a few documents of a category rather than a draw across it, and did no harm elsewhere.")
    var blocks = MixtureInference.Configuration.default.blocks

    @Option(help: .hidden) var blockMerges: Int?

    @Option(help: "Stop solving by this many seconds (from the start of counting) and report the best mixture found, with how far its objective may be from the optimum (a warning on stderr; JSON: time_limit_reached, relative_gap). The solver stops before a round that could end past the limit (judged as twice the last round); its first round always runs, so a tight limit may be passed. With blocks, the blocks' program gets the first half. Default: solve to the optimum.")
    var timeLimit: Double?

    @Flag(help: .hidden) var solverLog = false
    @Option(help: .hidden) var solver: Solver = .matching
    @Option(help: .hidden) var clpTolerance: Double?
    @Option(help: .hidden) var saveLPs: String?
    @Option(help: .hidden) var warmHorizon: Int?
    @Option(help: .hidden) var warmEntries: Int?
    @Option(help: .hidden) var normalize: MixtureInference.Normalization = .pairs
    @Option(help: .hidden) var stepWeightPower: Double?
    @Option(help: .hidden) var pricing: Pricing?

    enum Pricing: String, ExpressibleByArgument {
        case dantzig, steepest
    }

    enum Solver: String, ExpressibleByArgument {
        case matching, sweeps
    }

    func validate() throws {
        if let merges, merges < 1 { throw ValidationError("--merges must be at least 1") }
        if let sampleBytes { try requireRange("--sample-bytes", sampleBytes, ByteCount(1)...ByteCount.maxSample) }
        try requireRange("--blocks", blocks, 1...256)
        if let blockMerges { try requireRange("--block-merges", blockMerges, 1...MixtureInference.Configuration.maxMerges) }
        if let timeLimit, !(timeLimit > 0 && timeLimit.isFinite) { throw ValidationError("--time-limit must be a positive number of seconds") }
        if timeLimit != nil && solver != .matching { throw ValidationError("--time-limit needs the matching solver") }
    }

    func configuration(threads: Int) -> MixtureInference.Configuration {
        var c = MixtureInference.Configuration()
        c.merges = merges.map { min($0, MixtureInference.Configuration.maxMerges) }
        c.sampleBytes = sampleBytes?.value
        c.units = SampleUnits(rawValue: units.rawValue)
        c.threads = threads
        c.blocks = blocks
        if let blockMerges { c.blockMerges = blockMerges }
        c.timeLimit = timeLimit
        // Experiment knobs (hidden): the solver's log on stderr, row generation by sweeps, CLP.
        if solverLog { c.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        c.matching = solver == .matching
        if let clpTolerance { c.lp.tolerance = clpTolerance }
        c.lp.saveDirectory = saveLPs
        if let warmHorizon { c.warmHorizon = warmHorizon }
        if let warmEntries { c.warmEntries = warmEntries }
        c.normalization = normalize
        c.stepWeightPower = stepWeightPower
        if let pricing { c.lp.dantzigPricing = pricing == .dantzig }
        return c
    }
}

/// Draws the stages of an inference as progress bars on stderr (terminals only).
final class MixtureProgress {
    let quiet: Bool
    var bar: Progress?
    var stage: MixtureInference.Stage?
    init(quiet: Bool) { self.quiet = quiet }
    func callAsFunction(_ stage: MixtureInference.Stage, _ done: Int, _ total: Int) {
        if stage != self.stage {
            bar?.finish()
            bar = Progress(total: total, label: stage.rawValue, quiet: quiet)
            self.stage = stage
        }
        bar?.update(done, of: total)
    }
    func finish() { bar?.finish() }
}

struct Mixture: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Infer the data mixture a BPE tokenizer was trained on (Hayase et al. 2024).",
        discussion: """
            Each category file is pre-tokenized like the tokenizer's training text; the tokenizer's merges
            are replayed on it, recording how every pair count changes; a linear program (COIN-OR CLP)
            then finds the mixture weights under which each merge was the most frequent pair at its
            step, with slacks, adding violated constraints lazily until none is left. Proportions are
            shares of bytes.

            Columns: "bytes share" is the inferred share of each category in the training text's bytes
            (the answer); "pair share" is the LP's own variable, the category's share of the normalized
            pair counts, before it is converted to bytes (each category's pairs per byte differ). JSON
            and TSV give both (proportions / pair_shares).

            Blocks (--blocks K, default 16) drop the paper's assumption that a category's share of the
            training text is a draw across its whole sample. Each sample is cut into K consecutive blocks
            (of at least 64 KiB, so small samples get fewer); a first program over the blocks and the
            first 3000 merges weighs them (JSON: block_weights), and the program over all merges is then
            solved with each category as its blocks so weighted. The training text may hold a few
            documents of a category rather than a spread of it (a tokenizer trained on little text, or
            on part of what you hold): on 6 MiB tokenizers with code and English domains, log10 MSE went
            from -5.2 with --blocks 1 to -6.6, and where shares are spread it was no worse
            (BENCHMARKS.md). Each block keeps its own word counts and replay, so memory grows with K on
            large samples (10 x 3 MiB: 0.63 GB with 16 blocks, 0.38 GB without); --blocks 1 is Hayase
            et al.'s program alone. With many categories (20 or more) on a tokenizer they explain
            poorly (a real tokenizer such as cl100k), solving to the optimum can take an hour:
            --time-limit SECONDS returns the best mixture found by then, with its gap to the optimum
            (cl100k with 21 categories: --time-limit 120 ends after 168 s, a relative gap of 0.6).

            Examples:
              tokenkit mixture -m tokenizer.json --category en=en.txt --category de=de.txt --category code=code.txt
              tokenkit mixture -m tok.json --blocks 1 --format json --category py=python.txt --category news=news.txt
              tokenkit mixture -m tok.json --merges 3000 --sample-bytes 10000000 --format tsv --category en=en.txt --category code=code.txt
              tokenkit mixture -m tok.json --sample-bytes 1G --category en=en-web.txt --category code=github.txt
              tokenkit mixture -m cl100k_base.tiktoken --time-limit 300 --format json --category en=en.txt --category de=de.txt --category code=code.txt
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("category"), help: "A category and its sample text: NAME=PATH (repeat).")
    var categories: [String] = []

    @OptionGroup var options: MixtureOptions

    @Option(help: "Output format: text, json or tsv.")
    var format: DataFormat = .text

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if categories.isEmpty { throw ValidationError("give at least one --category NAME=PATH") }
    }

    mutating func run() throws {
        let cats = try parseCategories(categories)
        let tok = try model.load()
        let inference = MixtureInference(options.configuration(threads: runOptions.threads))
        let progress = MixtureProgress(quiet: runOptions.quiet)
        let result: MixtureInference.Result
        do {
            result = try inference.infer(tokenizer: tok, categories: cats) { progress($0, $1, $2) }
        } catch let e as TokenKitError where e.file == nil && e.kind == .badInput {
            throw e.inFile(model.model)
        }
        progress.finish()
        if result.timedOut {
            let gap = result.relativeGap.map { String(format: "%.2g", $0) } ?? "unknown"
            note("warning: mixture: --time-limit reached before the optimum: the objective is within a relative \(gap) of it; "
                 + "the shares may still move with more time", quiet: runOptions.quiet)
        }
        let out = try Output(path: nil)
        switch format {
        case .json: try out.write(Mixture.json(result))
        case .tsv: try out.write(Mixture.tsv(result))
        case .text: try out.write(Mixture.text(result))
        }
        try out.finish()
    }

    static func json(_ r: MixtureInference.Result) -> String {
        func shares(_ v: [Double]) -> String {
            zip(r.names, v).map { "\n    \(jsonString($0.0)): \(number($0.1))" }.joined(separator: ",") + "\n  "
        }
        return "{\n  \"proportions\": {\(shares(r.proportions))},\n  \"objective\": \(number(r.objective)),\n"
            + "  \"constraints\": \(r.constraints),\n  \"pair_shares\": {\(shares(r.pairShares))},\n"
            + "  \"merges\": \(r.merges),\n  \"skipped_merges\": \(r.skippedMerges),\n  \"pair_slacks\": \(r.pairSlacks),\n"
            + "  \"solves\": \(r.solves),\n  \"sweeps\": \(r.sweeps),\n  \"units\": \(jsonString(r.units.rawValue)),\n"
            + (r.relativeGap.map { "  \"relative_gap\": \(number($0)),\n" } ?? "")
            + "  \"time_limit_reached\": \(r.timedOut),\n"
            + "  \"sample_bytes\": {\(zip(r.names, r.sampleBytes).map { "\n    \(jsonString($0.0)): \($0.1)" }.joined(separator: ","))\n  }"
            + (r.blockWeights.map { w in
                ",\n  \"block_weights\": {" + zip(r.names, w).map { "\n    \(jsonString($0.0)): [\($0.1.map(number).joined(separator: ", "))]" }
                    .joined(separator: ",") + "\n  }" } ?? "") + "\n}\n"
    }

    static func tsv(_ r: MixtureInference.Result) -> String {
        "category\tbytes_share\tpair_share\tsample_bytes\n"
            + r.names.indices.map { "\(Info.tsvField(r.names[$0]))\t\(number(r.proportions[$0]))\t\(number(r.pairShares[$0]))\t\(r.sampleBytes[$0])\n" }.joined()
    }

    static func text(_ r: MixtureInference.Result) -> String {
        let width = max(8, r.names.map(\.count).max() ?? 0)
        var s = "category".padding(toLength: width, withPad: " ", startingAt: 0) + "  bytes share  pair share\n"
        for i in r.names.indices {
            s += r.names[i].padding(toLength: width, withPad: " ", startingAt: 0)
                + String(format: "  %11.6f  %10.6f\n", r.proportions[i], r.pairShares[i])
        }
        s += "objective \(number(r.objective)), \(r.constraints) constraints, \(r.merges) merges"
        if r.skippedMerges > 0 { s += " (\(r.skippedMerges) not seen in the samples)" }
        s += ", \(r.solves) LP solves over \(r.sweeps) sweeps, counted by \(r.units.rawValue)\n"
        if r.timedOut, let gap = r.relativeGap { s += String(format: "stopped at --time-limit: objective within a relative %.2g of the optimum\n", gap) }
        return s
    }

    static func number(_ x: Double) -> String {
        if x == 0 { return "0" }
        return String(format: "%.9g", x)
    }
}

struct MixtureEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixture-eval",
        abstract: "Measure mixture inference on tokenizers trained on random known mixtures.",
        discussion: """
            Each trial draws --mix categories and weights uniform on the simplex (seeded by --seed), writes
            --train-bytes of training text with those byte shares from the first half of each category file
            (repeating it if short), trains a BPE tokenizer (tokenkit's trainer, or HF tokenizers with
            --trainer hf: byte-level BPE trained line by line, after --pre-tokenizer's split, by default
            GPT-2's with digit runs split first), infers the mixture from the second halves, and prints
            log10 of the mean squared error per trial and the mean.

            Tokenizers trained on a few MB with samples much larger than their share (e.g. --train-bytes 6M
            against 3 MiB files) make the solve heavier (100+ million (merge, pair) edges at --merges 30000,
            matched without listing them: 20-70 s and under 0.5 GB per trial, 5 or 10 categories) and the estimate coarser
            (log10 MSE about -5.2 instead of -6.3 at 32 MiB): a small share drawn as the head of its file
            is a few dozen contiguous chunks whose pair counts differ from the file's. Blocks (the
            default --blocks 16) model that (-6.6); --draw lines (a random sample of lines) gives about
            -6.3 at 6 MiB either way (BENCHMARKS.md, issue 19).

            --overlap follows Hayase et al.'s protocol for categories smaller than their share: the training
            text repeats each whole category file as often as its share needs, and the whole file is the
            sample. With --train-bytes well above the category sizes (e.g. 64 MiB for 3 MiB files) the
            tokenizer's counts are then close to a mixture of the samples' counts; the default (disjoint
            halves) measures how far two different 1.5 MiB draws of the same category disagree.

            Categories: --category NAME=PATH (repeat), or every *.txt in --data (or *.txt.xz, unpacked to a
            temporary folder), optionally only names starting with --include.

            Example:
              tokenkit mixture-eval --data /data/mixture_categories --include lang_ --mix 5 --trials 10 --trainer hf
              tokenkit mixture-eval --data /data/mixture_categories --include lang_ --mix 10 --trainer hf --overlap --train-bytes 67108864 --merges 3000
              tokenkit mixture-eval --data /data/mixture_categories --include code_,en_,lang_de,lang_ja --mix 5 --trainer hf --pre-tokenizer cl100k --overlap --train-bytes 32M --merges 30000
              tokenkit mixture-eval --data /data/mixture_categories --include code_,en_ --mix 5 --trainer hf --pre-tokenizer gpt2 --overlap --train-bytes 6M --draw lines
              tokenkit mixture-eval --data /data/mixture_categories --include code_,en_,lang_de --mix 5 --trainer hf --pre-tokenizer gpt2 --overlap --train-bytes 6M --blocks 1
            """)

    @Option(name: .customLong("category"), help: "A category: NAME=PATH (repeat).")
    var categories: [String] = []

    @Option(help: "A folder of category files NAME.txt (or NAME.txt.xz).")
    var data: String?

    @Option(help: "Only categories whose names start with one of these comma-separated prefixes.")
    var include: String?

    @Option(help: "Categories per mixture.")
    var mix = 5

    @Option(help: "Number of trials.")
    var trials = 10

    @Option(help: "Random seed for the categories and weights.")
    var seed: UInt64 = 0

    @Option(help: "Trainer: tokenkit or hf (the `tokenizers` Python package).")
    var trainer: MixtureExperiment.Trainer = .tokenkit

    @Option(help: "Python interpreter for --trainer hf.")
    var python = "python3"

    @Option(help: "Vocabulary size of the trained tokenizers.")
    var vocabSize = 30_256

    @Option(help: "Bytes of training text per trial (suffixes k, M, G: 6M = 6 MiB).")
    var trainBytes: ByteCount = ByteCount(4 << 20)

    @Option(help: "Pre-tokenizer of --trainer hf: gpt2 (GPT-2's regex), cl100k or o200k (their regexes), digits (GPT-2's after digit runs are split, as Hayase et al.).")
    var preTokenizer: MixtureExperiment.PreTokenizer = .digits

    @Option(help: .hidden) var keepTrials: String?
    @Option(help: "How a category's share of the training text is drawn beyond whole copies of its file: head (its first bytes) or lines (random lines; seeded by --seed).")
    var draw: MixtureExperiment.Draw = .head

    @Flag(help: "Use whole category files both to train (repeated to their share) and to infer, as Hayase et al. (default: first half trains, second half is the sample).")
    var overlap = false

    @OptionGroup var options: MixtureOptions

    @Option(help: "Output format: text (each trial as it ends, then the mean), json or tsv (a row per trial).")
    var format: DataFormat = .text

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if categories.isEmpty && data == nil { throw ValidationError("give --category NAME=PATH or --data DIR") }
        if mix < 2 { throw ValidationError("--mix must be at least 2") }
        if trials < 1 { throw ValidationError("--trials must be at least 1") }
        if vocabSize < 257 { throw ValidationError("--vocab-size must be above 256") }
        // The training text of a trial is held in memory.
        try requireRange("--train-bytes", trainBytes, ByteCount(1)...ByteCount.memory)
        if preTokenizer != .digits && trainer != .hf { throw ValidationError("--pre-tokenizer needs --trainer hf (tokenkit's trainer splits with r50k)") }
    }

    mutating func run() throws {
        var cats = try parseCategories(categories)
        let unpacked = try MixtureExperiment.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: unpacked) }
        if let data { cats += try MixtureExperiment.folder(data, temp: unpacked) }
        if let include {
            let prefixes = include.split(separator: ",").map(String.init)
            cats = cats.filter { c in prefixes.contains { c.name.hasPrefix($0) } }
        }
        var config = MixtureExperiment.Configuration()
        config.mix = mix
        config.trials = trials
        config.seed = seed
        config.trainer = trainer
        config.python = python
        config.vocabSize = vocabSize
        config.trainBytes = trainBytes.value
        config.preTokenizer = preTokenizer
        config.overlap = overlap
        config.keepFolder = keepTrials
        config.draw = draw
        config.inference = options.configuration(threads: runOptions.threads)
        let bar = Progress(total: trials, label: "trials", quiet: runOptions.quiet)
        let summary = try MixtureExperiment(config).run(cats) { k, r in
            bar.update(k + 1)
            guard format == .text else { return }
            // Each trial as it ends: long runs show their results so far.
            bar.finish()
            let line = String(format: "trial %3d  log10 MSE %7.3f  %5.1f s  ", k, r.logMSE, r.seconds)
                + zip(r.categories, zip(r.truth, r.estimate)).map { String(format: "%@ %.4f→%.4f", $0.0, $0.1.0, $0.1.1) }
                .joined(separator: ", ")
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        bar.finish()
        let rows = summary.trials
        let (mean, sd) = (summary.meanLogMSE, summary.sdLogMSE)
        let out = try Output(path: nil)
        if format == .tsv {
            try out.write("trial\tlog10_mse\tseconds\tcategories\ttruth\testimate\n")
            for (k, r) in rows.enumerated() {
                try out.write("\(k)\t\(Mixture.number(r.logMSE))\t\(String(format: "%.2f", r.seconds))\t\(r.categories.joined(separator: ","))\t"
                    + r.truth.map { Mixture.number($0) }.joined(separator: ",") + "\t" + r.estimate.map { Mixture.number($0) }.joined(separator: ",") + "\n")
            }
        } else if format == .json {
            let trialsJSON = rows.enumerated().map { k, r in
                "\n    {\"trial\": \(k), \"categories\": [\(r.categories.map(jsonString).joined(separator: ", "))], "
                    + "\"truth\": [\(r.truth.map { Mixture.number($0) }.joined(separator: ", "))], "
                    + "\"estimate\": [\(r.estimate.map { Mixture.number($0) }.joined(separator: ", "))], "
                    + "\"log10_mse\": \(Mixture.number(r.logMSE)), \"seconds\": \(String(format: "%.2f", r.seconds))}"
            }.joined(separator: ",")
            try out.write("{\n  \"trainer\": \(jsonString(trainer.rawValue)), \"mix\": \(mix), \"seed\": \(seed),\n  \"trials\": [\(trialsJSON)\n  ],\n"
                + "  \"mean_log10_mse\": \(Mixture.number(mean)),\n  \"sd_log10_mse\": \(Mixture.number(sd))\n}\n")
        } else {
            try out.write(String(format: "mean log10 MSE %.3f ± %.3f over %d trials (%@ trainer, %d categories per mixture)\n",
                                 mean, sd, rows.count, trainer.rawValue, mix))
        }
        try out.finish()
    }
}

extension MixtureExperiment.Trainer: ExpressibleByArgument {}
extension MixtureExperiment.PreTokenizer: ExpressibleByArgument {}
extension MixtureInference.Normalization: ExpressibleByArgument {}
extension MixtureExperiment.Draw: ExpressibleByArgument {}

/// A byte count with an optional binary suffix: 4096, 64k, 6M, 1G (KiB, MiB, GiB).
struct ByteCount: ExpressibleByArgument, Sendable, Comparable, CustomStringConvertible {
    var value: Int
    init(_ value: Int) { self.value = value }

    /// Samples are streamed, so any size works; 1 PiB (1048576G) bounds it far from overflow.
    static let maxSample = ByteCount(1 << 50)
    /// This machine's memory, for sizes held in memory.
    static var memory: ByteCount { ByteCount(Int(clamping: ProcessInfo.processInfo.physicalMemory) & ~((1 << 20) - 1)) }

    static func < (a: ByteCount, b: ByteCount) -> Bool { a.value < b.value }

    /// The value with the largest suffix that writes it exactly (1G, 6M, 4097).
    var description: String {
        for (suffix, shift) in [("G", 30), ("M", 20), ("k", 10)] where value != 0 && value % (1 << shift) == 0 {
            return "\(value >> shift)\(suffix)"
        }
        return "\(value)"
    }

    init?(argument: String) {
        let units: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30]
        var digits = Substring(argument)
        var unit = 1
        if let last = digits.last, let u = units[last] {
            unit = u
            digits = digits.dropLast()
        }
        guard let n = Int(digits), n >= 0, n <= Int.max / unit else { return nil }
        value = n * unit
    }
    var defaultValueDescription: String { "\(value)" }
}
