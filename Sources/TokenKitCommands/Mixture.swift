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

    @Option(help: "Read at most B bytes of each category file (cut at a line end).")
    var sampleBytes: Int?

    @Option(help: "Count each line separately (as HF tokenizers' train(files) does), or whole documents (as tokenkit train). Default: auto, from the vocabulary.")
    var units: String = "auto"

    func validate() throws {
        if let merges, merges < 1 { throw ValidationError("--merges must be at least 1") }
        if let sampleBytes, sampleBytes < 1 { throw ValidationError("--sample-bytes must be at least 1") }
        if units != "auto" && SampleUnits(rawValue: units) == nil { throw ValidationError("--units must be auto, lines or documents") }
    }

    func configuration(threads: Int) -> MixtureInference.Configuration {
        var c = MixtureInference.Configuration()
        c.merges = merges.map { min($0, MixtureInference.Configuration.maxMerges) }
        c.sampleBytes = sampleBytes
        c.units = SampleUnits(rawValue: units)
        c.threads = threads
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

            Examples:
              tokenkit mixture -m tokenizer.json --category en=en.txt --category de=de.txt --category code=code.txt
              tokenkit mixture -m tok.json --merges 3000 --sample-bytes 10000000 --format json --category ...
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("category"), help: "A category and its sample text: NAME=PATH (repeat).")
    var categories: [String] = []

    @OptionGroup var options: MixtureOptions

    @Option(help: "Output format: text or json.")
    var format: DataFormat = .text

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if categories.isEmpty { throw ValidationError("give at least one --category NAME=PATH") }
        if format == .tsv { throw ValidationError("--format must be text or json") }
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
        let out = try Output(path: nil)
        try out.write(format == .json ? Mixture.json(result) : Mixture.text(result))
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
            + "  \"sample_bytes\": {\(zip(r.names, r.sampleBytes).map { "\n    \(jsonString($0.0)): \($0.1)" }.joined(separator: ","))\n  }\n}\n"
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
            --trainer hf: GPT-2 byte-level with digit runs split, trained line by line), infers the mixture
            from the second halves, and prints log10 of the mean squared error per trial and the mean.

            --overlap follows Hayase et al.'s protocol for categories smaller than their share: the training
            text repeats each whole category file as often as its share needs, and the whole file is the
            sample. With --train-bytes well above the category sizes (e.g. 64 MiB for 3 MiB files) the
            tokenizer's counts are then close to a mixture of the samples' counts; the default (disjoint
            halves) measures how far two different 1.5 MiB draws of the same category disagree.

            Categories: --category NAME=PATH (repeat), or every *.txt in --data (or *.txt.xz, unpacked to a
            temporary folder), optionally only names starting with --include.

            Example:
              tokenkit mixture-eval --data /data/mixture_categories --include lang_ --mix 5 --trials 10 --trainer hf
              tokenkit mixture-eval --data /data/mixture_categories --include lang_ --mix 10 --trainer hf \\
                  --overlap --train-bytes 67108864 --merges 3000
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
    var trainer = "tokenkit"

    @Option(help: "Python interpreter for --trainer hf.")
    var python = "python3"

    @Option(help: "Vocabulary size of the trained tokenizers.")
    var vocabSize = 30_256

    @Option(help: "Bytes of training text per trial.")
    var trainBytes = 4 << 20

    @Flag(help: "Use whole category files both to train (repeated to their share) and to infer, as Hayase et al. (default: first half trains, second half is the sample).")
    var overlap = false

    @OptionGroup var options: MixtureOptions

    @Option(help: "Output format: text or json.")
    var format: DataFormat = .text

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if categories.isEmpty && data == nil { throw ValidationError("give --category NAME=PATH or --data DIR") }
        if trainer != "tokenkit" && trainer != "hf" { throw ValidationError("--trainer must be tokenkit or hf") }
        if mix < 2 { throw ValidationError("--mix must be at least 2") }
        if trials < 1 { throw ValidationError("--trials must be at least 1") }
        if vocabSize < 257 { throw ValidationError("--vocab-size must be above 256") }
        if format == .tsv { throw ValidationError("--format must be text or json") }
    }

    mutating func run() throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("tokenkit-mixture-\(getpid())").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }

        var cats = try parseCategories(categories)
        if let data { cats += try MixtureEval.folder(data, temp: temp) }
        if let include {
            let prefixes = include.split(separator: ",").map(String.init)
            cats = cats.filter { c in prefixes.contains { c.name.hasPrefix($0) } }
        }
        guard cats.count >= mix else {
            throw TokenKitError.usage("--mix \(mix) needs at least \(mix) categories, \(cats.count) found")
        }
        // Training pools and inference samples.
        var pools: [[UInt8]] = []
        var samplePaths: [String] = []
        for (k, c) in cats.enumerated() {
            let text = try readFile(c.path)
            if overlap {
                pools.append(text)
                samplePaths.append(c.path)
            } else {
                let (train, sample) = MixtureEvaluation.split(text)
                pools.append(train)
                let path = "\(temp)/sample-\(k).txt"
                try writeFileAtomically(path, sample)
                samplePaths.append(path)
            }
        }

        var rng = SplitMix64(seed: seed)
        var rows: [(cats: [String], truth: [Double], estimate: [Double], logMSE: Double, seconds: Double)] = []
        let bar = Progress(total: trials, label: "trials", quiet: runOptions.quiet)
        for trial in 0..<trials {
            bar.update(trial)
            let start = Date()
            let chosen = MixtureEvaluation.choose(mix, of: cats.count, &rng)
            let weights = MixtureEvaluation.uniformSimplex(mix, &rng)
            var trainText: [UInt8] = []
            var bytes: [Int] = []
            for (k, i) in chosen.enumerated() {
                let part = MixtureEvaluation.take(Int((weights[k] * Double(trainBytes)).rounded()), from: pools[i])
                bytes.append(part.count)
                trainText += part
            }
            let total = Double(bytes.reduce(0, +))
            let truth = bytes.map { Double($0) / total }
            let trainPath = "\(temp)/train-\(trial).txt"
            try writeFileAtomically(trainPath, trainText)
            let tok = try train(trainPath, temp: temp, trial: trial)
            let inference = MixtureInference(options.configuration(threads: runOptions.threads))
            let result = try inference.infer(tokenizer: tok, categories: chosen.map { .init(name: cats[$0].name, path: samplePaths[$0]) })
            let mse = MixtureEvaluation.mse(result.proportions, truth)
            rows.append((chosen.map { cats[$0].name }, truth, result.proportions, log10(max(mse, 1e-300)), Date().timeIntervalSince(start)))
            if format != .json, let r = rows.last {
                // Each trial as it ends: long runs show their results so far.
                let line = String(format: "trial %3d  log10 MSE %7.3f  %5.1f s  ", trial, r.logMSE, r.seconds)
                    + zip(r.cats, zip(r.truth, r.estimate)).map { String(format: "%@ %.4f→%.4f", $0.0, $0.1.0, $0.1.1) }.joined(separator: ", ")
                bar.finish()
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
            try? FileManager.default.removeItem(atPath: trainPath)
        }
        bar.finish()

        let mean = rows.map(\.logMSE).reduce(0, +) / Double(rows.count)
        let sd = (rows.map { ($0.logMSE - mean) * ($0.logMSE - mean) }.reduce(0, +) / Double(max(1, rows.count - 1))).squareRoot()
        let out = try Output(path: nil)
        if format == .json {
            let trialsJSON = rows.enumerated().map { k, r in
                "\n    {\"trial\": \(k), \"categories\": [\(r.cats.map(jsonString).joined(separator: ", "))], "
                    + "\"truth\": [\(r.truth.map { Mixture.number($0) }.joined(separator: ", "))], "
                    + "\"estimate\": [\(r.estimate.map { Mixture.number($0) }.joined(separator: ", "))], "
                    + "\"log10_mse\": \(Mixture.number(r.logMSE)), \"seconds\": \(String(format: "%.2f", r.seconds))}"
            }.joined(separator: ",")
            try out.write("{\n  \"trainer\": \(jsonString(trainer)), \"mix\": \(mix), \"seed\": \(seed),\n  \"trials\": [\(trialsJSON)\n  ],\n"
                + "  \"mean_log10_mse\": \(Mixture.number(mean)),\n  \"sd_log10_mse\": \(Mixture.number(sd))\n}\n")
        } else {
            try out.write(String(format: "mean log10 MSE %.3f ± %.3f over %d trials (%@ trainer, %d categories per mixture)\n",
                                 mean, sd, rows.count, trainer, mix))
        }
        try out.finish()
    }

    /// Trains a tokenizer on one file with the chosen trainer.
    func train(_ path: String, temp: String, trial: Int) throws -> Tokenizer {
        if trainer == "hf" {
            let output = "\(temp)/tokenizer-\(trial).json"
            let script = MixtureEval.script("train_hf_bpe.py")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [python, script, "--vocab-size", "\(vocabSize)", "-o", output, path]
            let err = Pipe()
            p.standardError = err
            do { try p.run() } catch { throw TokenKitError.usage("cannot run \(python): \(error.localizedDescription)") }
            let message = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                throw TokenKitError.usage("--trainer hf failed (\(python) \(script)): \(text.split(separator: "\n").last ?? "")")
            }
            defer { try? FileManager.default.removeItem(atPath: output) }
            return try TokenizerLoader.load(output)
        }
        let pipeline = try TrainingPipeline(preTokenizer: "r50k", normalizer: "none")
        let reader = CorpusReader(normalizer: nil, preTokenizer: pipeline.preTokenizer, threads: runOptions.threads)
        let words = try reader.countWords([path])
        var config = BPETrainer.Configuration()
        config.vocabSize = vocabSize
        let result = try BPETrainer(config).train(words: words)
        return try pipeline.tokenizer(result, specials: [], name: "trial-\(trial)")
    }

    /// Scripts/NAME of the package: found from the executable's path, the checkout it was built in, or the working folder.
    static func script(_ name: String) -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("Scripts/\(name)").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        // A binary copied out of the checkout it was built in still finds the checkout's script.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/\(name)").path
        return FileManager.default.fileExists(atPath: source) ? source : "Scripts/\(name)"
    }

    /// The categories of a folder: NAME.txt files, or NAME.txt.xz unpacked into `temp`.
    static func folder(_ dir: String, temp: String) throws -> [MixtureInference.Category] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw TokenKitError.badInput("cannot list folder", file: dir)
        }
        var out: [MixtureInference.Category] = []
        let txt = Set(names.filter { $0.hasSuffix(".txt") })
        for name in names.sorted() {
            if name.hasSuffix(".txt") {
                out.append(.init(name: String(name.dropLast(4)), path: "\(dir)/\(name)"))
            } else if name.hasSuffix(".txt.xz"), !txt.contains(String(name.dropLast(3))) {
                let target = "\(temp)/\(name.dropLast(3))"
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                p.arguments = ["xz", "-dc", "\(dir)/\(name)"]
                FileManager.default.createFile(atPath: target, contents: nil)
                p.standardOutput = FileHandle(forWritingAtPath: target)
                try p.run()
                p.waitUntilExit()
                guard p.terminationStatus == 0 else { throw TokenKitError.badInput("xz -d failed", file: "\(dir)/\(name)") }
                out.append(.init(name: String(name.dropLast(7)), path: target))
            }
        }
        if out.isEmpty { throw TokenKitError.badInput("no category files (*.txt or *.txt.xz)", file: dir) }
        return out
    }
}
