import Foundation

/// Runs `body(i)` for i in 0..<count on up to `threads` threads, handing out indices in order
/// (so putting the biggest jobs first balances the load). Results come back by index.
func parallelJobs<T>(_ count: Int, threads: Int, _ body: (Int) -> T) -> [T] {
    let workers = max(1, min(threads, count))
    if workers == 1 { return (0..<count).map(body) }
    let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer { results.deinitialize(); results.deallocate() }
    let lock = NSLock()
    var next = 0
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            lock.lock()
            let i = next
            next += 1
            lock.unlock()
            if i >= count { return }
            results[i] = body(i)
        }
    }
    return results.map { $0! }
}

/// `count` items cut into `parts` contiguous ranges of nearly equal size.
func evenRanges(_ count: Int, parts: Int) -> [Range<Int>] {
    let p = max(1, min(parts, count))
    return (0..<p).map { k in (count * k / p)..<(count * (k + 1) / p) }
}
