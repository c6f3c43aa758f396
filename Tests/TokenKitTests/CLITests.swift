import Foundation
import Testing
import TokenKitCore
import TestSupport

/// The CLI end to end, through the built `tokenkit` binary beside the test bundle.
@Suite struct CLITests {
    static var binary: String { tokenkitBinary }
    static var cacheHome: String { testCacheHome }
    typealias Run = CLIRun

    func run(_ args: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:]) throws -> Run {
        try runTokenkit(args, stdin: stdin, environment: environment)
    }

    let r50k = fixture("models/r50k_base.tiktoken")
    let qwen = fixture("models/qwen2.5/tokenizer.json")

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CLITests.binary), "build the tokenkit product first")
    }

    @Test func encodeStdinAndDecodeBack() throws {
        let text = Array("Hello world, it's 2024!\n".utf8)
        let enc = try run(["encode", "-m", r50k, "-"], stdin: text)
        #expect(enc.status == 0)
        #expect(enc.out == "15496 995 11 340 338 48609 0 198\n")
        let dec = try run(["decode", "-m", r50k], stdin: enc.stdout)
        #expect(dec.status == 0 && dec.stdout == text)
    }

    @Test func formats() throws {
        let text = Array("Hello world".utf8)
        #expect(try run(["encode", "-m", r50k, "--format", "json"], stdin: text).out == "[15496,995]\n")
        #expect(try run(["encode", "-m", r50k, "--format", "pieces"], stdin: text).out == "Hello ␣world\n")
        #expect(try run(["encode", "-m", r50k, "--format", "vocab-pieces"], stdin: text).out == "Hello Ġworld\n")
        // Readable pieces: whole characters as text, a token that is part of one as its bytes.
        #expect(try run(["encode", "-m", r50k, "--format", "pieces"], stdin: Array("你\n".utf8)).out == "\\xE4\\xBD \\xA0 \\n\n")
        #expect(try run(["encode", "-m", r50k, "--format", "jsonl", "--lines"], stdin: Array("a\nb\n".utf8)).out
                == "{\"file\": \"-\", \"ids\": [64]}\n{\"file\": \"-\", \"ids\": [65]}\n")
        let bin = try run(["encode", "-m", r50k, "--format", "bin"], stdin: text)
        #expect(bin.stdout == [0x88, 0x3C, 0xE3, 0x03])  // 15496, 995 little-endian
        try withTempDir { dir in
            try writeFileAtomically(dir + "/ids.bin", bin.stdout)
            #expect(try run(["decode", "-m", r50k, "--format", "bin", dir + "/ids.bin"]).stdout == text)
        }
        let jsonIn = try run(["decode", "-m", r50k], stdin: Array("[15496, 995]".utf8))
        #expect(jsonIn.stdout == text)
        let jsonl = try run(["decode", "-m", r50k, "--lines"], stdin: Array("{\"ids\": [64]}\n{\"ids\": [65]}\n".utf8))
        #expect(jsonl.out == "a\nb\n")
    }

    /// `encode --lines | decode --lines` keeps empty lines (a line per document, so parallel
    /// files stay aligned) in every ids format, also when no line holds text.
    @Test func linesRoundTripKeepsEmptyLines() throws {
        for text in ["a\n\nb\n\n\n", "\n\n", "a\n \nb", "x"] {
            for format in ["ids", "json", "jsonl"] {
                let ids = try run(["encode", "-m", r50k, "--lines", "--format", format], stdin: Array(text.utf8))
                #expect(ids.status == 0, "\(ids.stderr)")
                let back = try run(["decode", "-m", r50k, "--lines", "-"], stdin: ids.stdout)
                let expected = text.hasSuffix("\n") ? text : text + "\n"
                #expect(back.out == expected, "\(format) \(text.debugDescription): \(back.out.debugDescription)")
            }
        }
    }

    @Test func countJSONShape() throws {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/a.txt", Array("Hello world\n".utf8))
            try writeFileAtomically(dir + "/b.txt", Array("héllo".utf8))
            let r = try run(["count", "-m", r50k, "--format", "json", dir + "/a.txt", dir + "/b.txt"])
            #expect(r.status == 0)
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout)) as! [String: Any]
            let total = obj["total"] as! [String: Any]
            #expect(total["bytes"] as? Int == 18 && total["chars"] as? Int == 17)
            #expect((obj["files"] as! [[String: Any]]).count == 2)
            // The total is the sum of the files, each as many tokens as encode gives.
            let perFile = try ["/a.txt", "/b.txt"].map { f in
                try run(["encode", "-m", r50k, dir + f]).out.split(whereSeparator: \.isWhitespace).count
            }
            let files = (obj["files"] as! [[String: Any]]).map { $0["tokens"] as? Int }
            #expect(files == perFile.map { Optional($0) })
            #expect(total["tokens"] as? Int == perFile.reduce(0, +))
            #expect(total["bytes_per_token"] as? Double == Double(String(format: "%.4f", 18.0 / Double(perFile.reduce(0, +)))))
            let tsv = try run(["count", "-m", r50k, "--format", "tsv", dir + "/a.txt"])
            #expect(tsv.out.hasPrefix("file\ttokens\tbytes\tchars\tbytes_per_token\n"))
        }
    }

    @Test func infoJSON() throws {
        let r = try run(["info", qwen, "--format", "json"])
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout)) as! [String: Any]
        #expect(obj["vocab_size"] as? Int == 151665 && obj["format"] as? String == "tokenizer.json")
    }

    @Test func errorsAndExitCodes() throws {
        let missing = try run(["encode", "-m", "/nonexistent/model.json", "-"], stdin: [])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("tokenkit: error: /nonexistent/model.json: "))
        let usage = try run(["encode", "--no-such-flag"])
        #expect(usage.status == 2 && usage.stderr.contains("tokenkit: error:"))
        let range = try run(["decode", "-m", r50k], stdin: Array("1 2 99999999".utf8))
        #expect(range.status == 1 && range.stderr.contains("99999999"))
        let special = try run(["encode", "-m", r50k], stdin: Array("a<|endoftext|>".utf8))
        #expect(special.status == 1 && special.stderr.contains("special token"))
        let allowed = try run(["encode", "-m", r50k, "--allowed-special", "all"], stdin: Array("a<|endoftext|>".utf8))
        #expect(allowed.out == "64 50256\n")
    }

    @Test func failedRunLeavesNoOutputFile() throws {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.txt", Array("ok <|endoftext|>".utf8))
            let r = try run(["encode", "-m", r50k, "-o", dir + "/out.txt", dir + "/in.txt"])
            #expect(r.status == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["in.txt"])
        }
    }

    @Test func stochasticEncodingWithEpochsAndSidecar() throws {
        try withTempDir { dir in
            let text = try readFile(fixture("text/golden.txt"))
            try writeFileAtomically(dir + "/in.txt", text)
            let base = ["encode", "-m", r50k, "--format", "bin", "--stochastok", "0.1", "--dropout", "0.1", "--seed", "3",
                        "--disallowed-special", "none", dir + "/in.txt"]
            #expect(try run(base + ["--epochs", "2", "-o", dir + "/train.bin", "--threads", "2"]).status == 0)
            for e in 0..<2 {
                let bin = try readFile(dir + "/train.e\(e).bin")
                try writeFileAtomically(dir + "/x.bin", bin)
                #expect(try run(["decode", "-m", r50k, "--format", "bin", dir + "/x.bin"]).stdout == text)
                let meta = try JSONSerialization.jsonObject(with: Data(try readFile(dir + "/train.e\(e).bin.json"))) as! [String: Any]
                #expect(meta["dtype"] as? String == "uint16" && meta["tokens"] as? Int == bin.count / 2 && meta["seed"] as? Int == 3)
                #expect(meta["epoch"] as? Int == e && meta["vocab_size"] as? Int == 50257)
            }
            #expect(try readFile(dir + "/train.e0.bin") != (try readFile(dir + "/train.e1.bin")))
            // Same seed, other thread count: same bytes.
            let one = try run(base + ["--threads", "1"]).stdout
            #expect(one == (try run(base + ["--threads", "2"]).stdout))
            #expect(one == (try readFile(dir + "/train.e0.bin")))
            // --stochastok alone is the paper's rate, 0.1.
            let bare = try run(["encode", "-m", r50k, "--format", "bin", "--seed", "3", "--disallowed-special", "none", "--stochastok",
                                dir + "/in.txt"])
            let explicit = try run(["encode", "-m", r50k, "--format", "bin", "--seed", "3", "--disallowed-special", "none",
                                    "--stochastok", "0.1", dir + "/in.txt"])
            #expect(bare.status == 0 && bare.stdout == explicit.stdout && !bare.stdout.isEmpty)
            let piped = try run(["encode", "-m", r50k, "--seed", "3", "--disallowed-special", "none", "--stochastok"], stdin: text)
            #expect(piped.status == 0 && piped.out.split(separator: " ").count > 100)
            #expect(piped.stdout == (try run(["encode", "-m", r50k, "--seed", "3", "--disallowed-special", "none",
                                              "--stochastok", "0.1", "-"], stdin: text).stdout))
            #expect(try run(["encode", "-m", r50k, "--alpha", "0.1", "-"], stdin: []).status == 2)
            #expect(try run(["encode", "-m", r50k, "--dropout", "1.5", "-"], stdin: []).status == 2)
        }
    }

    @Test func sentencePieceModelsSampleAndConvert() throws {
        let unigram = fixture("sentencepiece/botchan_en_unigram_1000.model")
        let text = Array("I am the cat who lived in the garden of the house.".utf8)
        let plain = try run(["encode", "-m", unigram, "-"], stdin: text)
        #expect(plain.status == 0)
        let a = try run(["encode", "-m", unigram, "--alpha", "0.5", "--seed", "4", "--format", "json", "-"], stdin: text)
        let b = try run(["encode", "-m", unigram, "--alpha", "0.5", "--seed", "4", "--format", "json", "-"], stdin: text)
        #expect(a.status == 0 && a.stdout == b.stdout)
        let nb = try run(["encode", "-m", unigram, "--nbest", "4", "--seed", "4", "-"], stdin: text)
        #expect(nb.status == 0)
        // The flags sample: over a few seeds, segmentations other than the best one come up.
        for flags in [["--alpha", "0.5"], ["--nbest", "4"]] {
            var seen = Set<[UInt8]>()
            for seed in 1...8 { seen.insert(try run(["encode", "-m", unigram, "--seed", "\(seed)", "-"] + flags, stdin: text).stdout) }
            seen.remove(plain.stdout)
            #expect(!seen.isEmpty, "\(flags) gave only the best segmentation")
        }
        // Every sampled segmentation decodes to the same text as the best one.
        let best = try run(["decode", "-m", unigram], stdin: plain.stdout).stdout
        #expect(try run(["decode", "-m", unigram], stdin: a.stdout).stdout == best)
        #expect(try run(["decode", "-m", unigram], stdin: nb.stdout).stdout == best)
        try withTempDir { dir throws in
            #expect(try run(["convert", unigram, "-o", dir + "/copy.model"]).status == 0)
            #expect(try run(["encode", "-m", dir + "/copy.model", "-"], stdin: text).stdout == plain.stdout)
            #expect(try run(["convert", r50k, "-o", dir + "/x.model"]).status == 1)
        }
    }

    /// A SentencePiece BPE model converts to the tokenizer.json HF's own conversion makes (the
    /// fixture llama2-spm/tokenizer.json): the same vocabulary, merges in the same order,
    /// normalizer, decoder and added tokens; and the two encode alike.
    @Test func sentencePieceBPEConvertsAsHFDoes() throws {
        try withTempDir { dir throws in
            let r = try run(["convert", fixture("sentencepiece/llama2_tokenizer.model"), "-o", dir + "/l.json"])
            #expect(r.status == 0, "\(r.stderr)")
            func load(_ path: String) throws -> [String: Any] {
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            }
            let ours = try load(dir + "/l.json"), hf = try load(fixture("models/llama2-spm/tokenizer.json"))
            let (m1, m2) = (ours["model"] as! [String: Any], hf["model"] as! [String: Any])
            #expect((m1["merges"] as! [[String]]) == (m2["merges"] as! [[String]]))
            #expect((m1["vocab"] as! [String: Int]) == (m2["vocab"] as! [String: Int]))
            for key in ["normalizer", "decoder", "added_tokens"] {
                let a = try JSONSerialization.data(withJSONObject: ours[key]!, options: .sortedKeys)
                let b = try JSONSerialization.data(withJSONObject: hf[key]!, options: .sortedKeys)
                #expect(a == b, "\(key)")
            }
            let text = Array("Hello  world, naïve café 1234 \t tabs ʬ 漢字\n  indented".utf8)
            let viaModel = try run(["encode", "-m", fixture("sentencepiece/llama2_tokenizer.model"), "-"], stdin: text)
            let viaJSON = try run(["encode", "-m", dir + "/l.json", "-"], stdin: text)
            #expect(viaModel.status == 0 && viaModel.stdout == viaJSON.stdout)
        }
    }

    @Test func trainUnigramWritesModelAndTokenizerJSON() throws {
        let botchan = Array(try Data(contentsOf: URL(fileURLWithPath: fixture("sentencepiece/botchan.txt"))))
        let corpus = botchan.split(separator: 0x0A).prefix(1500)
        var text = Array(corpus.joined(separator: [0x0A]))
        // Indented lines, so that runs of spaces are common enough to become pieces.
        for i in 0..<200 { text += Array("\n        if x\(i % 9):  return   y".utf8) }
        let probe = Array("  I said,   \"so it is\"   and went home.\n        if x3:  return   y ünïcödé 漢字".utf8)
        try withTempDir { dir throws in
            try Data(text).write(to: URL(fileURLWithPath: dir + "/train.txt"))
            // Identity normalization: nmt_nfkc (the default) turns the newline into a space.
            let r = try run(["train", "unigram", "--vocab-size", "400", "--byte-fallback", "--no-remove-extra-whitespaces",
                             "--allow-whitespace-only-pieces", "--normalization", "identity", "-q", "-o", dir + "/u.model", "--json", dir + "/u.json", dir + "/train.txt"])
            #expect(r.status == 0, "\(r.stderr)")
            let viaModel = try run(["encode", "-m", dir + "/u.model", "--format", "pieces", "-"], stdin: probe)
            let viaJSON = try run(["encode", "-m", dir + "/u.json", "--format", "pieces", "-"], stdin: probe)
            #expect(viaModel.status == 0 && viaJSON.status == 0)
            #expect(viaModel.stdout == viaJSON.stdout)
            // A run of spaces is one piece, and the text comes back byte for byte.
            #expect(viaModel.out.contains("\u{2581}\u{2581}\u{2581}\u{2581}"), "\(viaModel.out)")
            let ids = try run(["encode", "-m", dir + "/u.model", "-"], stdin: probe).stdout
            #expect(try run(["decode", "-m", dir + "/u.model"], stdin: ids).stdout == probe)
            // convert writes the same tokenizer.json; -o x.json writes it directly.
            #expect(try run(["convert", dir + "/u.model", "-o", dir + "/c.json"]).status == 0)
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/u.json"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/c.json")) == a)
            // Default normalization folds extra spaces: both formats agree there too.
            #expect(try run(["train", "unigram", "--vocab-size", "300", "-q", "-o", dir + "/d.json", dir + "/train.txt"]).status == 0)
            #expect(try run(["train", "unigram", "--vocab-size", "300", "-q", "-o", dir + "/d.model", dir + "/train.txt"]).status == 0)
            // Line by line: a whole .model file without a newline piece is encoded a line at a time.
            let d1 = try run(["encode", "-m", dir + "/d.json", "--lines", "-"], stdin: probe)
            let d2 = try run(["encode", "-m", dir + "/d.model", "--lines", "-"], stdin: probe)
            #expect(d1.status == 0 && d1.stdout == d2.stdout)
            #expect(try run(["train", "unigram", "--max-sentence-length", "0", "-o", dir + "/e.model", dir + "/train.txt"]).status == 2)
            // Too large a vocabulary fails and names the way out; --no-hard-vocab-limit takes what there is.
            let big = try run(["train", "unigram", "--vocab-size", "100000", "-q", "-o", dir + "/b.model", dir + "/train.txt"])
            #expect(big.status == 1 && big.stderr.contains("--no-hard-vocab-limit"), "\(big.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/b.model"))
            #expect(try run(["train", "unigram", "--vocab-size", "100000", "--no-hard-vocab-limit", "-q", "-o", dir + "/b.model",
                             dir + "/train.txt"]).status == 0)
            // Another model's normalization (botchan's nmt_nfkc): fullwidth letters fold to ASCII.
            let nfkc = try run(["train", "unigram", "--vocab-size", "300", "-q", "--normalization-from",
                                fixture("sentencepiece/botchan_en_unigram_1000.model"), "-o", dir + "/n.model", dir + "/train.txt"])
            #expect(nfkc.status == 0, "\(nfkc.stderr)")
            let wide = try run(["encode", "-m", dir + "/n.model", "-"], stdin: Array("ｔｈｅ ｃａｔ".utf8)).stdout
            let narrow = try run(["encode", "-m", dir + "/n.model", "-"], stdin: Array("the cat".utf8)).stdout
            #expect(!wide.isEmpty && wide == narrow)
            let bad = try run(["train", "unigram", "--normalization-from", dir + "/train.txt", "-o", dir + "/f.model", dir + "/train.txt"])
            #expect(bad.status == 1 && bad.stderr.contains("train.txt"), "\(bad.stderr)")
        }
    }

    @Test func devicesAreWrittenInPlace() throws {
        let r = try run(["encode", "-m", r50k, "-o", "/dev/null", "-"], stdin: Array("hi".utf8))
        #expect(r.status == 0)
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func shardedCountingTrainsLikeTheText() throws {
        try withTempDir { dir throws in
            let text = try readFile(fixture("text/golden.txt"))
            try writeFileAtomically(dir + "/a.txt", text)
            #expect(try run(["count-words", "-q", "-o", dir + "/a.counts", dir + "/a.txt"]).status == 0)
            #expect(try run(["merge-counts", "-o", dir + "/all.counts", dir + "/a.counts", dir + "/a.counts"]).status == 0)
            // A copy cut inside its last line (which may still parse: "12\tZm9v" of "123\tZm9vYg==")
            // is truncated, whichever command reads it.
            let whole = try readFile(dir + "/a.counts")
            let cut = Array(whole.prefix(whole.count - 3))
            try writeFileAtomically(dir + "/cut.counts", cut)
            let line = cut.split(separator: 0x0A, omittingEmptySubsequences: false).count
            for args in [["merge-counts", "-o", "-", dir + "/cut.counts"],
                         ["train", "bpe", "-q", "--vocab-size", "300", "--from-counts", dir + "/cut.counts", "-o", dir + "/x.json"]] {
                let r = try run(args)
                #expect(r.status == 1 && r.stderr.contains("cut.counts: line \(line):") && r.stderr.contains("truncated"), "\(r.stderr)")
            }
            #expect(try run(["train", "bpe", "-q", "--vocab-size", "400", "--from-counts", dir + "/all.counts", "-o", dir + "/c.json"]).status == 0)
            // Training on the file twice counts exactly what the two summed shards hold.
            #expect(try run(["train", "bpe", "-q", "--vocab-size", "400", "-o", dir + "/t.json", dir + "/a.txt", dir + "/a.txt"]).status == 0)
            let viaCounts = try run(["encode", "-m", dir + "/c.json", dir + "/a.txt", "--format", "json"]).stdout
            let viaText = try run(["encode", "-m", dir + "/t.json", dir + "/a.txt", "--format", "json"]).stdout
            #expect(!viaCounts.isEmpty && viaCounts == viaText)
            #expect(try readFile(dir + "/c.json") == (try readFile(dir + "/t.json")))
            let mixed = try run(["train", "bpe", "-q", "--vocab-size", "400", "--pre-tokenizer", "cl100k",
                                 "--from-counts", dir + "/all.counts", "-o", dir + "/x.json"])
            #expect(mixed.status == 1 && mixed.stderr.contains("expected"))
        }
    }

    @Test func helpHasExamples() throws {
        let r = try run(["encode", "--help"])
        #expect(r.status == 0 && r.out.contains("Examples:"))
    }
}

/// The model cache from the command line: where entries go, `--no-cache`, `--cache-dir`.
@Suite struct ModelCacheCLITests {
    let cli = CLITests()

    func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".tkmodel") }
    }

    @Test func cacheFolderAndNoCache() throws {
        try withTempDir { dir in
            let model = fixture("models/r50k_base.tiktoken"), text = fixture("text/golden.txt")
            let args = ["encode", "-m", model, "--allowed-special", "all", text]
            let uncached = try cli.run(args + ["--no-cache"], environment: ["XDG_CACHE_HOME": dir])
            #expect(uncached.status == 0)
            #expect(!FileManager.default.fileExists(atPath: dir + "/tokenkit"))
            // --no-cache wins over --cache-dir: nothing is written anywhere.
            #expect(try cli.run(args + ["--no-cache", "--cache-dir", dir + "/c"]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: dir + "/c"))
            let filled = try cli.run(args + ["--load-timing"], environment: ["XDG_CACHE_HOME": dir])
            #expect(filled.stdout == uncached.stdout)
            #expect(filled.stderr.contains("(cache: written)"))
            #expect(entries(dir + "/tokenkit") == [SHA256.hex(try readFile(model)) + ".tkmodel"])
            let hit = try cli.run(args + ["--load-timing"], environment: ["XDG_CACHE_HOME": dir])
            #expect(hit.stdout == uncached.stdout)
            #expect(hit.stderr.contains("(cache: hit)"))
            // A damaged entry: the command still succeeds, with the same output, and repairs it.
            let entry = dir + "/tokenkit/" + entries(dir + "/tokenkit")[0]
            let good = try readFile(entry)
            try writeFileAtomically(entry, Array(good.prefix(good.count / 3)))
            let repaired = try cli.run(args + ["--load-timing"], environment: ["XDG_CACHE_HOME": dir])
            #expect(repaired.status == 0 && repaired.stdout == uncached.stdout)
            #expect(repaired.stderr.contains("(cache: rebuilt)"))
            #expect(try readFile(entry) == good)
            let custom = try cli.run(["count", "-m", model, "--allowed-special", "all", "--cache-dir", dir + "/c2", text])
            #expect(custom.status == 0 && entries(dir + "/c2").count == 1)
        }
    }
}
