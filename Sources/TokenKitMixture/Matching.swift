import Foundation
import TokenKitCore

extension MixtureLP {
    /// Solves LP1_T as  min over α of F(α),  F(α) = the slack LP at fixed α = max-weight matching
    /// of the (step, pair) edges (convex, piecewise linear). CLP solves the restricted LP1 over
    /// the rows of every matching found so far (a lower bound L ≤ optimum, and its α); the exact
    /// matching at that α (`RunMatching`, over every edge at once without listing them) gives
    /// F(α) ≥ optimum. Stops when F(α) = L (relative `relativeGap`), when every matched row is
    /// already in the program, or when L stopped rising (`stallGap`): α with its exact slacks is
    /// then a feasible solution of the full program (every row covered) whose objective is F(α),
    /// within the logged gap of a lower bound (with CLP at tolerance 1e-9: 3e-8 or less relative
    /// at T = 30000). Each round's matching starts from the last one's. With a `deadline` it
    /// stops after the first round once another round twice as long as the last would end past
    /// it (rounds grow as rows pile up: on cl100k, 21 categories, 133 s then 360 s):
    /// α and F(α) still belong together (a feasible point), only further from the lower bound.
    func solveByMatching(warmHorizon: Int = 1000, warmEntries: Int = 300_000, relativeGap: Double = 1e-7, stallGap: Double = 1e-8,
                         deadline: Date? = nil,
                         progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> LPSolution {
        let n = table.categories
        let clock = Date()
        if warmHorizon > 0 {
            // A first mixture from the LP over the first steps (its rows are rows of LP1_T). The
            // sweeps add about a row per step each, and CLP's re-solves cost about rows × columns;
            // where most steps keep violators for many sweeps (a real tokenizer that the samples
            // explain poorly: cl100k with 5 categories × 16 blocks took 42 sweeps and 122 s), the
            // matchings get there faster, so the warm-up stops past `warmEntries` / n rows.
            var warm = LazySchedule()
            warm.firstHorizon = min(table.steps, warmHorizon)
            warm.lastHorizon = warm.firstHorizon
            warm.maxRows = max(1, warmEntries / n)
            let sol = try solveLazy(warm)
            log(String(format: "matching: LP over the first %d steps, %d sweeps, in %.2f s (%d rows)", warm.firstHorizon,
                       sol.sweeps, Date().timeIntervalSince(clock), constraintCount))
        }
        let runs = pairRuns()
        let matching = RunMatching(runs)
        var matchSeconds = 0.0
        var rounds = 0
        var firstGap = 1.0
        var lower = warmHorizon > 0 ? lp.objective : -Double.infinity
        var previousLower = -Double.infinity
        var cover: RunCover
        var timedOut = false
        var roundClock = Date()
        while true {
            rounds += 1
            let c1 = Date()
            cover = matching.solve(weights)
            matchSeconds += Date().timeIntervalSince(c1)
            // Every matched edge's row (a row the program's solution satisfies may still be
            // needed once α moves; adding only violated ones took more rounds and ended with a
            // larger gap, from the solver's tolerance summed over the matching).
            var added = 0
            for t in 0..<table.steps {
                let k = Int(cover.matchedRun[t])
                guard k >= 0 else { continue }
                let p = Int(runs.owner[k])
                if p == Int(runs.merge[t]) || inProgram.contains(UInt64(t) << 32 | UInt64(p)) { continue }
                let run = runs.counts(run: k)
                queueRow(step: t, pair: p, difference: (0..<n).map { runs.mergeCounts[t * n + $0] &- run[$0] })
                added += 1
            }
            log(String(format: "matching round %d: F(α) %.9g, LP %.9g, %d kept after %d passes, %d searches settling %d nodes, %d rows added (%d in the program); %.2f s matching, %.2f s in CLP, %.2f s in all",
                       rounds, cover.value / scale, lower / scale, cover.kept, cover.passes, cover.searches, cover.settled, added, constraintCount,
                       matchSeconds, solveSeconds, Date().timeIntervalSince(clock)))
            // α is the restricted program's optimum (a lower bound on the full optimum); F(α) is
            // the full program's value at α. Done when the program has every matched row, or its
            // optimum reaches F(α), or it stopped rising (the matchings left differ only in ties;
            // F(α) − LP is then the solver's tolerance summed over the rows).
            let stalled = rounds > 2 && lower - previousLower <= stallGap * max(1e-300, abs(lower))
            // Progress: the share of the way from the first round's gap to `relativeGap`, on a
            // log scale (the number of rounds is not known in advance).
            let gap = max(relativeGap, (cover.value - lower) / max(1e-300, abs(cover.value)))
            if rounds == 1 { firstGap = max(gap, relativeGap * 10) }
            progress(Int(999 * min(1, max(0, Foundation.log(firstGap / gap) / Foundation.log(firstGap / relativeGap)))), 1000)
            if added == 0 || stalled || cover.value - lower <= relativeGap * max(1, abs(cover.value)) { break }
            // A round is a re-solve and a matching; the next may take twice as long as this one.
            if let deadline, Date().addingTimeInterval(2 * Date().timeIntervalSince(roundClock)) >= deadline {
                timedOut = true
                break
            }
            roundClock = Date()
            try resolve(LazySchedule(dropAfter: 0))
            previousLower = lower
            lower = lp.objective
            log(String(format: "matching: LP %.9g (%d iterations), α ", lower / scale, lp.iterations) + alpha.map { String(format: "%.5f", $0) }.joined(separator: " "))
        }
        // The reported α is the one the last matching was computed at (the restricted program's
        // last optimum), so objective and slacks belong together.
        progress(1000, 1000)
        // Reported gap: 0 within the solver's tolerance (an objective near 0 would otherwise
        // show a large relative gap), else relative to the objective; slacks are ≥ 0, so 0 is
        // a lower bound before any program was solved.
        let finalGap = cover.value - lower <= relativeGap * max(1, abs(cover.value)) ? 0 : (cover.value - max(0, lower)) / abs(cover.value)
        log(String(format: "matching: %@ %.9g, LP lower bound %.9g (relative gap %.2g), %d rounds, %.2f s", timedOut ? "stopped at the deadline," : "optimum",
                   cover.value / scale, lower / scale, finalGap, rounds, Date().timeIntervalSince(clock)))
        return LPSolution(alpha: alpha, objective: cover.value / scale, constraints: constraintCount, generated: generated,
                          pairSlacks: cover.pairSlack.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }, solves: solves, sweeps: rounds,
                          skippedSteps: runs.skipped, relativeGap: finalGap, timedOut: timedOut)
    }
}

/// A label in the matching's Dijkstra heap, ordered by distance (stale ones are skipped).
struct Labelled: Comparable {
    var distance: Double
    var node: Int32
    static func < (a: Labelled, b: Labelled) -> Bool { a.distance < b.distance }
}

/// Fixed-size buffers of plain values, allocated one by one and freed together with the arena,
/// so the matching's hot loops index pointers instead of nesting a closure per array.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    func buffer<T: BitwiseCopyable>(_ count: Int, _ value: T) -> UnsafeMutableBufferPointer<T> {
        let p = UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
        p.initialize(repeating: value)
        blocks.append(UnsafeMutableRawPointer(p.baseAddress!))
        return UnsafeMutableBufferPointer(rebasing: p[0..<count])
    }

    func copy<T: BitwiseCopyable>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
        let p = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
        _ = p.initialize(from: values)
        blocks.append(UnsafeMutableRawPointer(p.baseAddress!))
        return UnsafeMutableBufferPointer(rebasing: p[0..<values.count])
    }

    deinit { for b in blocks { b.deallocate() } }
}
