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

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
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

    private func readLine() throws -> [UInt8] {
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw TokenKitError.badInput("--lm-command '\(command)' closed its output before answering")
            }
            pending += chunk
        }
    }

    public func next(_ context: [TokenID]) throws -> NextTokens {
        let request = "{\"context\": [" + context.map(String.init).joined(separator: ", ") + "]}\n"
        do {
            try input.fileHandleForWriting.write(contentsOf: Data(request.utf8))
        } catch {
            throw TokenKitError.badInput("--lm-command '\(command)' stopped reading requests")
        }
        let line = try readLine()
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let logprobs = obj["logprobs"] as? [String: Any] else {
            throw TokenKitError.badInput("--lm-command '\(command)': answer is not {\"logprobs\": {...}}: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        var lp = [Double](repeating: -.infinity, count: vocabSize)
        for (k, v) in logprobs {
            guard let id = Int(k), id >= 0, let x = (v as? NSNumber)?.doubleValue else {
                throw TokenKitError.badInput("--lm-command '\(command)': bad entry \"\(k)\" in logprobs")
            }
            if id < vocabSize { lp[id] = x }
        }
        let eos = (obj["eos"] as? NSNumber)?.doubleValue ?? -.infinity
        return NextTokens(logprobs: lp, eos: eos)
    }
}
