import Foundation
import Testing
import TestSupport

/// The supertoken commands end to end through the built binary: `train superbpe` (direct,
/// `--from-merges`, sharded stage-2 counts), `supertokens add`, `train bpe --random-chunks`,
/// and the multi-word columns of `info` and `count`.
@Suite struct SuperwordCLITests {
    let fiction = fixture("mixture/en_fiction.txt")
    let python = fixture("mixture/code_python.txt")
    let german = fixture("mixture/lang_de.txt")

    func withDir(_ body: (String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "superword-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    func json(_ r: CLIRun) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])
    }

    func ok(_ args: [String], stdin: [UInt8]? = nil) throws -> CLIRun {
        let r = try runTokenkit(args, stdin: stdin)
        #expect(r.status == 0, "tokenkit \(args.joined(separator: " ")): \(r.err)")
        return r
    }

    /// The text after encoding with `model` and decoding again.
    func roundTrip(_ model: String, _ file: String) throws -> [UInt8] {
        let ids = try ok(["encode", "-q", "-m", model, file])
        return try ok(["decode", "-q", "-m", model], stdin: ids.stdout).stdout
    }

    @Test func superBPEStagesAndShards() throws {
        try withDir { dir in
            let files = [fiction, python]
            // Stage 1 alone (T = V − 256) has no multi-word tokens; stage 2 adds them.
            _ = try ok(["train", "superbpe", "-q", "--vocab-size", "756", "--transition", "500", "-o", dir + "/bpe.json"] + files)
            _ = try ok(["train", "superbpe", "-q", "--vocab-size", "900", "--transition", "500", "-o", dir + "/direct.json",
                        "--tiktoken", dir + "/direct.tiktoken"] + files)
            let bpeInfo = try json(ok(["info", "-q", dir + "/bpe.json", "--format", "json"]))
            let info = try json(ok(["info", "-q", dir + "/direct.json", "--format", "json"]))
            #expect(bpeInfo["multi_word"] as? Int == 0)
            #expect(info["vocab_size"] as? Int == 900)
            #expect((info["multi_word"] as? Int ?? 0) > 0)
            let ranks = try String(contentsOfFile: dir + "/direct.tiktoken", encoding: .utf8)
            #expect(ranks.split(separator: "\n").count == 900)

            // Stage 1 taken from the stage-1 tokenizer, and stage 2 from counts made in two
            // shards and merged, give the same file as training directly.
            _ = try ok(["train", "superbpe", "-q", "--vocab-size", "900", "--transition", "500", "--from-merges", dir + "/bpe.json",
                        "-o", dir + "/inherited.json"] + files)
            _ = try ok(["count-superwords", "-q", "-o", dir + "/c1.tsv", fiction])
            _ = try ok(["count-superwords", "-q", "-o", dir + "/c2.tsv", python])
            _ = try ok(["merge-counts", "-q", "-o", dir + "/c.tsv", dir + "/c1.tsv", dir + "/c2.tsv"])
            _ = try ok(["train", "superbpe", "-q", "--vocab-size", "900", "--transition", "500", "--from-merges", dir + "/bpe.json",
                        "--from-stage2-counts", dir + "/c.tsv", "-o", dir + "/sharded.json"])
            let direct = try Data(contentsOf: URL(fileURLWithPath: dir + "/direct.json"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/inherited.json")) == direct)
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/sharded.json")) == direct)
            // The same output on one thread.
            _ = try ok(["train", "superbpe", "-q", "--threads", "1", "--vocab-size", "900", "--transition", "500",
                        "-o", dir + "/one.json"] + files)
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/one.json")) == direct)

            // Fewer tokens than stage 1 alone on held-out text, and a lossless round trip.
            let plain = try json(ok(["count", "-q", "-m", dir + "/bpe.json", "--format", "json", german]))
            let superCount = try json(ok(["count", "-q", "-m", dir + "/direct.json", "--multi-word", "--format", "json", german]))
            let p = try #require(plain["total"] as? [String: Any]), s = try #require(superCount["total"] as? [String: Any])
            #expect((s["tokens"] as? Int ?? .max) < (p["tokens"] as? Int ?? 0))
            #expect((s["multi_word"] as? Int ?? 0) > 0)
            #expect(try roundTrip(dir + "/direct.json", german) == Array(Data(contentsOf: URL(fileURLWithPath: german))))
        }
    }

    @Test func superBPEUsageErrors() throws {
        try withDir { dir in
            var r = try runTokenkit(["train", "superbpe", "-q", "--vocab-size", "900", "--transition", "700", "-o", dir + "/x.json", fiction])
            #expect(r.status == 2 && r.err.contains("--transition"))
            r = try runTokenkit(["train", "superbpe", "-q", "--vocab-size", "900", "--transition", "500", "--from-stage2-counts",
                                 dir + "/c.tsv", "-o", dir + "/x.json", fiction])
            #expect(r.status == 2 && r.err.contains("--from-merges"))
            r = try runTokenkit(["train", "superbpe", "-q", "--vocab-size", "900", "--transition", "500", "-o", dir + "/x.json",
                                 dir + "/missing.txt"])
            #expect(r.status == 1 && r.err.contains("missing.txt"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.json"))
            try Data("not counts\n".utf8).write(to: URL(fileURLWithPath: dir + "/bad.tsv"))
            r = try runTokenkit(["merge-counts", "-q", "-o", dir + "/c.tsv", dir + "/bad.tsv"])
            #expect(r.status == 1 && r.err.contains("bad.tsv"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/c.tsv"))
        }
    }

    @Test func supertokensAddSavesTokens() throws {
        try withDir { dir in
            let r50k = fixture("models/r50k_base.tiktoken")
            let r = try ok(["supertokens", "add", "-q", "-m", r50k, "--top", "20", "--max-words", "3", "-o", dir + "/mwt.json",
                            "--held-out", fiction, "--format", "json", fiction])
            let report = try json(r)
            #expect(report["added"] as? Int == 20)
            let before = try #require(report["tokens_before"] as? Int), after = try #require(report["tokens_after"] as? Int)
            #expect(after < before && report["tokens_saved"] as? Int == before - after)
            // The report's figure is what `count` says of the new tokenizer.
            let counted = try json(ok(["count", "-q", "-m", dir + "/mwt.json", "--multi-word", "--format", "json", fiction]))
            let total = try #require(counted["total"] as? [String: Any])
            #expect(total["tokens"] as? Int == after)
            #expect((total["multi_word"] as? Int ?? 0) > 0)
            // The added n-grams take the white space before them (`lstrip`, as HF does), and
            // decode without it: everything else comes back.
            func ink(_ b: [UInt8]) -> [UInt8] { b.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D } }
            let text = Array(try Data(contentsOf: URL(fileURLWithPath: german)))
            let back = try roundTrip(dir + "/mwt.json", german)
            #expect(ink(back) == ink(text))
            #expect(back.count < text.count)
        }
    }

    /// Failures that must leave earlier output alone or be refused before work starts: a missing
    /// --held-out file (the tokenizer was written first), stdin for superbpe (read twice), and a
    /// special token listed twice (it would get two ids).
    @Test func refusedRunsLeaveOutputsAlone() throws {
        try withDir { dir in
            let r50k = fixture("models/r50k_base.tiktoken")
            try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/mwt.json"))
            var r = try runTokenkit(["supertokens", "add", "-q", "-m", r50k, "--top", "5", "-o", dir + "/mwt.json",
                                     "--held-out", dir + "/missing.txt", fiction])
            #expect(r.status == 1 && r.err.contains("missing.txt"))
            #expect(try String(contentsOfFile: dir + "/mwt.json", encoding: .utf8) == "keep")
            r = try runTokenkit(["train", "superbpe", "--vocab-size", "300", "--transition", "10", "-o", dir + "/s.json", "-"])
            #expect(r.status == 2 && r.err.contains("twice"), "\(r.err)")
            r = try runTokenkit(["train", "superbpe", "--vocab-size", "300", "--transition", "10", "--special-tokens", "<a>,<a>",
                                 "-o", dir + "/s.json", fiction])
            #expect(r.status == 2 && r.err.contains("\"<a>\" twice"), "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/s.json"))
        }
    }

    /// A SentencePiece .model is extended through its tokenizer.json conversion.
    @Test func supertokensAddOnSentencePiece() throws {
        try withDir { dir in
            let report = try json(ok(["supertokens", "add", "-q", "-m", fixture("sentencepiece/llama2_tokenizer.model"), "--top", "20",
                                      "-o", dir + "/mwt.json", "--held-out", fiction, "--format", "json", fiction]))
            #expect(report["added"] as? Int == 20)
            #expect((report["tokens_after"] as? Int ?? .max) < (report["tokens_before"] as? Int ?? 0))
            // Without --held-out, JSON and TSV still give the summary: what was added where.
            let plain = try json(ok(["supertokens", "add", "-q", "-m", fixture("sentencepiece/llama2_tokenizer.model"), "--top", "20",
                                     "-o", dir + "/p.json", "--format", "json", fiction]))
            #expect(plain["added"] as? Int == 20 && plain["output"] as? String == dir + "/p.json" && (plain["vocab_size"] as? Int ?? 0) >= 32_020)
            #expect(plain["tokens_saved"] == nil)
            let tsv = try ok(["supertokens", "add", "-q", "-m", fixture("sentencepiece/llama2_tokenizer.model"), "--top", "20",
                              "-o", dir + "/p.json", "--format", "tsv", fiction]).out.split(separator: "\n").map { $0.split(separator: "\t") }
            #expect(tsv.count == 2 && tsv[0] == ["output", "added", "vocab_size"] && tsv[1][1] == "20", "\(tsv)")
        }
    }

    @Test func randomChunkTraining() throws {
        try withDir { dir in
            func train(_ seed: String, _ out: String, threads: String = "2") throws {
                _ = try ok(["train", "bpe", "-q", "--vocab-size", "600", "--random-chunks", "4-12", "--seed", seed,
                            "--threads", threads, "-o", dir + "/" + out, fiction])
            }
            try train("1", "a.json")
            try train("1", "b.json", threads: "1")
            try train("2", "c.json")
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.json"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/b.json")) == a, "same seed, any thread count")
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/c.json")) != a, "another seed")
            let info = try json(ok(["info", "-q", dir + "/a.json", "--format", "json"]))
            #expect((info["multi_word"] as? Int ?? 0) > 0, "merges cross spaces")
            #expect(try roundTrip(dir + "/a.json", german) == Array(Data(contentsOf: URL(fileURLWithPath: german))))
        }
    }
}
