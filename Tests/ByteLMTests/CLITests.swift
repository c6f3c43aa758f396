import Foundation
import Testing
import TokenKitCore
import TestSupport

/// The byte-LM commands end to end, through the built `tokenkit` binary.
@Suite struct ByteLMCLITests {
    func run(_ args: [String]) throws -> CLIRun { try runTokenkit(args) }

    let text = fixtures + "/text/golden.txt"

    @Test func usageErrors() throws {
        try withTempDir { dir in
            // Neither --bytes nor -m.
            var r = try run(["train", "lm", "--order", "3", "-o", dir + "/x.bytelm", text])
            #expect(r.status == 2 && r.err.contains("--bytes"))
            r = try run(["train", "lm", "--bytes", "--order", "9", "-o", dir + "/x.bytelm", text])
            #expect(r.status == 2)
            r = try run(["train", "bytespan", "--order", "3", "--lm", dir + "/x.bytelm", "-o", dir + "/t.json", text])
            #expect(r.status == 2 && r.err.contains("--lm"))
            r = try run(["train", "bytespan", "-o", dir + "/t.json", text])
            #expect(r.status == 2)
            r = try run(["evaluate", "--text", text])
            #expect(r.status == 2)
            // A tiktoken file's special token in the text is text, as premium counts it.
            try writeFileAtomically(dir + "/eot.txt", Array("x <|endoftext|> y\n".utf8))
            r = try run(["evaluate", "--text", dir + "/eot.txt", "-m", fixtures + "/models/r50k_base.tiktoken", "--format", "tsv"])
            #expect(r.status == 0 && r.out.contains("r50k_base.tiktoken\t50257\t"), "\(r.err)")
            // Bad input: exit 1 naming the file.
            r = try run(["lm", "score", dir + "/missing.bytelm", text])
            #expect(r.status == 1 && r.err.contains("missing.bytelm"))
            try writeFileAtomically(dir + "/junk.bytelm", Array(repeating: 7, count: 100))
            r = try run(["lm", "score", dir + "/junk.bytelm", text])
            #expect(r.status == 1 && r.err.contains("junk.bytelm: not a tokenkit byte LM"))
        }
    }

    /// train lm → lm score (text and JSON) → surprisal (TSV, JSONL, HTML) → train bytespan → evaluate.
    @Test func endToEnd() throws {
        try withTempDir { dir in
            let lm = dir + "/g.bytelm"
            var r = try run(["train", "lm", "--bytes", "--order", "4", "-q", "-o", lm, text])
            #expect(r.status == 0, "\(r.err)")
            r = try run(["lm", "score", "-q", lm, text])
            #expect(r.status == 0 && r.out.hasSuffix(" bits/byte\n"))
            let bpb = Double(r.out.split(separator: " ")[0])!
            r = try run(["lm", "score", "-q", "--format", "json", lm, text])
            let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            #expect(abs((json["bits_per_byte"] as! Double) - bpb) < 1e-4)
            // Scored on its own training text, an order-4 model is far below 8 bits.
            #expect(bpb > 0 && bpb < 3)
            // TSV (listed in --help): a header, a row per file, the total; the same figure.
            r = try run(["lm", "score", "-q", "--format", "tsv", lm, text, text])
            let tsv = r.out.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            #expect(r.status == 0 && tsv.count == 4 && tsv.allSatisfy { $0.count == 4 }, "\(r.err)")
            #expect(tsv[0] == ["file", "bytes", "bits", "bits_per_byte"] && tsv[1][0] == text && tsv[3][0] == "total")
            #expect(Int(tsv[3][1]) == 2 * Int(tsv[1][1])! && abs(Double(tsv[3][3])! - bpb) < 1e-4)

            let sample = dir + "/s.txt"
            try writeFileAtomically(sample, Array("The lighthouse keeper wrote.\n".utf8))
            r = try run(["surprisal", "-m", lm, sample])
            let rows = r.out.split(separator: "\n")
            #expect(r.status == 0 && rows.count == 29)
            #expect(rows.allSatisfy { $0.split(separator: "\t").count == 4 })
            #expect(rows[0].hasPrefix("0\t84\t"))
            r = try run(["surprisal", "-m", lm, "--format", "jsonl", sample])
            let first = try JSONSerialization.jsonObject(with: Data(r.out.split(separator: "\n")[1].utf8)) as! [String: Any]
            #expect(first["offset"] as? Int == 1 && first["byte"] as? Int == 104 && first["entropy"] != nil)
            r = try run(["surprisal", "-m", lm, "--html", dir + "/s.html", sample])
            let html = String(decoding: try readFile(dir + "/s.html"), as: UTF8.self)
            #expect(r.status == 0 && html.contains("class=\"b\"") && html.contains("lighthouse".prefix(1)))

            let tok = dir + "/bs.json"
            r = try run(["train", "bytespan", "--order", "3", "--vocab-size", "900", "-q", "-o", tok, text])
            #expect(r.status == 0, "\(r.err)")
            r = try run(["train", "bytespan", "--lm", lm, "--signal", "surprisal", "--constraint", "monotonic", "--mode", "seeding",
                         "--vocab-size", "900", "-q", "-o", dir + "/bs2.json", text])
            #expect(r.status == 0, "\(r.err)")
            r = try run(["evaluate", "--text", text, "--morph", fixtures + "/morph/english.csv", "--format", "json", "-m", tok, "-m", dir + "/bs2.json"])
            #expect(r.status == 0, "\(r.err)")
            let ev = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            let evRows = ev["rows"] as! [[String: Any]]
            #expect(evRows.count == 2)
            for row in evRows {
                #expect((row["bytes_per_token"] as! Double) > 1)
                #expect((row["fertility"] as! Double) >= 1)
                #expect((row["morph_words"] as! Int) > 0)
            }
            // SentencePiece tokens spell the text with ▁ and a dummy prefix: fertility is measured
            // on the tokens' own words, the same for the .model and its tokenizer.json.
            r = try run(["evaluate", "--text", text, "--format", "json", "-m", fixtures + "/sentencepiece/llama2_tokenizer.model",
                         "-m", fixtures + "/models/llama2-spm/tokenizer.json"])
            let spmRows = (try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any])["rows"] as! [[String: Any]]
            let fertility = spmRows.compactMap { $0["fertility"] as? Double }
            #expect(r.status == 0 && fertility.count == 2 && fertility[0] >= 1 && fertility[0] == fertility[1], "\(r.out)")
        }
    }
}
