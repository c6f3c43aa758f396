import ArgumentParser
import Foundation

/// Help screens with examples that can be copied: argument-parser wraps a command's discussion
/// at the screen width, cutting long example commands in two. The discussion is laid out here
/// instead: prose is wrapped, indented lines (examples) are kept whole.
enum HelpText {
    /// The help screen `message` with its discussion laid out again, or nil when `message` is
    /// not a command's help screen.
    static func reformat(_ message: String) -> String? {
        let width = screenWidth()
        let trimmed = message.trimmingCharacters(in: .newlines)
        guard let command = commands(TokenKitCommand.self).first(where: {
            TokenKitCommand.helpMessage(for: $0, columns: width).trimmingCharacters(in: .newlines) == trimmed
        }) else { return nil }
        let discussion = command.configuration.discussion
        guard !discussion.isEmpty, trimmed.hasPrefix("OVERVIEW:"),
              let start = trimmed.range(of: "\n\n"), let end = trimmed.range(of: "\n\nUSAGE:"),
              start.upperBound <= end.lowerBound else { return nil }
        return String(trimmed[..<start.upperBound]) + layout(discussion, width: width) + String(trimmed[end.lowerBound...]) + "\n"
    }

    /// Every command in the tree under `root`.
    static func commands(_ root: ParsableCommand.Type) -> [ParsableCommand.Type] {
        [root] + root.configuration.subcommands.flatMap { commands($0) }
    }

    /// Prose reflowed and wrapped at `width` (a paragraph ends at an empty line, and a line
    /// starting with "- " starts a new one); lines that start with a space are left whole.
    static func layout(_ text: String, width: Int) -> String {
        var out: [String] = [], paragraph: [Substring] = []
        func flush() {
            guard !paragraph.isEmpty else { return }
            var current = ""
            for word in paragraph.joined(separator: " ").split(separator: " ") {
                if !current.isEmpty && current.count + 1 + word.count > width {
                    out.append(current)
                    current = ""
                }
                current += (current.isEmpty ? "" : " ") + word
            }
            out.append(current)
            paragraph = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || line.first == " " {
                flush()
                out.append(String(line))
            } else {
                if line.hasPrefix("- ") { flush() }
                paragraph.append(line)
            }
        }
        flush()
        return out.joined(separator: "\n")
    }

    /// The width argument-parser wraps to: the terminal's, else 80.
    static func screenWidth() -> Int {
        var w = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 { return Int(w.ws_col) }
        return 80
    }
}
