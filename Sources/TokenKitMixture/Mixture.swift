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
        /// Matching solve: steps of the warm-up LP that gives the first mixture, and how large
        /// (rows × columns) it may grow before the matchings take over.
        public var warmHorizon = 1000
        public var warmEntries = 300_000
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
        /// Cut each category's sample into this many consecutive blocks (of at least
        /// `minimumBlockBytes`), and let the training text hold each category as any mixture of
        /// its blocks rather than as the whole sample (1 = Hayase et al.'s model). A first LP over
        /// the blocks and the first `blockMerges` merges weighs the blocks; each category is then
        /// its blocks so weighted, in the LP over all merges. This helps when a category's share
        /// of the training text is a few documents rather than a draw across the sample
        /// (BENCHMARKS.md, issue 19): better or equal on every setup measured there, so it is
        /// the default (the CLI's too).
        public var blocks = 16
        public var blockMerges = 3000
        public var minimumBlockBytes = 64 << 10
        /// Seconds from the start of `infer` by which the matching rounds stop, at a feasible
        /// mixture short of the optimum (`Result.timedOut`, `relativeGap`); nil = until the gap
        /// closes. A round that could end past it (twice the last) is not started, but each
        /// program's first round always runs; with blocks, the blocks' program gets the first half.
        public var timeLimit: Double?

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
        /// With blocks: each category's weights of its blocks (summing to 1), in sample order.
        public var blockWeights: [[Double]]? = nil
        /// Matching solve: how far the objective may be above the optimum, relative (a lower
        /// bound's distance); about 1e-7 or less unless `timedOut`.
        public var relativeGap: Double? = nil
        /// The time limit stopped a program before its gap closed.
        public var timedOut = false
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
        for (c, size) in zip(categories, sizes) {
            do {
                let reader = CorpusReader(normalizer: tok.normalizer, preTokenizer: tok.preTokenizer, unit: units,
                                          threads: configuration.threads)
                let blocks = max(1, configuration.blocks)
                let split = (count: blocks, bytes: max(configuration.minimumBlockBytes, (size + blocks - 1) / blocks))
                let (parts, bytes) = try SampleReader.count(c.path, limit: configuration.sampleBytes, reader: reader,
                                                            parts: blocks > 1 ? split : nil) {
                    progress(.counting, min(total, done + $0), total)
                }
                done += bytes
                for (k, part) in parts.enumerated() {
                    samples.append(CategorySample(name: c.name, path: c.path, bytes: part.bytes, words: part.words, block: k))
                }
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
        return try infer(merges: merges, samples: samples, units: units, started: clock, progress: progress)
    }

    /// Infers the mixture from samples already counted; `timeLimit` counts from `started`.
    public func infer(merges: MergeList, samples: [CategorySample], units: SampleUnits, started: Date = Date(),
                      progress: (Stage, Int, Int) -> Void = { _, _, _ in }) throws -> Result {
        let steps = min(configuration.merges ?? Configuration.maxMerges, merges.merges.count)
        guard steps > 0 else { throw TokenKitError.usage("the number of merges must be at least 1", setting: .merges) }
        let clock = Date()
        let deadline = configuration.timeLimit.map { started.addingTimeInterval($0) }

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
        let replayed = transcripts.map { $0! }
        transcripts = []
        // Categories as runs of samples starting at block 0.
        let starts = samples.indices.filter { samples[$0].block == 0 }
        let groups = zip(starts, starts.dropFirst() + [samples.count]).map { Array($0..<$1) }
        let groupPairs = groups.map { $0.reduce(Int64(0)) { $0 + replayed[$1].totalPairs } }
        let groupBytes = groups.map { $0.reduce(0) { $0 + samples[$1].bytes } }
        for (k, g) in groups.enumerated() where groupPairs[k] < configuration.minimumPairs {
            throw TokenKitError.badInput(
                "too small to count: \(groupBytes[k]) bytes give \(groupPairs[k]) adjacent pairs after pre-tokenization "
                    + "(at least \(configuration.minimumPairs) needed)", file: samples[g[0]].path)
        }
        configuration.log?(String(format: "mixture: merges replayed in %.2f s", Date().timeIntervalSince(clock)))
        if groups.count == samples.count {
            let sizes = configuration.normalization == .bytes ? samples.map { Double($0.bytes) } : nil
            let (sol, table) = try solve(replayed, sizes: sizes, merges: merges, steps: steps, deadline: deadline, progress: progress)
            return MixtureInference.result(sol, samples: samples, table: table, steps: steps, units: units,
                                           normalization: configuration.normalization)
        }
        guard configuration.normalization == .pairs, configuration.stepWeightPower == nil else {
            throw TokenKitError.usage("blocks need the default normalization and step weights: give --blocks 1")
        }
        // Blocks: weigh each category's blocks on the first merges, then solve over the weighted categories.
        let used = replayed.indices.filter { replayed[$0].totalPairs > 0 }
        let first = min(steps, max(1, configuration.blockMerges))
        let blockDeadline = configuration.timeLimit.map { started.addingTimeInterval($0 / 2) }
        let (blockSol, _) = try solve(used.map { replayed[$0] }, sizes: nil, merges: merges, steps: first, deadline: blockDeadline,
                                      progress: progress)
        var alpha = [Double](repeating: 0, count: samples.count)
        for (k, i) in used.enumerated() { alpha[i] = max(0, blockSol.alpha[k]) }
        var weights: [[Double]] = []
        var combined: [PairTranscript] = []
        var bytesPerPair: [Double] = []
        for (k, g) in groups.enumerated() {
            let pairs = g.map { Double(replayed[$0].totalPairs) }
            let total = Double(groupPairs[k])
            let sum = g.reduce(0) { $0 + alpha[$1] }
            // A category the first LP leaves out keeps its whole sample.
            let w = sum > 0 ? g.map { alpha[$0] / sum } : pairs.map { $0 / total }
            weights.append(w)
            // Block b enters as w_b · c_b / P_b, scaled to the category's pairs to keep whole counts.
            let scale = zip(w, pairs).map { $1 > 0 ? $0 * total / $1 : 0 }
            combined.append(PairTranscript.combine(g.map { replayed[$0] }, weights: scale, totalPairs: groupPairs[k], steps: steps))
            bytesPerPair.append(zip(g, scale).reduce(0) { $0 + $1.1 * Double(samples[$1.0].bytes) } / total)
            configuration.log?("mixture: \(samples[g[0]].name): block weights " + w.map { String(format: "%.3f", $0) }.joined(separator: " "))
        }
        let (sol, table) = try solve(combined, sizes: nil, merges: merges, steps: steps, deadline: deadline, progress: progress)
        var result = MixtureInference.result(sol, samples: groups.map { samples[$0[0]] }, table: table, steps: steps, units: units,
                                             bytesPerPair: bytesPerPair)
        result.timedOut = result.timedOut || blockSol.timedOut
        result.sampleBytes = groupBytes
        result.samplePairs = groupPairs
        result.blockWeights = weights
        return result
    }

    /// Solves the program over replayed samples (one column each) and the first `steps` merges.
    private func solve(_ transcripts: [PairTranscript], sizes: [Double]?, merges: MergeList, steps: Int, deadline: Date?,
                       progress: (Stage, Int, Int) -> Void) throws -> (LPSolution, PairTable) {
        let clock = Date()
        let table = PairTable(transcripts, merges: merges, steps: steps)
        configuration.log?(String(format: "mixture: %d columns, %d steps indexed in %.2f s: %d pairs, %d changes",
                                  transcripts.count, steps, Date().timeIntervalSince(clock), table.pairCount, table.changeCount))
        let log = configuration.log.map { log in { @Sendable (s: String) in log("mixture: " + s) } }
        var stepWeights: [Double]?
        if let power = configuration.stepWeightPower {
            guard !configuration.matching else {
                throw TokenKitError.usage("step weights need the sweeps solver (the matching solves the unweighted program)")
            }
            stepWeights = MixtureInference.stepWeights(PairRuns(table), totalPairs: table.totalPairs, power: power)
        }
        let lp = try MixtureLP(table, sizes: sizes, stepWeights: stepWeights, tolerance: configuration.tolerance,
                               settings: configuration.lp, log: log)
        lp.threads = max(1, configuration.threads)
        var schedule = configuration.schedule
        schedule.competitorsPerStep = configuration.competitorsPerStep
        schedule.rowsPerSolve = configuration.rowsPerSolve
        schedule.dropAfter = configuration.dropAfter
        let clock2 = Date()
        let sol: LPSolution
        if configuration.matching {
            sol = try lp.solveByMatching(warmHorizon: configuration.warmHorizon, warmEntries: configuration.warmEntries, deadline: deadline) {
                progress(.solving, $0, $1)
            }
        } else {
            sol = try lp.solveLazy(schedule) { _, t, _ in progress(.solving, t, steps) }
        }
        configuration.log?(String(format: "mixture: solved in %.2f s, objective %.9g, %d rows in the program",
                                  Date().timeIntervalSince(clock2), sol.objective, sol.constraints))
        return (sol, table)
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

    /// The result of a solved program. Pair shares become byte shares through each column's
    /// bytes per pair: B_i / P_i of its sample unless `bytesPerPair` gives them.
    static func result(_ sol: LPSolution, samples: [CategorySample], table: PairTable, steps: Int,
                       units: SampleUnits, normalization: Normalization = .pairs, bytesPerPair: [Double]? = nil) -> Result {
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
        let ratio = bytesPerPair ?? (0..<samples.count).map { Double(samples[$0].bytes) / Double(table.totalPairs[$0]) }
        var bytes = (0..<samples.count).map { pairShares[$0] * ratio[$0] }
        let total = bytes.reduce(0, +)
        if total > 0 { bytes = bytes.map { $0 / total } }
        return Result(names: samples.map(\.name), proportions: bytes, pairShares: pairShares, objective: sol.objective,
                      constraints: sol.constraints, pairSlacks: sol.pairSlacks, merges: steps,
                      skippedMerges: sol.skippedSteps, solves: sol.solves, sweeps: sol.sweeps, units: units,
                      sampleBytes: samples.map(\.bytes), samplePairs: table.totalPairs, relativeGap: sol.relativeGap,
                      timedOut: sol.timedOut)
    }
}
