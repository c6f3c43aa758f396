import Foundation
import TokenKitCore

/// Every category's pair-count transcript over one shared index of pairs.
struct PairTable {
    let categories: Int
    let steps: Int
    private(set) var pairCount = 0
    /// Counts before the first merge, by pair and sparse (blocks of different categories share
    /// few pairs): pair p's nonzero counts are entries initialStart[p] ..< initialStart[p + 1],
    /// in column order.
    private(set) var initialStart: [Int] = []
    private(set) var initialColumn: [Int32] = []
    private(set) var initialCount: [Int32] = []
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
        initialStart = [Int](repeating: 0, count: pairCount + 1)
        for (i, tr) in transcripts.enumerated() {
            for (k, p) in initialIndex[i].enumerated() where tr.initialCounts[k] != 0 { initialStart[Int(p) + 1] += 1 }
        }
        for p in 0..<pairCount { initialStart[p + 1] += initialStart[p] }
        var next = initialStart
        initialColumn = [Int32](repeating: 0, count: initialStart[pairCount])
        initialCount = initialColumn
        for (i, tr) in transcripts.enumerated() {
            for (k, p) in initialIndex[i].enumerated() where tr.initialCounts[k] != 0 {
                let j = next[Int(p)]
                next[Int(p)] += 1
                initialColumn[j] = Int32(i)
                initialCount[j] = Int32(clamping: tr.initialCounts[k])
            }
        }
        mergePair = merges.merges.prefix(steps).map { m in
            ids.get(UInt64(m.0) << 32 | UInt64(m.1)).map { Int32($0) } ?? -1
        }
    }

    /// The initial counts dense (pair p, column i at p * categories + i), for the sweeps, which
    /// update every pair's counts in place.
    func denseInitial() -> [Int32] {
        var counts = [Int32](repeating: 0, count: pairCount * categories)
        for p in 0..<pairCount {
            for j in initialStart[p]..<initialStart[p + 1] { counts[p * categories + Int(initialColumn[j])] = initialCount[j] }
        }
        return counts
    }

    /// Calls `body(pair, column, delta)` for each of step t's changes.
    func forEachChange(step t: Int, _ body: (Int32, Int32, Int32) -> Void) {
        for i in 0..<categories {
            for k in stepStart[i][t]..<stepStart[i][t + 1] { body(index[i][k], Int32(i), delta[i][k]) }
        }
    }

    /// Applies step t's changes to dense `counts` and lists each changed pair once in `changed`
    /// (those `stamp` already marks for step t are left out).
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
    /// Merge constraints generated over the whole run (some dropped again while not binding).
    var generated: Int
    var pairSlacks: Int
    var solves: Int
    var sweeps: Int
    /// Merge steps whose pair occurs in no sample at that step (no constraint).
    var skippedSteps: Int
    /// Matching solve: the objective's relative distance from the lower bound it ended with.
    var relativeGap: Double? = nil
    /// Matching solve: stopped at its deadline before the gap closed.
    var timedOut = false
}

/// How the lazy generation is paced. Hayase et al.'s reference solver adds at most 10
/// competitors per step per sweep and re-solves once 100 new rows are queued, keeping every
/// row; on small noisy samples nearly every step has new competitors in every sweep, and CLP's
/// iterations cost grows with the rows kept, so the defaults add fewer rows per step, re-solve
/// less often, add each pair's worst step, and drop rows that stopped binding.
public struct LazySchedule: Sendable {
    /// New rows per merge step per sweep.
    public var competitorsPerStep = 1
    /// Rows queued before the program is re-solved mid-sweep.
    public var rowsPerSolve = 1000
    /// A row whose slack was basic (not binding) at the end of this many sweeps in a row is
    /// deleted (0 = never). Dropping stops for good after the first sweep that adds at most
    /// `rowsPerSolve` rows, so the run ends; the last sweep adds nothing either way, so the
    /// result is the optimum of the full program.
    public var dropAfter = 1
    /// Pairs looked at per step beyond the quota, whose worst step since the last solve also
    /// becomes a row (`pairWorst`): a pair's slack is shared by all steps and a pair that beats
    /// the merges beats a run of them, so adding its rows one step per sweep would only creep
    /// up to the same bound.
    public var lookAhead = 16
    public var pairWorst = true
    /// Sweeps first cover only the first `firstHorizon` steps, then 3× as many once a sweep
    /// adds nothing, up to all T: the later steps then start from a near-optimal mixture
    /// (the rows of LP1_h are rows of LP1_T, so nothing is lost). 0 = all steps from the start.
    public var firstHorizon = 0
    /// Stop once the program over this many steps is solved (0 = all T).
    public var lastHorizon = 0
    /// Stop after a sweep that leaves more rows than this in the program, even if it added
    /// some (0 = never): the program is then solved over the rows found so far, a lower bound
    /// of the full one, which is all a warm start needs.
    public var maxRows = 0
    /// Solve every time from scratch instead of from the last basis (tests).
    public var cold = false

    public init(competitorsPerStep: Int = 1, rowsPerSolve: Int = 1000, dropAfter: Int = 1, lookAhead: Int = 16,
                pairWorst: Bool = true, firstHorizon: Int = 0, lastHorizon: Int = 0, cold: Bool = false) {
        self.competitorsPerStep = competitorsPerStep
        self.rowsPerSolve = rowsPerSolve
        self.dropAfter = dropAfter
        self.lookAhead = lookAhead
        self.pairWorst = pairWorst
        self.firstHorizon = firstHorizon
        self.lastHorizon = lastHorizon
        self.cold = cold
    }
}

/// How CLP solves the restricted programs.
public struct LPSettings: Sendable {
    /// Primal and dual tolerance. Rows carry counts up to ~1e6 next to unit slacks: at CLP's
    /// default 1e-7 (after scaling) re-solves stopped up to 1e-4 relative short of the
    /// restricted optimum, which left the matching solve's lower bound and α that far off.
    /// 1e-9 reaches it at about the same cost.
    public var tolerance = 1e-9
    /// Dantzig's rule for the dual simplex instead of CLP's dual steepest edge. Its cheaper
    /// iterations won on languages at 64 MiB (8.5 s against 14.3 s at T = 30000), but after a
    /// matching's rows are added it could need many more of them: 849 s against 165 s on 10
    /// categories with code from 6 MiB, 142 s against 72 s on 5 (BENCHMARKS.md, issue 19).
    public var dantzigPricing = false
    /// Write every restricted program and its basis here in CLP's format (solver experiments).
    public var saveDirectory: String?
    public init() {}
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
/// Σ_i α_i c̃_{i,p} − v_p under the current solution (updated by each step's count changes),
/// and at each step pops the pairs that beat the merge by more than the tolerance (at most
/// `competitorsPerStep` new ones); once `rowsPerSolve` rows are queued they are added, the
/// program is re-solved from the last basis (dual simplex) and the sweep goes on under the new
/// solution. Rows that stopped binding may be deleted at a sweep's end (`LazySchedule.dropAfter`).
/// A sweep that adds nothing proves the restricted optimum feasible, hence optimal, for the
/// full program.
final class MixtureLP {
    let table: PairTable
    /// Counts are scaled by mean(P) / P_i instead of 1 / P_i, so coefficients are near raw counts
    /// and the solver's absolute tolerances are small against them; the optimum α is unchanged.
    let scale: Double
    let coefficient: [Double]
    let tolerance: Double
    let lp = LinearProgram()
    /// Threads for the parts that run in parallel (sorting the matching's edges).
    var threads = ProcessInfo.processInfo.activeProcessorCount
    var pairColumn: [Int32]
    /// (step << 32 | pair) of the rows in the program.
    var inProgram = Set<UInt64>()
    /// Per program row after the simplex row: its key and for how many solves it was idle.
    private var rowKey: [UInt64] = []
    private var idle: [Int32] = []
    /// Columns waiting to be added: bounds and objective.
    private var pendingLower: [Double] = []
    private var pendingUpper: [Double] = []
    private var pendingObjective: [Double] = []
    private var rows = LinearProgram.Rows()
    private var pendingKeys: [UInt64] = []
    private(set) var generated = 0
    private(set) var solves = 0
    private(set) var dropped = 0
    private(set) var iterations = 0
    var constraintCount: Int { rowKey.count + pendingKeys.count - linkRows - pendingLinks }
    /// Rows of LP1_T queued and not yet in the program.
    var pendingRowCount: Int { pendingKeys.count - pendingLinks }

    /// α_i's column in new rows. Each α column is split into copies of at most `alphaBlock` rows
    /// each, chained by rows copy − previous = 0: with every row holding up to n α entries, whole
    /// α columns are dense, and CLP's LU factorization spent most of a re-solve on them (4–6×
    /// slower at 30–40k rows). The copies keep every column short; the optimum is unchanged.
    private var alphaColumn: [Int32]
    private var alphaRows = 0
    var alphaBlock = 1000
    /// The key of a linking row (never dropped, not a row of LP1_T).
    private static let linkKey = UInt64.max
    private var linkRows = 0
    private var pendingLinks = 0

    // Current solution.
    var alpha: [Double]
    var stepSlack: [Double]
    var pairSlack: [Double]

    /// Receives progress lines (sweeps, solves, timings); nil for none.
    var logger: (@Sendable (String) -> Void)?
    let settings: LPSettings

    /// `sizes` are the categories' sizes the counts are normalized by (default: their initial
    /// pairs P_i, as Hayase et al.); α is then a share of those units.
    /// `stepWeights` are the objective's weights of the step slacks v_t (default 1, as Hayase et
    /// al.); only the sweeps (`solveLazy`, `solveFull`) solve the weighted program.
    init(_ table: PairTable, sizes: [Double]? = nil, stepWeights: [Double]? = nil, tolerance: Double = 1e-6,
         settings: LPSettings = LPSettings(), log: (@Sendable (String) -> Void)? = nil) throws {
        self.settings = settings
        self.logger = log
        self.table = table
        let n = table.categories
        for (i, p) in table.totalPairs.enumerated() where p <= 0 {
            throw TokenKitError.badInput("category \(i + 1) has no pairs to count")
        }
        let size = sizes ?? table.totalPairs.map(Double.init)
        let k = size.reduce(0, +) / Double(n)
        scale = k
        coefficient = size.map { k / $0 }
        self.tolerance = tolerance
        pairColumn = [Int32](repeating: -1, count: table.pairCount)
        alphaColumn = (0..<Int32(n)).map { $0 }
        alpha = [Double](repeating: 1 / Double(n), count: n)
        stepSlack = [Double](repeating: 0, count: table.steps)
        pairSlack = [Double](repeating: 0, count: table.pairCount)
        // Columns: α (n), then v_t (one per step), then v_p as pairs enter.
        lp.addColumns(lower: .init(repeating: 0, count: n), upper: .init(repeating: 1, count: n),
                      objective: .init(repeating: 0, count: n))
        lp.addColumns(lower: .init(repeating: 0, count: table.steps), upper: .init(repeating: LinearProgram.infinity, count: table.steps),
                      objective: stepWeights ?? .init(repeating: 1, count: table.steps))
        var simplex = LinearProgram.Rows()
        simplex.append(lower: 1, upper: 1, (0..<n).map { ($0, 1.0) })
        lp.addRows(simplex)
        lp.setTolerances(primal: settings.tolerance, dual: settings.tolerance)
        lp.useDantzigPricing(settings.dantzigPricing)
    }

    var weights: [Double] { (0..<table.categories).map { max(0, alpha[$0]) * coefficient[$0] } }

    private var builtRuns: PairRuns?
    /// Every pair's counts as runs of constant counts over the steps (sparse), built once.
    func pairRuns() -> PairRuns {
        if let runs = builtRuns { return runs }
        let clock = Date()
        let runs = PairRuns(table)
        log(String(format: "%d runs of constant counts (%d pairs) in %.2f s", runs.runs, runs.pairs, Date().timeIntervalSince(clock)))
        builtRuns = runs
        return runs
    }

    /// Σ_i w_i c_{i,p} from dense counts (the full program and the tests' references).
    @inline(__always)
    func score(_ p: Int, _ counts: [Int32], _ w: [Double]) -> Double {
        let n = table.categories
        var s = 0.0
        for i in 0..<n { s += w[i] * Double(counts[p * n + i]) }
        return s
    }

    /// Queues the row "merge m(t) beats pair p at step t", with p's slack column;
    /// `difference` is c_{i,m(t)} − c_{i,p} at step t per category.
    func queueRow(step t: Int, pair p: Int, difference: [Int32]) {
        let n = table.categories
        if pairColumn[p] < 0 {
            pairColumn[p] = Int32(newColumn(lower: 0, upper: LinearProgram.infinity, objective: 1))
        }
        if alphaRows == alphaBlock { splitAlpha() }
        alphaRows += 1
        var entries: [(Int, Double)] = []
        for i in 0..<n where difference[i] != 0 { entries.append((Int(alphaColumn[i]), coefficient[i] * Double(difference[i]))) }
        entries.append((n + t, 1))
        entries.append((Int(pairColumn[p]), 1))
        rows.append(lower: 0, entries)
        let key = UInt64(t) << 32 | UInt64(p)
        pendingKeys.append(key)
        inProgram.insert(key)
        generated += 1
    }

    /// Queues a column; returns its index.
    private func newColumn(lower: Double, upper: Double, objective: Double) -> Int {
        pendingLower.append(lower)
        pendingUpper.append(upper)
        pendingObjective.append(objective)
        return lp.columnCount + pendingLower.count - 1
    }

    /// Starts a new copy of every α column (see `alphaColumn`).
    private func splitAlpha() {
        for i in 0..<table.categories {
            let c = newColumn(lower: 0, upper: 1, objective: 0)
            rows.append(lower: 0, upper: 0, [(c, 1), (Int(alphaColumn[i]), -1)])
            pendingKeys.append(MixtureLP.linkKey)
            pendingLinks += 1
            alphaColumn[i] = Int32(c)
        }
        alphaRows = 0
    }

    private func difference(_ m: Int, _ p: Int, _ counts: [Int32]) -> [Int32] {
        let n = table.categories
        return (0..<n).map { counts[m * n + $0] &- counts[p * n + $0] }
    }

    /// Seconds spent in CLP (for the debug log).
    private(set) var solveSeconds = 0.0

    /// Adds the queued rows, re-solves and reads the solution. At the end of a sweep (`sweepEnd`)
    /// rows not binding now are counted idle, and (when `drop`) rows idle at `dropAfter` sweep
    /// ends in a row are deleted.
    func resolve(_ schedule: LazySchedule, sweepEnd: Bool = false, drop: Bool = false) throws {
        let clock = Date()
        defer { solveSeconds += Date().timeIntervalSince(clock) }
        if !pendingLower.isEmpty {
            lp.addColumns(lower: pendingLower, upper: pendingUpper, objective: pendingObjective)
            pendingLower.removeAll()
            pendingUpper.removeAll()
            pendingObjective.removeAll()
        }
        linkRows += pendingLinks
        pendingLinks = 0
        lp.addRows(rows)
        rows = LinearProgram.Rows()
        rowKey += pendingKeys
        idle += [Int32](repeating: 0, count: pendingKeys.count)
        pendingKeys.removeAll()
        if schedule.cold { lp.forgetBasis() }
        if let dir = settings.saveDirectory { lp.save("\(dir)/solve-\(solves).clp") }
        try lp.solve()
        solves += 1
        iterations += lp.iterations
        let x = lp.solution
        let n = table.categories
        alpha = Array(x[0..<n])
        stepSlack = Array(x[n..<(n + table.steps)])
        for p in 0..<table.pairCount where pairColumn[p] >= 0 { pairSlack[p] = max(0, x[Int(pairColumn[p])]) }
        guard schedule.dropAfter > 0, sweepEnd else { return }
        let state = lp.rowState()
        var doomed: [Int32] = []
        for r in rowKey.indices {
            // Row r + 1 of the program (row 0 is Σ α = 1).
            let loose = rowKey[r] != MixtureLP.linkKey && state.basic[r + 1] && state.activity[r + 1] > tolerance
            idle[r] = loose ? idle[r] + 1 : 0
            if drop, loose, idle[r] >= schedule.dropAfter { doomed.append(Int32(r + 1)) }
        }
        guard !doomed.isEmpty else { return }
        lp.deleteRows(doomed)
        var keep = 0
        var d = 0
        for r in rowKey.indices {
            if d < doomed.count, Int(doomed[d]) == r + 1 {
                inProgram.remove(rowKey[r])
                d += 1
                continue
            }
            rowKey[keep] = rowKey[r]
            idle[keep] = idle[r]
            keep += 1
        }
        rowKey.removeLast(rowKey.count - keep)
        idle.removeLast(idle.count - keep)
        dropped += doomed.count
    }

    func log(_ s: @autoclosure () -> String) {
        logger?(s())
    }

    /// Solves LP1_T by lazy row and column generation (see the type's comment).
    func solveLazy(_ schedule: LazySchedule = LazySchedule(),
                   progress: (_ sweep: Int, _ step: Int, _ constraints: Int) -> Void = { _, _, _ in }) throws -> LPSolution {
        let n = table.categories, T = table.steps, P = table.pairCount
        let runs = pairRuns()
        var sweeps = 0
        var skipped = 0
        var dropping = schedule.dropAfter > 0
        var horizon = schedule.firstHorizon > 0 ? min(T, schedule.firstHorizon) : T
        var stamp = [Int32](repeating: -1, count: P)
        var changed: [Int32] = []
        var popped: [Int] = []
        let popLimit = schedule.competitorsPerStep + schedule.lookAhead
        // Pair p's counts at step t are those of its run covering t (none: 0). A sweep's steps
        // only go forward, so each pair's cursor into its runs does too.
        var cursor = [Int](repeating: 0, count: P)
        func runAt(_ p: Int, _ t: Int) -> Int {
            var k = cursor[p]
            let e = runs.pairStart[p + 1]
            while k < e, Int(runs.hi[k]) <= t { k += 1 }
            cursor[p] = k
            return k < e && Int(runs.lo[k]) <= t ? k : -1
        }
        func runScore(_ p: Int, _ t: Int, _ w: [Double]) -> Double {
            let k = runAt(p, t)
            return k < 0 ? 0 : runs.weight(run: k, w)
        }
        func runDifference(_ t: Int, _ p: Int) -> [Int32] {
            let k = runAt(p, t)
            let c = k < 0 ? [Int32](repeating: 0, count: n) : runs.counts(run: k)
            return (0..<n).map { runs.mergeCounts[t * n + $0] &- c[$0] }
        }
        // Per pair, its worst violation (step, amount, count differences) among the pairs looked
        // at beyond each step's quota since the last solve.
        var pairWorst: [Int: (step: Int, violation: Double, difference: [Int32])] = [:]
        func queuePairWorst() {
            for (p, c) in pairWorst.sorted(by: { $0.key < $1.key }) where !inProgram.contains(UInt64(c.step) << 32 | UInt64(p)) {
                queueRow(step: c.step, pair: p, difference: c.difference)
            }
            pairWorst.removeAll(keepingCapacity: true)
        }
        let sweepClock = Date()
        var heapSeconds = 0.0
        while true {
            sweeps += 1
            var added = 0
            skipped = 0
            for p in 0..<P { cursor[p] = runs.pairStart[p] }
            var w = weights
            var heap = IndexedMaxHeap(keys: (0..<P).map { runScore($0, 0, w) - pairSlack[$0] })
            for i in stamp.indices { stamp[i] = -1 }
            for t in 0..<horizon {
                let m = Int(runs.merge[t])
                if m >= 0 {
                    let bar = runScore(m, t, w) + max(0, stepSlack[t]) + tolerance
                    var found = 0, seen = 0
                    popped.removeAll(keepingCapacity: true)
                    // The first `competitorsPerStep` new violators become rows; a few more are
                    // looked at for their pair's worst step. Rows already in the program hold up
                    // to the solver's tolerance and are skipped (not counted, so a sweep that adds
                    // nothing has seen every violator; bounded, so a tolerance mismatch cannot
                    // make this loop long).
                    while seen < popLimit, popped.count < popLimit + 4096, let top = heap.top, heap.keys[top] > bar {
                        _ = heap.pop()
                        popped.append(top)
                        guard top != m, !inProgram.contains(UInt64(t) << 32 | UInt64(top)) else { continue }
                        seen += 1
                        let violation = heap.keys[top] - bar
                        if found < schedule.competitorsPerStep {
                            queueRow(step: t, pair: top, difference: runDifference(t, top))
                            found += 1
                        } else if schedule.pairWorst, violation > pairWorst[top]?.violation ?? 0 {
                            pairWorst[top] = (t, violation, runDifference(t, top))
                        }
                    }
                    for p in popped { heap.push(p) }
                } else {
                    skipped += 1
                }
                // The pairs step t changes, each once, with their counts after it.
                changed.removeAll(keepingCapacity: true)
                table.forEachChange(step: t) { p, _, _ in
                    if stamp[Int(p)] != Int32(t) {
                        stamp[Int(p)] = Int32(t)
                        changed.append(p)
                    }
                }
                for p in changed { heap.update(Int(p), runScore(Int(p), t + 1, w) - pairSlack[Int(p)]) }
                if pendingRowCount + pairWorst.count >= schedule.rowsPerSolve {
                    queuePairWorst()
                    added += pendingRowCount
                    try resolve(schedule)
                    let clock = Date()
                    w = weights
                    for p in 0..<P { heap.keys[p] = runScore(p, t + 1, w) - pairSlack[p] }
                    heap.rebuild()
                    heapSeconds += Date().timeIntervalSince(clock)
                }
                if t % 1024 == 0 { progress(sweeps, t, constraintCount) }
            }
            queuePairWorst()
            added += pendingRowCount
            try resolve(schedule, sweepEnd: true, drop: dropping)
            progress(sweeps, T, constraintCount)
            log(String(format: "sweep %d (%d steps) added %d rows (%d in the program, %d generated, %d dropped; %d solves, %d iterations, "
                           + "%.2f s in CLP, %.2f s re-keying, %.2f s in all)",
                       sweeps, horizon, added, constraintCount, generated, dropped, solves, iterations, solveSeconds, heapSeconds,
                       Date().timeIntervalSince(sweepClock))
                + ", objective " + String(format: "%.9g", lp.objective / scale) + ", α " + alpha.map { String(format: "%.5f", $0) }.joined(separator: " "))
            if schedule.maxRows > 0, constraintCount > schedule.maxRows { break }
            if added == 0 {
                if horizon == T || (schedule.lastHorizon > 0 && horizon >= schedule.lastHorizon) { break }
                horizon = min(T, horizon * 3)
                dropping = schedule.dropAfter > 0
            } else if added <= schedule.rowsPerSolve {
                dropping = false
            }
        }
        return LPSolution(alpha: alpha, objective: lp.objective / scale, constraints: constraintCount, generated: generated,
                          pairSlacks: pairColumn.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }, solves: solves, sweeps: sweeps,
                          skippedSteps: skipped)
    }

    /// Solves the full LP1_T at once: every (step, pair) row whose pair occurs at that step.
    /// Only for small cases (tests), to check that lazy generation reaches the same optimum.
    func solveFull() throws -> LPSolution {
        let n = table.categories
        var counts = table.denseInitial()
        var stamp = [Int32](repeating: -1, count: table.pairCount)
        var changed: [Int32] = []
        var skipped = 0
        for t in 0..<table.steps {
            let m = Int(table.mergePair[t])
            if m >= 0, (0..<n).contains(where: { counts[m * n + $0] > 0 }) {
                for p in 0..<table.pairCount where p != m && (0..<n).contains(where: { counts[p * n + $0] > 0 }) {
                    queueRow(step: t, pair: p, difference: difference(m, p, counts))
                }
            } else {
                skipped += 1
            }
            table.apply(step: t, to: &counts, stamp: &stamp, changed: &changed)
        }
        try resolve(LazySchedule())
        return LPSolution(alpha: alpha, objective: lp.objective / scale, constraints: constraintCount, generated: generated,
                          pairSlacks: pairColumn.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }, solves: solves, sweeps: 1,
                          skippedSteps: skipped)
    }
}
