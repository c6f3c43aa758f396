import Foundation
import Testing
import TokenKitAnalysis

@Suite struct RobustnessTests {
    static let files: [String: [UInt8]] = [
        "eng.txt": Array("One line.\nTwo lines.\nThree lines.\n".utf8),
        "fra.txt": Array("Une ligne.\nDeux lignes.\n".utf8),  // one line short
        "deu.txt": Array("Eine Zeile.\n\nDrei Zeilen.\n".utf8),  // line 2 empty
        "bad.txt": Array("Fine.\nBroken \u{FF} here.\nFine again.\n".utf8).map { $0 == 0xC3 ? 0xFF : $0 },  // invalid UTF-8 on line 2
        "crlf.txt": Array("One line.\r\nTwo lines.\r\nThree lines.".utf8),  // CRLF, no final newline
        "MANIFEST.tsv": Array("code\tlines\n".utf8),
    ]

    @Test func oneBadLanguageKeepsTheOthers() throws {
        try withFiles(Self.files) { dir in
            let corpus = try ParallelCorpus.load(dir, only: ["eng", "fra", "deu", "bad", "crlf", "xyz"])
            #expect(corpus.languages.map(\.code) == ["eng", "fra", "deu", "bad", "crlf"])
            #expect(corpus.missing.map(\.code) == ["xyz"])
            let report = try analyse(corpus, [r50k, llama2], threads: 2)
            let messages = report.problems.map(\.description)
            func has(_ parts: String...) -> Bool { messages.contains { m in parts.allSatisfy { m.contains($0) } } }

            // Missing file: a message and rows with the error; the others are measured.
            #expect(has("no file xyz.txt"))
            #expect(report.rows.filter { $0.language == "xyz" }.allSatisfy { $0.error != nil && $0.premium == nil })
            // Unequal line counts: premium over the first two lines.
            #expect(has("fra.txt", "2 lines, but the pivot eng has 3", "first 2 lines"))
            let fra = try #require(report.rows.first { $0.language == "fra" && $0.tokenizerIndex == 0 })
            let eng = try #require(report.rows.first { $0.language == "eng" && $0.tokenizerIndex == 0 })
            #expect(fra.alignedLines == 2)
            #expect(fra.premium == Double(fra.tokens) / Double(eng.lineTokens[0] + eng.lineTokens[1]))
            // Empty line: left out of the premium.
            #expect(has("deu.txt", "line 2 is empty"))
            let deu = try #require(report.rows.first { $0.language == "deu" && $0.tokenizerIndex == 0 })
            #expect(deu.alignedLines == 2)
            #expect(deu.premium == Double(deu.tokens) / Double(eng.lineTokens[0] + eng.lineTokens[2]))
            // Invalid UTF-8: the byte-level model encodes it, Llama 2's model refuses, naming the line.
            #expect(has("bad.txt", "invalid UTF-8 on line 2"))
            let badGPT = try #require(report.rows.first { $0.language == "bad" && $0.tokenizerIndex == 0 })
            #expect(badGPT.error == nil && badGPT.premium != nil && badGPT.words == nil)
            let badSPM = try #require(report.rows.first { $0.language == "bad" && $0.tokenizerIndex == 1 })
            #expect(badSPM.error?.contains("line 2") == true && badSPM.premium == nil)
            #expect(has("cannot encode bad", "line 2"))
            // CRLF and a missing final newline read as the same lines.
            let crlf = try #require(report.rows.first { $0.language == "crlf" && $0.tokenizerIndex == 0 })
            #expect(crlf.tokens == eng.tokens && crlf.premium == 1)
            // Summaries count what could be measured.
            #expect(report.tokenizers[0].failed == 1)  // xyz
            #expect(report.tokenizers[1].failed == 2)  // xyz, bad
            #expect(report.tokenizers[0].languages == 4)
            #expect(report.pivotFound)
            // Every output format still renders every row.
            let json = try JSONSerialization.jsonObject(with: Data(report.render(.json).utf8)) as! [String: Any]
            #expect((json["rows"] as! [Any]).count == report.rows.count)
            #expect((json["problems"] as! [Any]).count == report.problems.count)
        }
    }

    @Test func folderIgnoresManifestAndReadsEveryLanguage() throws {
        try withFiles(Self.files) { dir in
            let corpus = try ParallelCorpus.load(dir)
            #expect(corpus.languages.map(\.code) == ["bad", "crlf", "deu", "eng", "fra"])
        }
    }

    @Test func missingPivotStillGivesCounts() throws {
        try withFiles(["fra.txt": Array("Une ligne.\n".utf8), "deu.txt": Array("Eine Zeile.\n".utf8)]) { dir in
            let report = try analyse(try ParallelCorpus.load(dir), [r50k])
            #expect(!report.pivotFound)
            #expect(report.problems.contains { $0.message.contains("pivot eng") })
            #expect(report.rows.allSatisfy { $0.tokens > 0 && $0.premium == nil })
            let other = try analyse(try ParallelCorpus.load(dir), [r50k]) { $0.pivot = "fra" }
            #expect(other.pivotFound && other.rows.allSatisfy { $0.premium != nil })
        }
    }

    @Test func emptyAndBadCorpora() throws {
        try withFiles(["README": Array("not a language".utf8)]) { dir in
            #expect(throws: (any Error).self) { try ParallelCorpus.load(dir) }
            #expect(throws: (any Error).self) { try ParallelCorpus.load(dir + "/nothing-here") }
        }
        try withFiles(["c.tsv": Array("eng\t\tfra\nA\tB\tC\n".utf8)]) { dir in
            #expect(throws: (any Error).self) { try ParallelCorpus.load(dir + "/c.tsv") }
        }
        // Ragged TSV rows: reported, the missing cells are empty.
        try withFiles(["c.tsv": Array("eng\tfra\nOne.\tUne.\nTwo.\n".utf8)]) { dir in
            let c = try ParallelCorpus.load(dir + "/c.tsv")
            #expect(c.problems.contains { $0.message.contains("line 3") })
            #expect(c.language("fra")!.lineCount == 2 && c.language("fra")!.isBlank(1))
        }
    }

    /// Pairs with too many unknown tokens get no premium (Petrov et al.'s 10 % rule).
    @Test func unknownTokensBlankThePair() throws {
        let tokenizerJSON = """
            {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
             "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null, "decoder": null,
             "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
                       "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                       "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3}, "merges": ["a b"]}}
            """
        try withFiles(["tok.json": Array(tokenizerJSON.utf8), "eng.txt": Array("ab ab ab\n".utf8), "xxx.txt": Array("ab cd ab\n".utf8)]) { dir in
            let corpus = try ParallelCorpus.load(dir, only: ["eng", "xxx"])
            let tok = try MeasuredTokenizer.load([dir + "/tok.json"])
            let report = try PremiumAnalysis().run(corpus: corpus, tokenizers: tok)
            let x = try #require(report.rows.first { $0.language == "xxx" })
            #expect(x.unknown == 2 && x.tokens == 4)
            #expect(x.blanked && x.premium == nil)
            #expect(report.problems.contains { $0.message.contains("unknown") })
            #expect(report.tokenizers[0].blanked == 1)
        }
    }
}
