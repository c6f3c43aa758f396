import Foundation
import TokenKitCore

/// Text, CSV, JSON and Markdown forms of a premium report.
public enum PremiumFormat: String, Sendable, CaseIterable {
    case text, csv, json, markdown
}

extension PremiumReport {
    public func render(_ format: PremiumFormat) -> String {
        switch format {
        case .text: return textTable()
        case .csv: return csv()
        case .json: return json()
        case .markdown: return markdown()
        }
    }

    /// One sentence on how the Rényi efficiency was computed.
    public var renyiNote: String {
        let v = options.renyiVocabulary == .full ? "|V| = the tokenizer's vocabulary size" : "|V| = the number of distinct ids in each language's encoding"
        return "Rényi efficiency at α = \(fmt(options.renyiAlpha, 2, trim: true)) with \(v) (Zouhar et al. 2023)"
    }

    public var countingNote: String {
        "each line encoded by itself, without its newline and without added special tokens; premium = tokens / \(pivot)'s tokens over the aligned non-empty lines; "
            + "words by ICU word boundaries; pairs above \(fmt(options.unknownThreshold * 100, 0)) % unknown tokens get no premium"
    }

    // MARK: Columns

    struct Column {
        var title: String
        var key: String
        var value: (PremiumRow) -> String
        var json: (PremiumRow) -> String
        var numeric = true
    }

    var columns: [Column] {
        func num(_ f: @escaping (PremiumRow) -> Double?, _ digits: Int) -> ((PremiumRow) -> String, (PremiumRow) -> String) {
            ({ f($0).map { fmt($0, digits) } ?? "" }, { f($0).map { jsonNumber($0) } ?? "null" })
        }
        func int(_ f: @escaping (PremiumRow) -> Int?) -> ((PremiumRow) -> String, (PremiumRow) -> String) {
            ({ r in r.error == nil ? f(r).map(String.init) ?? "" : "" }, { r in r.error == nil ? f(r).map(String.init) ?? "null" : "null" })
        }
        var cols: [Column] = []
        func add(_ title: String, _ key: String, _ p: ((PremiumRow) -> String, (PremiumRow) -> String), numeric: Bool = true) {
            cols.append(Column(title: title, key: key, value: p.0, json: p.1, numeric: numeric))
        }
        add("language", "language", ({ $0.language }, { jsonString($0.language) }), numeric: false)
        add("tokenizer", "tokenizer", ({ $0.tokenizer }, { jsonString($0.tokenizer) }), numeric: false)
        add("tokens", "tokens", int { $0.tokens })
        add("premium", "premium", num({ $0.premium }, 3))
        add("bytes/tok", "bytes_per_token", num({ $0.bytesPerToken }, 2))
        add("chars/tok", "chars_per_token", num({ $0.charsPerToken }, 2))
        add("fertility", "fertility", num({ $0.fertility }, 2))
        add("continued", "continued_words", num({ $0.continuedRate }, 3))
        add("unknown", "unknown_rate", num({ $0.unknownRate }, 4))
        add("byte-fb", "byte_fallback_rate", num({ $0.byteFallbackRate }, 4))
        add("rényi", "renyi_efficiency", num({ $0.renyiEfficiency }, 4))
        add("|V|", "renyi_vocab", int { $0.renyiVocab })
        add("words", "words", int { $0.words })
        add("lines", "lines", int { $0.lines })
        add("aligned", "aligned_lines", int { $0.alignedLines })
        add("bytes", "bytes", int { $0.bytes })
        add("chars", "chars", int { $0.chars })
        return cols
    }

    // MARK: Text

    func textTable() -> String {
        let cols = columns.filter { !["bytes", "chars", "lines", "|V|"].contains($0.title) }
        var table: [[String]] = [cols.map(\.title) + ["note"]]
        for r in rows {
            var cells = cols.map { $0.value(r) }
            for i in cells.indices where cells[i].isEmpty { cells[i] = "-" }
            cells.append(r.error.map { "error: \($0)" } ?? (r.blanked ? "too many unknown tokens" : ""))
            table.append(cells)
        }
        var out = "Token premiums relative to \(pivot) on \(corpus)\n"
        out += wrap("(\(countingNote); \(renyiNote))", 100) + "\n"
        out += align(table, numeric: cols.map(\.numeric) + [false])
        out += "\n" + summaryText()
        return out
    }

    func summaryText() -> String {
        var table: [[String]] = [["tokenizer", "|V|", "languages", "mean", "median", "spread (sd)", "min", "max", "worst"]]
        for s in tokenizers {
            table.append([
                s.name, String(s.vocabSize), String(s.languages),
                s.mean.map { fmt($0, 3) } ?? "-", s.median.map { fmt($0, 3) } ?? "-", s.spread.map { fmt($0, 3) } ?? "-",
                s.min.map { "\(fmt($0.premium, 2)) \($0.language)" } ?? "-",
                s.max.map { "\(fmt($0.premium, 2)) \($0.language)" } ?? "-",
                s.worst.map { "\($0.language) \(fmt($0.premium, 2))" }.joined(separator: ", "),
            ])
        }
        var out = "Premiums per tokenizer (pivot \(pivot))\n" + align(table, numeric: [false, true, true, true, true, true, false, false, false])
        let trouble = tokenizers.filter { $0.failed > 0 || $0.blanked > 0 }
        for s in trouble {
            out += "\(s.name): \(s.failed) language(s) failed, \(s.blanked) blanked for unknown tokens\n"
        }
        return out
    }

    // MARK: CSV

    func csv() -> String {
        let cols = columns
        var out = (cols.map(\.key) + ["blanked", "error"]).joined(separator: ",") + "\n"
        for r in rows {
            // Full precision: the JSON values, with empty cells for null.
            var cells = cols.map { c -> String in
                if !c.numeric { return csvField(c.value(r)) }
                let v = c.json(r)
                return v == "null" ? "" : v
            }
            cells.append(r.blanked ? "true" : "false")
            cells.append(csvField(r.error ?? ""))
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    // MARK: JSON

    func json() -> String {
        var out = "{\n"
        out += "  \"corpus\": \(jsonString(corpus)),\n"
        out += "  \"pivot\": \(jsonString(pivot)),\n"
        out += "  \"unit\": \"line\",\n"
        out += "  \"renyi\": {\"alpha\": \(jsonNumber(options.renyiAlpha)), \"vocab\": \(jsonString(options.renyiVocabulary.rawValue))},\n"
        out += "  \"unknown_threshold\": \(jsonNumber(options.unknownThreshold)),\n"
        out += "  \"rows\": [\n"
        let cols = columns
        out += rows.map { r in
            var fields = cols.map { "\(jsonString($0.key)): \($0.json(r))" }
            fields.append("\"blanked\": \(r.blanked)")
            fields.append("\"error\": \(r.error.map(jsonString) ?? "null")")
            return "    {" + fields.joined(separator: ", ") + "}"
        }.joined(separator: ",\n")
        out += "\n  ],\n  \"tokenizers\": [\n"
        out += tokenizers.map { s in
            func pair(_ p: (language: String, premium: Double)?) -> String {
                p.map { "{\"language\": \(jsonString($0.language)), \"premium\": \(jsonNumber($0.premium))}" } ?? "null"
            }
            let fields = [
                "\"name\": \(jsonString(s.name))", "\"path\": \(jsonString(s.path))", "\"vocab_size\": \(s.vocabSize)",
                "\"languages\": \(s.languages)", "\"mean_premium\": \(s.mean.map(jsonNumber) ?? "null")",
                "\"median_premium\": \(s.median.map(jsonNumber) ?? "null")", "\"spread\": \(s.spread.map(jsonNumber) ?? "null")",
                "\"min\": \(pair(s.min))", "\"max\": \(pair(s.max))",
                "\"worst\": [\(s.worst.map { pair($0) }.joined(separator: ", "))]",
                "\"failed\": \(s.failed)", "\"blanked\": \(s.blanked)",
            ]
            return "    {" + fields.joined(separator: ", ") + "}"
        }.joined(separator: ",\n")
        out += "\n  ],\n  \"problems\": [\n"
        out += problems.map { p in
            "    {\"language\": \(p.language.map(jsonString) ?? "null"), \"file\": \(p.file.map(jsonString) ?? "null"), \"message\": \(jsonString(p.message))}"
        }.joined(separator: ",\n")
        out += (problems.isEmpty ? "" : "\n") + "  ]\n}\n"
        return out
    }

    // MARK: Markdown

    func markdown() -> String {
        let cols = columns.filter { !["bytes", "chars", "lines", "|V|", "words", "aligned"].contains($0.title) }
        var out = "## Token premiums relative to \(pivot)\n\n"
        out += "Corpus `\(corpus)`: \(countingNote). \(renyiNote).\n\n"
        out += "| tokenizer | \\|V\\| | languages | mean | median | spread (sd) | min | max | worst |\n|---|--:|--:|--:|--:|--:|---|---|---|\n"
        for s in tokenizers {
            out += "| \(mdEscape(s.name)) | \(s.vocabSize) | \(s.languages) | \(s.mean.map { fmt($0, 3) } ?? "") | \(s.median.map { fmt($0, 3) } ?? "") | "
                + "\(s.spread.map { fmt($0, 3) } ?? "") | \(s.min.map { "\($0.language) \(fmt($0.premium, 2))" } ?? "") | "
                + "\(s.max.map { "\($0.language) \(fmt($0.premium, 2))" } ?? "") | \(s.worst.map { "\($0.language) \(fmt($0.premium, 2))" }.joined(separator: ", ")) |\n"
        }
        out += "\n| " + cols.map { mdEscape($0.title) }.joined(separator: " | ") + " | note |\n"
        out += "|" + cols.map { $0.numeric ? "--:" : "---" }.joined(separator: "|") + "|---|\n"
        for r in rows {
            let note = r.error.map { "error: \($0)" } ?? (r.blanked ? "too many unknown tokens" : "")
            out += "| " + cols.map { mdEscape($0.value(r)) }.joined(separator: " | ") + " | \(mdEscape(note)) |\n"
        }
        if !problems.isEmpty {
            out += "\nProblems:\n\n" + problems.map { "- \(mdEscape($0.description))\n" }.joined()
        }
        return out
    }
}

// MARK: Helpers

/// Breaks text into lines of at most `width` characters at spaces.
func wrap(_ text: String, _ width: Int) -> String {
    var out = "", line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty, line.count + 1 + word.count > width {
            out += line + "\n"
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    return out + line + "\n"
}

/// Fixed-point number; `trim` drops trailing zeros.
func fmt(_ x: Double, _ digits: Int, trim: Bool = false) -> String {
    var s = String(format: "%.\(digits)f", x)
    if trim, s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s
}

/// A JSON number with up to 6 decimals (no exponent, no trailing zeros).
func jsonNumber(_ x: Double) -> String {
    guard x.isFinite else { return "null" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return fmt(x, 6, trim: true)
}

func csvField(_ s: String) -> String {
    if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return s
}

func mdEscape(_ s: String) -> String {
    s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
}

/// Display width: East Asian wide characters count two columns.
func displayWidth(_ s: String) -> Int {
    var w = 0
    for u in s.unicodeScalars {
        let v = u.value
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFF00...0xFF60).contains(v) || (0x20000...0x3FFFD).contains(v) {
            w += 2
        } else if u.properties.generalCategory == .nonspacingMark || u.properties.generalCategory == .enclosingMark {
            continue
        } else {
            w += 1
        }
    }
    return w
}

/// Columns padded to a common width; numbers right-aligned.
func align(_ table: [[String]], numeric: [Bool]) -> String {
    guard let n = table.first?.count else { return "" }
    var widths = [Int](repeating: 0, count: n)
    for row in table { for (i, c) in row.enumerated() where i < n { widths[i] = max(widths[i], displayWidth(c)) } }
    var out = ""
    for row in table {
        var line = ""
        for (i, c) in row.enumerated() where i < n {
            let pad = String(repeating: " ", count: widths[i] - displayWidth(c))
            let last = i == n - 1
            if i > 0 { line += "  " }
            line += numeric[i] ? pad + c : (last ? c : c + pad)
        }
        while line.hasSuffix(" ") { line.removeLast() }
        out += line + "\n"
    }
    return out
}
