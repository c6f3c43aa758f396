import CLP
import TokenKitCore

/// A growing linear program solved by COIN-OR CLP: minimize c·x over column bounds and rows
/// `lower ≤ a·x`. Columns are only appended; rows are appended, and deleted only while their
/// slack is basic. Each solve continues from the previous basis (dual simplex: added rows keep
/// it dual feasible, deleted non-binding rows keep it optimal). One model must not be used from
/// two threads, and CLP is not safe for solving several models on different threads at once.
final class LinearProgram {
    private let lp: OpaquePointer
    static let infinity = tk_lp_infinity()

    init() { lp = tk_lp_new() }
    deinit { tk_lp_free(lp) }

    var rowCount: Int { Int(tk_lp_rows(lp)) }
    var columnCount: Int { Int(tk_lp_columns(lp)) }

    /// Appends columns; returns the index of the first.
    @discardableResult
    func addColumns(lower: [Double], upper: [Double], objective: [Double]) -> Int {
        let first = columnCount
        tk_lp_add_columns(lp, Int32(lower.count), lower, upper, objective)
        return first
    }

    /// Sparse rows waiting to be added.
    struct Rows {
        var lower: [Double] = []
        var upper: [Double] = []
        var starts: [Int32] = [0]
        var columns: [Int32] = []
        var values: [Double] = []
        var count: Int { lower.count }

        mutating func append(lower l: Double, upper u: Double = LinearProgram.infinity, _ entries: [(Int, Double)]) {
            for (c, v) in entries where v != 0 {
                columns.append(Int32(c))
                values.append(v)
            }
            lower.append(l)
            upper.append(u)
            starts.append(Int32(columns.count))
        }
    }

    func addRows(_ rows: Rows) {
        guard rows.count > 0 else { return }
        tk_lp_add_rows(lp, Int32(rows.count), rows.lower, rows.upper, rows.starts, rows.columns, rows.values)
    }

    /// Solves; throws unless CLP proves optimality.
    func solve() throws {
        let status = tk_lp_solve(lp)
        guard status == 0 else {
            let why = [1: "the LP is infeasible", 2: "the LP is unbounded", 3: "the solver stopped at its iteration limit",
                       4: "the solver stopped on numerical difficulties"][Int(status)] ?? "status \(status)"
            throw TokenKitError.badInput("LP solve failed: \(why) (CLP, \(rowCount) rows, \(columnCount) columns)")
        }
    }

    /// Deletes rows whose slack is basic (not binding); the basis stays valid for the next solve.
    func deleteRows(_ rows: [Int32]) {
        guard !rows.isEmpty else { return }
        tk_lp_delete_rows(lp, Int32(rows.count), rows)
    }

    /// Row activities and whether each row's slack is basic, after a solve.
    func rowState() -> (activity: [Double], basic: [Bool]) {
        let m = rowCount
        var activity = [Double](repeating: 0, count: m)
        var basic = [Int32](repeating: 0, count: m)
        activity.withUnsafeMutableBufferPointer { a in
            basic.withUnsafeMutableBufferPointer { b in tk_lp_row_state(lp, a.baseAddress, b.baseAddress) }
        }
        return (activity, basic.map { $0 != 0 })
    }

    /// Dual simplex pricing: Dantzig's rule instead of CLP's dual steepest edge.
    func useDantzigPricing(_ on: Bool) { tk_lp_set_dantzig(lp, on ? 1 : 0) }

    /// Primal and dual feasibility tolerances of the simplex (CLP's defaults: 1e-7).
    func setTolerances(primal: Double, dual: Double) { tk_lp_set_tolerances(lp, primal, dual) }

    /// Writes the model and basis in CLP's format (solver experiments in debug runs).
    func save(_ path: String) { _ = tk_lp_save(lp, path) }

    /// Makes the next solve start from scratch (all-slack basis), as on a new model.
    func forgetBasis() { tk_lp_forget_basis(lp) }

    /// Simplex iterations of the last solve.
    var iterations: Int { Int(tk_lp_iterations(lp)) }

    var objective: Double { tk_lp_objective(lp) }

    var solution: [Double] {
        var out = [Double](repeating: 0, count: columnCount)
        out.withUnsafeMutableBufferPointer { tk_lp_solution(lp, $0.baseAddress) }
        return out
    }
}

/// A max-heap of pair indexes keyed by `keys`, with positions so a key can change in place.
/// Ties go to the smaller index, so the order never depends on insertion history.
struct IndexedMaxHeap {
    var keys: [Double]
    private var heap: [Int32] = []
    private var pos: [Int32]

    init(keys: [Double]) {
        self.keys = keys
        pos = [Int32](repeating: -1, count: keys.count)
        rebuild()
    }

    var count: Int { heap.count }
    var top: Int? { heap.first.map { Int($0) } }

    @inline(__always)
    private func above(_ x: Int32, _ y: Int32) -> Bool {
        let a = keys[Int(x)], b = keys[Int(y)]
        return a != b ? a > b : x < y
    }

    /// Re-heapifies every index after the keys were changed wholesale.
    mutating func rebuild() {
        heap = (0..<Int32(keys.count)).map { $0 }
        for i in heap.indices { pos[i] = Int32(i) }
        var i = heap.count / 2 - 1
        while i >= 0 { siftDown(i); i -= 1 }
    }

    /// Calls `body` with every index whose key is above `bar`, leaving the heap as it is: a
    /// depth-first walk of the heap's tree that stops below a node not above `bar` (no child is
    /// above its parent), so it visits only the answers and their children.
    func forEachAbove(_ bar: Double, stack: inout [Int32], _ body: (Int) -> Void) {
        stack.removeAll(keepingCapacity: true)
        if let first = heap.first, keys[Int(first)] > bar { stack.append(0) }
        while let i = stack.popLast() {
            body(Int(heap[Int(i)]))
            let l = 2 * Int(i) + 1
            if l < heap.count, keys[Int(heap[l])] > bar { stack.append(Int32(l)) }
            if l + 1 < heap.count, keys[Int(heap[l + 1])] > bar { stack.append(Int32(l + 1)) }
        }
    }

    mutating func update(_ i: Int, _ key: Double) {
        let old = keys[i]
        keys[i] = key
        let p = Int(pos[i])
        if p < 0 { return }
        if key > old { siftUp(p) } else if key < old { siftDown(p) }
    }

    mutating func pop() -> Int? {
        guard let t = heap.first else { return nil }
        let last = heap.removeLast()
        pos[Int(t)] = -1
        if !heap.isEmpty {
            heap[0] = last
            pos[Int(last)] = 0
            siftDown(0)
        }
        return Int(t)
    }

    mutating func push(_ i: Int) {
        heap.append(Int32(i))
        pos[i] = Int32(heap.count - 1)
        siftUp(heap.count - 1)
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        let x = heap[i]
        while i > 0 {
            let p = (i - 1) / 2
            if !above(x, heap[p]) { break }
            heap[i] = heap[p]
            pos[Int(heap[i])] = Int32(i)
            i = p
        }
        heap[i] = x
        pos[Int(x)] = Int32(i)
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let x = heap[i]
        let n = heap.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            var c = l
            if l + 1 < n, above(heap[l + 1], heap[l]) { c = l + 1 }
            if !above(heap[c], x) { break }
            heap[i] = heap[c]
            pos[Int(heap[i])] = Int32(i)
            i = c
        }
        heap[i] = x
        pos[Int(x)] = Int32(i)
    }
}
