// A token n-gram LM: interpolated modified Kneser-Ney (Chen & Goodman, "An Empirical Study of
// Smoothing Techniques for Language Modeling", 1998, §3.5), written and read as ARPA.
//
// Conventions (those of KenLM's lmplz): a document is <s> ids </s>; the highest order uses raw
// counts, lower orders use continuation counts (distinct left extensions) except n-grams that
// start with <s>, which keep raw counts; three discounts per order from the counts of counts;
// unigrams are interpolated with the uniform distribution over every token id and </s>, so ids
// never seen in training keep a small probability. <s> is never predicted.

import Foundation
import TokenKitCore

/// Up to 6 word ids of 21 bits each, packed: a cheap hash key for an n-gram.
struct GramKey: Hashable {
    var lo: UInt64 = 0
    var hi: UInt64 = 0

    init(_ words: some Collection<UInt32>) {
        var i = 0
        for w in words {
            self = appending(w, count: i)
            i += 1
        }
    }

    /// Word i of the key.
    func word(_ i: Int) -> UInt32 {
        let v = i < 3 ? lo >> UInt64(21 * i) : hi >> UInt64(21 * (i - 3))
        return UInt32(v & 0x1F_FFFF) - 1
    }

    /// The key of the first n words.
    func prefix(_ n: Int) -> GramKey {
        var k = self
        if n < 3 {
            k.lo &= (1 << UInt64(21 * n)) - 1
            k.hi = 0
        } else {
            k.hi &= (1 << UInt64(21 * (n - 3))) - 1
        }
        return k
    }

    /// The key of these `n` words followed by `w`.
    func appending(_ w: UInt32, count n: Int) -> GramKey {
        var k = self
        let v = UInt64(w) + 1
        if n < 3 { k.lo |= v << UInt64(21 * n) } else { k.hi |= v << UInt64(21 * (n - 3)) }
        return k
    }
}

public final class NGramLM: TokenLM {
    public let order: Int
    public var answersTokensCheaply: Bool { true }
    public var contextLimit: Int? { order - 1 }
    /// Token ids are 0..<vocabSize; then come </s> and <s>.
    public let vocabSize: Int
    public var eosWord: UInt32 { UInt32(vocabSize) }
    public var bosWord: UInt32 { UInt32(vocabSize + 1) }

    /// Per order (index k-1): n-gram → (ln p, ln backoff).
    var tables: [[GramKey: (Double, Double)]]
    /// ln p of every word (ids, then </s>) at order 1.
    var unigram: [Double]

    init(order: Int, vocabSize: Int, tables: [[GramKey: (Double, Double)]]) {
        self.order = order
        self.vocabSize = vocabSize
        self.tables = tables
        unigram = [Double](repeating: -.infinity, count: vocabSize + 1)
        for (key, v) in tables[0] {
            let w = UInt32((key.lo & 0x1F_FFFF) - 1)
            if Int(w) < unigram.count { unigram[Int(w)] = v.0 }
        }
    }

    /// Per order ≥ 2: context key → the words seen after it, with ln p. Built on first use
    /// (dense distributions need it; scoring with `AllEncodingsModel` does not).
    var successors: [[GramKey: [(UInt32, Double)]]] {
        lock.lock()
        defer { lock.unlock() }
        if let s = builtSuccessors { return s }
        var s: [[GramKey: [(UInt32, Double)]]] = Array(repeating: [:], count: order)
        for k in 1..<max(1, order) {
            for (key, v) in tables[k] {
                s[k][key.prefix(k), default: []].append((key.word(k), v.0))
            }
        }
        builtSuccessors = s
        return s
    }
    private var builtSuccessors: [[GramKey: [(UInt32, Double)]]]?
    private let lock = NSLock()

    /// Keys of every proper prefix of an n-gram: the contexts that some longer n-gram extends.
    /// A context outside it backs off for every next word (see `AllEncodingsModel`).
    var extendable: Set<GramKey> {
        lock.lock()
        defer { lock.unlock() }
        if let s = builtExtendable { return s }
        var s = Set<GramKey>()
        for k in 1..<max(1, order) {
            for key in tables[k].keys {
                for n in 1...k { s.insert(key.prefix(n)) }
            }
        }
        builtExtendable = s
        return s
    }
    private var builtExtendable: Set<GramKey>?

    /// The n-grams of order k+1 as word lists, sorted (for writing ARPA).
    func grams(_ k: Int) -> [[UInt32]] {
        tables[k].keys.map { key in (0...k).map { key.word($0) } }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The LM words for a token context: <s> then the ids, cut to the last order-1.
    func history(_ context: [TokenID]) -> [UInt32] {
        let h = [bosWord] + context.map { UInt32($0) }
        return Array(h.suffix(order - 1))
    }

    /// ln P(w | h) by backing off through shorter histories.
    func logProb(word w: UInt32, history h: [UInt32]) -> Double {
        var back = 0.0
        var h = h[...]
        while !h.isEmpty {
            if let v = tables[h.count][GramKey(Array(h) + [w])] { return back + v.0 }
            if let c = tables[h.count - 1][GramKey(h)] { back += c.1 }
            h = h.dropFirst()
        }
        return back + (Int(w) < unigram.count ? unigram[Int(w)] : -.infinity)
    }

    public func logProb(_ token: TokenID, after context: [TokenID]) throws -> Double {
        logProb(word: UInt32(token), history: history(context))
    }

    public func logEnd(after context: [TokenID]) throws -> Double {
        logProb(word: eosWord, history: history(context))
    }

    public func next(_ context: [TokenID]) throws -> NextTokens {
        dense(history: history(context))
    }

    /// Every word's probability after the LM words `h` (at most order-1 of them).
    func dense(history h: [UInt32]) -> NextTokens {
        // Dense: start from the unigrams and apply each longer history's backoff and entries.
        var lp = unigram
        for k in stride(from: h.count, through: 1, by: -1).reversed() {
            let ctx = h.suffix(k)
            let key = GramKey(ctx)
            guard let c = tables[k - 1][key] else { continue }
            if c.1 != 0 { for i in lp.indices { lp[i] += c.1 } }
            for (w, p) in successors[k][key] ?? [] where Int(w) < lp.count { lp[Int(w)] = p }
        }
        let eos = lp.removeLast()
        return NextTokens(logprobs: lp, eos: eos)
    }

    /// ln P(document): every token and then </s>.
    public func logProb(document ids: [TokenID]) -> Double {
        var lp = 0.0
        var h = [bosWord]
        for w in ids.map({ UInt32($0) }) + [eosWord] {
            lp += logProb(word: w, history: Array(h.suffix(order - 1)))
            h.append(w)
        }
        return lp
    }

    // MARK: Training

    /// Trains on documents of token ids.
    public static func train(documents: [[TokenID]], order: Int, vocabSize: Int) throws -> NGramLM {
        guard (1...6).contains(order) else { throw TokenKitError.usage("--order must be 1 to 6") }
        guard vocabSize < (1 << 21) - 3 else { throw TokenKitError.badInput("vocabulary too large for the n-gram model") }
        let eos = UInt32(vocabSize), bos = UInt32(vocabSize + 1)
        // 1. Raw counts of the longest n-gram ending at each position (shorter ones start with <s>).
        var raw: [[GramKey: Int]] = Array(repeating: [:], count: order)
        var words: [[GramKey: [UInt32]]] = Array(repeating: [:], count: order)
        for doc in documents {
            let seq = [bos] + doc.map { UInt32($0) } + [eos]
            for i in 1..<seq.count {
                let g = Array(seq[max(0, i - order + 1)...i])
                let key = GramKey(g)
                raw[g.count - 1][key, default: 0] += 1
                if words[g.count - 1][key] == nil { words[g.count - 1][key] = g }
            }
        }
        // 2. Adjusted counts: continuation counts below the top order, except after <s>.
        var adjusted = raw
        for k in stride(from: order - 1, through: 1, by: -1) {
            for (_, g) in words[k] {
                let suffix = Array(g.dropFirst())
                let key = GramKey(suffix)
                if raw[k - 1][key] != nil && suffix.first == bos { continue }
                adjusted[k - 1][key, default: 0] += 1
                if words[k - 1][key] == nil { words[k - 1][key] = suffix }
            }
            // A <s>-initial n-gram keeps its raw count (it has no left extension).
            for (key, g) in words[k - 1] where g.first == bos { adjusted[k - 1][key] = raw[k - 1][key] ?? 0 }
        }
        // 3. Discounts per order.
        var discounts: [[Double]] = []
        for k in 0..<order {
            var t = [0, 0, 0, 0, 0]
            for (_, a) in adjusted[k] where a <= 4 { t[a] += 1 }
            discounts.append(Self.discounts(t))
        }
        // 4. Per context: total adjusted count and the mass kept back.
        var totals: [[GramKey: (Double, Double)]] = Array(repeating: [:], count: order)
        for k in 0..<order {
            for (key, a) in adjusted[k] {
                let g = words[k][key]!
                let ctx = GramKey(g.dropLast())
                let d = discounts[k][min(a, 3) - 1]
                var cur = totals[k][ctx] ?? (0, 0)
                cur.0 += Double(a)
                cur.1 += d
                totals[k][ctx] = cur
            }
        }
        // 5. Interpolated probabilities, lowest order first.
        let lmWords = Double(vocabSize + 1)
        var tables: [[GramKey: (Double, Double)]] = Array(repeating: [:], count: order)
        var uni = [Double](repeating: 0, count: vocabSize + 1)
        let rootTotal = totals[0][GramKey([UInt32]())] ?? (0, 0)
        let rootGamma = rootTotal.0 > 0 ? rootTotal.1 / rootTotal.0 : 1
        for w in 0...vocabSize { uni[w] = rootGamma / lmWords }
        for (key, a) in adjusted[0] {
            let w = words[0][key]![0]
            guard w != bos else { continue }
            uni[Int(w)] += (Double(a) - discounts[0][min(a, 3) - 1]) / rootTotal.0
        }
        func lowerProb(_ g: [UInt32]) -> Double {
            // The interpolated probability of g's last word after g minus its first word.
            if g.count == 1 { return uni[Int(g[0])] }
            return Foundation.exp(tables[g.count - 2][GramKey(g.dropFirst())]?.0 ?? Foundation.log(lowerDense(Array(g.dropFirst()))))
        }
        func lowerDense(_ g: [UInt32]) -> Double {
            // Probability of an n-gram missing from its table: backoff times the shorter one.
            if g.count == 1 { return uni[Int(g[0])] }
            let ctx = Array(g.dropLast())
            let b = tables[ctx.count - 1][GramKey(ctx)]?.1 ?? 0
            return Foundation.exp(b) * lowerDense(Array(g.dropFirst()))
        }
        for w in 0...vocabSize { tables[0][GramKey([UInt32(w)])] = (Foundation.log(uni[w]), 0) }
        for k in 0..<order {
            // Backoff weights of the contexts at this order (used by order k+1).
            if k > 0 {
                let keys = adjusted[k].keys.sorted { words[k][$0]!.lexicographicallyPrecedes(words[k][$1]!) }
                for key in keys {
                    let g = words[k][key]!
                    let a = adjusted[k][key]!
                    let ctx = GramKey(g.dropLast())
                    let tot = totals[k][ctx]!
                    let gamma = tot.1 / tot.0
                    let p = (Double(a) - discounts[k][min(a, 3) - 1]) / tot.0 + gamma * lowerProb(g)
                    tables[k][key] = (Foundation.log(p), 0)
                }
            }
            // Contexts of order k+1 get their backoff γ.
            if k + 1 < order {
                for (ctxKey, tot) in totals[k + 1] {
                    guard var v = tables[k][ctxKey] else { continue }
                    v.1 = Foundation.log(tot.1 / tot.0)
                    tables[k][ctxKey] = v
                }
            }
        }
        // <s> as a context: a unigram entry that is never predicted.
        if tables[0][GramKey([bos])] == nil {
            tables[0][GramKey([bos])] = (-.infinity, 0)
            if order > 1, let tot = totals[1][GramKey([bos])] { tables[0][GramKey([bos])] = (-.infinity, Foundation.log(tot.1 / tot.0)) }
        }
        return NGramLM(order: order, vocabSize: vocabSize, tables: tables)
    }

    /// D1, D2, D3+ from the counts of counts t[1...4] (Chen & Goodman); KenLM's fallback
    /// (0.5, 1, 1.5) when a count of counts is zero.
    static func discounts(_ t: [Int]) -> [Double] {
        guard t[1] > 0, t[2] > 0, t[3] > 0, t[4] > 0 else { return [0.5, 1, 1.5] }
        let y = Double(t[1]) / Double(t[1] + 2 * t[2])
        let d = [1 - 2 * y * Double(t[2]) / Double(t[1]), 2 - 3 * y * Double(t[3]) / Double(t[2]), 3 - 4 * y * Double(t[4]) / Double(t[3])]
        return d.allSatisfy({ $0 > 0 && $0.isFinite }) ? d : [0.5, 1, 1.5]
    }

    // MARK: ARPA

    func wordName(_ w: UInt32) -> String {
        w == eosWord ? "</s>" : w == bosWord ? "<s>" : String(w)
    }

    /// ARPA text: log10 probabilities and backoffs; words are token ids, <s> and </s>.
    public func arpa() -> [UInt8] {
        var out = "\n\\data\\\n"
        let sortedGrams = (0..<order).map(grams)
        for k in 0..<order { out += "ngram \(k + 1)=\(sortedGrams[k].count + (k == 0 ? 1 : 0))\n" }
        var bytes = Array(out.utf8)
        let ln10 = Foundation.log(10.0)
        for k in 0..<order {
            bytes += Array("\n\\\(k + 1)-grams:\n".utf8)
            if k == 0 { bytes += Array("-100\t<unk>\t0\n".utf8) }
            for g in sortedGrams[k] {
                let v = tables[k][GramKey(g)]!
                let p = v.0 == -.infinity ? "-99" : String(format: "%.9g", v.0 / ln10)
                var line = p + "\t" + g.map(wordName).joined(separator: " ")
                if k + 1 < order { line += "\t" + String(format: "%.9g", v.1 / ln10) }
                bytes += Array((line + "\n").utf8)
            }
        }
        bytes += Array("\n\\end\\\n".utf8)
        return bytes
    }

    /// Reads ARPA whose words are token ids below `vocabSize` (plus <s>, </s>, <unk>).
    public static func readARPA(_ data: [UInt8], vocabSize: Int, path: String) throws -> NGramLM {
        // strtod needs a terminator after the last number.
        let buf = data + [0]
        return try buf.withUnsafeBufferPointer { try parseARPA($0, count: data.count, vocabSize: vocabSize, path: path) }
    }

    private static func parseARPA(_ p: UnsafeBufferPointer<UInt8>, count: Int, vocabSize: Int, path: String) throws -> NGramLM {
        let base = p.baseAddress!
        var order = 0
        var tables: [[GramKey: (Double, Double)]] = []
        var section = 0
        let ln10 = Foundation.log(10.0)
        let eos = UInt32(vocabSize), bos = UInt32(vocabSize + 1)
        var lineNo = 0
        var sawData = false
        var sawEnd = false
        // Declared and found entries per order: a file cut short (or edited) must not load as a
        // smaller model.
        var declared = [Int](repeating: -1, count: 7)
        var found = [Int](repeating: 0, count: 7)
        func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }
        func text(_ a: Int, _ b: Int) -> String { String(decoding: UnsafeBufferPointer(start: base + a, count: b - a), as: UTF8.self) }
        var at = 0
        while at < count {
            var end = at
            while end < count && p[end] != 0x0A { end += 1 }
            let next = end + 1
            lineNo += 1
            var a = at, b = end
            at = next
            while a < b && isBlank(p[a]) { a += 1 }
            while b > a && isBlank(p[b - 1]) { b -= 1 }
            if a == b { continue }
            if p[a] == UInt8(ascii: "\\") || p[a] == UInt8(ascii: "n") {
                let line = text(a, b)
                if line == "\\data\\" { sawData = true; continue }
                if line == "\\end\\" { sawEnd = true; break }
                if line.hasPrefix("ngram ") {
                    let parts = line.dropFirst(6).split(separator: "=")
                    guard parts.count == 2, let k = Int(parts[0].trimmingCharacters(in: .whitespaces)), k >= 1, k <= 6,
                          let n = Int(parts[1].trimmingCharacters(in: .whitespaces)), n >= 0 else {
                        throw TokenKitError.badInput("line \(lineNo): bad ngram count line '\(line)' (orders 1 to 6)", file: path)
                    }
                    declared[k] = n
                    order = max(order, k)
                    continue
                }
                if line.hasPrefix("\\"), line.hasSuffix("-grams:"), let k = Int(line.dropFirst().dropLast(7)) {
                    guard k >= 1, k <= order else { throw TokenKitError.badInput("line \(lineNo): section \(line) beyond the declared orders", file: path) }
                    section = k
                    while tables.count < order { tables.append([:]) }
                    tables[k - 1].reserveCapacity(max(0, declared[k]))
                    continue
                }
            }
            guard sawData, section > 0 else { throw TokenKitError.badInput("line \(lineNo): not ARPA (expected \\data\\ and n-gram sections)", file: path) }
            func bad() -> TokenKitError {
                .badInput("line \(lineNo): expected a log10 probability, \(section == 1 ? "1 word" : "\(section) words") and an optional backoff", file: path)
            }
            // Fields: log10 p, the words, optionally a log10 backoff; tabs or spaces between.
            var i = a
            func field() -> (Int, Int)? {
                while i < b && isBlank(p[i]) { i += 1 }
                guard i < b else { return nil }
                let s = i
                while i < b && !isBlank(p[i]) { i += 1 }
                return (s, i)
            }
            func number(_ f: (Int, Int)) -> Double? {
                var stop: UnsafeMutablePointer<CChar>?
                let v = base.withMemoryRebound(to: CChar.self, capacity: count + 1) { c in strtod(c + f.0, &stop) }
                let stopAt = stop.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) }
                guard stopAt == f.1 else { return nil }
                return v
            }
            guard let pf = field(), let p10 = number(pf) else { throw bad() }
            guard p10.isFinite, p10 <= 0 else {
                throw TokenKitError.badInput("line \(lineNo): log10 probability \(text(pf.0, pf.1)) is not a finite number ≤ 0", file: path)
            }
            var key = GramKey([UInt32]())
            var skip = false
            for n in 0..<section {
                guard let f = field() else { throw bad() }
                // A token id in decimal, else <s>, </s> or <unk>.
                var id = 0
                var k = f.0
                while k < f.1, p[k] >= 0x30, p[k] <= 0x39, id < vocabSize { id = id * 10 + Int(p[k] - 0x30); k += 1 }
                var w = UInt32(truncatingIfNeeded: id)
                if k < f.1 || id >= vocabSize {
                    switch text(f.0, f.1) {
                    case "<s>": w = bos
                    case "</s>": w = eos
                    case "<unk>": skip = true
                    case let word:
                        throw TokenKitError.badInput("line \(lineNo): word '\(word)' is not a token id of the tokenizer (0..<\(vocabSize))", file: path)
                    }
                }
                key = key.appending(w, count: n)
            }
            var b10 = 0.0
            if let f = field() {
                guard let v = number(f), v.isFinite else { throw TokenKitError.badInput("line \(lineNo): bad backoff weight", file: path) }
                b10 = v
            }
            guard field() == nil else { throw bad() }
            found[section] += 1
            if skip { continue }
            let lp = p10 <= -99 ? -Double.infinity : p10 * ln10
            tables[section - 1][key] = (lp, b10 * ln10)
        }
        guard order > 0, tables.count == order else { throw TokenKitError.badInput("no n-grams found (not an ARPA file?)", file: path) }
        for k in 1...order where declared[k] >= 0 && declared[k] != found[k] {
            throw TokenKitError.badInput("the header declares \(declared[k]) \(k)-grams but the file has \(found[k]) (truncated or edited?)", file: path)
        }
        guard sawEnd else { throw TokenKitError.badInput("no \\end\\ line after line \(lineNo): the file is truncated", file: path) }
        return NGramLM(order: order, vocabSize: vocabSize, tables: tables)
    }
}
