import Foundation

/// The premium chart (hand-written SVG) and the self-contained HTML report.
extension PremiumReport {
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F3C8D", "#000000", "#B8860B", "#666666"]

    /// Languages with at least one premium, highest mean log premium first.
    func chartLanguages() -> [(language: String, premiums: [Double?])] {
        var byLanguage: [String: [Double?]] = [:]
        var order: [String] = []
        for r in rows {
            if byLanguage[r.language] == nil {
                byLanguage[r.language] = [Double?](repeating: nil, count: tokenizers.count)
                order.append(r.language)
            }
            byLanguage[r.language]![r.tokenizerIndex] = r.premium
        }
        var out: [(String, [Double?], Double)] = []
        for l in order {
            let ps = byLanguage[l]!
            let vals = ps.compactMap { $0 }.filter { $0 > 0 }
            if vals.isEmpty { continue }
            out.append((l, ps, vals.map { log($0) }.reduce(0, +) / Double(vals.count)))
        }
        return out.sorted { $0.2 != $1.2 ? $0.2 > $1.2 : $0.0 < $1.0 }.map { ($0.0, $0.1) }
    }

    /// A dot chart: one row per language (sorted, highest premium at the top), one coloured dot per
    /// tokenizer, on a logarithmic premium axis with the pivot's 1.0 marked.
    public func svg() -> String {
        let langs = chartLanguages()
        let width = 960.0
        let labelWidth = 10.0 + Double(langs.map { displayWidth($0.language) }.max() ?? 4) * 7.0
        let left = max(90.0, labelWidth + 14), right = 30.0
        let rowH = 16.0
        // Legend rows: wrap names across the width.
        var legend: [(x: Double, y: Double, name: String, color: String)] = []
        var lx = left, ly = 66.0
        for (i, s) in tokenizers.enumerated() {
            let w = 26 + Double(displayWidth(s.name)) * 7.0 + 18
            if lx + w > width - right, lx > left { lx = left; ly += 18 }
            legend.append((lx, ly, s.name, Self.palette[i % Self.palette.count]))
            lx += w
        }
        let axisTop = ly + 30
        let plotTop = axisTop + 8
        let plotBottom = plotTop + rowH * Double(max(langs.count, 1))
        let height = plotBottom + 46
        let all = langs.flatMap { $0.premiums.compactMap { $0 } }.filter { $0 > 0 }
        let lo = min(all.min() ?? 0.5, 1) / 1.15, hi = max(all.max() ?? 2, 1) * 1.15
        let x0 = left, x1 = width - right
        func x(_ p: Double) -> Double { x0 + (log(p) - log(lo)) / (log(hi) - log(lo)) * (x1 - x0) }
        func n(_ v: Double) -> String { fmt(v, 1, trim: true) }

        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" \
            font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(n(left))" y="24" font-size="16" font-weight="bold">Token premium relative to \(xml(pivot))</text>
            <text x="\(n(left))" y="44" fill="#444">premium = a language's tokens / \(xml(pivot))'s tokens on the same lines \
            (log scale; \(langs.count) languages, highest first)</text>

            """
        for l in legend {
            s += "<circle cx=\"\(n(l.x + 6))\" cy=\"\(n(l.y - 4))\" r=\"5\" fill=\"\(l.color)\"/>"
            s += "<text x=\"\(n(l.x + 16))\" y=\"\(n(l.y))\">\(xml(l.name))</text>\n"
        }
        // Stripes, grid and ticks.
        for i in stride(from: 0, to: langs.count, by: 2) {
            s += "<rect x=\"\(n(4))\" y=\"\(n(plotTop + Double(i) * rowH))\" width=\"\(n(width - 8))\" height=\"\(n(rowH))\" fill=\"#f3f3f3\"/>\n"
        }
        for t in logTicks(lo, hi) {
            let tx = x(t)
            let label = t >= 1 ? fmt(t, 0) : fmt(t, 2, trim: true)
            let strong = t == 1
            s += "<line x1=\"\(n(tx))\" y1=\"\(n(plotTop))\" x2=\"\(n(tx))\" y2=\"\(n(plotBottom))\" stroke=\"\(strong ? "#333" : "#ccc")\" "
                + "stroke-width=\"\(strong ? 1.2 : 0.8)\"\(strong ? " stroke-dasharray=\"4 3\"" : "")/>\n"
            s += "<text x=\"\(n(tx))\" y=\"\(n(axisTop))\" text-anchor=\"middle\" fill=\"#333\">\(label)×</text>\n"
            s += "<text x=\"\(n(tx))\" y=\"\(n(plotBottom + 16))\" text-anchor=\"middle\" fill=\"#333\">\(label)×</text>\n"
        }
        s += "<text x=\"\(n((x0 + x1) / 2))\" y=\"\(n(plotBottom + 36))\" text-anchor=\"middle\" fill=\"#333\">premium: tokens relative to \(xml(pivot)) (log scale)</text>\n"
        // Rows.
        for (i, l) in langs.enumerated() {
            let cy = plotTop + (Double(i) + 0.5) * rowH
            s += "<text x=\"\(n(left - 8))\" y=\"\(n(cy + 4))\" text-anchor=\"end\">\(xml(l.language))</text>\n"
            let vals = l.premiums.compactMap { $0 }.filter { $0 > 0 }
            if let a = vals.min(), let b = vals.max(), b > a {
                s += "<line x1=\"\(n(x(a)))\" y1=\"\(n(cy))\" x2=\"\(n(x(b)))\" y2=\"\(n(cy))\" stroke=\"#999\" stroke-width=\"1\"/>\n"
            }
            for (t, p) in l.premiums.enumerated() {
                guard let p, p > 0 else { continue }
                let color = Self.palette[t % Self.palette.count]
                s += "<circle cx=\"\(n(x(p)))\" cy=\"\(n(cy))\" r=\"4.2\" fill=\"\(color)\" fill-opacity=\"0.85\">"
                    + "<title>\(xml(l.language)), \(xml(tokenizers[t].name)): \(fmt(p, 2))×</title></circle>\n"
            }
        }
        if langs.isEmpty {
            s += "<text x=\"\(n(left))\" y=\"\(n(plotTop + 12))\">no premiums to show</text>\n"
        }
        return s + "</svg>\n"
    }

    /// A self-contained HTML page: summary, chart, premium matrix and every metric.
    public func html() -> String {
        let tableRows = rows
        var h = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Token premiums relative to \(xml(pivot))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
            table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
            th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
            th { background: #f4f4f4; cursor: pointer; position: sticky; top: 0; }
            td.t, th.t { text-align: left; }
            .note { color: #555; font-size: 0.9em; }
            .err { color: #b00; }
            .chart, .scroll { overflow-x: auto; }
            td.w { white-space: normal; min-width: 16em; text-align: left; }
            </style>
            </head>
            <body>
            <h1>Token premiums relative to <code>\(xml(pivot))</code></h1>
            <p class="note">Corpus <code>\(xml(corpus))</code>: \(xml(countingNote)). \(xml(renyiNote)).</p>
            <h2>Per tokenizer</h2>
            <div class="scroll"><table class="sortable">
            <thead><tr><th class="t">tokenizer</th><th>|V|</th><th>languages</th><th>mean</th><th>median</th><th>spread (sd)</th><th class="t">min</th><th class="t">max</th><th class="t">worst</th><th>no premium</th></tr></thead>
            <tbody>

            """
        for s in tokenizers {
            h += "<tr><td class=\"t\">\(xml(s.name))</td><td>\(s.vocabSize)</td><td>\(s.languages)</td><td>\(s.mean.map { fmt($0, 3) } ?? "")</td>"
                + "<td>\(s.median.map { fmt($0, 3) } ?? "")</td><td>\(s.spread.map { fmt($0, 3) } ?? "")</td>"
                + "<td class=\"t\">\(s.min.map { "\(xml($0.language)) \(fmt($0.premium, 2))" } ?? "")</td>"
                + "<td class=\"t\">\(s.max.map { "\(xml($0.language)) \(fmt($0.premium, 2))" } ?? "")</td>"
                + "<td class=\"w\">\(s.worst.map { "\(xml($0.language)) \(fmt($0.premium, 2))" }.joined(separator: ", "))</td>"
                + "<td>\(s.failed + s.blanked == 0 ? "" : "\(s.failed) failed, \(s.blanked) &gt;\(fmt(options.unknownThreshold * 100, 0)) % unknown")</td></tr>\n"
        }
        h += "</tbody></table></div>\n<h2>Premium per language</h2>\n<div class=\"chart\">\n" + svg() + "</div>\n"

        // Premium matrix.
        h += "<h2>Premiums</h2>\n<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr><th class=\"t\">language</th>"
        for s in tokenizers { h += "<th>\(xml(s.name))</th>" }
        h += "</tr></thead>\n<tbody>\n"
        var seen = Set<String>()
        for r in tableRows where !seen.contains(r.language) {
            seen.insert(r.language)
            h += "<tr><td class=\"t\">\(xml(r.language))</td>"
            for t in tokenizers.indices {
                let cell = tableRows.first { $0.language == r.language && $0.tokenizerIndex == t }
                if let p = cell?.premium {
                    h += "<td style=\"background:\(heat(p))\">\(fmt(p, 2))</td>"
                } else {
                    h += "<td class=\"err\">\(cell?.error != nil ? "error" : (cell?.blanked == true ? "unk" : "–"))</td>"
                }
            }
            h += "</tr>\n"
        }
        h += "</tbody></table></div>\n"

        // Everything.
        let cols = columns
        h += "<h2>All metrics</h2>\n<details open><summary>\(tableRows.count) rows</summary>\n<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>"
        for c in cols { h += "<th\(c.numeric ? "" : " class=\"t\"")>\(xml(c.title))</th>" }
        h += "<th class=\"t\">note</th></tr></thead>\n<tbody>\n"
        for r in tableRows {
            h += "<tr>"
            for c in cols { h += "<td\(c.numeric ? "" : " class=\"t\"")>\(xml(c.value(r)))</td>" }
            let note = r.error.map { "error: \($0)" } ?? (r.blanked ? "too many unknown tokens" : "")
            h += "<td class=\"t err\">\(xml(note))</td></tr>\n"
        }
        h += "</tbody></table></div>\n</details>\n"
        if !problems.isEmpty {
            h += "<h2>Problems</h2>\n<ul>\n" + problems.map { "<li>\(xml($0.description))</li>\n" }.joined() + "</ul>\n"
        }
        h += """
            <p class="note">Made by tokenkit premium. Click a column title to sort.</p>
            <script>
            document.querySelectorAll("table.sortable th").forEach(function (th) {
              th.addEventListener("click", function () {
                var table = th.closest("table"), body = table.tBodies[0], i = th.cellIndex;
                var asc = th.dataset.dir !== "asc"; th.dataset.dir = asc ? "asc" : "desc";
                var key = function (tr) { var s = tr.cells[i].textContent.trim(), v = parseFloat(s); return isNaN(v) ? s : v; };
                Array.from(body.rows).sort(function (a, b) {
                  var x = key(a), y = key(b);
                  if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
                  return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
                }).forEach(function (tr) { body.appendChild(tr); });
              });
            });
            </script>
            </body>
            </html>

            """
        return h
    }
}

/// 1-2-5 ticks between lo and hi.
func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
    var out: [Double] = []
    var d = pow(10, floor(log10(lo)))
    while d <= hi {
        for m in [1.0, 2, 5] where d * m >= lo && d * m <= hi { out.append(d * m) }
        d *= 10
    }
    return out
}

/// Background for a premium: white at 1, deeper orange as the premium grows (log scale).
func heat(_ p: Double) -> String {
    let t = max(0, min(1, log(max(p, 1)) / log(16)))
    let g = Int(255 - t * 120), b = Int(255 - t * 200)
    let cool = p < 1 ? max(0, min(1, -log(p) / log(4))) : 0
    if cool > 0 { return "rgb(\(Int(255 - cool * 90)),\(Int(255 - cool * 40)),255)" }
    return "rgb(255,\(g),\(b))"
}

func xml(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default:
            if c.value < 0x20 && c != "\n" && c != "\t" { out += " " } else { out.unicodeScalars.append(c) }
        }
    }
    return out
}
