import Foundation
import Testing
import TokenKitAnalysis
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct OutputTests {
    static let report: PremiumReport = {
        let corpus = try! ParallelCorpus.load(udhr, only: ["eng", "tha", "jpn", "mya", "spa"])
        return try! analyse(corpus, [r50k, llama2, qwen], threads: 2)
    }()

    @Test func jsonHasTheContractFields() throws {
        let json = try JSONSerialization.jsonObject(with: Data(Self.report.render(.json).utf8)) as! [String: Any]
        let rows = json["rows"] as! [[String: Any]]
        #expect(rows.count == 15)
        for key in ["language", "tokenizer", "tokens", "premium", "bytes_per_token", "chars_per_token", "fertility",
                    "continued_words", "unknown_rate", "byte_fallback_rate", "renyi_efficiency"] {
            #expect(rows.allSatisfy { $0[key] != nil }, "\(key)")
        }
        let names = Set(rows.map { $0["tokenizer"] as! String })
        #expect(names == ["r50k_base.tiktoken", "llama2-spm", "qwen2.5"])  // display names
        let tha = rows.first { $0["language"] as? String == "tha" && $0["tokenizer"] as? String == "qwen2.5" }!
        #expect(tha["tokens"] as? Int == PremiumGolden.shared.models.first { $0.name == "qwen2.5" }!.tokens["tha"])
        #expect(json["pivot"] as? String == "eng")
        let tokenizers = json["tokenizers"] as! [[String: Any]]
        #expect(tokenizers.count == 3)
        #expect(tokenizers.allSatisfy { ($0["worst"] as! [Any]).count == 4 && $0["mean_premium"] is Double })
    }

    @Test func csvMarkdownAndText() {
        let csv = Self.report.render(.csv).split(separator: "\n")
        #expect(csv.count == 16)
        #expect(csv[0].hasPrefix("language,tokenizer,tokens,premium,bytes_per_token,chars_per_token,fertility"))
        let md = Self.report.render(.markdown)
        #expect(md.contains("| language | tokenizer | tokens | premium |"))
        #expect(md.contains("| qwen2.5 |"))
        let text = Self.report.render(.text)
        #expect(text.contains("Premiums per tokenizer (pivot eng)"))
        // Columns line up, in the per-language table (13 columns and the note) and the summary.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let table = Array(lines.drop { !$0.hasPrefix("language") }.prefix { !$0.isEmpty && !$0.hasPrefix("Premiums") })
        #expect(table.count == 16)
        expectColumnsLineUp(table, columns: 14)
        let summary = Array(lines.drop { !$0.hasPrefix("tokenizer") }.prefix { !$0.isEmpty })
        #expect(summary.count == 4)
        #expect(summary.contains { $0.hasPrefix("llama2-spm") })
    }

    /// Each column of a text table is a run of positions that some row fills, between runs no
    /// row fills; there must be `columns` of them, and in each every cell starts at the run's
    /// first position (left-aligned) or ends at its last (right-aligned).
    func expectColumnsLineUp(_ rows: [String], columns: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let grid = rows.map { Array($0) }
        let width = grid.map(\.count).max() ?? 0
        func filled(_ p: Int) -> Bool { grid.contains { p < $0.count && $0[p] != " " } }
        var runs: [Range<Int>] = []
        var p = 0
        while p < width {
            if !filled(p) { p += 1; continue }
            var q = p
            while q < width && filled(q) { q += 1 }
            runs.append(p..<q)
            p = q
        }
        #expect(runs.count == columns, "\(runs.count) columns: \(rows.first ?? "")", sourceLocation: sourceLocation)
        for run in runs {
            let cells = grid.map { row in run.filter { $0 < row.count && row[$0] != " " } }
            let left = cells.allSatisfy { $0.isEmpty || $0.first == run.lowerBound }
            let right = cells.allSatisfy { $0.isEmpty || $0.last == run.upperBound - 1 }
            #expect(left || right, "column at \(run) is ragged", sourceLocation: sourceLocation)
            // Only the last column (notes) may be empty.
            if run != runs.last { #expect(cells.allSatisfy { !$0.isEmpty }, "empty cell at \(run)", sourceLocation: sourceLocation) }
        }
    }

    /// The chart is well-formed SVG with every language label and one dot per premium.
    @Test func svgIsWellFormed() throws {
        let svg = Self.report.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        final class Collect: NSObject, XMLParserDelegate {
            var circles = 0, texts: [String] = [], current = ""
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                if name == "circle" { circles += 1 }
                current = ""
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if name == "text" { texts.append(current) }
            }
        }
        let c = Collect()
        parser.delegate = c
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        for code in ["eng", "tha", "jpn", "mya", "spa"] { #expect(c.texts.contains(code)) }
        #expect(c.circles == 15 + 3)  // dots + legend
        #expect(c.texts.contains("1×"))
        // Sorted: highest mean premium first.
        let labels = c.texts.filter { ["eng", "tha", "jpn", "mya", "spa"].contains($0) }
        #expect(labels.first == "mya" && labels.last == "eng")
    }

    @Test func htmlIsSelfContained() {
        let html = Self.report.html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg") && html.contains("</html>"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
        #expect(html.contains("<td class=\"t\">mya</td>"))
    }
}

@Suite struct VocabularyStudyTests {
    @Test func sizes() throws {
        #expect(try VocabularyStudy.parseSizes("8k,16k,32k,64k") == [8192, 16384, 32768, 65536])
        #expect(try VocabularyStudy.parseSizes("32000, 1000") == [1000, 32000])
        #expect(throws: (any Error).self) { try VocabularyStudy.parseSizes("100") }
        #expect(throws: (any Error).self) { try VocabularyStudy.parseSizes("8q") }
    }

    @Test func powerLawFit() throws {
        let pts = [8192.0, 16384, 32768, 65536].map { ($0, 3e5 * pow($0, -0.25)) }
        let fit = try #require(PowerLawFit(pts))
        #expect(abs(fit.a - 3e5) / 3e5 < 1e-9 && abs(fit.b + 0.25) < 1e-12 && abs(fit.r2 - 1) < 1e-12)
        let v = try #require(fit.solve(3e5 * pow(20000, -0.25)))
        #expect(abs(v - 20000) < 1e-6)
        #expect(PowerLawFit([(1000, 5)]) == nil)
        #expect(PowerLawFit([(1000, 5), (2000, 5)])?.solve(4) == nil)  // flat: no solution
    }

    /// Trains on the UDHR files themselves (tiny), at sizes the text supports.
    @Test func trainsFitsAndSolves() throws {
        let corpus = try ParallelCorpus.load(udhr, only: ["eng", "spa", "tha"])
        var options = VocabularyStudy.Options()
        options.sizes = [300, 400, 600, 800]
        options.threads = 2
        let study = try VocabularyStudy(options: options).run(corpus: corpus, trainingDir: udhr)
        #expect(study.rows.count == 3)
        #expect(study.targetSource == "eng at 600")
        for r in study.rows {
            #expect(r.error == nil)
            #expect(r.points.map(\.vocabSize) == [300, 400, 600, 800])
            #expect(zip(r.points, r.points.dropFirst()).allSatisfy { $0.tokens > $1.tokens }, "\(r.language)")
            let fit = try #require(r.fit)
            #expect(fit.b < 0 && fit.r2 > 0.9)
        }
        let eng = study.rows.first { $0.language == "eng" }!
        #expect(abs(eng.optimal! - 600) < 100)
        // Languages with longer encodings need more vocabulary for the same count.
        let tha = study.rows.first { $0.language == "tha" }!
        #expect(tha.optimal! > eng.optimal!)
        let json = try JSONSerialization.jsonObject(with: Data(study.render(.json).utf8)) as! [String: Any]
        #expect((json["rows"] as! [Any]).count == 3)
        #expect(study.render(.text).contains("tokens@600"))
    }

    @Test func unigramStudy() throws {
        let corpus = try ParallelCorpus.load(udhr, only: ["eng", "spa"])
        var options = VocabularyStudy.Options()
        options.algorithm = .unigram
        options.sizes = [200, 300, 450]
        options.threads = 2
        let study = try VocabularyStudy(options: options).run(corpus: corpus, trainingDir: udhr)
        for r in study.rows {
            #expect(r.error == nil, "\(r.error ?? "")")
            #expect(r.points.count == 3)
            #expect(zip(r.points, r.points.dropFirst()).allSatisfy { $0.tokens > $1.tokens }, "\(r.language) \(r.points)")
            #expect(r.fit.map { $0.b < 0 } == true)
        }
        #expect(study.render(.json).contains("\"algorithm\": \"unigram\""))
    }

    @Test func missingTrainingFileIsReported() throws {
        try withFiles(["eng.txt": Array("the cat sat on the mat\nthe dog sat\n".utf8)]) { train in
            let corpus = try ParallelCorpus.load(udhr, only: ["eng", "spa"])
            var options = VocabularyStudy.Options()
            options.sizes = [260, 270]
            let study = try VocabularyStudy(options: options).run(corpus: corpus, trainingDir: train)
            #expect(study.rows.first { $0.language == "spa" }?.error?.contains("no training file spa.txt") == true)
            #expect(study.rows.first { $0.language == "eng" }?.error == nil)
        }
    }
}
