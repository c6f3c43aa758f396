import TokenKitCore
@testable import TokenKitMixture

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
        var counts = table.denseInitial()
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

}


// The explicit (step, pair) edges found by replaying the merges with a heap of pairs, and the
// from-scratch Hungarian method over them (successive shortest augmenting paths over each step's
// edges sorted by demand): the tests' independent reference for `RunMatching`, which the solver
// runs over runs of constant counts without listing the edges.
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
    var matchedPair = [Int32](repeating: -1, count: T)
    for t in 0..<T {
        if Int(matchL[t]) < P {
            let e = matchEdge[t]
            value += demand[e]
            matched[t] = e
            matchedPair[t] = matchL[t]
        }
        // v_t = −u_t − v_{unmatched node}, u_t = cost of its edge − v of its right node.
        let u = matchCost[t] - v[Int(matchL[t])]
        stepSlack[t] = max(0, -u - v[P + t])
    }
    let pairSlack = (0..<P).map { max(0, -v[$0]) }
    return CoverSolution(value: value, matched: matched, matchedPair: matchedPair, stepSlack: stepSlack, pairSlack: pairSlack)
}
