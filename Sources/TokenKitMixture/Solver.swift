import Foundation
import TokenKitCore

/// TOKENKIT_MIXTURE_DEBUG=1 logs sweeps and timings to stderr.
let debug = ProcessInfo.processInfo.environment["TOKENKIT_MIXTURE_DEBUG"] != nil

/// Every category's pair-count transcript over one shared index of pairs.
struct PairTable {
    let categories: Int
    let steps: Int
    private(set) var pairCount = 0
    /// Counts before the first merge, dense: pair p, category i at p * categories + i.
    private(set) var initial: [Int32] = []
    /// Per category: the changes after step t are entries stepStart[t] ..< stepStart[t + 1].
    private(set) var stepStart: [[Int]] = []
    private(set) var index: [[Int32]] = []
    private(set) var delta: [[Int32]] = []
    /// The pair merged at each step, or -1 when it never occurs in any sample.
    private(set) var mergePair: [Int32] = []
    let totalPairs: [Int64]
    var changeCount: Int { index.reduce(0) { $0 + $1.count } }

    init(_ transcripts: [PairTranscript], merges: MergeList, steps: Int) {
        categories = transcripts.count
        self.steps = steps
        totalPairs = transcripts.map(\.totalPairs)
        var ids = U64Map(capacity: 1 << 16)
        func intern(_ key: UInt64) -> Int32 {
            if let v = ids.get(key) { return Int32(v) }
            ids.set(key, UInt64(pairCount))
            pairCount += 1
            return Int32(pairCount - 1)
        }
        var initialIndex: [[Int32]] = []
        for tr in transcripts {
            initialIndex.append(tr.initialKeys.map(intern))
            index.append(tr.keys.map(intern))
            delta.append(tr.deltas.map { Int32(clamping: $0) })
            stepStart.append(tr.stepStart)
        }
        initial = [Int32](repeating: 0, count: pairCount * categories)
        for (i, tr) in transcripts.enumerated() {
            for (k, p) in initialIndex[i].enumerated() { initial[Int(p) * categories + i] = Int32(clamping: tr.initialCounts[k]) }
        }
        mergePair = merges.merges.prefix(steps).map { m in
            ids.get(UInt64(m.0) << 32 | UInt64(m.1)).map { Int32($0) } ?? -1
        }
    }

    /// Applies step t's changes to dense `counts` and lists each changed pair once in `changed`.
    @inline(__always)
    func apply(step t: Int, to counts: inout [Int32], stamp: inout [Int32], changed: inout [Int32]) {
        changed.removeAll(keepingCapacity: true)
        let n = categories
        for i in 0..<n {
            let s = stepStart[i][t], e = stepStart[i][t + 1]
            if s == e { continue }
            index[i].withUnsafeBufferPointer { idx in
                delta[i].withUnsafeBufferPointer { d in
                    for k in s..<e {
                        let p = Int(idx[k])
                        counts[p * n + i] &+= d[k]
                        if stamp[p] != Int32(t) {
                            stamp[p] = Int32(t)
                            changed.append(Int32(p))
                        }
                    }
                }
            }
        }
    }
}

/// The solved program: mixture weights over pairs and what it took.
struct LPSolution {
    /// Mixture weights in pair units (shares of the categories' normalized pair counts).
    var alpha: [Double]
    /// Σ slacks, in normalized pair counts.
    var objective: Double
    /// Merge constraints in the final program.
    var constraints: Int
    var pairSlacks: Int
    var solves: Int
    var sweeps: Int
    /// Merge steps whose pair occurs in no sample at that step (no constraint).
    var skippedSteps: Int
}

/// LP1_T of Hayase et al. (2024): find mixture weights α on the simplex under which each merge
/// m(t) was the most frequent pair at its step, up to slacks:
///
///     minimize   Σ_t v_t + Σ_p v_p
///     subject to v_t + v_p + Σ_i α_i (c̃_{i,m(t)} − c̃_{i,p}) ≥ 0   for all t ≤ T, p ≠ m(t)
///                Σ_i α_i = 1,  α ≥ 0,  v ≥ 0
///
/// where c̃_{i,p} is category i's count of pair p after t − 1 merges over its initial number of
/// pairs. The full program has a row for every (step, pair): far too many. Rows and the v_p
/// columns are generated lazily: a sweep replays the merges, keeps every pair in a max-heap by
/// Σ_i α_i c̃_{i,p} − v_p under the current solution, and at each step pops the pairs that beat
/// the merge by more than the tolerance (at most `competitorsPerStep`); those rows are added and
/// the program re-solved. A sweep that adds nothing proves the restricted optimum feasible, hence
/// optimal, for the full program.
final class MixtureLP {
    let table: PairTable
    /// Counts are scaled by mean(P) / P_i instead of 1 / P_i, so coefficients are near raw counts
    /// and the solver's absolute tolerances are small against them; the optimum α is unchanged.
    let scale: Double
    let coefficient: [Double]
    let tolerance: Double
    private let lp = LinearProgram()
    private var pairColumn: [Int32]
    private var inProgram = Set<UInt64>()
    private var pendingColumns = 0
    private var rows = LinearProgram.Rows()
    private(set) var constraintCount = 0
    private(set) var solves = 0

    // Current solution.
    private var alpha: [Double]
    private var stepSlack: [Double]
    private var pairSlack: [Double]

    init(_ table: PairTable, tolerance: Double = 1e-6) throws {
        self.table = table
        let n = table.categories
        for (i, p) in table.totalPairs.enumerated() where p <= 0 {
            throw TokenKitError.badInput("category \(i + 1) has no pairs to count")
        }
        let k = table.totalPairs.reduce(0.0) { $0 + Double($1) } / Double(n)
        scale = k
        coefficient = table.totalPairs.map { k / Double($0) }
        self.tolerance = tolerance
        pairColumn = [Int32](repeating: -1, count: table.pairCount)
        alpha = [Double](repeating: 1 / Double(n), count: n)
        stepSlack = [Double](repeating: 0, count: table.steps)
        pairSlack = [Double](repeating: 0, count: table.pairCount)
        // Columns: α (n), then v_t (one per step), then v_p as pairs enter.
        lp.addColumns(lower: .init(repeating: 0, count: n), upper: .init(repeating: 1, count: n),
                      objective: .init(repeating: 0, count: n))
        lp.addColumns(lower: .init(repeating: 0, count: table.steps), upper: .init(repeating: LinearProgram.infinity, count: table.steps),
                      objective: .init(repeating: 1, count: table.steps))
        var simplex = LinearProgram.Rows()
        simplex.append(lower: 1, upper: 1, (0..<n).map { ($0, 1.0) })
        lp.addRows(simplex)
    }

    private var weights: [Double] { (0..<table.categories).map { max(0, alpha[$0]) * coefficient[$0] } }

    @inline(__always)
    private func score(_ p: Int, _ counts: [Int32], _ w: [Double]) -> Double {
        let n = table.categories
        var s = 0.0
        for i in 0..<n { s += w[i] * Double(counts[p * n + i]) }
        return s
    }

    /// Queues the row "merge m(t) beats pair p at step t", with p's slack column;
    /// `difference` is c_{i,m(t)} − c_{i,p} per category.
    private func queueRow(step t: Int, pair p: Int, difference: [Double]) {
        if pairColumn[p] < 0 {
            pairColumn[p] = Int32(lp.columnCount + pendingColumns)
            pendingColumns += 1
        }
        var entries: [(Int, Double)] = []
        for (i, d) in difference.enumerated() where d != 0 { entries.append((i, coefficient[i] * d)) }
        entries.append((table.categories + t, 1))
        entries.append((Int(pairColumn[p]), 1))
        rows.append(lower: 0, entries)
        constraintCount += 1
    }

    /// Seconds spent in CLP (for the debug log).
    private(set) var solveSeconds = 0.0

    private func resolve() throws {
        let clock = Date()
        defer { solveSeconds += Date().timeIntervalSince(clock) }
        if pendingColumns > 0 {
            lp.addColumns(lower: .init(repeating: 0, count: pendingColumns),
                          upper: .init(repeating: LinearProgram.infinity, count: pendingColumns),
                          objective: .init(repeating: 1, count: pendingColumns))
            pendingColumns = 0
        }
        lp.addRows(rows)
        rows = LinearProgram.Rows()
        try lp.solve()
        solves += 1
        let x = lp.solution
        let n = table.categories
        alpha = Array(x[0..<n])
        stepSlack = Array(x[n..<(n + table.steps)])
        for p in 0..<table.pairCount where pairColumn[p] >= 0 { pairSlack[p] = max(0, x[Int(pairColumn[p])]) }
    }

    /// A violated row found during a sweep: merge m(t) loses to pair p by `violation`.
    private struct Candidate {
        var step: Int
        var pair: Int
        var violation: Double
        /// c_{i,m(t)} − c_{i,p} at step t, per category.
        var difference: [Double]
    }

    /// Solves LP1_T by lazy row and column generation.
    ///
    /// Each sweep replays the merges under the current solution and looks at the pairs above
    /// each step's cutoff (at most `competitorsPerStep` of them). Rows go in for each step's worst
    /// violator and for each pair's worst step: a pair's slack is shared by all steps, so adding
    /// its rows step after step would only creep up to the same bound. The program is re-solved
    /// at the end of each sweep, or mid-sweep once the queue holds `minRowsPerSolve` rows or a
    /// quarter of the program.
    func solveLazy(competitorsPerStep: Int = 10, minRowsPerSolve: Int = 100,
                   progress: (_ sweep: Int, _ step: Int, _ constraints: Int) -> Void = { _, _, _ in }) throws -> LPSolution {
        let n = table.categories, T = table.steps
        var sweeps = 0
        var skipped = 0
        var stamp = [Int32](repeating: -1, count: table.pairCount)
        var changed: [Int32] = []
        var stepBest: [Candidate] = []
        var pairBest: [Int: Candidate] = [:]
        func difference(_ m: Int, _ p: Int, _ counts: [Int32]) -> [Double] {
            (0..<n).map { Double(counts[m * n + $0]) - Double(counts[p * n + $0]) }
        }
        func flush() throws -> Int {
            var queued = Set<UInt64>()
            var count = 0
            for c in stepBest + pairBest.values.sorted(by: { ($0.pair, $0.step) < ($1.pair, $1.step) }) {
                let key = UInt64(c.step) << 32 | UInt64(c.pair)
                guard queued.insert(key).inserted, inProgram.insert(key).inserted else { continue }
                queueRow(step: c.step, pair: c.pair, difference: c.difference)
                count += 1
            }
            stepBest.removeAll()
            pairBest.removeAll()
            if count > 0 || solves == 0 { try resolve() }
            return count
        }
        while true {
            sweeps += 1
            var added = 0
            skipped = 0
            var counts = table.initial
            var w = weights
            var heap = IndexedMaxHeap(keys: (0..<table.pairCount).map { score($0, counts, w) - pairSlack[$0] })
            for i in stamp.indices { stamp[i] = -1 }
            var popped: [Int] = []
            for t in 0..<T {
                let m = Int(table.mergePair[t])
                if m >= 0, (0..<n).contains(where: { counts[m * n + $0] > 0 }) {
                    let bar = score(m, counts, w) + max(0, stepSlack[t])
                    var found = 0
                    popped.removeAll(keepingCapacity: true)
                    while found < competitorsPerStep, let top = heap.top, heap.keys[top] > bar + tolerance {
                        _ = heap.pop()
                        popped.append(top)
                        guard top != m, !inProgram.contains(UInt64(t) << 32 | UInt64(top)) else { continue }
                        let violation = heap.keys[top] - bar
                        if found == 0 {
                            stepBest.append(Candidate(step: t, pair: top, violation: violation, difference: difference(m, top, counts)))
                        }
                        if violation > pairBest[top]?.violation ?? 0 {
                            pairBest[top] = Candidate(step: t, pair: top, violation: violation, difference: difference(m, top, counts))
                        }
                        found += 1
                    }
                    for p in popped { heap.push(p) }
                } else {
                    skipped += 1
                }
                table.apply(step: t, to: &counts, stamp: &stamp, changed: &changed)
                for p in changed { heap.update(Int(p), score(Int(p), counts, w) - pairSlack[Int(p)]) }
                if stepBest.count + pairBest.count >= max(minRowsPerSolve, constraintCount / 4) {
                    added += try flush()
                    w = weights
                    for p in 0..<table.pairCount { heap.keys[p] = score(p, counts, w) - pairSlack[p] }
                    heap.rebuild()
                }
                if t % 1024 == 0 { progress(sweeps, t, constraintCount) }
            }
            added += try flush()
            progress(sweeps, T, constraintCount)
            if debug {
                FileHandle.standardError.write(Data(String(format: "mixture: sweep %d added %d rows (%d in all, %d solves, %.2f s in CLP so far)\n",
                                                           sweeps, added, constraintCount, solves, solveSeconds).utf8))
            }
            if added == 0 { break }
        }
        return LPSolution(alpha: alpha, objective: lp.objective / scale, constraints: constraintCount,
                          pairSlacks: pairColumn.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }, solves: solves, sweeps: sweeps,
                          skippedSteps: skipped)
    }

    /// Solves the full LP1_T at once: every (step, pair) row whose pair occurs at that step.
    /// Only for small cases (tests), to check that lazy generation reaches the same optimum.
    func solveFull() throws -> LPSolution {
        let n = table.categories
        var counts = table.initial
        var stamp = [Int32](repeating: -1, count: table.pairCount)
        var changed: [Int32] = []
        var skipped = 0
        for t in 0..<table.steps {
            let m = Int(table.mergePair[t])
            if m >= 0, (0..<n).contains(where: { counts[m * n + $0] > 0 }) {
                for p in 0..<table.pairCount where p != m && (0..<n).contains(where: { counts[p * n + $0] > 0 }) {
                    queueRow(step: t, pair: p, difference: (0..<n).map { Double(counts[m * n + $0]) - Double(counts[p * n + $0]) })
                }
            } else {
                skipped += 1
            }
            table.apply(step: t, to: &counts, stamp: &stamp, changed: &changed)
        }
        try resolve()
        return LPSolution(alpha: alpha, objective: lp.objective / scale, constraints: constraintCount,
                          pairSlacks: pairColumn.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }, solves: solves, sweeps: 1,
                          skippedSteps: skipped)
    }
}
