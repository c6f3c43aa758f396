import Foundation
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitModels
import TokenKitText
import TokenKitTraining

/// Controlled experiments for mixture inference (Hayase et al. 2024, §4.1): draw a mixture
/// uniformly from the simplex, build training text with those byte shares, train a tokenizer,
/// infer the mixture from held-out samples and score it by the mean squared error.
public enum MixtureEvaluation {
    /// n weights uniform on the simplex: the gaps between n − 1 sorted uniform draws.
    public static func uniformSimplex(_ n: Int, _ rng: inout SplitMix64) -> [Double] {
        var cuts = (0..<(n - 1)).map { _ in rng.nextUnit() }
        cuts.sort()
        var out: [Double] = []
        var last = 0.0
        for c in cuts {
            out.append(c - last)
            last = c
        }
        out.append(1 - last)
        return out
    }

    /// k distinct indexes of 0..<n in random order.
    public static func choose(_ k: Int, of n: Int, _ rng: inout SplitMix64) -> [Int] {
        var all = Array(0..<n)
        for i in 0..<min(k, n) {
            let j = i + Int(rng.next() % UInt64(n - i))
            all.swapAt(i, j)
        }
        return Array(all.prefix(k))
    }

    /// Mean squared error between two share vectors.
    public static func mse(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(max(1, a.count))
    }

    /// Splits a text at a line end near `fraction` of its length: (training part, sample part).
    public static func split(_ text: [UInt8], fraction: Double = 0.5) -> ([UInt8], [UInt8]) {
        var cut = Int(Double(text.count) * fraction)
        while cut < text.count, text[cut - 1] != 0x0A { cut += 1 }
        return (Array(text[..<cut]), Array(text[cut...]))
    }

    /// The first `bytes` bytes of `pool` repeated as often as needed, cut at a line end (the
    /// paper duplicates categories that are too small for their share).
    public static func take(_ bytes: Int, from pool: [UInt8]) -> [UInt8] {
        guard !pool.isEmpty, bytes > 0 else { return [] }
        var out = copies(bytes, of: pool)
        var cut = bytes - out.count
        while cut < pool.count, cut > 0, pool[cut - 1] != 0x0A { cut += 1 }
        out += pool[..<cut]
        return out
    }

    /// As many whole copies of `pool` as fit in `bytes`.
    static func copies(_ bytes: Int, of pool: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 4096)
        while out.count + pool.count <= bytes { out += pool }
        return out
    }

    /// Like `take`, but the part after the whole copies of `pool` is lines drawn at random
    /// without replacement (kept in file order) until it has at least its share of bytes: a
    /// simple random sample of lines instead of one contiguous stretch. HF trains line by line,
    /// so only which lines are drawn matters to the tokenizer.
    public static func takeLines(_ bytes: Int, from pool: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        guard !pool.isEmpty, bytes > 0 else { return [] }
        var out = copies(bytes, of: pool)
        let want = bytes - out.count
        guard want > 0 else { return out }
        var lines: [Range<Int>] = []
        var start = 0
        for i in pool.indices where pool[i] == 0x0A {
            lines.append(start..<(i + 1))
            start = i + 1
        }
        if start < pool.count { lines.append(start..<pool.count) }
        var order = Array(lines.indices)
        var got = 0, taken = 0
        while got < want, taken < order.count {
            let j = taken + Int(rng.next() % UInt64(order.count - taken))
            order.swapAt(taken, j)
            got += lines[order[taken]].count
            taken += 1
        }
        for i in order[..<taken].sorted() { out += pool[lines[i]] }
        return out
    }
}

/// `tokenkit mixture-eval`'s trial protocol: per trial, draw `mix` categories and weights on the
/// simplex, build training text with those byte shares, train a BPE tokenizer, infer the
/// mixture from the samples and score it.
public struct MixtureExperiment {
    public enum Trainer: String, Sendable, CaseIterable {
        /// tokenkit's own trainer: r50k pre-tokenizer, whole documents.
        case tokenkit
        /// HF tokenizers (Python): byte-level BPE trained line by line, as Hayase et al. §4.1,
        /// with the configured `PreTokenizer`.
        case hf
    }

    /// The split before HF's byte-level BPE (`--pre-tokenizer`).
    public enum PreTokenizer: String, Sendable, CaseIterable {
        /// GPT-2's regex (HF `ByteLevel` with its own regex).
        case gpt2
        /// cl100k_base's and o200k_base's regexes (`Split`, then `ByteLevel` without its regex).
        case cl100k, o200k
        /// GPT-2's regex after digit runs are split off (`Digits`), as Hayase et al. §4.1.
        case digits

        /// The regex of a `Split` before `ByteLevel`, in Oniguruma's spelling; nil for GPT-2's own.
        var splitRegex: String? {
            switch self {
            case .gpt2, .digits: return nil
            case .cl100k: return BuiltinPattern.cl100k.hfRegex
            case .o200k: return BuiltinPattern.o200k.hfRegex
            }
        }
    }

    public enum Draw: String, Sendable, CaseIterable { case head, lines }

    public struct Configuration: Sendable {
        public var mix = 5
        public var trials = 10
        public var seed: UInt64 = 0
        public var trainer = Trainer.tokenkit
        /// Python interpreter with the `tokenizers` package, for `.hf`.
        public var python = "python3"
        public var vocabSize = 30_256
        public var trainBytes = 4 << 20
        /// The HF trainer's pre-tokenizer.
        public var preTokenizer = PreTokenizer.digits
        /// Whole category files train (repeated to their share) and are the samples, as Hayase
        /// et al.; otherwise the first half of each file trains and the second is the sample.
        public var overlap = false
        /// Experiments: each trial's tokenizer (`tokenizer-K.json`) and training parts
        /// (`trial-K-NAME.txt`) are kept here, and a tokenizer already there is reused instead of
        /// trained, so variants of the inference can be compared on the same tokenizers.
        public var keepFolder: String?
        /// How a category's share of the training text is drawn beyond whole copies of its pool:
        /// its first bytes (`head`, the default) or random lines (`lines`).
        public var draw = Draw.head
        public var inference = MixtureInference.Configuration()
        public init() {}
    }

    public struct Trial: Sendable {
        public var categories: [String]
        public var truth: [Double]
        public var estimate: [Double]
        public var logMSE: Double
        public var seconds: Double
    }

    public struct Summary: Sendable {
        public var trials: [Trial]
        public var meanLogMSE: Double
        public var sdLogMSE: Double
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Runs every trial in a temporary folder of its own, calling `onTrial` as each ends.
    public func run(_ categories: [MixtureInference.Category], onTrial: (Int, Trial) -> Void = { _, _ in }) throws -> Summary {
        let cfg = configuration
        guard categories.count >= cfg.mix else {
            throw TokenKitError.usage("mixtures of \(cfg.mix) need at least \(cfg.mix) categories, \(categories.count) found", setting: .mix)
        }
        let temp = try MixtureExperiment.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        if let keep = cfg.keepFolder {
            do { try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true) } catch {
                throw TokenKitError.badInput("cannot create the folder: \(error.localizedDescription)", file: keep)
            }
        }
        // Training pools and inference samples.
        var pools: [[UInt8]] = []
        var samplePaths: [String] = []
        for (k, c) in categories.enumerated() {
            let text = try readFile(c.path)
            if cfg.overlap {
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
        var rng = SplitMix64(seed: cfg.seed)
        var trials: [Trial] = []
        for trial in 0..<cfg.trials {
            let start = Date()
            let chosen = MixtureEvaluation.choose(cfg.mix, of: categories.count, &rng)
            let weights = MixtureEvaluation.uniformSimplex(cfg.mix, &rng)
            var trainText: [UInt8] = []
            var bytes: [Int] = []
            for (k, i) in chosen.enumerated() {
                let share = Int((weights[k] * Double(cfg.trainBytes)).rounded())
                let part: [UInt8]
                switch cfg.draw {
                case .head: part = MixtureEvaluation.take(share, from: pools[i])
                case .lines:
                    // A stream of its own, so the categories and weights stay those of `head`.
                    var lines = SplitMix64(seed: cfg.seed).derived(UInt64(trial * cfg.mix + k))
                    part = MixtureEvaluation.takeLines(share, from: pools[i], &lines)
                }
                bytes.append(part.count)
                trainText += part
            }
            let total = Double(bytes.reduce(0, +))
            let truth = bytes.map { Double($0) / total }
            let trainPath = "\(temp)/train-\(trial).txt"
            try writeFileAtomically(trainPath, trainText)
            defer { try? FileManager.default.removeItem(atPath: trainPath) }
            let tok: Tokenizer
            if let keep = cfg.keepFolder {
                var offset = 0
                for (k, i) in chosen.enumerated() {
                    try writeFileAtomically("\(keep)/trial-\(trial)-\(categories[i].name).txt", Array(trainText[offset..<(offset + bytes[k])]))
                    offset += bytes[k]
                }
                let kept = "\(keep)/tokenizer-\(trial).json"
                if !FileManager.default.fileExists(atPath: kept) { _ = try train(trainPath, temp: temp, trial: trial, keep: kept) }
                tok = try TokenizerLoader.load(kept)
            } else {
                tok = try train(trainPath, temp: temp, trial: trial)
            }
            let result = try MixtureInference(cfg.inference).infer(
                tokenizer: tok, categories: chosen.map { .init(name: categories[$0].name, path: samplePaths[$0]) })
            let mse = MixtureEvaluation.mse(result.proportions, truth)
            let t = Trial(categories: chosen.map { categories[$0].name }, truth: truth, estimate: result.proportions,
                          logMSE: log10(max(mse, 1e-300)), seconds: Date().timeIntervalSince(start))
            trials.append(t)
            onTrial(trial, t)
        }
        let mean = trials.map(\.logMSE).reduce(0, +) / Double(trials.count)
        let sd = (trials.map { ($0.logMSE - mean) * ($0.logMSE - mean) }.reduce(0, +) / Double(max(1, trials.count - 1))).squareRoot()
        return Summary(trials: trials, meanLogMSE: mean, sdLogMSE: sd)
    }

    /// Trains a tokenizer on one file with the configured trainer, saved as tokenizer.json at
    /// `keep` if given.
    func train(_ path: String, temp: String, trial: Int, keep: String? = nil) throws -> Tokenizer {
        let cfg = configuration
        switch cfg.trainer {
        case .hf:
            let script = "\(temp)/train_hf_bpe.py"
            if !FileManager.default.fileExists(atPath: script) { try writeFileAtomically(script, Array(MixtureExperiment.hfTrainer.utf8)) }
            let output = "\(temp)/tokenizer-\(trial).json"
            defer { try? FileManager.default.removeItem(atPath: output) }
            var argv = [cfg.python, script, "--vocab-size", "\(cfg.vocabSize)", "-o", output]
            switch cfg.preTokenizer {
            case .digits: argv.append("--digits")
            case .gpt2: break
            case .cl100k, .o200k: argv += ["--split", cfg.preTokenizer.splitRegex!]
            }
            try MixtureExperiment.runProcess(argv + [path], what: "the HF trainer (\(cfg.python) with the tokenizers package)")
            if let keep { try writeFileAtomically(keep, try readFile(output)) }
            return try TokenizerLoader.load(output)
        case .tokenkit:
            let pipeline = try TrainingPipeline(preTokenizer: "r50k", normalizer: "none")
            let reader = CorpusReader(normalizer: nil, preTokenizer: pipeline.preTokenizer, threads: cfg.inference.threads)
            var config = BPETrainer.Configuration()
            config.vocabSize = cfg.vocabSize
            let result = try BPETrainer(config).train(words: try reader.countWords([path]))
            let tok = try pipeline.tokenizer(result, specials: [], name: "trial-\(trial)")
            if let keep { try writeFileAtomically(keep, try TokenizerJSON.write(tok)) }
            return tok
        }
    }

    /// The categories of a folder: NAME.txt files, or NAME.txt.xz unpacked into `temp`.
    public static func folder(_ dir: String, temp: String) throws -> [MixtureInference.Category] {
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
                try runProcess(["xz", "-dc", "\(dir)/\(name)"], what: "xz -d \(dir)/\(name)", stdout: target)
                out.append(.init(name: String(name.dropLast(7)), path: target))
            }
        }
        if out.isEmpty { throw TokenKitError.badInput("no category files (*.txt or *.txt.xz)", file: dir) }
        return out
    }

    /// A new private folder under the system's temporary folder.
    public static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokenkit-mixture-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw TokenKitError.badInput("cannot create a temporary folder: \(error.localizedDescription)", file: path)
        }
        return path
    }

    /// Runs `argv` (found on PATH), stdout to a file or discarded; fails with its last stderr line.
    static func runProcess(_ argv: [String], what: String, stdout: String? = nil) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let err = Pipe()
        p.standardError = err
        if let stdout {
            guard FileManager.default.createFile(atPath: stdout, contents: nil), let h = FileHandle(forWritingAtPath: stdout) else {
                throw TokenKitError.badInput("cannot create", file: stdout)
            }
            p.standardOutput = h
        }
        do { try p.run() } catch { throw TokenKitError.usage("cannot run \(what): \(error.localizedDescription)") }
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TokenKitError.usage("\(what) failed: \(text.split(separator: "\n").last ?? "exit \(p.terminationStatus)")")
        }
    }

    /// The HF trainer of `.hf`, written next to the trial's files: byte-level BPE after GPT-2's
    /// regex (`--digits`: digit runs kept apart first, as Hayase et al. §4.1) or after a `--split`
    /// regex, special token [UNK], the alphabet limited to the bytes seen, files read line by
    /// line (`Tokenizer.train`).
    static let hfTrainer = """
        import argparse
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

        ap = argparse.ArgumentParser()
        ap.add_argument("--vocab-size", type=int, default=30000)
        ap.add_argument("--digits", action="store_true")
        ap.add_argument("--split")
        ap.add_argument("-o", "--output", required=True)
        ap.add_argument("files", nargs="+")
        args = ap.parse_args()
        tok = Tokenizer(models.BPE())
        if args.split:
            steps = [pre_tokenizers.Split(Regex(args.split), behavior="isolated"),
                     pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
        else:
            steps = [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
            if args.digits:
                steps.insert(0, pre_tokenizers.Digits(individual_digits=False))
        tok.pre_tokenizer = steps[0] if len(steps) == 1 else pre_tokenizers.Sequence(steps)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=args.vocab_size, special_tokens=["[UNK]"], show_progress=False)
        tok.train(args.files, trainer)
        tok.save(args.output)

        """
}
