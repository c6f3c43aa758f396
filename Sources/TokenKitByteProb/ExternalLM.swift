import Foundation
import TokenKitCore

/// A token LM in another process, spoken to in JSON lines (the `--lm-command` protocol):
/// request `{"context": [ID, ...]}`, answer `{"logprobs": {"ID": LOGP, ...}, "eos": LOGP}`.
public final class ExternalLM: TokenLM {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let vocabSize: Int
    let command: String
    private var pending: [UInt8] = []

    /// Starts `command` (split on spaces; single or double quotes group words).
    public init(command: String, vocabSize: Int) throws {
        self.command = command
        self.vocabSize = vocabSize
        let words = Self.split(command)
        guard let exe = words.first else { throw TokenKitError.usage("--lm-command is empty") }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [exe] + words.dropFirst()
        process.standardInput = input
        process.standardOutput = output
        // A command that exits early must give an error, not kill tokenkit with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        do {
            try process.run()
        } catch {
            throw TokenKitError.badInput("--lm-command: cannot start '\(command)': \(error.localizedDescription)")
        }
    }

    /// How long a command may take to exit once its stdin is closed before it is terminated.
    public var exitGrace: TimeInterval = 5

    deinit { stop(grace: exitGrace) }

    /// Ends the command: closes its stdin (the protocol's signal to exit), waits up to `grace`
    /// seconds, then SIGTERM, then SIGKILL; a command that ignores its stdin never hangs tokenkit.
    func stop(grace: TimeInterval) {
        try? input.fileHandleForWriting.close()
        guard process.isRunning else { return }
        if waitForExit(grace) { return }
        process.terminate()
        if waitForExit(1) { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Whether the command exits within `seconds`.
    private func waitForExit(_ seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// A broken answer: the command is ended at once (it may be waiting for more input or
    /// writing more output), and the error names it and what was wrong.
    private func fail(_ what: String) -> TokenKitError {
        stop(grace: 0)
        return TokenKitError.badInput("--lm-command '\(command)': \(what)")
    }

    static func split(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quote: Character? = nil
        var any = false
        for c in s {
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                any = true
            } else if c == " " || c == "\t" {
                if any || !cur.isEmpty { out.append(cur) }
                cur = ""
                any = false
            } else {
                cur.append(c)
            }
        }
        if any || !cur.isEmpty { out.append(cur) }
        return out
    }

    /// The next line of the command's output; nil when it closed its output first.
    private func readLine() -> [UInt8]? {
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            pending += chunk
        }
    }

    public func next(_ context: [TokenID]) throws -> NextTokens {
        let request = "{\"context\": [" + context.map(String.init).joined(separator: ", ") + "]}\n"
        do {
            try input.fileHandleForWriting.write(contentsOf: Data(request.utf8))
        } catch {
            throw fail("stopped reading requests")
        }
        guard let line = readLine() else { throw fail("closed its output before answering") }
        requests += 1
        let shown = String(decoding: line.prefix(200), as: UTF8.self)
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let logprobs = obj["logprobs"] as? [String: Any] else {
            throw fail("answer \(requests) is not {\"logprobs\": {...}}: \(shown)")
        }
        // Natural logs of probabilities are at most 0; a little above is rounding.
        func logProbability(_ v: Any?, _ name: String) throws -> Double {
            guard let x = (v as? NSNumber)?.doubleValue, !x.isNaN else { throw fail("answer \(requests): \(name) is not a number") }
            if x > Self.roundingSlack { throw fail("answer \(requests): \(name) has log-probability \(x) > 0 (a probability above 1)") }
            return min(x, 0)
        }
        if logprobs.isEmpty && obj["eos"] == nil {
            throw fail("answer \(requests) gives no token and no eos (an empty \"logprobs\"): the next token needs a distribution")
        }
        var lp = [Double](repeating: -.infinity, count: vocabSize)
        for (k, v) in logprobs {
            guard let id = Int(k), id >= 0 else { throw fail("answer \(requests): \"\(k)\" in logprobs is not a token id") }
            guard id < vocabSize else {
                throw fail("answer \(requests): id \(id) is outside the tokenizer's vocabulary (ids 0-\(vocabSize - 1))")
            }
            lp[id] = try logProbability(v, "id \(id)")
        }
        let eos = obj["eos"] == nil ? -.infinity : try logProbability(obj["eos"], "eos")
        return NextTokens(logprobs: lp, eos: eos)
    }

    /// Answers read so far (for messages).
    private var requests = 0

    /// How far above 0 a log-probability may be from rounding in the LM.
    static let roundingSlack = 1e-6
}
