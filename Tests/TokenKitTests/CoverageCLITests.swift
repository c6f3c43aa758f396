import Foundation
import Testing
import TokenKitCore

/// Features that had no test of their own (issue 18): rank-file recognition and the pattern
/// fallback, convert --to tiktoken, train bpe's --min-frequency, --max-token-length and
/// --normalizer.
@Suite struct CoverageCLITests {
    let cli = CLITests()
    let r50k = fixture("models/r50k_base.tiktoken")

    func info(_ path: String, _ extra: [String] = []) throws -> [String: String] {
        let r = try cli.run(["info", path] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        var out: [String: String] = [:]
        for line in r.out.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { out[parts[0]] = parts[1] }
        }
        return out
    }

    @Test func rankFilesAreRecognisedByTheirHashOnly() throws {
        let known = try info(r50k)
        #expect(known["encoding"] == "r50k_base" && known["pre_tokenizer"] == "r50k")
        try withTempDir { dir in
            // The same ranks with one line changed: no longer the OpenAI file, so the pattern is assumed.
            var bytes = try readFile(r50k)
            let last = bytes.lastIndex(of: 0x20)!
            bytes.replaceSubrange(last..., with: Array(" 50300\n".utf8))
            try writeFileAtomically(dir + "/x.tiktoken", bytes)
            let changed = try info(dir + "/x.tiktoken")
            #expect(changed["encoding"] == nil)
            #expect(changed["pre_tokenizer"]?.contains("assumed") == true, "\(changed)")
            let given = try info(dir + "/x.tiktoken", ["--pattern", "cl100k"])
            #expect(given["pre_tokenizer"] == "cl100k")
            // The pattern changes the ids: cl100k splits digits in threes, r50k does not.
            let guessed = try cli.run(["encode", "-m", dir + "/x.tiktoken", "-"], stdin: Array("12345678".utf8))
            let a = guessed.out
            let b = try cli.run(["encode", "-m", dir + "/x.tiktoken", "--pattern", "cl100k", "-"], stdin: Array("12345678".utf8)).out
            #expect(a != b && b.split(separator: " ").count >= 3)
            // The guess is said on stderr, unless the pattern is given or --quiet asks for silence.
            #expect(guessed.stderr.contains("split pattern is r50k") && guessed.stderr.contains("--pattern"), "\(guessed.stderr)")
            #expect(try cli.run(["encode", "-m", dir + "/x.tiktoken", "--pattern", "cl100k", "-"], stdin: []).stderr.isEmpty)
            #expect(try cli.run(["count", "-q", "-m", dir + "/x.tiktoken", "-"], stdin: []).stderr.isEmpty)
        }
    }

    @Test func convertToTiktokenKeepsTheIds() throws {
        try withTempDir { dir in
            let qwen = fixture("models/qwen2.5/tokenizer.json")
            let r = try cli.run(["convert", qwen, "-o", dir + "/q.tiktoken", "--to", "tiktoken"])
            #expect(r.status == 0, "\(r.stderr)")
            // tiktoken files have no normalizer: text that NFC leaves alone gets the same ids.
            let text = Array(try readFile(fixture("sentencepiece/botchan.txt")).prefix(30_000))
            let want = try cli.run(["encode", "-m", qwen, "--disallowed-special", "none", "--allowed-special", "none", "-"], stdin: text)
            let got = try cli.run(["encode", "-m", dir + "/q.tiktoken", "--pattern", "qwen2", "-"], stdin: text)
            #expect(got.status == 0, "\(got.stderr)")
            #expect(got.out == want.out)
            // What the rank file cannot hold is said: the pattern to load it with, the normalizer lost.
            #expect(r.stderr.contains("--pattern qwen2") && r.stderr.contains("normalizer is not kept"), "\(r.stderr)")
            // A regex split is given back as tiktoken reads it (matches only), and gives the same ids.
            let botchan = fixture("sentencepiece/botchan.txt")
            let trained = try cli.run(["train", "bpe", "--vocab-size", "300", "--pre-tokenizer", "whitespace", "-o", dir + "/w.json",
                                       "--tiktoken", dir + "/w.tiktoken", botchan])
            #expect(trained.status == 0, "\(trained.stderr)")
            #expect(trained.stderr.contains(#"--pattern '\w+|[^\w\s]+'"#) && !trained.stderr.contains("normalizer"), "\(trained.stderr)")
            let ranks = try cli.run(["encode", "-m", dir + "/w.tiktoken", "--pattern", #"\w+|[^\w\s]+"#, botchan])
            let json = try cli.run(["encode", "-m", dir + "/w.json", botchan])
            #expect(ranks.status == 0 && ranks.out == json.out)
            // A split that no single pattern expresses is a warning.
            let none = try cli.run(["train", "bpe", "--vocab-size", "300", "--pre-tokenizer", "none", "-o", dir + "/n.json",
                                    "--tiktoken", dir + "/n.tiktoken", botchan])
            #expect(none.status == 0 && none.stderr.contains("no single split pattern"), "\(none.stderr)")
            let r50k = try cli.run(["convert", fixture("models/r50k_base.tiktoken"), "-o", dir + "/r.json"])
            #expect(r50k.status == 0 && !r50k.stderr.contains("ranks only"))
            let back = try cli.run(["convert", dir + "/r.json", "-o", dir + "/r.tiktoken", "-q"])
            #expect(back.status == 0 && back.stderr.isEmpty, "\(back.stderr)")
        }
    }

    @Test func trainBPEOptionsShapeTheVocabulary() throws {
        try withTempDir { dir in
            var text = ""
            for k in 0..<200 { text += "internationalization localization \(k % 7) Ünïcödé ÜNÏCÖDÉ\n" }
            try writeFileAtomically(dir + "/in.txt", Array(text.utf8))
            func vocab(_ extra: [String]) throws -> [String: Int] {
                let r = try cli.run(["train", "bpe", "--vocab-size", "400", "-q", "-o", dir + "/t.json", dir + "/in.txt"] + extra)
                #expect(r.status == 0, "\(r.stderr)")
                let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/t.json"))) as! [String: Any]
                return (json["model"] as! [String: Any])["vocab"] as! [String: Int]
            }
            let free = try vocab([])
            #expect(free.keys.contains("internationalization"))
            let short = try vocab(["--max-token-length", "4"])
            #expect(short.keys.filter { !$0.hasPrefix("<") }.allSatisfy { Array($0.unicodeScalars).count <= 4 })
            // Every pair occurs at most 200 × a few times: a higher floor stops merging early.
            let rare = try vocab(["--min-frequency", "100000"])
            #expect(rare.count == 256)
            // Merged tokens with capitals exist without the normalizer, none with lowercase.
            func capitalMerges(_ v: [String: Int]) -> Int {
                v.keys.filter { $0.unicodeScalars.count >= 2 && $0.unicodeScalars.contains { ("A"..."Z").contains($0) } }.count
            }
            #expect(capitalMerges(free) > 0)
            #expect(capitalMerges(try vocab(["--normalizer", "lowercase"])) == 0)
        }
    }
}
