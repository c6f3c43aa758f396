import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats

/// `--pattern`, the split pattern of tiktoken rank files.
struct PatternOptions: ParsableArguments {
    @Option(help: "Split pattern for tiktoken files: r50k, p50k, cl100k, o200k or a regex (as in tiktoken, text the regex does not match is dropped). Known OpenAI files are recognised.")
    var pattern: String?

    @Flag(help: "Parse the model file, neither reading nor writing the model cache ($XDG_CACHE_HOME/tokenkit or ~/.cache/tokenkit).")
    var noCache = false

    @Option(help: .hidden)
    var cacheDir: String?

    /// Prints the load time and what the cache did on stderr (for Scripts/bench_startup.py).
    @Flag(help: .hidden)
    var loadTiming = false

    /// How models are read: the pattern, and the cache unless `--no-cache`.
    var loaderOptions: TokenizerLoader.Options {
        let dir = noCache ? nil : cacheDir ?? ModelCache.defaultDirectory()
        return TokenizerLoader.Options(pattern: pattern, cache: dir.map(ModelCache.init(directory:)))
    }

    /// Loads a model; `--pattern` with a model that is not a tiktoken file is a usage error.
    func load(_ path: String) throws -> Tokenizer {
        // Wall time, and this thread's CPU time (user + system): on a busy machine the wall
        // time mostly measures the wait for a core.
        func cpuNanoseconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) * 1e9 + Double(t.tv_nsec)
        }
        let start = DispatchTime.now().uptimeNanoseconds, startCPU = cpuNanoseconds()
        let (tok, outcome) = try TokenizerLoader.loadReporting(path, options: loaderOptions)
        if loadTiming {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6, cpu = (cpuNanoseconds() - startCPU) / 1e6
            FileHandle.standardError.write(Data(("tokenkit: loaded \(path) in \(String(format: "%.2f", ms)) ms, "
                                                 + "CPU \(String(format: "%.2f", cpu)) ms (cache: \(outcome.rawValue))\n").utf8))
        }
        if pattern != nil, tok.format != .tiktoken {
            throw TokenKitError.usage("--pattern applies to tiktoken rank files; \(path) is a \(tok.format.rawValue) file with its own pre-tokenizer")
        }
        // A rank file holds no split pattern: a guess changes the ids, so say so (ModelOptions
        // does not see the command's --quiet, hence the look at the arguments).
        if let guess = tok.notes.first(where: { $0.0 == TiktokenFormat.assumedPatternNote })?.1 {
            note("note: \(path) is not a tiktoken file tokenkit knows, and rank files do not say how text is split: the split "
                 + "pattern is \(guess); give --pattern (r50k, cl100k, o200k or a regex) if its tokenizer splits otherwise",
                 quiet: CommandLine.arguments.contains { $0 == "-q" || $0 == "--quiet" })
        }
        return tok
    }

    /// ArgumentParser keeps the last of a repeated option: a command that takes one model
    /// calls this to refuse several (premium, inspect and evaluate take several).
    static func requireOneModel() throws {
        var count = 0
        for a in CommandLine.arguments.dropFirst() {
            if a == "--" { break }
            if a == "-m" || a == "--model" || a.hasPrefix("--model=") { count += 1 }
        }
        if count > 1 { throw ValidationError("give one model (-m); this command does not take several") }
    }
}

/// `-m MODEL` and how to read it.
struct ModelOptions: ParsableArguments {
    @Option(name: [.short, .customLong("model")], help: "Tokenizer: a tokenizer.json, tiktoken ranks, SentencePiece .model, Mistral tekken.json, GPT-2 vocab.json, BERT vocab.txt or llama.cpp .gguf file, or a folder holding one.")
    var model: String

    @OptionGroup var pattern: PatternOptions

    func load() throws -> Tokenizer { try pattern.load(model) }

    func validate() throws { try PatternOptions.requireOneModel() }
}

/// The pre-tokenizer and normalizer of tokenizers that tokenkit trains.
struct PipelineOptions: ParsableArguments {
    @Option(help: "Pre-tokenizer: \(PreTokenizerChoice.choices).")
    var preTokenizer: PreTokenizerChoice = .pattern(.r50k)

    @Option(help: "Normalizer: none, nfc, nfd, nfkc, nfkd or lowercase.")
    var normalizer: NormalizerChoice = .none

    func pipeline() throws -> TrainingPipeline { try TrainingPipeline(preTokenizer: preTokenizer, normalizer: normalizer) }
}

extension PreTokenizerChoice: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension NormalizerChoice: ExpressibleByArgument {}

/// Special-token handling, as tiktoken's allowed_special / disallowed_special.
struct SpecialOptions: ParsableArguments {
    @Option(help: "Special tokens recognised in the text: all, none, or a comma-separated list. Default: none for tiktoken files, all for tokenizer.json.")
    var allowedSpecial: String?

    @Option(help: "Special tokens that are an error when found in the text: all, none, or a list. Default: all for tiktoken files, none for tokenizer.json.")
    var disallowedSpecial: String?

    func policy(for tok: Tokenizer) throws -> SpecialPolicy {
        var p = tok.defaultPolicy
        // A name that is no special token of the model is a typo, not a no-op.
        for case .some(let names) in [allowedSpecial, disallowedSpecial].compactMap({ $0.map(SpecialOptions.selection) }) {
            let known = Set(tok.addedTokens.map(\.text))
            if let bad = names.sorted().first(where: { !known.contains($0) }) {
                throw TokenKitError.usage("\(bad.debugDescription) is not a special token of \(tok.name)")
            }
        }
        if let a = allowedSpecial {
            p.allowed = SpecialOptions.selection(a)
            // Allowing a token makes it no longer an error.
            if tok.format == .tiktoken && disallowedSpecial == nil, p.allowed == .all { p.disallowed = .none }
        }
        if let d = disallowedSpecial { p.disallowed = SpecialOptions.selection(d) }
        return p
    }

    static func selection(_ s: String) -> SpecialPolicy.Selection {
        switch s {
        case "all": return .all
        case "none", "": return .none
        default: return .some(Set(s.split(separator: ",").map(String.init)))
        }
    }
}

struct RunOptions: ParsableArguments {
    @Option(name: .customLong("threads"), help: ArgumentHelp("Worker threads (default: all cores). Output is identical for any count.", valueName: "n"))
    var threadsOption: Int?

    var threads: Int { threadsOption ?? ProcessInfo.processInfo.activeProcessorCount }

    @Flag(name: [.short, .long], help: "No progress or notes on stderr.")
    var quiet = false

    func validate() throws {
        if let threadsOption, threadsOption < 1 { throw ValidationError("--threads must be at least 1") }
        // Chunk and buffer sizes are multiples of the thread count.
        if let threadsOption, threadsOption > 4096 { throw ValidationError("--threads must be at most 4096") }
    }
}

/// `-q` for commands without threads or progress, so that scripts can pass it to every command.
struct QuietOption: ParsableArguments {
    @Flag(name: [.short, .long], help: "No notes on stderr.")
    var quiet = false
}

enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, tsv
}

/// A progress bar on stderr, drawn only when stderr is a terminal (never into a pipe, a file
/// or a log, and never with `--quiet`). Safe to advance from worker threads.
public final class Progress: @unchecked Sendable {
    var total: Int
    var label: String
    let enabled: Bool
    private var last = 0.0
    private var done = 0
    private let lock = NSLock()

    /// The one rule for drawing progress: a terminal on stderr and no `--quiet`.
    public static func shouldDraw(quiet: Bool, stderrIsTerminal: Bool) -> Bool { !quiet && stderrIsTerminal }

    init(total: Int, label: String, quiet: Bool) {
        self.total = total
        self.label = label
        enabled = Progress.shouldDraw(quiet: quiet, stderrIsTerminal: isatty(2) != 0)
    }

    func update(_ done: Int, of total: Int?) {
        lock.withLock {
            if let total { self.total = total }
            draw(done)
        }
    }

    func update(_ done: Int) { lock.withLock { draw(done) } }

    /// One more step of `total` done (from any thread).
    func advance() {
        lock.withLock {
            done += 1
            draw(done)
        }
    }

    private func draw(_ done: Int) {
        guard enabled, total > 0 else { return }
        let now = Date().timeIntervalSince1970
        if now - last < 0.1 && done < total { return }
        last = now
        let frac = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label) [\(bar)] \(Int(frac * 100))%".utf8))
    }

    /// For work without a known total (a trainer's phases): the latest phase, redrawn in place
    /// on a terminal, shown nowhere else (the command's closing note says what was done).
    func status(_ text: String) {
        guard enabled else { return }
        let line = "\(label): \(text)".prefix(100)
        lock.withLock { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Standard output, or an atomically written file for `-o`.
final class Output {
    private let file: AtomicOutput?
    private var buffer: [UInt8] = []

    init(path: String?) throws {
        file = try path.flatMap { $0 == "-" ? nil : try AtomicOutput(path: $0, userOutput: true) }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ bytes: [UInt8]) throws {
        if let file { try file.write(bytes); return }
        buffer += bytes
        if buffer.count >= 1 << 20 { try flush() }
    }

    func write(_ s: String) throws { try write(Array(s.utf8)) }

    func flush() throws {
        if file != nil { return }
        try buffer.withUnsafeBytes { try writeAll(1, $0, path: "stdout") }
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws {
        if let file { try file.commit() } else { try flush() }
    }

    /// Finishes this output and `others` together: all of them replace their files, or none.
    func finish(with others: [AtomicOutput]) throws {
        if let file { try AtomicOutput.commitAll([file] + others) } else {
            try flush()
            try AtomicOutput.commitAll(others)
        }
    }

    /// Standard output, a device or a pipe: no sidecar goes beside it.
    var isDevice: Bool { file?.isDevice ?? true }

    /// Writes a whole result to `path` (atomically) or stdout.
    static func write(_ bytes: [UInt8], to path: String?) throws {
        let out = try Output(path: path)
        try out.write(bytes)
        try out.finish()
    }
}

/// A number option outside the range it allows: a usage error (exit 2) naming the option and
/// the range, checked before the value is used (a negative count or a huge size would trap).
func requireRange<T: Comparable>(_ flag: String, _ value: T, _ range: ClosedRange<T>) throws {
    if !range.contains(value) { throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), not \(value)") }
}

/// `requireRange` for options without an upper bound.
func requireAtLeast<T: Comparable>(_ flag: String, _ value: T, _ minimum: T) throws {
    if !(value >= minimum) { throw ValidationError("\(flag) must be at least \(minimum), not \(value)") }
}
