/// A binary min-heap: `pop` returns the smallest element. Used for BPE merging (ranks), BPE
/// training (pair counts, via an ordering that puts the best pair first) and SentencePiece BPE.
public struct MinHeap<Element: Comparable> {
    @usableFromInline var items: [Element] = []

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { items.isEmpty }
    @inlinable public var count: Int { items.count }

    @inlinable
    public mutating func removeAll(keepingCapacity: Bool = false) { items.removeAll(keepingCapacity: keepingCapacity) }

    @inlinable
    public mutating func push(_ x: Element) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if !(items[i] < items[p]) { break }
            items.swapAt(i, p)
            i = p
        }
    }

    @inlinable
    public mutating func pop() -> Element? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && items[l] < items[m] { m = l }
                if r < n && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
