import ArgumentParser
import Foundation
import TokenKit
import TokenKitByteProb
import TokenKitCore
import TokenKitFormats

enum InspectFormat: String, ExpressibleByArgument {
    case text, json, html
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A vocabulary report: unreachable tokens, partial characters, duplicates, scripts, overlap.",
        discussion: """
            Unreachable tokens are those that encoding their own bytes does not produce: canonical
            encodings never contain them (the classic glitch-token candidates). With two -m, also
            the overlap of the two vocabularies (tokens compared by their bytes).

            Examples:
              tokenkit inspect -m cl100k_base.tiktoken
              tokenkit inspect -m tokenizer.json --format json
              tokenkit inspect -m r50k_base.tiktoken -m cl100k_base.tiktoken --format html > vocab.html
            """)

    @Option(name: [.short, .customLong("model")], help: "Tokenizer file; give two to compare.")
    var model: [String] = []

    @Option(help: "Split pattern for tiktoken files.")
    var pattern: String?

    @OptionGroup var quietOption: QuietOption

    @Option(help: "Output format: text, json or html.")
    var format: InspectFormat = .text

    @Option(help: "Examples listed per finding (0-10000).")
    var examples = 20

    func validate() throws { try requireRange("--examples", examples, 0...10_000) }

    mutating func run() throws {
        guard (1...2).contains(model.count) else { throw TokenKitError.usage("give one or two tokenizers with -m") }
        var reports: [VocabularyReport] = []
        for path in model {
            let tok = try TokenizerLoader.load(path, options: .init(pattern: pattern))
            do { reports.append(VocabularyReport(try TokenSpace(tok, anyModel: true))) } catch let e as TokenKitError { throw e.inFile(path) }
        }
        let overlap = reports.count == 2 ? reports[0].overlap(with: reports[1]) : nil
        let out: String
        switch format {
        case .json: out = json(reports, overlap)
        case .text: out = text(reports, overlap)
        case .html: out = html(reports, overlap)
        }
        try Output.write(Array(out.utf8), to: nil)
    }

    func list(_ r: VocabularyReport, _ ids: [TokenID]) -> [String] {
        ids.prefix(examples).map { "\($0) \(r.show($0).debugDescription)" }
    }

    func text(_ reports: [VocabularyReport], _ overlap: (shared: Int, onlyHere: Int, onlyThere: Int)?) -> String {
        var s = ""
        for r in reports {
            let share = r.modelTokens == 0 ? 0 : Double(r.leadingSpace) / Double(r.modelTokens)
            s += "\(r.name): \(r.size) ids, \(r.modelTokens) model tokens, \(r.addedTokens) added tokens\n"
            s += "  unreachable          \(r.unreachable.count)\n"
            for e in list(r, r.unreachable) { s += "    \(e)\n" }
            s += "  partial characters   \(r.partial.count)\n"
            for e in list(r, r.partial) { s += "    \(e)\n" }
            s += "  invalid UTF-8        \(r.invalid.count)\n"
            for e in list(r, r.invalid) { s += "    \(e)\n" }
            s += "  duplicates (NFKC, lowercase)  \(r.duplicateGroups.count) groups, \(r.duplicateGroups.reduce(0) { $0 + $1.count }) tokens\n"
            for g in r.duplicateGroups.prefix(examples) { s += "    " + g.prefix(6).map { r.show($0).debugDescription }.joined(separator: " ") + "\n" }
            s += "  leading space        \(r.leadingSpace) (\(fmt(share * 100, digits: 1))%)\n"
            s += "  scripts (first letter)\n"
            for (name, n) in r.scripts { s += "    " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + " \(n)\n" }
        }
        if let o = overlap {
            s += "overlap: \(o.shared) shared tokens; \(o.onlyHere) only in \(reports[0].name), \(o.onlyThere) only in \(reports[1].name)\n"
        }
        return s
    }

    func json(_ reports: [VocabularyReport], _ overlap: (shared: Int, onlyHere: Int, onlyThere: Int)?) -> String {
        func ids(_ r: VocabularyReport, _ xs: [TokenID]) -> String {
            "[" + xs.map { "{\"id\": \($0), \"token\": \(jsonString(r.show($0)))}" }.joined(separator: ", ") + "]"
        }
        let parts = reports.map { r -> String in
            let groups = r.duplicateGroups.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ")
            let scripts = r.scripts.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ")
            return """
                {"name": \(jsonString(r.name)), "size": \(r.size), "model_tokens": \(r.modelTokens), "added_tokens": \(r.addedTokens), \
                "unreachable": \(ids(r, r.unreachable)), "partial_characters": \(ids(r, r.partial)), "invalid_utf8": \(ids(r, r.invalid)), \
                "duplicate_groups": [\(groups)], "leading_space": \(r.leadingSpace), "scripts": {\(scripts)}}
                """
        }
        var s = "{\"vocabularies\": [" + parts.joined(separator: ", ") + "]"
        if let o = overlap { s += ", \"overlap\": {\"shared\": \(o.shared), \"only_first\": \(o.onlyHere), \"only_second\": \(o.onlyThere)}" }
        return s + "}\n"
    }

    func html(_ reports: [VocabularyReport], _ overlap: (shared: Int, onlyHere: Int, onlyThere: Int)?) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var s = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tokenkit inspect</title>\n"
        s += "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:2px 8px;text-align:left}code{background:#eee}</style></head><body>\n"
        for r in reports {
            s += "<h1>\(esc(r.name))</h1>\n<p>\(r.size) ids, \(r.modelTokens) model tokens, \(r.addedTokens) added tokens; \(r.leadingSpace) with a leading space.</p>\n"
            for (title, xs) in [("Unreachable tokens", r.unreachable), ("Partial characters", r.partial), ("Invalid UTF-8", r.invalid)] {
                s += "<h2>\(title): \(xs.count)</h2>\n<p>" + xs.prefix(examples * 5).map { "<code>\(esc(r.show($0)))</code> (\($0))" }.joined(separator: ", ") + "</p>\n"
            }
            s += "<h2>Duplicates after NFKC and lowercasing: \(r.duplicateGroups.count) groups</h2>\n<ul>\n"
            for g in r.duplicateGroups.prefix(examples * 5) { s += "<li>" + g.map { "<code>\(esc(r.show($0)))</code>" }.joined(separator: " ") + "</li>\n" }
            s += "</ul>\n<h2>Scripts (first letter)</h2>\n<table><tr><th>script</th><th>tokens</th></tr>\n"
            for (name, n) in r.scripts { s += "<tr><td>\(esc(name))</td><td>\(n)</td></tr>\n" }
            s += "</table>\n"
        }
        if let o = overlap {
            s += "<h1>Overlap</h1>\n<p>\(o.shared) shared tokens; \(o.onlyHere) only in \(esc(reports[0].name)); \(o.onlyThere) only in \(esc(reports[1].name)).</p>\n"
        }
        return s + "</body></html>\n"
    }
}
