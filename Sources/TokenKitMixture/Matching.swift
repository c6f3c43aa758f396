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
    var stepSlack: [Double]
    /// Per pair id of the table (0 for pairs without edges).
    var pairSlack: [Double]
}

func maximumWeightMatching(_ edges: EdgeSet, demand: [Double], pairCount: Int) -> CoverSolution {
    let T = edges.start.count - 1
    let P = pairCount
    // The positive edges of each step, by demand from the largest: a search leaving step i
    // stops at the first edge that cannot reach a node below the best exit found so far.
    var sStart = [Int](repeating: 0, count: T + 1)
    var sEdge: [Int32] = []
    var sDem: [Double] = []
    var sPair: [Int32] = []
    var order: [Int32] = []
    for t in 0..<T {
        sStart[t] = sEdge.count
        order.removeAll(keepingCapacity: true)
        for e in edges.start[t]..<edges.start[t + 1] where demand[e] > 0 { order.append(Int32(e)) }
        order.sort { demand[Int($0)] > demand[Int($1)] }
        for e in order {
            sEdge.append(e)
            sDem.append(demand[Int(e)])
            sPair.append(edges.pair[Int(e)])
        }
    }
    sStart[T] = sEdge.count
    // Right nodes: pairs 0 ..< P, then step t's unmatched node P + t. Costs are −demand (min-cost
    // assignment), potentials v ≤ 0 on right nodes; a left node's potential is implied by its
    // assigned edge (reduced cost c − u − v is 0 there and ≥ 0 everywhere).
    var v = [Double](repeating: 0, count: P + T)
    var matchR = [Int32](repeating: -1, count: P + T)
    var matchL = [Int32](repeating: -1, count: T)
    var matchCost = [Double](repeating: 0, count: T)
    var matchEdge = [Int](repeating: -1, count: T)
    var dist = [Double](repeating: .infinity, count: P + T)
    var pred = [Int32](repeating: -1, count: P + T)
    var predEdge = [Int](repeating: -1, count: P + T)
    var done = [Bool](repeating: false, count: P + T)
    var touched: [Int32] = []
    var finalized: [Int32] = []
    var heap = MinHeap<Labelled>()
    v.withUnsafeMutableBufferPointer { v in
    matchR.withUnsafeMutableBufferPointer { matchR in
    dist.withUnsafeMutableBufferPointer { dist in
    pred.withUnsafeMutableBufferPointer { pred in
    predEdge.withUnsafeMutableBufferPointer { predEdge in
    done.withUnsafeMutableBufferPointer { done in
    sPair.withUnsafeBufferPointer { pair in
    sDem.withUnsafeBufferPointer { dem in
        for s in 0..<T {
            // Root potential: the cheapest reduced option (its unmatched node costs 0).
            var us = 0.0
            for k in sStart[s]..<sStart[s + 1] { us = min(us, -dem[k] - v[Int(pair[k])]) }
            if us >= 0 {
                matchL[s] = Int32(P + s)
                matchR[P + s] = Int32(s)
                matchCost[s] = 0
                continue
            }
            // The smallest label of a free node so far: no node at or above it is ever settled.
            var bound = Double.infinity
            @inline(__always) func label(_ j: Int, _ nd: Double, _ i: Int, _ e: Int) {
                if nd < dist[j] {
                    if dist[j] == .infinity { touched.append(Int32(j)) }
                    dist[j] = nd
                    pred[j] = Int32(i)
                    predEdge[j] = e
                    heap.push(Labelled(distance: nd, node: Int32(j)))
                    if matchR[j] < 0, nd < bound { bound = nd }
                }
            }
            @inline(__always) func relax(_ i: Int, _ di: Double, _ ui: Double) {
                let d = P + i
                if !done[d] { label(d, di - ui - v[d], i, -1) }
                for k in sStart[i]..<sStart[i + 1] {
                    let base = di - dem[k] - ui
                    if base >= bound { break }
                    let j = Int(pair[k])
                    if done[j] { continue }
                    let nd = base - v[j]
                    if nd < bound { label(j, nd, i, k) }
                }
            }
            relax(s, 0, us)
            var end = -1
            var D = 0.0
            while let top = heap.pop() {
                let dd = top.distance, j32 = top.node
                let j = Int(j32)
                if done[j] || dd > dist[j] { continue }
                done[j] = true
                finalized.append(j32)
                let i = Int(matchR[j])
                if i < 0 {
                    end = j
                    D = dd
                    break
                }
                relax(i, dd, matchCost[i] - v[j])
            }
            precondition(end >= 0, "a step's unmatched node is always reachable")
            for j in finalized { v[Int(j)] += dist[Int(j)] - D }
            // Augment along the path.
            var j = end
            while true {
                let i = Int(pred[j])
                let prev = Int(matchL[i])
                matchL[i] = Int32(j)
                matchR[j] = Int32(i)
                let k = predEdge[j]
                matchEdge[i] = k >= 0 ? Int(sEdge[k]) : -1
                matchCost[i] = k >= 0 ? -dem[k] : 0
                if i == s { break }
                j = prev
            }
            for j in touched {
                dist[Int(j)] = .infinity
                done[Int(j)] = false
            }
            touched.removeAll(keepingCapacity: true)
            finalized.removeAll(keepingCapacity: true)
            heap.removeAll(keepingCapacity: true)
        }
    }}}}}}}}
    var value = 0.0
    var stepSlack = [Double](repeating: 0, count: T)
    var matched = [Int](repeating: -1, count: T)
    for t in 0..<T {
        if Int(matchL[t]) < P {
            let e = matchEdge[t]
            value += demand[e]
            matched[t] = e
        }
        // v_t = −u_t − v_{unmatched node}, u_t = cost of its edge − v of its right node.
        let u = matchCost[t] - v[Int(matchL[t])]
        stepSlack[t] = max(0, -u - v[P + t])
    }
    let pairSlack = (0..<P).map { max(0, -v[$0]) }
    return CoverSolution(value: value, matched: matched, stepSlack: stepSlack, pairSlack: pairSlack)
}

/// A label in the matching's Dijkstra heap, ordered by distance (stale ones are skipped).
struct Labelled: Comparable {
    var distance: Double
    var node: Int32
    static func < (a: Labelled, b: Labelled) -> Bool { a.distance < b.distance }
}

extension MixtureLP {
    /// Every (step, pair ≠ merge) whose mixture count under weights `w` is above the merge's less
    /// `margin` · (the merge's mixture count) + tolerance.
    func collectEdges(_ w: [Double], margin: Double) -> EdgeSet {
        let n = table.categories, T = table.steps
        var counts = table.initial
        var heap = IndexedMaxHeap(keys: (0..<table.pairCount).map { score($0, counts, w) })
        var stamp = [Int32](repeating: -1, count: table.pairCount)
        var changed: [Int32] = []
        var popped: [Int] = []
        var edges = EdgeSet(categories: n, steps: T)
        for t in 0..<T {
            edges.start[t] = edges.count
            let m = Int(table.mergePair[t])
            if m >= 0, (0..<n).contains(where: { counts[m * n + $0] > 0 }) {
                let sm = score(m, counts, w)
                let bar = sm - margin * sm - tolerance
                popped.removeAll(keepingCapacity: true)
                while let top = heap.top, heap.keys[top] > bar {
                    _ = heap.pop()
                    popped.append(top)
                    if top == m { continue }
                    edges.pair.append(Int32(top))
                    for i in 0..<n { edges.difference.append(counts[top * n + i] &- counts[m * n + i]) }
                }
                for p in popped { heap.push(p) }
            } else {
                edges.skipped += 1
            }
            table.apply(step: t, to: &counts, stamp: &stamp, changed: &changed)
            for p in changed { heap.update(Int(p), score(Int(p), counts, w)) }
        }
        edges.start[T] = edges.count
        return edges
    }

    /// Solves LP1_T as  min over α of F(α),  F(α) = the slack LP at fixed α = max-weight matching
    /// of violated (step, pair) edges (convex, piecewise linear). CLP solves the restricted LP1
    /// over the rows of every matching found so far (a lower bound L ≤ optimum, and its α); the
    /// exact matching at that α gives F(α) ≥ optimum. Stops when F(α) = L (relative `relativeGap`),
    /// when every matched row is already in the program, or when L stopped rising (`stallGap`):
    /// α with its exact slacks is then a feasible solution of the full program (every violated
    /// row covered) whose objective is F(α), within the logged gap of a lower bound; the gap left
    /// is CLP's tolerance summed over the matched rows (1e-8 – 3e-6 relative at T = 30000). The
    /// edges are collected with a margin and re-collected when α moves by `recollectShift`; the
    /// final F is always computed on edges collected at the final α.
    func solveByMatching(warmHorizon: Int = 1000, margin: Double = 0.01, recollectShift: Double = 0.01,
                         relativeGap: Double = 1e-7, stallGap: Double = 1e-8) throws -> LPSolution {
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
        func recollect() {
            let c1 = Date()
            edges = collectEdges(weights, margin: margin)
            edgeAlpha = alpha
            collectSeconds += Date().timeIntervalSince(c1)
        }
        recollect()
        var rounds = 0
        var lower = warmHorizon > 0 ? lp.objective : -Double.infinity
        var previousLower = -Double.infinity
        var cover = CoverSolution(value: 0, matched: [], stepSlack: [], pairSlack: [])
        while true {
            rounds += 1
            let c0 = Date()
            cover = maximumWeightMatching(edges, demand: edges.violations(weights), pairCount: table.pairCount)
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
            if added == 0 || stalled || cover.value - lower <= relativeGap * max(1, abs(cover.value)) {
                if exact { break }
                recollect()
                continue
            }
            try resolve(LazySchedule(dropAfter: 0))
            previousLower = lower
            lower = lp.objective
            log(String(format: "matching: LP %.9g, α ", lower / scale) + alpha.map { String(format: "%.5f", $0) }.joined(separator: " "))
            if (zip(alpha, edgeAlpha).map { abs($0 - $1) }.max() ?? 0) > recollectShift { recollect() }
        }
        log(String(format: "matching: optimum %.9g, LP lower bound %.9g (relative gap %.2g), %d rounds, %.2f s",
                   cover.value / scale, lower / scale, (cover.value - lower) / max(1e-300, abs(cover.value)), rounds, Date().timeIntervalSince(clock)))
        return LPSolution(alpha: alpha, objective: cover.value / scale, constraints: constraintCount, generated: generated,
                          pairSlacks: cover.pairSlack.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }, solves: solves, sweeps: rounds,
                          skippedSteps: edges.skipped)
    }
}
