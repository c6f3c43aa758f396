import Foundation
import Testing
import TokenKitCommands

/// Progress bars go to a terminal only: never into a pipe or file, never with --quiet.
@Suite struct ProgressTests {
    let cli = CLITests()

    @Test func drawsOnlyOnATerminalWithoutQuiet() {
        #expect(Progress.shouldDraw(quiet: false, stderrIsTerminal: true))
        #expect(!Progress.shouldDraw(quiet: true, stderrIsTerminal: true))
        #expect(!Progress.shouldDraw(quiet: false, stderrIsTerminal: false))
        #expect(!Progress.shouldDraw(quiet: true, stderrIsTerminal: false))
    }

    /// Every command, found by walking `--help`'s subcommand lists, takes `-q`/`--quiet`, so a
    /// script can pass it to any of them.
    @Test func everyCommandTakesQuiet() throws {
        func subcommands(_ path: [String]) throws -> [String] {
            let help = try cli.run(path + ["--help"]).out
            guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
            // The list ends at the first blank line ("See 'tokenkit help …'" follows it).
            let list = help[start.upperBound...].components(separatedBy: "\n\n")[0]
            return list.split(separator: "\n").compactMap { line in
                // Entries are indented by two spaces; their wrapped descriptions by more.
                guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
                return line.split(separator: " ").first.map(String.init)
            }.filter { $0 != "help" }
        }
        var leaves: [[String]] = []
        var queue: [[String]] = try subcommands([]).map { [$0] }
        while let path = queue.popLast() {
            let children = try subcommands(path)
            if children.isEmpty { leaves.append(path) } else { queue += children.map { path + [$0] } }
        }
        #expect(leaves.count >= 25, "found only \(leaves)")
        for path in leaves {
            let help = try cli.run(path + ["--help"]).out
            #expect(help.contains("-q, --quiet"), "\(path.joined(separator: " ")) has no -q")
        }
    }

    /// The long-running commands, on small inputs (a bar is drawn at the first update).
    func commands(_ dir: String) -> [[String]] {
        let texts = [fixture("mixture/en_fiction.txt"), fixture("mixture/lang_de.txt")]
        return [
            ["count", "-m", fixture("models/r50k_base.tiktoken")] + texts,
            ["encode", "-m", fixture("models/r50k_base.tiktoken"), "-o", dir + "/ids.txt"] + texts,
            ["train", "bpe", "--vocab-size", "400", "-o", dir + "/bpe.json"] + texts,
            ["count-words", "-o", dir + "/words.counts"] + texts,
            ["premium", "--corpus", fixture("parallel/udhr"), "-m", fixture("models/r50k_base.tiktoken"), "--languages", "eng,spa"],
            // Trainers without a known total show their latest phase instead of a bar.
            ["train", "unigram", "--vocab-size", "400", "-o", dir + "/uni.model", texts[0]],
            ["train", "lm", "--bytes", "--order", "3", "-o", dir + "/x.bytelm", texts[0]],
            ["train", "bytespan", "--order", "3", "--vocab-size", "900", "-o", dir + "/bs.json", texts[0]],
        ]
    }

    @Test func pipedStderrHasNoProgress() throws {
        try withTempDir { dir in
            for args in commands(dir) {
                let r = try cli.run(args)
                #expect(r.status == 0, "\(args): \(r.stderr)")
                #expect(!r.stderr.contains("\r") && !r.stderr.contains("\u{1B}"), "\(args) drew progress into a pipe: \(r.stderr)")
            }
        }
    }

    /// Under a pseudo-terminal (util-linux `script`), the same commands draw their bars, and
    /// `-q` silences them.
    @Test func terminalGetsProgressUnlessQuiet() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("util-linux script is needed to give tokenkit a terminal")
            return
        }
        func underTerminal(_ args: [String]) throws -> String {
            let line = ([CLITests.binary] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
                .joined(separator: " ") + " >/dev/null"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            p.arguments = ["-qec", line, "/dev/null"]
            let out = Pipe()
            p.standardOutput = out
            p.standardInput = Pipe()
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(args)")
            return String(decoding: data, as: UTF8.self)
        }
        try withTempDir { dir in
            for args in commands(dir) {
                // A bar or a phase line is drawn in place: carriage return, then erase the line.
                let shown = try underTerminal(args)
                #expect(shown.contains("\r\u{1B}[K"), "\(args) drew no progress on a terminal: \(shown.debugDescription)")
                let quiet = try underTerminal(args + ["-q"])
                #expect(!quiet.contains("\u{1B}[K"), "\(args) -q drew progress: \(quiet.debugDescription)")
            }
        }
    }
}
