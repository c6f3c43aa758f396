import ArgumentParser
import Foundation
import TokenKit
import TokenKitByteProb
import TokenKitCore
import TokenKitFormats

struct ByteProb: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "byteprob",
        abstract: "Exact byte-level probabilities from a tokenized LM (cover encodings).",
        discussion: """
            A token LM defines a distribution over byte strings: generate tokens until the end, and the
            text is what they spell. byteprob gives that distribution's next-byte probabilities, so
            prompts may end inside a token or a UTF-8 character. With tokenkit's n-gram model (--lm
            LM.arpa, from `train lm -m`) it sums over every token sequence that spells the text, a
            forward pass over byte positions. With any program speaking the JSON-lines protocol
            (--lm-command) it sums over the valid sequences that cover the text (Phan et al. 2025),
            which is exact when the LM never produces a non-canonical sequence; `--encodings
            canonical` does the same for the n-gram model.

            Examples:
              tokenkit byteprob next -m cl100k_base.tiktoken --lm code.arpa --prompt "def f(x): retu"
              tokenkit byteprob score -m cl100k_base.tiktoken --lm code.arpa --format json notes.txt
              tokenkit byteprob sample -m r50k_base.tiktoken --lm-command "python3 Scripts/lm_adapter_hf.py gpt2" --seed 1
              tokenkit byteprob heal -m cl100k_base.tiktoken --lm code.arpa --prompt "import num"
            """,
        subcommands: [ByteNext.self, ByteScore.self, ByteSample.self, ByteEnsemble.self, ByteHeal.self, BytePairCheck.self])
}

/// `-m MODEL` with `--lm LM` or `--lm-command CMD` (repeated together for ensembles).
struct LMOptions: ParsableArguments {
    @Option(name: [.short, .customLong("model")], help: "Tokenizer file (BPE: tokenizer.json, tiktoken ranks, SentencePiece .model).")
    var model: [String] = []

    @Option(help: "Token n-gram LM in ARPA (from `tokenkit train lm -m`).")
    var lm: [String] = []

    @Option(help: "External LM: a command that reads {\"context\": [ids]} lines on stdin and answers {\"logprobs\": {\"id\": logp, …}, \"eos\": logp} lines (README.md, byteprob).")
    var lmCommand: [String] = []

    @Option(help: "Split pattern for tiktoken files: r50k, p50k, cl100k, o200k or a regex.")
    var pattern: String?

    @Flag(help: "Canonical encodings only: re-encode from the start of the text at every step instead of from an anchor near the end (slow; for checking).")
    var exact = false

    @Option(help: ArgumentHelp("Which token sequences a text's probability sums over: all (every sequence that spells it, the distribution the LM defines over texts; the default for --lm) or canonical (cover encodings, Phan et al.; assumes the LM never produces a non-canonical sequence, and drops what it gives them; the only choice for --lm-command).", valueName: "all|canonical"))
    var encodings: Encodings?

    /// One maker per (tokenizer, LM), in command-line order within each kind. Each call makes a
    /// model with its own caches over the shared tokenizer and LM (one per worker thread).
    func load(expect count: Int? = nil) throws -> [() -> any ByteLevelModel] {
        let sources = lm.map { (false, $0) } + lmCommand.map { (true, $0) }
        guard !model.isEmpty else { throw TokenKitError.usage("give a tokenizer with -m") }
        guard sources.count == model.count else {
            throw TokenKitError.usage("give one --lm or --lm-command per -m (\(model.count) models, \(sources.count) LMs)")
        }
        if let count, model.count != count {
            throw TokenKitError.usage(count == 1 ? "give exactly one -m and one LM" : "give exactly \(count) -m and \(count) LMs")
        }
        if encodings == .all && !lmCommand.isEmpty {
            throw TokenKitError.usage("--encodings all needs an n-gram LM (--lm): an external LM's contexts are whole histories, so summing over every encoding has no finite set of states")
        }
        if exact && encodings == .all { throw TokenKitError.usage("--exact is for --encodings canonical") }
        var out: [() -> any ByteLevelModel] = []
        for (path, (external, source)) in zip(model, sources) {
            let tok = try TokenizerLoader.load(path, options: .init(pattern: pattern))
            let space: TokenSpace
            do { space = try TokenSpace(tok) } catch let e as TokenKitError { throw e.inFile(path) }
            let ngram = external ? nil : try NGramLM.readARPA(try readFile(source), vocabSize: tok.vocabSize, path: source)
            if let ngram, encodings != .canonical && !exact {
                out.append { AllEncodingsModel(space: space, ngram: ngram, lm: CachedLM(ngram)) }
                continue
            }
            let base: TokenLM = try ngram ?? ExternalLM(command: source, vocabSize: tok.vocabSize)
            let exact = exact
            out.append {
                let m = ByteModel(space: space, lm: CachedLM(base))
                m.exact = exact
                return m
            }
        }
        return out
    }
}

enum Encodings: String, ExpressibleByArgument {
    case all, canonical
}

/// `--prompt TEXT` or `--prompt-file F`.
struct PromptOptions: ParsableArguments {
    @Option(help: "The text so far (escapes \\n, \\t, \\\\ and \\xNN are read).")
    var prompt: String?

    @Option(help: "Read the text so far from a file (exact bytes; - for stdin).")
    var promptFile: String?

    func bytes(required: Bool = true) throws -> [UInt8] {
        switch (prompt, promptFile) {
        case (.some, .some): throw TokenKitError.usage("give --prompt or --prompt-file, not both")
        case (.some(let p), nil): return unescape(p)
        case (nil, .some(let f)): return f == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : try readFile(f)
        case (nil, nil):
            if required { throw TokenKitError.usage("give --prompt TEXT or --prompt-file FILE") }
            return []
        }
    }

    func unescape(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            guard c == UInt8(ascii: "\\"), let e = it.first else { out.append(c); continue }
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A); it.removeFirst()
            case UInt8(ascii: "t"): out.append(0x09); it.removeFirst()
            case UInt8(ascii: "r"): out.append(0x0D); it.removeFirst()
            case UInt8(ascii: "\\"): out.append(0x5C); it.removeFirst()
            case UInt8(ascii: "x") where it.count >= 3:
                if let v = UInt8(String(decoding: it.dropFirst().prefix(2), as: UTF8.self), radix: 16) {
                    out.append(v)
                    it.removeFirst(3)
                } else {
                    out.append(c)
                }
            default: out.append(c)
            }
        }
        return out
    }
}

/// A byte as people read it: the character for printable ASCII, else 0xNN.
func showByte(_ b: UInt8) -> String {
    switch b {
    case 0x20: return "' '"
    case 0x0A: return "\\n"
    case 0x09: return "\\t"
    case 0x21...0x7E: return String(UnicodeScalar(b))
    default: return String(format: "0x%02X", b)
    }
}

func distributionJSON(_ d: ByteDistribution) -> String {
    let entries = (0..<256).filter { d.probs[$0] > 0 }.map { "\"\($0)\": \(jsonNumber(d.probs[$0]))" }
    return "{\"distribution\": {" + entries.joined(separator: ", ") + "}, \"end\": \(jsonNumber(d.end))}"
}

func jsonNumber(_ x: Double) -> String {
    x.isFinite ? String(format: "%.17g", x) : "null"
}

enum ByteFormat: String, ExpressibleByArgument {
    case text, json
}

struct ByteNext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "The exact next-byte distribution and the probability that the text ends.",
        discussion: """
            Examples:
              tokenkit byteprob next -m cl100k_base.tiktoken --lm code.arpa --prompt "for i in ra" --top 5
              tokenkit byteprob next -m r50k_base.tiktoken --lm code.arpa --prompt-file prefix.txt --format json
            """)

    @OptionGroup var models: LMOptions
    @OptionGroup var prompt: PromptOptions

    @Option(help: "Show the K most likely bytes (text output; 0-256).")
    var top = 10

    @OptionGroup var quietOption: QuietOption

    @Option(help: "Output format: text or json (every byte with probability > 0, and end).")
    var format: ByteFormat = .text

    func validate() throws { try requireRange("--top", top, 0...256) }

    mutating func run() throws {
        let model = try models.load(expect: 1)[0]()
        let text = try prompt.bytes()
        let d = try model.distribution(after: text)
        let calls = model.contexts
        switch format {
        case .json:
            try Output.write(Array((String(distributionJSON(d).dropLast()) + ", \"lm_calls\": \(calls)}\n").utf8), to: nil)
        case .text:
            let naive = try model.naive(text: text)
            var out = "byte   exact        naive\n"
            for (b, p) in d.top(top) {
                out += showByte(b).padding(toLength: 6, withPad: " ", startingAt: 0) + " " + fmt(p, digits: 6) + "     " + fmt(naive.probs[Int(b)], digits: 6) + "\n"
            }
            out += "end    " + fmt(d.end, digits: 6) + "     " + fmt(naive.end, digits: 6) + "\n"
            out += "LM calls: \(calls)\n"
            try Output.write(Array(out.utf8), to: nil)
        }
    }
}

/// Log-likelihood of a text under the byte-level model, and of its canonical tokens.
struct DocumentScore {
    var bytes = 0
    var byteLogProb = 0.0
    var canonicalLogProb = 0.0
    var calls = 0
    var byteBits: Double { bytes == 0 ? 0 : -byteLogProb / Foundation.log(2.0) / Double(bytes) }
    var canonicalBits: Double { bytes == 0 ? 0 : -canonicalLogProb / Foundation.log(2.0) / Double(bytes) }
}

func scoreDocument(_ doc: [UInt8], model: any ByteLevelModel) throws -> DocumentScore {
    var s = DocumentScore()
    s.bytes = doc.count
    let before = model.contexts
    s.byteLogProb = try model.logProb(document: doc)
    let space = model.space, lm = model.lm
    let m = space.modelBytes(doc)
    guard let ids = doc.isEmpty && !space.prefix.isEmpty ? [] : space.encode(m[...]) else {
        throw TokenKitError.badInput("cannot encode the text")
    }
    // An n-gram LM reads only the last order-1 tokens: a longer context would make this quadratic.
    let limit = lm.contextLimit ?? ids.count
    for i in 0...ids.count {
        let ctx = Array(ids[max(0, i - limit)..<i])
        s.canonicalLogProb += try i == ids.count ? lm.logEnd(after: ctx) : lm.logProb(ids[i], after: ctx)
    }
    s.calls = model.contexts - before
    return s
}

struct ByteScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Byte-level log-likelihood and bits per byte, beside the canonical-token figure.",
        discussion: """
            Each document is scored as a whole text: every byte's exact probability given the bytes
            before it, then the end of the text. The canonical figure is the LM's probability of the
            text's canonical tokens and then the end. Both include the end of each document.

            Examples:
              tokenkit byteprob score -m cl100k_base.tiktoken --lm code.arpa notes.txt
              tokenkit byteprob score -m cl100k_base.tiktoken --lm code.arpa --document-separator '\\n\\n' --format json corpus.txt
            """)

    @OptionGroup var models: LMOptions

    @Option(help: "Split files into documents at this separator (escapes \\n, \\t, \\xNN). Default: a file is one document.")
    var documentSeparator: String?

    @Option(help: "Worker threads for the n-gram LM (default: all cores); external LMs use one.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Output format: text or json.")
    var format: ByteFormat = .text

    @Flag(name: [.short, .long], help: "No notes on stderr.")
    var quiet = false

    @Argument(help: "Input files; - for stdin.")
    var files: [String] = []

    func validate() throws { try requireRange("--threads", threads, 1...4096) }

    mutating func run() throws {
        let sep = try documentSeparator.map { try parseSeparator($0) }
        let external = !models.lmCommand.isEmpty
        var docs: [(file: String, bytes: [UInt8])] = []
        for f in files.isEmpty ? ["-"] : files {
            let data = f == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : try readFile(f)
            for d in splitDocuments(data, sep) { docs.append((f, d)) }
        }
        let workers = external ? 1 : min(threads, max(1, docs.count))
        let make = try models.load(expect: 1)[0]
        let pairs = (0..<workers).map { _ in make() }
        var results = [DocumentScore?](repeating: nil, count: docs.count)
        var failure: Error?
        let lock = NSLock()
        let start = Date()
        var nextDoc = 0
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let model = pairs[w]
            while true {
                lock.lock()
                let i = nextDoc
                nextDoc += 1
                let stop = failure != nil
                lock.unlock()
                if i >= docs.count || stop { return }
                do {
                    let r = try scoreDocument(docs[i].bytes, model: model)
                    lock.lock(); results[i] = r; lock.unlock()
                } catch {
                    lock.lock(); failure = failure ?? (error as? TokenKitError)?.inFile(docs[i].file) ?? error; lock.unlock()
                }
            }
        }
        if let failure { throw failure }
        let seconds = Date().timeIntervalSince(start)
        let scores = results.map { $0! }
        var total = DocumentScore()
        for s in scores {
            total.bytes += s.bytes
            total.byteLogProb += s.byteLogProb
            total.canonicalLogProb += s.canonicalLogProb
            total.calls += s.calls
        }
        let encodings = pairs[0] is AllEncodingsModel ? "all" : "canonical"
        let callsPerByte = total.bytes == 0 ? 0 : Double(total.calls) / Double(total.bytes)
        let out = try Output(path: nil)
        switch format {
        case .json:
            let rows = zip(docs, scores).map { d, s in
                "    {\"file\": \(jsonString(d.file)), \"bytes\": \(s.bytes), \"byte_logprob\": \(jsonNumber(s.byteLogProb)), \"canonical_logprob\": \(jsonNumber(s.canonicalLogProb)), \"byte_bits_per_byte\": \(jsonNumber(s.byteBits)), \"canonical_bits_per_byte\": \(jsonNumber(s.canonicalBits))}"
            }
            try out.write("{\n  \"bytes\": \(total.bytes),\n  \"documents\": \(scores.count),\n  \"byte_logprob\": \(jsonNumber(total.byteLogProb)),\n  \"canonical_logprob\": \(jsonNumber(total.canonicalLogProb)),\n  \"byte_bits_per_byte\": \(jsonNumber(total.byteBits)),\n  \"canonical_bits_per_byte\": \(jsonNumber(total.canonicalBits)),\n  \"encodings\": \"\(encodings)\",\n  \"lm_calls_per_byte\": \(jsonNumber(callsPerByte)),\n  \"seconds\": \(jsonNumber(seconds)),\n  \"per_document\": [\n\(rows.joined(separator: ",\n"))\n  ]\n}\n")
        case .text:
            try out.write("documents            \(scores.count)\nbytes                \(total.bytes)\n")
            try out.write("byte-level           \(fmt(total.byteBits)) bits/byte  (log-likelihood \(fmt(total.byteLogProb, digits: 3)) nats)\n")
            try out.write("canonical tokens     \(fmt(total.canonicalBits)) bits/byte  (log-likelihood \(fmt(total.canonicalLogProb, digits: 3)) nats)\n")
            try out.write("encodings            \(encodings)\n")
            try out.write("LM calls per byte    \(fmt(callsPerByte, digits: 2))\n")
        }
        try out.finish()
        if !quiet && isatty(2) != 0 {
            note("\(total.bytes) bytes in \(fmt(seconds, digits: 2)) s (\(fmt(Double(total.bytes) / max(seconds, 1e-9) / 1000, digits: 1)) KB/s)", quiet: quiet)
        }
    }
}

func splitDocuments(_ data: [UInt8], _ sep: [UInt8]?) -> [[UInt8]] {
    guard let sep, !sep.isEmpty else { return [data] }
    var out: [[UInt8]] = []
    var start = 0, i = 0
    while i + sep.count <= data.count {
        if data[i] == sep[0], data[i..<i + sep.count].elementsEqual(sep) {
            out.append(Array(data[start..<i]))
            i += sep.count
            start = i
        } else {
            i += 1
        }
    }
    out.append(Array(data[start...]))
    return out.filter { !$0.isEmpty }
}

/// Draws from a byte distribution (with temperature); nil means the text ends.
func drawByte(_ d: ByteDistribution, temperature: Double, rng: inout SplitMix64) -> UInt8? {
    var w = d.probs.map { $0 > 0 ? Foundation.pow($0, 1 / temperature) : 0 }
    let e = d.end > 0 ? Foundation.pow(d.end, 1 / temperature) : 0
    let z = w.reduce(e, +)
    var u = Double(rng.next() >> 11) / Double(1 << 53) * z
    for b in 0..<256 {
        u -= w[b]
        if u < 0 { return UInt8(b) }
    }
    w.removeAll()
    return e > 0 ? nil : UInt8(d.probs.indices.max { d.probs[$0] < d.probs[$1] }!)
}

struct ByteSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Sample text byte by byte from the exact byte-level distribution.",
        discussion: """
            Prints the prompt and then the sampled bytes; stops at the end of text or after --max-bytes.

            Examples:
              tokenkit byteprob sample -m cl100k_base.tiktoken --lm code.arpa --seed 1 --prompt "def "
              tokenkit byteprob sample -m r50k_base.tiktoken --lm code.arpa --seed 7 --temperature 0.7 --max-bytes 400
            """)

    @OptionGroup var models: LMOptions
    @OptionGroup var prompt: PromptOptions

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "Temperature applied to each byte distribution (1 = exact).")
    var temperature = 1.0

    @Option(help: "Stop after this many sampled bytes.")
    var maxBytes = 200

    @Flag(name: [.short, .long], help: "No statistics on stderr.")
    var quiet = false

    func validate() throws { try requireAtLeast("--max-bytes", maxBytes, 0) }

    mutating func run() throws {
        guard temperature > 0 else { throw TokenKitError.usage("--temperature must be positive") }
        let model = try models.load(expect: 1)[0]()
        var text = try prompt.bytes(required: false)
        let promptCount = text.count
        var rng = SplitMix64(seed: seed)
        for _ in 0..<maxBytes {
            let d = try model.distribution(after: text)
            guard let b = drawByte(d, temperature: temperature, rng: &rng) else { break }
            text.append(b)
        }
        try Output.write(text, to: nil)
        let n = max(1, text.count - promptCount)
        note("\(text.count - promptCount) bytes sampled, \(model.contexts) LM calls (\(fmt(Double(model.contexts) / Double(n), digits: 2)) per byte)", quiet: quiet)
    }
}

enum Combine: String, ExpressibleByArgument {
    case product, mixture
}

struct ByteEnsemble: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensemble",
        abstract: "Combine two models with different tokenizers byte by byte.",
        discussion: """
            The next-byte distributions (end of text included) of both models are combined: product
            (normalized p_A·p_B) or mixture ((p_A + p_B) / 2). Prints the next-byte distribution, or with
            --max-bytes N samples a continuation from the combination.

            Examples:
              tokenkit byteprob ensemble -m r50k_base.tiktoken --lm a.arpa -m cl100k_base.tiktoken --lm b.arpa --prompt "The qu"
              tokenkit byteprob ensemble -m A.json --lm a.arpa -m B.model --lm b.arpa --combine mixture --max-bytes 100 --seed 3
            """)

    @OptionGroup var models: LMOptions
    @OptionGroup var prompt: PromptOptions
    @OptionGroup var quietOption: QuietOption

    @Option(help: "How to combine: product or mixture.")
    var combine: Combine = .product

    @Option(help: "Sample this many bytes instead of printing the distribution.")
    var maxBytes: Int?

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "Show the K most likely bytes (text output; 0-256).")
    var top = 10

    @Option(help: "Output format: text or json (the distribution; with --max-bytes, {\"prompt\", \"sampled\", \"bytes\"}).")
    var format: ByteFormat = .text

    func validate() throws {
        try requireRange("--top", top, 0...256)
        if let maxBytes { try requireAtLeast("--max-bytes", maxBytes, 0) }
    }

    mutating func run() throws {
        let pairs = try models.load(expect: 2).map { $0() }
        var text = try prompt.bytes(required: maxBytes == nil)
        func combined() throws -> ByteDistribution {
            let ds = try pairs.map { try $0.distribution(after: text) }
            var probs = [Double](repeating: 0, count: 256)
            var end: Double
            switch combine {
            case .product:
                for b in 0..<256 { probs[b] = ds[0].probs[b] * ds[1].probs[b] }
                end = ds[0].end * ds[1].end
            case .mixture:
                for b in 0..<256 { probs[b] = (ds[0].probs[b] + ds[1].probs[b]) / 2 }
                end = (ds[0].end + ds[1].end) / 2
            }
            let z = probs.reduce(end, +)
            guard z > 0 else { throw TokenKitError.badInput("the two models give every byte probability 0 together (product of disjoint supports)") }
            for b in 0..<256 { probs[b] /= z }
            end /= z
            return ByteDistribution(probs: probs, end: end)
        }
        if let maxBytes {
            let promptCount = text.count
            var rng = SplitMix64(seed: seed)
            for _ in 0..<maxBytes {
                guard let b = drawByte(try combined(), temperature: 1, rng: &rng) else { break }
                text.append(b)
            }
            switch format {
            case .json:
                let s = "{\"prompt\": \(jsonString(String(decoding: text[..<promptCount], as: UTF8.self))), "
                    + "\"sampled\": \(jsonString(String(decoding: text[promptCount...], as: UTF8.self))), \"bytes\": \(text.count - promptCount)}\n"
                try Output.write(Array(s.utf8), to: nil)
            case .text: try Output.write(text, to: nil)
            }
            return
        }
        let d = try combined()
        switch format {
        case .json: try Output.write(Array((distributionJSON(d) + "\n").utf8), to: nil)
        case .text:
            var out = ""
            for (b, p) in d.top(top) { out += showByte(b).padding(toLength: 6, withPad: " ", startingAt: 0) + " " + fmt(p, digits: 6) + "\n" }
            out += "end    " + fmt(d.end, digits: 6) + "\n"
            try Output.write(Array(out.utf8), to: nil)
        }
    }
}

struct ByteHeal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heal",
        abstract: "Continue a prefix that ends mid-token exactly, beside the naive prompt's answer.",
        discussion: """
            The exact continuation extends the prompt byte by byte (most likely byte, or sampled with
            --seed). The naive one prompts the LM with the prompt's canonical tokens and takes the most
            likely next tokens: after a prompt that ends inside a token it cannot produce the token the
            text needs.

            Examples:
              tokenkit byteprob heal -m cl100k_base.tiktoken --lm code.arpa --prompt "import num"
              tokenkit byteprob heal -m r50k_base.tiktoken --lm code.arpa --prompt "The cat sat on the ma" --max-bytes 40
            """)

    @OptionGroup var models: LMOptions
    @OptionGroup var prompt: PromptOptions
    @OptionGroup var quietOption: QuietOption

    @Option(help: "Bytes to add.")
    var maxBytes = 32

    @Option(help: "Sample the exact continuation with this seed instead of taking the most likely byte.")
    var seed: UInt64?

    @Option(help: "Output format: text or json.")
    var format: ByteFormat = .text

    func validate() throws { try requireAtLeast("--max-bytes", maxBytes, 0) }

    mutating func run() throws {
        let model = try models.load(expect: 1)[0]()
        let lm = model.lm
        let start = try prompt.bytes()
        let first = try model.distribution(after: start)
        let naiveFirst = try model.naive(text: start)
        // Exact continuation.
        var text = start
        var rng = SplitMix64(seed: seed ?? 0)
        for _ in 0..<maxBytes {
            let d = try model.distribution(after: text)
            let b: UInt8?
            if seed != nil {
                b = drawByte(d, temperature: 1, rng: &rng)
            } else {
                let best = d.top(1).first
                b = best.flatMap { $0.p > d.end ? $0.byte : nil }
            }
            guard let b else { break }
            text.append(b)
        }
        let exactCalls = model.contexts
        // Naive continuation: most likely tokens after the canonical encoding of the prompt.
        let space = model.space
        let m = space.modelBytes(start)
        var ids = start.isEmpty && !space.prefix.isEmpty ? [] : (space.encode(m[...]) ?? [])
        var naive: [UInt8] = []
        while naive.count < maxBytes {
            let d = try lm.next(ids)
            var best = -1
            for t in 0..<min(d.logprobs.count, space.vocabSize) where !space.tokenBytes[t].isEmpty {
                if best < 0 || d.logprobs[t] > d.logprobs[best] { best = t }
            }
            if best < 0 || d.eos >= d.logprobs[best] { break }
            ids.append(TokenID(best))
            naive += space.tokenBytes[best]
        }
        let exactOut = Array(text[start.count...])
        let naiveOut = Array(naive.prefix(maxBytes))
        switch format {
        case .json:
            let s = "{\"prompt\": \(jsonString(String(decoding: start, as: UTF8.self))), \"exact\": \(jsonString(String(decoding: exactOut, as: UTF8.self))), \"naive\": \(jsonString(String(decoding: naiveOut, as: UTF8.self))), \"exact_next\": \(distributionJSON(first)), \"naive_next\": \(distributionJSON(naiveFirst)), \"lm_calls\": \(exactCalls)}\n"
            try Output.write(Array(s.utf8), to: nil)
        case .text:
            var out = "prompt  \(String(decoding: start, as: UTF8.self).debugDescription)\n"
            out += "exact   \(String(decoding: exactOut, as: UTF8.self).debugDescription)\n"
            out += "naive   \(String(decoding: naiveOut, as: UTF8.self).debugDescription)\n"
            out += "next byte   exact        naive\n"
            var bytes = first.top(5).map(\.byte)
            for (b, _) in naiveFirst.top(5) where !bytes.contains(b) { bytes.append(b) }
            for b in bytes {
                out += "  " + showByte(b).padding(toLength: 9, withPad: " ", startingAt: 0) + " " + fmt(first.probs[Int(b)], digits: 6) + "     " + fmt(naiveFirst.probs[Int(b)], digits: 6) + "\n"
            }
            out += "  end       " + fmt(first.end, digits: 6) + "     " + fmt(naiveFirst.end, digits: 6) + "\n"
            out += "LM calls (exact): \(exactCalls)\n"
            try Output.write(Array(out.utf8), to: nil)
        }
    }
}

/// A separator given on the command line, with escapes \\n, \\t, \\r, \\0 and \\xNN.
func parseSeparator(_ s: String) throws -> [UInt8] {
    let out = PromptOptions().unescape(s)
    if out.isEmpty { throw TokenKitError.usage("--document-separator is empty") }
    return out
}

/// Hidden: the merge-structure pair check against re-encoding on random pairs (BENCHMARKS' 10^6 run).
struct BytePairCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-pairs",
        abstract: "Check the merge-structure pair test against encode(decode([a, b])) == [a, b] on random pairs.",
        discussion: """
            Examples:
              tokenkit byteprob check-pairs -m cl100k_base.tiktoken --pairs 1000000 --seed 1
              tokenkit byteprob check-pairs -m llama2_tokenizer.model --one-piece --format json
            """,
        shouldDisplay: false)

    @Option(name: [.short, .customLong("model")], help: "Tokenizer file (byte-level BPE or SentencePiece BPE).")
    var model: String

    @Option(help: "Split pattern for tiktoken files: r50k, p50k, cl100k, o200k or a regex.")
    var pattern: String?

    @Option(help: "Random pairs to check.")
    var pairs = 1_000_000

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Flag(help: "Only pairs whose bytes make one pre-tokenizer piece (where the merges decide).")
    var onePiece = false

    @Option(help: "Output format: text or json.")
    var format: ByteFormat = .text

    @OptionGroup var quietOption: QuietOption

    mutating func run() throws {
        guard pairs >= 1 else { throw TokenKitError.usage("--pairs must be at least 1") }
        let tok = try TokenizerLoader.load(model, options: .init(pattern: pattern))
        let space: TokenSpace
        do { space = try TokenSpace(tok) } catch let e as TokenKitError { throw e.inFile(model) }
        let start = Date()
        let r = try space.checkPairs(count: pairs, seed: seed, onePiece: onePiece)
        let seconds = Date().timeIntervalSince(start)
        let examples = r.examples.map { "[\($0[0]), \($0[1])]" }.joined(separator: ", ")
        switch format {
        case .json:
            let json = "{\"pairs\": \(r.pairs), \"valid\": \(r.valid), \"disagreements\": \(r.disagreements), \"rules\": {\"cut\": \(r.cut), \"boundary\": \(r.boundary), \"merges\": \(r.merges), \"undecided\": \(r.undecided)}, \"examples\": [\(examples)], \"seconds\": \(jsonNumber(seconds))}\n"
            try Output.write(Array(json.utf8), to: nil)
        case .text:
            var out = "pairs          \(r.pairs)\nvalid          \(r.valid)\ndisagreements  \(r.disagreements)\n"
            out += "decided by     cut \(r.cut), boundary \(r.boundary), merges \(r.merges), re-encoded \(r.undecided)\n"
            if !examples.isEmpty { out += "examples       \(examples)\n" }
            out += "seconds        \(fmt(seconds, digits: 1))\n"
            try Output.write(Array(out.utf8), to: nil)
        }
        if r.disagreements > 0 { throw ExitCode(1) }
    }
}
