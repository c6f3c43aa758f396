import Foundation
import TokenKit
import TokenKitCore
import TokenKitTraining

/// BPE data-mixture inference (Hayase, Liu, Choi, Oh & Smith 2024, "Data Mixture Inference:
/// What do BPE Tokenizers Reveal about their Training Data?", arXiv 2407.16607).
///
/// A BPE tokenizer's merge list is ordered by pair frequency in its training data. Given a
/// sample of each candidate category, the pair counts each merge step would have seen in each
/// category are replayed, and a linear program finds the mixture under which every merge was
/// the most frequent pair at its step (with slacks). The result is a share per category.
public struct MixtureInference {
    public struct Configuration: Sendable {
        /// Merges used (T); nil = all, at most `maxMerges`.
        public var merges: Int?
        public static let maxMerges = 30_000
        /// Read at most this many bytes of each category file (cut at a line end).
        public var sampleBytes: Int?
        /// Units of counting; nil = detected from the vocabulary (`SampleUnits.detect`).
        public var units: SampleUnits?
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        /// New rows per merge step per sweep, rows queued before a re-solve, and sweeps a row
        /// may stay non-binding before it is dropped (0 = keep every row). Measured on 10
        /// languages × 3 MiB, T = 3000: (1, 1000, 1) 13 s; Hayase et al.'s (10, 100, keep) 165 s.
        public var competitorsPerStep = 1
        public var rowsPerSolve = 1000
        public var dropAfter = 1
        /// Solve by matchings (`MixtureLP.solveByMatching`: T = 30000 × 10 categories × 3 MiB in
        /// ~35 s end to end, where sweeps did not finish in 10 min) instead of row generation by
        /// sweeps (`solveLazy`). Sweeps end at the full LP's optimum; matchings at a feasible point
        /// of it within the logged gap (≤ 3e-8 relative) of a lower bound.
        public var matching = true
        /// The sweeps' other knobs (`competitorsPerStep`, `rowsPerSolve` and `dropAfter` above
        /// take precedence over the schedule's own).
        public var schedule = LazySchedule()
        /// Matching solve: steps of the exact warm-up LP that gives the first mixture.
        public var warmHorizon = 1000
        public var lp = LPSettings()
        /// Receives progress lines (timings, sweeps, solves) for experiments; nil for none.
        public var log: (@Sendable (String) -> Void)?
        /// A pair beats a merge when its mixture count exceeds the merge's by more than this
        /// (in raw-count units).
        public var tolerance = 1e-6
        /// What each category's counts are divided by in the LP: its initial pairs (Hayase et
        /// al.; α is then a share of pairs, converted to bytes at the end) or its bytes.
        public var normalization = Normalization.pairs
        /// Experiments: weight of each step's slack v_t in the objective, (c_t / mean c)^power with
        /// c_t the merge's count pooled over the samples (normalized counts, equal shares), scaled
        /// to mean 1 over the steps; nil = 1 for every step (Hayase et al.). Sweeps only.
        public var stepWeightPower: Double?
        /// A category sample needs at least this many adjacent symbol pairs.
        public var minimumPairs: Int64 = 1000

        public static let `default` = Configuration()
        public init() {}
    }

    public enum Normalization: String, Sendable, CaseIterable { case pairs, bytes }

    public struct Category: Sendable {
        public var name: String
        public var path: String
        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }
    }

    public struct Result: Sendable {
        public var names: [String]
        /// Shares of bytes: α_i · B_i / P_i, renormalized (the paper's conversion).
        public var proportions: [Double]
        /// The LP's α: shares of the categories' normalized pair counts.
        public var pairShares: [Double]
        public var objective: Double
        public var constraints: Int
        public var pairSlacks: Int
        public var merges: Int
        public var skippedMerges: Int
        public var solves: Int
        public var sweeps: Int
        public var units: SampleUnits
        public var sampleBytes: [Int]
        public var samplePairs: [Int64]
    }

    /// Stages reported to `progress`: (stage, done, total).
    public enum Stage: String, Sendable { case counting, merging, solving }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .default) { self.configuration = configuration }

    /// Counts each category file with the tokenizer's normalizer and pre-tokenizer, streaming
    /// at most `sampleBytes` of each (see `SampleReader.count`); `progress` gets bytes read of
    /// the bytes to read.
    public func readSamples(_ categories: [Category], tokenizer tok: Tokenizer, units: SampleUnits,
                            progress: (Stage, Int, Int) -> Void = { _, _, _ in }) throws -> [CategorySample] {
        let sizes = categories.map { c -> Int in
            let size = (try? FileManager.default.attributesOfItem(atPath: c.path)[.size] as? Int) ?? 0
            return configuration.sampleBytes.map { min($0, size) } ?? size
        }
        let total = sizes.reduce(0, +)
        var samples: [CategorySample] = []
        var done = 0
        progress(.counting, 0, total)
        for c in categories {
            do {
                let reader = CorpusReader(normalizer: tok.normalizer, preTokenizer: tok.preTokenizer, unit: units,
                                          threads: configuration.threads)
                let (words, bytes) = try SampleReader.count(c.path, limit: configuration.sampleBytes, reader: reader) {
                    progress(.counting, min(total, done + $0), total)
                }
                done += bytes
                samples.append(CategorySample(name: c.name, path: c.path, bytes: bytes, words: words))
            } catch let e as TokenKitError {
                throw e.inFile(c.path)
            }
        }
        progress(.counting, total, total)
        return samples
    }

    /// Infers the mixture of `categories` behind `tokenizer`'s merges.
    public func infer(tokenizer tok: Tokenizer, categories: [Category],
                      progress: (Stage, Int, Int) -> Void = { _, _, _ in }) throws -> Result {
        guard !categories.isEmpty else { throw TokenKitError.usage("no categories given", setting: .categories) }
        let merges = try MergeList(tok)
        let units = configuration.units ?? SampleUnits.detect(tok)
        let clock = Date()
        let samples = try readSamples(categories, tokenizer: tok, units: units, progress: progress)
        configuration.log?(String(format: "mixture: counted in %.2f s", Date().timeIntervalSince(clock)))
        return try infer(merges: merges, samples: samples, units: units, progress: progress)
    }

    /// Infers the mixture from samples already counted.
    public func infer(merges: MergeList, samples: [CategorySample], units: SampleUnits,
                      progress: (Stage, Int, Int) -> Void = { _, _, _ in }) throws -> Result {
        let steps = min(configuration.merges ?? Configuration.maxMerges, merges.merges.count)
        guard steps > 0 else { throw TokenKitError.usage("the number of merges must be at least 1", setting: .merges) }
        let clock = Date()

        // Replay the merges on each category (in parallel).
        var transcripts = [PairTranscript?](repeating: nil, count: samples.count)
        let lock = NSLock()
        var done = 0
        progress(.merging, 0, samples.count)
        let workers = max(1, min(configuration.threads, samples.count))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < samples.count {
                let tr = PairTranscript.build(words: samples[i].words, merges: merges, steps: steps)
                lock.lock()
                transcripts[i] = tr
                done += 1
                lock.unlock()
                i += workers
            }
        }
        progress(.merging, samples.count, samples.count)
        for (s, tr) in zip(samples, transcripts) where tr!.totalPairs < configuration.minimumPairs {
            throw TokenKitError.badInput(
                "too small to count: \(s.bytes) bytes give \(tr!.totalPairs) adjacent pairs after pre-tokenization "
                    + "(at least \(configuration.minimumPairs) needed)", file: s.path)
        }
        let table = PairTable(transcripts.map { $0! }, merges: merges, steps: steps)
        transcripts = []
        configuration.log?(String(format: "mixture: merges replayed and indexed in %.2f s: %d pairs, %d changes",
                                  Date().timeIntervalSince(clock), table.pairCount, table.changeCount))
        let log = configuration.log.map { log in { @Sendable (s: String) in log("mixture: " + s) } }
        let sizes = configuration.normalization == .bytes ? samples.map { Double($0.bytes) } : nil
        var stepWeights: [Double]?
        if let power = configuration.stepWeightPower {
            guard !configuration.matching else {
                throw TokenKitError.usage("step weights need the sweeps solver (the matching solves the unweighted program)")
            }
            stepWeights = MixtureInference.stepWeights(PairRuns(table), totalPairs: table.totalPairs, power: power)
        }
        let lp = try MixtureLP(table, sizes: sizes, stepWeights: stepWeights, tolerance: configuration.tolerance, settings: configuration.lp, log: log)
        lp.threads = max(1, configuration.threads)
        var schedule = configuration.schedule
        schedule.competitorsPerStep = configuration.competitorsPerStep
        schedule.rowsPerSolve = configuration.rowsPerSolve
        schedule.dropAfter = configuration.dropAfter
        let clock2 = Date()
        let sol: LPSolution
        if configuration.matching {
            sol = try lp.solveByMatching(warmHorizon: configuration.warmHorizon) {
                progress(.solving, $0, $1)
            }
        } else {
            sol = try lp.solveLazy(schedule) { _, t, _ in progress(.solving, t, steps) }
        }
        configuration.log?(String(format: "mixture: solved in %.2f s, objective %.9g, %d rows in the program",
                                  Date().timeIntervalSince(clock2), sol.objective, sol.constraints))
        return MixtureInference.result(sol, samples: samples, table: table, steps: steps, units: units,
                                       normalization: configuration.normalization)
    }

    /// (c_t / mean c)^power per step, scaled to mean 1; c_t = Σ_i c_{i,m(t)} / P_i at step t
    /// (steps whose merge no sample has get weight 1).
    static func stepWeights(_ runs: PairRuns, totalPairs: [Int64], power: Double) -> [Double] {
        let n = runs.categories
        let counts = (0..<runs.steps).map { t in (0..<n).reduce(0.0) { $0 + Double(runs.mergeCounts[t * n + $1]) / Double(totalPairs[$1]) } }
        let seen = counts.filter { $0 > 0 }
        guard !seen.isEmpty else { return counts.map { _ in 1 } }
        let mean = seen.reduce(0, +) / Double(seen.count)
        let raw = counts.map { $0 > 0 ? pow($0 / mean, power) : 1 }
        let scale = Double(raw.count) / raw.reduce(0, +)
        return raw.map { $0 * scale }
    }

    static func result(_ sol: LPSolution, samples: [CategorySample], table: PairTable, steps: Int,
                       units: SampleUnits, normalization: Normalization = .pairs) -> Result {
        let alpha = sol.alpha.map { max(0, $0) }
        let sum = alpha.reduce(0, +)
        var shares = alpha.map { sum > 0 ? $0 / sum : 0 }
        // Shares of another unit are turned into shares of pairs (B_i / P_i of the sample).
        if normalization == .bytes {
            shares = (0..<samples.count).map { shares[$0] * Double(table.totalPairs[$0]) / Double(samples[$0].bytes) }
            let total = shares.reduce(0, +)
            if total > 0 { shares = shares.map { $0 / total } }
        }
        let pairShares = shares
        var bytes = (0..<samples.count).map { pairShares[$0] * Double(samples[$0].bytes) / Double(table.totalPairs[$0]) }
        let total = bytes.reduce(0, +)
        if total > 0 { bytes = bytes.map { $0 / total } }
        return Result(names: samples.map(\.name), proportions: bytes, pairShares: pairShares, objective: sol.objective,
                      constraints: sol.constraints, pairSlacks: sol.pairSlacks, merges: steps,
                      skippedMerges: sol.skippedSteps, solves: sol.solves, sweeps: sol.sweeps, units: units,
                      sampleBytes: samples.map(\.bytes), samplePairs: table.totalPairs)
    }
}
