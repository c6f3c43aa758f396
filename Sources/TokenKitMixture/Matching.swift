import Foundation
import TokenKitCore

/// The (step, pair) rows of LP1_T that a mixture brings near violation: for each merge step t,
/// every pair p ≠ m(t) whose mixture count is above the merge's less a margin, with its count
/// differences c_{i,p} − c_{i,m(t)} per category, so the violations can be re-weighed for a
/// nearby mixture without replaying the merges.
struct EdgeSet {
    let categories: Int
    /// Edges of step t: start[t] ..< start[t + 1].
    var start: [Int]
    var pair: [Int32] = []
    /// Edge e, category i at e * categories + i.
    var difference: [Int32] = []
    /// Steps whose merge occurs in no sample at that step (no rows).
    var skipped = 0
    var count: Int { pair.count }

    init(categories: Int, steps: Int) {
        self.categories = categories
        start = [Int](repeating: 0, count: steps + 1)
    }

    /// Violations Σ_i w_i (c_{i,p} − c_{i,m(t)}) of every edge under weights `w` (α_i scaled).
    func violations(_ w: [Double]) -> [Double] {
        let n = categories
        var out = [Double](repeating: 0, count: count)
        difference.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in
                for e in 0..<o.count {
                    var s = 0.0
                    for i in 0..<n { s += w[i] * Double(d[e * n + i]) }
                    o[e] = s
                }
            }
        }
        return out
    }
}

/// For a fixed mixture, LP1_T is  min Σ v_t + Σ v_p  s.t.  v_t + v_p ≥ d_tp, v ≥ 0: a fractional
/// vertex cover of the bipartite graph steps × pairs with edge demands d_tp > 0, whose dual is
/// the maximum-weight bipartite matching. Both are found exactly by successive shortest
/// augmenting paths (Hungarian method, Dijkstra over reduced costs): every step is assigned to
/// a pair or to a private "unmatched" node of weight 0, pairs take at most one step.
struct CoverSolution {
    /// Σ matched demands = Σ v_t + Σ v_p (the slack part of LP1_T at this mixture).
    var value: Double
    /// Per step, the matched edge, or -1.
    var matched: [Int]
    /// Per step, the matched pair id, or -1 (what a later round's warm start keeps).
    var matchedPair: [Int32]
    var stepSlack: [Double]
    /// Per pair id of the table (0 for pairs without edges).
    var pairSlack: [Double]
}

/// Both sides' positive edges, each node's sorted by demand from the largest, so a search can
/// stop scanning a node at the first edge that cannot beat its best exit. Built once per edge
/// collection; later rounds re-sort from the last order (demands moved little: few inversions).
final class MatchingGraph {
    let steps: Int
    let pairs: Int
    /// Step t's edges: stepStart[t] ..< stepStart[t + 1] of stepEdge (edge index), stepDemand and
    /// stepPair; pair p's: pairStart[p] ..< pairStart[p + 1] of pairEdge, pairDemand, pairStep.
    /// Edges with demand ≤ 0 stay at the ends of their segments, where scans stop.
    let stepStart: UnsafeMutableBufferPointer<Int>
    let stepEdge: UnsafeMutableBufferPointer<Int32>
    let stepDemand: UnsafeMutableBufferPointer<Double>
    let stepPair: UnsafeMutableBufferPointer<Int32>
    let pairStart: UnsafeMutableBufferPointer<Int>
    let pairEdge: UnsafeMutableBufferPointer<Int32>
    let pairDemand: UnsafeMutableBufferPointer<Double>
    let pairStep: UnsafeMutableBufferPointer<Int32>
    /// Owns the buffers above.
    private let arena = Arena()

    init(_ edges: EdgeSet, demand: [Double], pairCount: Int, threads: Int = 1) {
        self.threads = threads
        let T = edges.start.count - 1
        steps = T
        pairs = pairCount
        let n = edges.count
        stepStart = arena.copy(edges.start)
        stepEdge = arena.buffer(n, 0)
        for e in 0..<n { stepEdge[e] = Int32(e) }
        stepPair = arena.copy(edges.pair)
        stepDemand = arena.buffer(n, 0)
        var pStart = [Int](repeating: 0, count: pairCount + 1)
        for p in edges.pair { pStart[Int(p) + 1] += 1 }
        for p in 0..<pairCount { pStart[p + 1] += pStart[p] }
        pairStart = arena.copy(pStart)
        pairEdge = arena.buffer(n, 0)
        pairStep = arena.buffer(n, 0)
        pairDemand = arena.buffer(n, 0)
        for t in 0..<T {
            for e in edges.start[t]..<edges.start[t + 1] {
                let p = Int(edges.pair[e])
                pairEdge[pStart[p]] = Int32(e)
                pairStep[pStart[p]] = Int32(t)
                pStart[p] += 1
            }
        }
        update(demand, fresh: true)
    }

    /// Threads for `update` (the two sides are sorted at once when 2 or more).
    var threads = 1

    /// Re-sorts every segment by `demand` (indexed by edge).
    func update(_ demand: [Double], fresh: Bool = false) {
        DispatchQueue.concurrentPerform(iterations: threads > 1 ? 2 : 1) { k in
            if k == 0 || threads < 2 {
                MatchingGraph.sortSegments(stepStart, stepEdge, stepDemand, stepPair, demand, fresh: fresh)
            }
            if k == 1 || threads < 2 {
                MatchingGraph.sortSegments(pairStart, pairEdge, pairDemand, pairStep, demand, fresh: fresh)
            }
        }
    }

    private static func sortSegments(_ start: UnsafeMutableBufferPointer<Int>, _ edge: UnsafeMutableBufferPointer<Int32>,
                                     _ key: UnsafeMutableBufferPointer<Double>, _ other: UnsafeMutableBufferPointer<Int32>,
                                     _ demand: [Double], fresh: Bool) {
        var scratch: [(Double, Int32, Int32)] = []
        demand.withUnsafeBufferPointer { demand in
            for k in 0..<edge.count { key[k] = demand[Int(edge[k])] }
            for s in 0..<(start.count - 1) {
                let lo = start[s], hi = start[s + 1]
                if hi - lo < 2 { continue }
                // Insertion sort: linear when the last round's order is nearly right; a segment
                // that needs many moves (a fresh one, or α moved far) is sorted outright.
                var budget = fresh && hi - lo > 32 ? 0 : 8 * (hi - lo) + 64
                var i = lo + 1
                while i < hi && budget > 0 {
                    let k = key[i], e = edge[i], o = other[i]
                    var j = i - 1
                    while j >= lo && (key[j] < k || (key[j] == k && edge[j] > e)) {
                        key[j + 1] = key[j]
                        edge[j + 1] = edge[j]
                        other[j + 1] = other[j]
                        j -= 1
                    }
                    key[j + 1] = k
                    edge[j + 1] = e
                    other[j + 1] = o
                    budget -= i - j
                    i += 1
                }
                if i == hi { continue }
                scratch.removeAll(keepingCapacity: true)
                for k in lo..<hi { scratch.append((key[k], edge[k], other[k])) }
                scratch.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                for (j, x) in scratch.enumerated() {
                    key[lo + j] = x.0
                    edge[lo + j] = x.1
                    other[lo + j] = x.2
                }
            }
        }
    }
}

/// The same maximum-weight matching and cover, started from another round's (`previous`, for
/// other demands and possibly another edge set): most of a nearby mixture's matching survives.
/// `graph` must hold the edges sorted by `demand` (`MatchingGraph.update`).
///
/// In cover terms (y_t for steps, z_p for pairs, all ≥ 0, y_t + z_p ≥ d_tp; optimal when every
/// matched edge is tight and every unmatched node has slack 0): z is kept, each y_t is set to the
/// least feasible value max(0, max_p d_tp − z_p), and a step keeps its pair while that edge stays
/// tight. What is left are "deficient" nodes, unmatched with a positive slack, on either side;
/// each is repaired by one Hungarian search (Dijkstra over reduced costs y + z − d ≥ 0) from it,
/// which ends at the nearest free node of the other side (augment) or at a node of its own side
/// whose slack reaches 0 first (that node leaves the matching). A search lowers slacks only on
/// its own side and raises them only on the other, so it never makes another node deficient.
func maximumWeightMatching(_ graph: MatchingGraph, demand: [Double], from previous: CoverSolution) -> CoverSolution {
    let T = graph.steps
    let P = graph.pairs
    let N = T + P
    // Nodes: steps 0 ..< T, then pair p at T + p. pot = y or z; mate = the other end or -1.
    let arena = Arena()
    defer { withExtendedLifetime(arena) {} }
    let pot = arena.buffer(N, 0.0)
    let mate = arena.buffer(N, Int32(-1))
    let mateEdge = arena.buffer(T, Int32(-1))
    let dist = arena.buffer(N, Double.infinity)
    let pred = arena.buffer(N, Int32(-1))
    let predEdge = arena.buffer(N, Int32(-1))
    let done = arena.buffer(N, false)
    var touched: [Int32] = []
    var finalized: [Int32] = []
    var heap = MinHeap<Labelled>()
    var deficient: [Int32] = []
    let sStart = graph.stepStart, sEdge = graph.stepEdge, sDem = graph.stepDemand, sPair = graph.stepPair
    let pStart = graph.pairStart, pEdge = graph.pairEdge, pDem = graph.pairDemand, pStep = graph.pairStep
    do {
        for p in 0..<P { pot[T + p] = previous.pairSlack[p] }
        for t in 0..<T {
            var y = 0.0
            // z ≥ 0: an edge whose demand is at most y cannot raise y, nor can any after it.
            for k in sStart[t]..<sStart[t + 1] {
                let d = sDem[k]
                if d <= y { break }
                let r = d - pot[T + Int(sPair[k])]
                if r > y { y = r }
            }
            pot[t] = y
            let old = previous.matchedPair[t]
            var keep = -1
            if old >= 0 {
                for k in sStart[t]..<sStart[t + 1] where sPair[k] == old {
                    // Still tight: the same expression that set y (exact in floating point).
                    if sDem[k] > 0 && sDem[k] - pot[T + Int(old)] == y { keep = k }
                    break
                }
            }
            if keep >= 0 {
                mate[t] = Int32(T) + old
                mate[T + Int(old)] = Int32(t)
                mateEdge[t] = sEdge[keep]
            } else if y > 0 {
                deficient.append(Int32(t))
            }
        }
        for p in 0..<P where mate[T + p] < 0 && pot[T + p] > 0 { deficient.append(Int32(T + p)) }

        for root in deficient {
            let r = Int(root)
            if mate[r] >= 0 || pot[r] <= 0 { continue }
            let rootIsStep = r < T
            // The smallest exit label so far: nothing at or above it needs settling.
            var bound = Double.infinity
            // A tree node `a` of the root's side at distance da: its exit "slack down to 0" (heap
            // entry N + a), and its neighbours by demand until none can get below the bound.
            func relax(_ a: Int, _ da: Double) {
                let base = da + pot[a]
                heap.push(Labelled(distance: base, node: Int32(N + a)))
                if base < bound { bound = base }
                @inline(__always) func label(_ b: Int, _ d: Double, _ e: Int32) {
                    if done[b] { return }
                    let nd = base - d + pot[b]
                    if nd < bound, nd < dist[b] {
                        if dist[b] == .infinity { touched.append(Int32(b)) }
                        dist[b] = nd
                        pred[b] = Int32(a)
                        predEdge[b] = e
                        heap.push(Labelled(distance: nd, node: Int32(b)))
                        if mate[b] < 0 { bound = nd }
                    }
                }
                if a < T {
                    for k in sStart[a]..<sStart[a + 1] {
                        let d = sDem[k]
                        if d <= 0 || base - d >= bound { break }
                        label(T + Int(sPair[k]), d, sEdge[k])
                    }
                } else {
                    let p = a - T
                    for k in pStart[p]..<pStart[p + 1] {
                        let d = pDem[k]
                        if d <= 0 || base - d >= bound { break }
                        label(Int(pStep[k]), d, pEdge[k])
                    }
                }
            }
            dist[r] = 0
            touched.append(Int32(r))
            finalized.append(Int32(r))
            relax(r, 0)
            var D = 0.0
            var endFree = -1, endExit = -1
            while let top = heap.pop() {
                let x = Int(top.node)
                if x >= N {
                    endExit = x - N
                    D = top.distance
                    break
                }
                if done[x] || top.distance > dist[x] { continue }
                done[x] = true
                finalized.append(Int32(x))
                let m = Int(mate[x])
                if m < 0 {
                    endFree = x
                    D = top.distance
                    break
                }
                dist[m] = dist[x]
                touched.append(Int32(m))
                finalized.append(Int32(m))
                relax(m, dist[x])
            }
            precondition(endFree >= 0 || endExit >= 0, "the root's own exit is always reachable")
            // Slacks: the root's side down, the other side up, by how much closer than D each is.
            for x32 in finalized {
                let x = Int(x32)
                let delta = D - dist[x]
                if delta <= 0 { continue }
                if (x < T) == rootIsStep { pot[x] = max(0, pot[x] - delta) } else { pot[x] += delta }
            }
            // Flip the path: from a free node of the other side, or from the tree node that
            // leaves the matching (its slack is now 0).
            var b = -1
            if endFree >= 0 {
                b = endFree
            } else if endExit != r {
                b = Int(mate[endExit])
                mate[endExit] = -1
                if endExit < T { mateEdge[endExit] = -1 }
            }
            while b >= 0 {
                let a = Int(pred[b])
                let old = Int(mate[a])
                mate[a] = Int32(b)
                mate[b] = Int32(a)
                if a < T { mateEdge[a] = predEdge[b] } else { mateEdge[b] = predEdge[b] }
                if a == r { break }
                b = old
            }
            for x in touched {
                dist[Int(x)] = .infinity
                done[Int(x)] = false
            }
            touched.removeAll(keepingCapacity: true)
            finalized.removeAll(keepingCapacity: true)
            heap.removeAll(keepingCapacity: true)
        }
    }
    var value = 0.0
    var matched = [Int](repeating: -1, count: T)
    var matchedPair = [Int32](repeating: -1, count: T)
    for t in 0..<T where mate[t] >= 0 {
        let e = Int(mateEdge[t])
        value += demand[e]
        matched[t] = e
        matchedPair[t] = mate[t] - Int32(T)
    }
    return CoverSolution(value: value, matched: matched, matchedPair: matchedPair, stepSlack: Array(pot[0..<T]),
                         pairSlack: Array(pot[T...]))
}

/// A label in the matching's Dijkstra heap, ordered by distance (stale ones are skipped).
struct Labelled: Comparable {
    var distance: Double
    var node: Int32
    static func < (a: Labelled, b: Labelled) -> Bool { a.distance < b.distance }
}

extension MixtureLP {
    /// Every (step, pair ≠ merge) whose mixture count under weights `w` is above the merge's less
    /// `margin` · (the merge's mixture count) + tolerance. (Splitting the steps over two threads
    /// was measured: no faster, the heap walk is memory-bound.)
    func collectEdges(_ w: [Double], margin: Double) -> EdgeSet {
        collectEdges(w, margin: margin, steps: 0..<table.steps)
    }

    /// `collectEdges` over one range of steps (the edge set's steps are the range's).
    func collectEdges(_ w: [Double], margin: Double, steps range: Range<Int>) -> EdgeSet {
        let n = table.categories
        var counts = table.initial
        var stamp = [Int32](repeating: -1, count: table.pairCount)
        var changed: [Int32] = []
        for t in 0..<range.lowerBound { table.apply(step: t, to: &counts, stamp: &stamp, changed: &changed) }
        var heap = IndexedMaxHeap(keys: (0..<table.pairCount).map { score($0, counts, w) })
        var stack: [Int32] = []
        var edges = EdgeSet(categories: n, steps: range.count)
        for t in range {
            edges.start[t - range.lowerBound] = edges.count
            let m = Int(table.mergePair[t])
            if m >= 0, (0..<n).contains(where: { counts[m * n + $0] > 0 }) {
                let sm = score(m, counts, w)
                let bar = sm - margin * sm - tolerance
                heap.forEachAbove(bar, stack: &stack) { top in
                    if top == m { return }
                    edges.pair.append(Int32(top))
                    for i in 0..<n { edges.difference.append(counts[top * n + i] &- counts[m * n + i]) }
                }
            } else {
                edges.skipped += 1
            }
            table.apply(step: t, to: &counts, stamp: &stamp, changed: &changed)
            for p in changed { heap.update(Int(p), score(Int(p), counts, w)) }
        }
        edges.start[range.count] = edges.count
        return edges
    }

    /// Solves LP1_T as  min over α of F(α),  F(α) = the slack LP at fixed α = max-weight matching
    /// of violated (step, pair) edges (convex, piecewise linear). CLP solves the restricted LP1
    /// over the rows of every matching found so far (a lower bound L ≤ optimum, and its α); the
    /// exact matching at that α gives F(α) ≥ optimum. Stops when F(α) = L (relative `relativeGap`),
    /// when every matched row is already in the program, or when L stopped rising (`stallGap`):
    /// α with its exact slacks is then a feasible solution of the full program (every violated
    /// row covered) whose objective is F(α), within the logged gap of a lower bound (with CLP at
    /// tolerance 1e-9: 3e-8 or less relative at T = 30000). The edges are collected with a margin
    /// and re-collected when α moves by `recollectShift`; the final F is always computed on the
    /// rows violated at the final α. Each round's matching starts from the last one's.
    func solveByMatching(warmHorizon: Int = 1000, margin: Double = 0.01, recollectShift: Double = 0.01,
                         relativeGap: Double = 1e-7, stallGap: Double = 1e-8,
                         progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> LPSolution {
        let n = table.categories
        let clock = Date()
        if warmHorizon > 0 {
            // A first mixture from the exact LP over the first steps (its rows are rows of LP1_T).
            var warm = LazySchedule()
            warm.firstHorizon = min(table.steps, warmHorizon)
            warm.lastHorizon = warm.firstHorizon
            _ = try solveLazy(warm)
            log(String(format: "matching: LP over the first %d steps solved in %.2f s (%d rows)", warm.firstHorizon,
                       Date().timeIntervalSince(clock), constraintCount))
        }
        var edgeAlpha = alpha
        var collectSeconds = 0.0, matchSeconds = 0.0
        var edges = EdgeSet(categories: n, steps: table.steps)
        var graph: MatchingGraph?
        var edgeMargin = margin
        // `margin` 0 collects exactly the rows violated at α: enough for F(α) itself, fewer
        // edges, but stale as soon as α moves.
        func recollect(margin: Double) {
            let c1 = Date()
            // Release the old edges first (~0.7 GB at T = 30000).
            edges = EdgeSet(categories: n, steps: 0)
            graph = nil
            edges = collectEdges(weights, margin: margin)
            edgeMargin = margin
            edgeAlpha = alpha
            collectSeconds += Date().timeIntervalSince(c1)
        }
        recollect(margin: margin)
        var rounds = 0
        var firstGap = 1.0
        var lower = warmHorizon > 0 ? lp.objective : -Double.infinity
        var previousLower = -Double.infinity
        var cover = CoverSolution(value: 0, matched: [], matchedPair: [], stepSlack: [], pairSlack: [])
        while true {
            rounds += 1
            let c0 = Date()
            let demand = edges.violations(weights)
            // Later rounds start from the last matching and slacks (α moved little), over the
            // edges sorted by demand once per collection.
            let c1 = Date()
            if let graph { graph.update(demand) } else { graph = MatchingGraph(edges, demand: demand, pairCount: table.pairCount, threads: threads) }
            let c2 = Date()
            if rounds == 1 {
                // Nothing to start from: every step with a positive edge is deficient.
                cover = CoverSolution(value: 0, matched: [], matchedPair: [Int32](repeating: -1, count: table.steps),
                                      stepSlack: [], pairSlack: [Double](repeating: 0, count: table.pairCount))
            }
            cover = maximumWeightMatching(graph!, demand: demand, from: cover)
            log(String(format: "matching: edges sorted in %.2f s, matched in %.2f s", c2.timeIntervalSince(c1), Date().timeIntervalSince(c2)))
            matchSeconds += Date().timeIntervalSince(c0)
            let exact = edgeAlpha == alpha
            // Every matched edge's row (a row the program's solution satisfies may still be
            // needed once α moves; adding only violated ones took more rounds and ended with a
            // larger gap, from the solver's tolerance summed over the matching).
            var added = 0
            for t in 0..<table.steps {
                let e = cover.matched[t]
                guard e >= 0 else { continue }
                let p = Int(edges.pair[e])
                if inProgram.contains(UInt64(t) << 32 | UInt64(p)) { continue }
                queueRow(step: t, pair: p, difference: (0..<n).map { 0 &- edges.difference[e * n + $0] })
                added += 1
            }
            log(String(format: "matching round %d: %d edges, F(α) %.9g%@, LP %.9g, %d rows added (%d in the program); %.2f s collecting, %.2f s matching, %.2f s in CLP, %.2f s in all",
                       rounds, edges.count, cover.value / scale, exact ? "" : " (edges of another α)", lower / scale, added, constraintCount,
                       collectSeconds, matchSeconds, solveSeconds, Date().timeIntervalSince(clock)))
            // α is the restricted program's optimum (a lower bound on the full optimum); F(α) is
            // the full program's value at α once the edges were collected at α.
            // Done when the program has every matched row, or its optimum reaches F(α), or it
            // stopped rising (the matchings left differ only in ties; F(α) − LP is then the
            // solver's tolerance summed over the rows).
            let stalled = rounds > 2 && lower - previousLower <= stallGap * max(1e-300, abs(lower))
            // Progress: the share of the way from the first round's gap to `relativeGap`, on a
            // log scale (the number of rounds is not known in advance).
            let gap = max(relativeGap, (cover.value - lower) / max(1e-300, abs(cover.value)))
            if rounds == 1 { firstGap = max(gap, relativeGap * 10) }
            progress(Int(999 * min(1, max(0, Foundation.log(firstGap / gap) / Foundation.log(firstGap / relativeGap)))), 1000)
            if added == 0 || stalled || cover.value - lower <= relativeGap * max(1, abs(cover.value)) {
                if exact { break }
                // The final check at this α.
                recollect(margin: 0)
                continue
            }
            try resolve(LazySchedule(dropAfter: 0))
            previousLower = lower
            lower = lp.objective
            log(String(format: "matching: LP %.9g (%d iterations), α ", lower / scale, lp.iterations) + alpha.map { String(format: "%.5f", $0) }.joined(separator: " "))
            if edgeMargin == 0 || (zip(alpha, edgeAlpha).map { abs($0 - $1) }.max() ?? 0) > recollectShift { recollect(margin: margin) }
        }
        progress(1000, 1000)
        log(String(format: "matching: optimum %.9g, LP lower bound %.9g (relative gap %.2g), %d rounds, %.2f s",
                   cover.value / scale, lower / scale, (cover.value - lower) / max(1e-300, abs(cover.value)), rounds, Date().timeIntervalSince(clock)))
        return LPSolution(alpha: alpha, objective: cover.value / scale, constraints: constraintCount, generated: generated,
                          pairSlacks: cover.pairSlack.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }, solves: solves, sweeps: rounds,
                          skippedSteps: edges.skipped)
    }
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
