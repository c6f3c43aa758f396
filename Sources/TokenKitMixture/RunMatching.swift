import Foundation
import TokenKitCore

/// Every pair's counts as runs of steps over which they stay constant, and each step's merged
/// pair's counts: the (step, pair) graph of LP1_T without its edges. For a mixture with weights
/// w, edge (t, p) has demand d_tp = a_k − b_t, with a_k = w · c(run k of p covering t) and
/// b_t = w · c(m(t) at t): separable, so a pair's edges over one run are a range of steps and
/// the graph takes memory for pairs + count changes, not for their product with the steps.
struct PairRuns {
    let categories: Int
    let steps: Int
    let pairs: Int
    /// Pair p's runs: pairStart[p] ..< pairStart[p + 1]; run k covers steps lo[k] ..< hi[k]
    /// (runs whose counts are all 0 are left out: no positive demand).
    let pairStart: [Int]
    let lo: [Int32]
    let hi: [Int32]
    let owner: [Int32]
    /// Run k's nonzero counts, sparse (with blocks most pairs occur in few of the columns):
    /// entries countStart[k] ..< countStart[k + 1], in column order.
    let countStart: [Int]
    let countColumn: [Int32]
    let countValue: [Int32]
    /// Step t's merged pair (-1 when it occurs in no sample at t: no rows) and its counts at t
    /// (t * categories).
    let merge: [Int32]
    let mergeCounts: [Int32]
    var skipped: Int { merge.reduce(0) { $0 + ($1 < 0 ? 1 : 0) } }
    var runs: Int { lo.count }

    init(_ table: PairTable) {
        let n = table.categories, T = table.steps, P = table.pairCount
        categories = n
        steps = T
        pairs = P
        // Runs in the order they open, each with its entries: a pair's open run is closed (hi
        // set) at a step that changes the pair, and the next one opens with the merged counts.
        var rLo: [Int32] = [], rHi: [Int32] = [], rOwner: [Int32] = [], rStart: [Int] = [0]
        var eColumn: [Int32] = [], eValue: [Int32] = []
        var open = [Int32](repeating: 0, count: P)
        for p in 0..<P {
            open[p] = Int32(rLo.count)
            rLo.append(0)
            rHi.append(Int32(T))
            rOwner.append(Int32(p))
            for j in table.initialStart[p]..<table.initialStart[p + 1] {
                eColumn.append(table.initialColumn[j])
                eValue.append(table.initialCount[j])
            }
            rStart.append(eColumn.count)
        }
        var mergeOf = [Int32](repeating: -1, count: T)
        var mergeC = [Int32](repeating: 0, count: T * n)
        // The step's changes as (pair, column, delta), sorted by pair then column.
        var step: [(pair: Int32, column: Int32, delta: Int32)] = []
        for t in 0..<T {
            let m = Int(table.mergePair[t])
            if m >= 0 {
                let k = Int(open[m])
                var occurs = false
                for j in rStart[k]..<rStart[k + 1] {
                    mergeC[t * n + Int(eColumn[j])] = eValue[j]
                    occurs = occurs || eValue[j] > 0
                }
                if occurs {
                    mergeOf[t] = Int32(m)
                } else {
                    for i in 0..<n { mergeC[t * n + i] = 0 }
                }
            }
            step.removeAll(keepingCapacity: true)
            table.forEachChange(step: t) { p, i, d in step.append((p, i, d)) }
            step.sort { ($0.pair, $0.column) < ($1.pair, $1.column) }
            var x = 0
            while x < step.count {
                let p = Int(step[x].pair)
                let old = Int(open[p])
                // Step t still saw the old counts.
                rHi[old] = Int32(t + 1)
                open[p] = Int32(rLo.count)
                rLo.append(Int32(t + 1))
                rHi.append(Int32(T))
                rOwner.append(Int32(p))
                // The old entries and the step's changes, both in column order, merged.
                var j = rStart[old]
                let e = rStart[old + 1]
                while j < e || (x < step.count && Int(step[x].pair) == p) {
                    let next = x < step.count && Int(step[x].pair) == p ? step[x].column : Int32.max
                    let column = j < e ? min(eColumn[j], next) : next
                    var value: Int32 = 0
                    if j < e, eColumn[j] == column {
                        value = eValue[j]
                        j += 1
                    }
                    while x < step.count, Int(step[x].pair) == p, step[x].column == column {
                        value &+= step[x].delta
                        x += 1
                    }
                    if value != 0 {
                        eColumn.append(column)
                        eValue.append(value)
                    }
                }
                rStart.append(eColumn.count)
            }
        }
        merge = mergeOf
        mergeCounts = mergeC
        // Keep the runs with steps and counts, grouped by pair (counting sort, stable: each
        // pair's runs in step order).
        let kept = rLo.indices.filter { rLo[$0] < rHi[$0] && rStart[$0] < rStart[$0 + 1] }
        var start = [Int](repeating: 0, count: P + 1)
        for k in kept { start[Int(rOwner[k]) + 1] += 1 }
        for p in 0..<P { start[p + 1] += start[p] }
        var slot = start
        var order = [Int](repeating: 0, count: kept.count)
        for k in kept {
            order[slot[Int(rOwner[k])]] = k
            slot[Int(rOwner[k])] += 1
        }
        pairStart = start
        lo = order.map { rLo[$0] }
        hi = order.map { rHi[$0] }
        owner = order.map { rOwner[$0] }
        var cStart = [0], cColumn: [Int32] = [], cValue: [Int32] = []
        cColumn.reserveCapacity(order.reduce(0) { $0 + rStart[$1 + 1] - rStart[$1] })
        cValue.reserveCapacity(cColumn.capacity)
        for k in order {
            cColumn.append(contentsOf: eColumn[rStart[k]..<rStart[k + 1]])
            cValue.append(contentsOf: eValue[rStart[k]..<rStart[k + 1]])
            cStart.append(cColumn.count)
        }
        countStart = cStart
        countColumn = cColumn
        countValue = cValue
    }

    /// Runs given directly (tests): `pairStart`, then per run its step range, pair and dense
    /// counts (k * categories), grouped by pair in step order without overlaps.
    init(categories: Int, steps: Int, pairStart: [Int], lo: [Int32], hi: [Int32], owner: [Int32], counts: [Int32],
         merge: [Int32], mergeCounts: [Int32]) {
        self.categories = categories
        self.steps = steps
        pairs = pairStart.count - 1
        self.pairStart = pairStart
        self.lo = lo
        self.hi = hi
        self.owner = owner
        var cStart = [0], cColumn: [Int32] = [], cValue: [Int32] = []
        for k in lo.indices {
            for i in 0..<categories where counts[k * categories + i] != 0 {
                cColumn.append(Int32(i))
                cValue.append(counts[k * categories + i])
            }
            cStart.append(cColumn.count)
        }
        countStart = cStart
        countColumn = cColumn
        countValue = cValue
        self.merge = merge
        self.mergeCounts = mergeCounts
    }

    /// Run k's counts, dense.
    func counts(run k: Int) -> [Int32] {
        var c = [Int32](repeating: 0, count: categories)
        for j in countStart[k]..<countStart[k + 1] { c[Int(countColumn[j])] = countValue[j] }
        return c
    }

    /// w · counts of run k (a_k) and of step t's merge (b_t; +∞ at steps without rows, which
    /// no search can then reach).
    func runWeights(_ w: [Double]) -> [Double] {
        (0..<runs).map { weight(run: $0, w) }
    }

    @inline(__always)
    func weight(run k: Int, _ w: [Double]) -> Double {
        var s = 0.0
        for j in countStart[k]..<countStart[k + 1] { s += w[Int(countColumn[j])] * Double(countValue[j]) }
        return s
    }

    func stepWeights(_ w: [Double]) -> [Double] {
        let n = categories
        return (0..<steps).map { t in
            guard merge[t] >= 0 else { return .infinity }
            var s = 0.0
            for i in 0..<n { s += w[i] * Double(mergeCounts[t * n + i]) }
            return s
        }
    }
}

/// Range minimum over the steps' keys with the argument (ties to the smaller step), and point
/// updates: the Hungarian search's way to find a run's cheapest step without listing its edges.
struct StepMinTree {
    let size: Int
    /// Leaf keys (size of them; +∞ past the last step).
    let key: UnsafeMutableBufferPointer<Double>
    /// node[i] = the step of the smallest key under node i (leaves at size + t).
    let node: UnsafeMutableBufferPointer<Int32>

    init(steps: Int, arena: Arena) {
        var s = 1
        while s < steps { s <<= 1 }
        size = s
        key = arena.buffer(s, Double.infinity)
        node = arena.buffer(2 * s, Int32(0))
        for t in 0..<s { node[s + t] = Int32(t) }
    }

    @inline(__always)
    private func better(_ a: Int32, _ b: Int32) -> Int32 {
        let ka = key[Int(a)], kb = key[Int(b)]
        return ka < kb || (ka == kb && a < b) ? a : b
    }

    /// Recomputes every inner node after the keys were set wholesale.
    func rebuild() {
        var i = size - 1
        while i >= 1 {
            node[i] = better(node[2 * i], node[2 * i + 1])
            i -= 1
        }
    }

    @inline(__always)
    func set(_ t: Int, _ value: Double) {
        key[t] = value
        var i = (t + size) >> 1
        while i >= 1 {
            node[i] = better(node[2 * i], node[2 * i + 1])
            i >>= 1
        }
    }

    /// The step of the smallest key in lo ..< hi (its key may be +∞).
    @inline(__always)
    func argmin(_ lo: Int, _ hi: Int) -> Int {
        var l = lo + size, r = hi + size
        var best = node[l]
        while l < r {
            if l & 1 == 1 {
                best = better(best, node[l])
                l += 1
            }
            if r & 1 == 1 {
                r -= 1
                best = better(best, node[r])
            }
            l >>= 1
            r >>= 1
        }
        return Int(best)
    }
}

/// The matching and cover at one mixture: per step the matched run (-1 = none).
struct RunCover {
    /// Σ matched demands = Σ y_t + Σ z_p (up to rounding).
    var value: Double
    var matchedRun: [Int32]
    var stepSlack: [Double]
    var pairSlack: [Double]
    var searches: Int
    /// Warm start: fix-up passes, matched edges kept; searches: steps and pairs settled.
    var passes = 0
    var kept = 0
    var settled = 0
}

/// The maximum-weight matching of steps and pairs (each at most once) over edges of demand
/// a_k − b_t for every run k and step t in it, and the cover y_t + z_p ≥ a_k − b_t (y, z ≥ 0) of
/// the same value: LP1_T's slacks at a fixed mixture, exactly. Edges of demand ≤ 0 are allowed
/// too: a matched edge is tight, so its demand is y + z ≥ 0, and they change neither value.
///
/// Hungarian method with every search rooted at a pair: from pair q at distance δ, step t of its
/// run k costs y_t + z_q − (a_k − b_t) = u_t + (z_q − a_k) with u_t = y_t + b_t, so the nearest
/// unsettled step of a run is a range minimum of u (`StepMinTree`, settled steps masked), and a
/// run stays in the Dijkstra heap, re-keyed to its next step, until it cannot beat the search's
/// best exit. Memory is that of the runs and steps, whatever the number of edges.
///
/// State carries over between mixtures (`solve` again with other weights): the last y and the
/// matching are kept, z is recomputed as the least feasible max(0, max_k a_k − min u), and a
/// matched edge that is no longer tight lowers its step's y to tightness (or is dropped when that
/// would go below 0), until nothing moves; free steps get y = 0. What is left deficient are free
/// pairs with z > 0, one search each. A search lowers only pairs' z and raises only matched
/// steps' y (a free step ends it at delta 0), so it never makes another node deficient.
final class RunMatching {
    let runs: PairRuns
    private(set) var y: [Double]
    private(set) var z: [Double]
    /// Per step its matched run, per pair its matched step (-1 = free).
    private(set) var stepMate: [Int32]
    private(set) var pairMate: [Int32]
    /// Passes of the warm start's fix-up before starting cold instead.
    var maxPasses = 64

    init(_ runs: PairRuns) {
        self.runs = runs
        y = [Double](repeating: 0, count: runs.steps)
        z = [Double](repeating: 0, count: runs.pairs)
        stepMate = [Int32](repeating: -1, count: runs.steps)
        pairMate = [Int32](repeating: -1, count: runs.pairs)
    }

    /// Forgets the last matching (the next `solve` starts cold).
    func reset() {
        for t in 0..<runs.steps { y[t] = 0; stepMate[t] = -1 }
        for p in 0..<runs.pairs { z[p] = 0; pairMate[p] = -1 }
    }

    func solve(_ w: [Double]) -> RunCover {
        let a = runs.runWeights(w)
        let b = runs.stepWeights(w)
        let T = runs.steps, P = runs.pairs
        let arena = Arena()
        defer { withExtendedLifetime(arena) {} }
        let tree = StepMinTree(steps: T, arena: arena)
        let pStart = runs.pairStart, rLo = runs.lo, rHi = runs.hi, owner = runs.owner
        @inline(__always) func tight(_ slack: Double, _ d: Double) -> Bool { slack <= 1e-12 * max(1, abs(d)) }
        func unmatch(_ t: Int) {
            pairMate[Int(owner[Int(stepMate[t])])] = -1
            stepMate[t] = -1
            y[t] = 0
        }
        // Warm start: free steps at 0, matched edges with positive demand kept for now.
        for t in 0..<T {
            if stepMate[t] < 0 || b[t] == .infinity { y[t] = 0 }
            if stepMate[t] >= 0 && !(a[Int(stepMate[t])] - b[t] > 0) { unmatch(t) }
        }
        var passes = 0
        while true {
            passes += 1
            for t in 0..<T { tree.key[t] = y[t] + b[t] }
            tree.rebuild()
            for p in 0..<P {
                var best = 0.0
                for k in pStart[p]..<pStart[p + 1] {
                    let s = tree.argmin(Int(rLo[k]), Int(rHi[k]))
                    let v = a[k] - tree.key[s]
                    if v > best { best = v }
                }
                z[p] = best
            }
            var moved = false
            for t in 0..<T where stepMate[t] >= 0 {
                let k = Int(stepMate[t]), p = Int(owner[k])
                let d = a[k] - b[t]
                if tight(y[t] + z[p] - d, d) { continue }
                moved = true
                let lower = d - z[p]
                if lower > 0 { y[t] = lower } else { unmatch(t) }
            }
            if !moved { break }
            if passes == maxPasses {
                for t in 0..<T where stepMate[t] >= 0 { unmatch(t) }
                for t in 0..<T { y[t] = 0 }
            }
        }
        // Searches from each deficient pair.
        let distP = arena.buffer(P, Double.infinity)
        let distS = arena.buffer(T, Double.infinity)
        let predRun = arena.buffer(T, Int32(-1))
        var settledPairs: [Int32] = []
        var settledSteps: [Int32] = []
        var heap = MinHeap<Labelled>()
        var searches = 0, settled = 0
        let kept = stepMate.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
        y.withUnsafeMutableBufferPointer { y in
        z.withUnsafeMutableBufferPointer { z in
        stepMate.withUnsafeMutableBufferPointer { stepMate in
        pairMate.withUnsafeMutableBufferPointer { pairMate in
            // Largest slack first. Earlier searches raised steps' y, so a free root's z is first
            // lowered to the least feasible value again (often 0: nothing to do); a root whose
            // tightest step is free takes it (the step's y is 0, so the edge is tight).
            var roots = (0..<Int32(P)).filter { pairMate[Int($0)] < 0 && z[Int($0)] > 0 }
            roots.sort { z[Int($0)] > z[Int($1)] || (z[Int($0)] == z[Int($1)] && $0 < $1) }
            for root32 in roots {
                let root = Int(root32)
                var best = 0.0, t0 = -1, k0 = -1
                for k in pStart[root]..<pStart[root + 1] {
                    let s = tree.argmin(Int(rLo[k]), Int(rHi[k]))
                    let v = a[k] - tree.key[s]
                    if v > best {
                        best = v
                        k0 = k
                        t0 = s
                    }
                }
                z[root] = best
                if t0 < 0 { continue }
                if stepMate[t0] < 0 {
                    stepMate[t0] = Int32(k0)
                    pairMate[root] = Int32(t0)
                    continue
                }
                searches += 1
                // The smallest exit label (a settled pair's z running out) so far: nothing at
                // or above it needs settling. Heap nodes: run k ≥ 0, or the exit of pair q as −1 − q.
                var bound = Double.infinity
                func settlePair(_ q: Int, _ dq: Double) {
                    distP[q] = dq
                    settledPairs.append(Int32(q))
                    let exit = dq + z[q]
                    if exit < bound {
                        bound = exit
                        heap.push(Labelled(distance: exit, node: Int32(-1 - q)))
                    }
                    for k in pStart[q]..<pStart[q + 1] {
                        let s = tree.argmin(Int(rLo[k]), Int(rHi[k]))
                        let label = dq + z[q] - a[k] + tree.key[s]
                        if label < bound { heap.push(Labelled(distance: label, node: Int32(k))) }
                    }
                }
                settlePair(root, 0)
                var D = 0.0
                var endStep = -1, endExit = -1
                while let top = heap.pop() {
                    if top.node < 0 {
                        endExit = Int(-1 - top.node)
                        D = top.distance
                        break
                    }
                    let k = Int(top.node), q = Int(owner[k])
                    let s = tree.argmin(Int(rLo[k]), Int(rHi[k]))
                    let label = distP[q] + z[q] - a[k] + tree.key[s]
                    if !(label < bound) { continue }
                    if label > top.distance {
                        // The step it was keyed by is settled: re-key to the next one.
                        heap.push(Labelled(distance: label, node: top.node))
                        continue
                    }
                    // The smallest label in the heap: step s is settled at it.
                    distS[s] = label
                    predRun[s] = Int32(k)
                    settledSteps.append(Int32(s))
                    tree.set(s, .infinity)
                    let s2 = tree.argmin(Int(rLo[k]), Int(rHi[k]))
                    let next = distP[q] + z[q] - a[k] + tree.key[s2]
                    if next < bound { heap.push(Labelled(distance: next, node: top.node)) }
                    let m = stepMate[s]
                    if m < 0 {
                        endStep = s
                        D = label
                        break
                    }
                    settlePair(Int(owner[Int(m)]), label)
                }
                precondition(endStep >= 0 || endExit >= 0, "the root's own exit is always reachable")
                // Pairs' slacks down, steps' up, by how much closer than D each was settled.
                for q32 in settledPairs {
                    let q = Int(q32)
                    let delta = D - distP[q]
                    if delta > 0 { z[q] = max(0, z[q] - delta) }
                    distP[q] = .infinity
                }
                for s32 in settledSteps {
                    let s = Int(s32)
                    let delta = D - distS[s]
                    if delta > 0 { y[s] += delta }
                    distS[s] = .infinity
                    tree.set(s, y[s] + b[s])
                }
                // Flip the path back to the root: from the free step, or from the step of the
                // pair whose slack ran out (that pair leaves the matching, at z = 0).
                var s = endStep
                if endExit >= 0 {
                    z[endExit] = 0
                    s = endExit == root ? -1 : Int(pairMate[endExit])
                    pairMate[endExit] = -1
                }
                while s >= 0 {
                    let k = Int(predRun[s]), q = Int(owner[k])
                    let previous = Int(pairMate[q])
                    stepMate[s] = Int32(k)
                    pairMate[q] = Int32(s)
                    if q == root { break }
                    s = previous
                }
                settled += settledPairs.count + settledSteps.count
                settledPairs.removeAll(keepingCapacity: true)
                settledSteps.removeAll(keepingCapacity: true)
                heap.removeAll(keepingCapacity: true)
            }
        }}}}}}
        var value = 0.0
        for t in 0..<T where stepMate[t] >= 0 { value += a[Int(stepMate[t])] - b[t] }
        return RunCover(value: value, matchedRun: stepMate, stepSlack: y, pairSlack: z, searches: searches, passes: passes,
                        kept: kept, settled: settled)
    }
}
