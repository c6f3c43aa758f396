import Foundation
import Testing
import TokenKitCore
import TokenKitCommands

/// Hostile and careless command lines and output targets, through the built binary (issue 18).
@Suite struct HardeningCLITests {
    let cli = CLITests()
    let r50k = fixture("models/r50k_base.tiktoken")

    func run(_ args: [String], stdin: [UInt8]? = nil) throws -> CLITests.Run { try cli.run(args, stdin: stdin) }

    func write(_ path: String, _ text: String) throws { try writeFileAtomically(path, Array(text.utf8)) }

    @Test func absurdThreadCountIsAUsageError() throws {
        let r = try run(["count", "-m", r50k, "--threads", "4611686018427387904", "-"], stdin: Array("hi".utf8))
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("--threads"))
    }

    /// A long run of invalid UTF-8 (a Latin-1 file) through an ICU split regex: each bad byte is
    /// a piece of its own (it used to recurse once per byte and overflow the stack), and the
    /// bytes come back on decode.
    @Test func invalidUTF8RunsThroughARegexSplit() throws {
        let line: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF, 0x0A]  // "café \xFF\n" in Latin-1
        let latin1 = Array([[UInt8]](repeating: line, count: 20_000).joined())
        let bad = [UInt8](repeating: 0xFF, count: 150_000) + latin1
        let r = try run(["count", "-m", r50k, "--pattern", "a|b", "--format", "tsv", "-"], stdin: bad)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.out.contains("\t\(bad.count)\t"), "\(r.out)")
        let ids = try run(["encode", "-m", r50k, "--pattern", "\\p{L}+|[^\\p{L}]+", "-"], stdin: latin1)
        #expect(ids.status == 0, "\(ids.stderr)")
        #expect(try run(["decode", "-m", r50k, "-"], stdin: ids.stdout).stdout == latin1)
    }

    /// An empty --pattern is named as such (ICU's own error had a meaningless offset), and `info`
    /// shows a pattern's line breaks escaped, one fact per line.
    @Test func emptyPatternAndEscapedInfo() throws {
        let r = try run(["encode", "-m", r50k, "--pattern", "", "-"], stdin: Array("x".utf8))
        #expect(r.status != 0 && r.stderr.contains("empty") && !r.stderr.contains("offset"), "\(r.stderr)")
        try withTempDir { dir in
            try write(dir + "/x.tiktoken", String(decoding: try readFile(r50k), as: UTF8.self))
            let info = try run(["info", "--pattern", "[\r\n]+|\\p{L}+", dir + "/x.tiktoken"])
            #expect(info.status == 0 && info.out.contains("pre_tokenizer [\\r\\n]+|"), "\(info.out)")
        }
    }

    @Test func catastrophicRegexIsReportedNotRunForever() throws {
        let clock = ContinuousClock()
        let t0 = clock.now
        let text = Array((String(repeating: "a", count: 40) + "b\n").utf8)
        let r = try run(["encode", "-m", r50k, "--pattern", "(a+)+$", "-"], stdin: text)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("(a+)+$"))
        #expect(clock.now - t0 < .seconds(60))
    }

    @Test func catastrophicReplaceNormalizerIsReported() throws {
        try withTempDir { dir in
            let normalizer = #"{"type": "Replace", "pattern": {"Regex": "(x+x+)+y"}, "content": "z"}"#
            var json = byteLevelJSON()
            json = json.replacingOccurrences(of: #""normalizer": null"#, with: #""normalizer": \#(normalizer)"#)
            try write(dir + "/tokenizer.json", json)
            let r = try run(["encode", "-m", dir + "/tokenizer.json", "-"], stdin: Array((String(repeating: "x", count: 40) + "\n").utf8))
            #expect(r.status == 1, "\(r.stderr)")
            #expect(r.stderr.contains("(x+x+)+y"))
        }
    }

    @Test func mergeCountsOverflowIsAnError() throws {
        try withTempDir { dir in
            let word = Data("ab".utf8).base64EncodedString()
            for name in ["a", "b"] {
                try write("\(dir)/\(name).counts", "#tokenkit-word-counts 1 x\n\(Int64.max - 1)\t\(word)\n")
            }
            let r = try run(["merge-counts", "-o", dir + "/all.counts", dir + "/a.counts", dir + "/b.counts"])
            #expect(r.status == 1, "\(r.stderr)")
            #expect(r.stderr.contains("b.counts") && r.stderr.contains("64 bits"))
            #expect(!fileExists(dir + "/all.counts"))
            let t = try run(["train", "bpe", "--vocab-size", "260", "-q", "-o", dir + "/t.json", "--from-counts", dir + "/a.counts", dir + "/b.counts"])
            #expect(t.status == 1, "\(t.stderr)")
        }
    }

    @Test func unigramVocabularyTooSmallForItsCharactersIsAnError() throws {
        try withTempDir { dir in
            // 400 distinct CJK characters, each often enough that coverage needs them all.
            var lines: [String] = []
            for k in 0..<40 {
                lines.append(String((0..<400).map { Character(Unicode.Scalar(0x4E00 + ($0 * 7 + k) % 400)!) }))
            }
            try write(dir + "/in.txt", lines.joined(separator: "\n") + "\n")
            let r = try run(["train", "unigram", "--vocab-size", "300", "--threads", "1", "-q", "-o", dir + "/u.model", dir + "/in.txt"])
            #expect(r.status != 0, "exit 0 with a model larger than --vocab-size")
            #expect(r.stderr.contains("--vocab-size"), "\(r.stderr)")
            #expect(!fileExists(dir + "/u.model"))
        }
    }

    @Test func decodeIsStrictAboutJSON() throws {
        let truncated = try run(["decode", "-m", r50k], stdin: Array("[9906, 1917".utf8))
        #expect(truncated.status == 1, "\(truncated.out)")
        #expect(truncated.stderr.contains("line 1"))
        let junk = try run(["decode", "-m", r50k], stdin: Array("[9906, x1917]".utf8))
        #expect(junk.status == 1)
        let plainJunk = try run(["decode", "-m", r50k], stdin: Array("9906 19x17\n".utf8))
        #expect(plainJunk.status == 1)
        // A field after "ids" is valid JSONL.
        let jsonl = "{\"ids\": [15496, 995], \"file\": \"a.txt\"}\n{\"file\": \"b\", \"ids\": [0]}\n"
        let ok = try run(["decode", "-m", r50k, "--lines"], stdin: Array(jsonl.utf8))
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.out == "Hello world\n!\n")
        let nested = try run(["decode", "-m", r50k, "--lines"], stdin: Array("[[15496], [995]]".utf8))
        #expect(nested.out == "Hello\n world\n")
    }

    @Test func uint32BinAgainstSmallVocabularyIsCaught() throws {
        try withTempDir { dir in
            let text = Array("Hello world, again and again.".utf8)
            try writeFileAtomically(dir + "/in.txt", text)
            let enc = try run(["encode", "-m", r50k, "--format", "bin", "--dtype", "u32", "-o", dir + "/x.bin", dir + "/in.txt"])
            #expect(enc.status == 0, "\(enc.stderr)")
            // With the sidecar, auto picks uint32.
            let viaSidecar = try run(["decode", "-m", r50k, "--format", "bin", dir + "/x.bin"])
            #expect(viaSidecar.stdout == text, "\(viaSidecar.stderr)")
            let contradict = try run(["decode", "-m", r50k, "--format", "bin", "--dtype", "u16", dir + "/x.bin"])
            #expect(contradict.status == 2)
            // Without it, the zero high halves give it away.
            try FileManager.default.removeItem(atPath: dir + "/x.bin.json")
            let bare = try run(["decode", "-m", r50k, "--format", "bin", dir + "/x.bin"])
            #expect(bare.status == 1, "\(bare.out)")
            #expect(bare.stderr.contains("u32"))
            let explicit = try run(["decode", "-m", r50k, "--format", "bin", "--dtype", "u32", dir + "/x.bin"])
            #expect(explicit.stdout == text)
        }
    }

    @Test func oneModelOnly() throws {
        for command in ["count", "encode", "decode"] {
            let r = try run([command, "-m", r50k, "-m", r50k, "--model", r50k, "-"], stdin: Array("1".utf8))
            #expect(r.status == 2, "\(command): \(r.stderr)")
        }
    }

    @Test func badOptionValuesAreUsageErrors() throws {
        let text = Array("hi".utf8)
        let alpha = try run(["encode", "-m", fixture("sentencepiece/botchan_en_unigram_1000.model"), "--alpha", "nan", "-"], stdin: text)
        #expect(alpha.status == 2 && alpha.stderr.contains("--alpha"))
        let bogus = try run(["encode", "-m", r50k, "--allowed-special", "bogus", "-"], stdin: text)
        #expect(bogus.status == 2 && bogus.stderr.contains("bogus"))
        let known = try run(["encode", "-m", r50k, "--allowed-special", "<|endoftext|>", "-"], stdin: Array("a<|endoftext|>".utf8))
        #expect(known.out == "64 50256\n", "\(known.stderr)")
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.txt", text)
            let twice = try run(["train", "bpe", "--vocab-size", "300", "--special-tokens", "<a>,<a>", "-q", "-o", dir + "/t.json", dir + "/in.txt"])
            #expect(twice.status == 2 && twice.stderr.contains("<a>"), "\(twice.stderr)")
        }
    }

    /// Negative counts and sizes past what the type or the machine holds are usage errors
    /// naming the option and its range (they trapped: prefix(-1), 256 + T, 1.1 × Int.max).
    @Test func outOfRangeNumbersAreUsageErrors() throws {
        try withTempDir { dir in
            let text = dir + "/t.txt", arpa = dir + "/lm.arpa"
            try write(text, "the cat sat on the mat\nthe dog sat on the log\n")
            #expect(try run(["train", "lm", "-q", "-m", r50k, "--order", "2", "-o", arpa, text]).status == 0)
            let lm = ["-m", r50k, "--lm", arpa]
            let huge = "9223372036854775807", tera = "1099511627776"
            let cases: [(args: [String], flag: String, range: String)] = [
                (["inspect", "-m", r50k, "--examples=-1"], "--examples", "between 0 and 10000"),
                (["byteprob", "next"] + lm + ["--prompt", "ab", "--top=-1"], "--top", "between 0 and 256"),
                (["byteprob", "ensemble"] + lm + lm + ["--prompt", "ab", "--top=-1"], "--top", "between 0 and 256"),
                (["byteprob", "ensemble"] + lm + lm + ["--max-bytes=-1"], "--max-bytes", "at least 0"),
                (["byteprob", "sample"] + lm + ["--max-bytes=-1"], "--max-bytes", "at least 0"),
                (["byteprob", "heal"] + lm + ["--prompt", "ab", "--max-bytes=-1"], "--max-bytes", "at least 0"),
                (["byteprob", "score"] + lm + ["--threads", huge, text], "--threads", "between 1 and 4096"),
                (["train", "unigram", "-q", "--vocab-size", "100", "-o", dir + "/u.model", text, "--max-piece-length", tera],
                 "--max-piece-length", "between 1 and 512"),
                (["train", "unigram", "-q", "--vocab-size", "100", "-o", dir + "/u.model", text, "--max-sentence-length", tera],
                 "--max-sentence-length", "between 10 and 1073741824"),
                (["train", "unigram", "-q", "-o", dir + "/u.model", text, "--vocab-size", huge], "--vocab-size", "between 1 and 2147483647"),
                (["train", "bpe", "-q", "-o", dir + "/b.json", text, "--vocab-size", tera], "--vocab-size", "between 1 and 2147483647"),
                (["train", "bytespan", "-q", "-o", dir + "/b.json", text, "--vocab-size", tera], "--vocab-size", "between 1 and 2147483647"),
                (["train", "superbpe", "-q", "-o", dir + "/b.json", text, "--transition", "10", "--vocab-size", tera], "--vocab-size", "between 1 and 2147483647"),
                (["train", "superbpe", "-q", "--vocab-size", "300", "-o", dir + "/s.json", text, "--transition", huge],
                 "--transition", "must not exceed --vocab-size 300"),
                (["mixture", "-q", "-m", r50k, "--category", "a=" + text, "--category", "b=" + text, "--sample-bytes", huge],
                 "--sample-bytes", "between 1 and 1048576G"),
                (["mixture-eval", "-q", "--category", "a=" + text, "--category", "b=" + text, "--mix", "2", "--train-bytes", tera],
                 "--train-bytes", "between 1 and "),
                (["mixture-eval", "-q", "--category", "a=" + text, "--category", "b=" + text, "--mix", "2", "--sample-bytes", "2000000G"],
                 "--sample-bytes", "between 1 and 1048576G"),
            ]
            for c in cases {
                let r = try run(c.args)
                #expect(r.status == 2, "\(c.args): \(r.stderr)")
                #expect(r.stderr.contains(c.flag) && r.stderr.contains(c.range), "\(c.args): \(r.stderr)")
            }
            #expect(!fileExists(dir + "/u.model") && !fileExists(dir + "/s.json"))
        }
        // The size suffixes, shared by every size option: G too, and no overflow past Int.max.
        #expect(TokenKitCommandSupport.expand(["--vocab-size", "1G"]) == ["--vocab-size", "1073741824"])
        #expect(TokenKitCommandSupport.expand(["--merges=8k"]) == ["--merges=8192"])
        #expect(TokenKitCommandSupport.expand(["--vocab-size", "9999999999999999G"]) == ["--vocab-size", "9999999999999999G"])
    }

    /// Files given in the wrong place are named for what they are, and messages name the file
    /// at fault.
    @Test func misplacedFilesAreNamed() throws {
        try withTempDir { dir in
            let text = dir + "/t.txt", arpa = dir + "/lm.arpa"
            try write(text, "the cat sat on the mat\n")
            #expect(try run(["train", "lm", "-q", "-m", r50k, "--order", "2", "-o", arpa, text]).status == 0)
            #expect(try run(["train", "lm", "-q", "--bytes", "--order", "2", "-o", dir + "/b.bytelm", text]).status == 0)
            #expect(try run(["count-words", "-q", "-o", dir + "/w.counts", text]).status == 0)
            try write(dir + "/junk.bin", "\nnot a model at all\n")
            for (file, what) in [(arpa, "not a tokenizer: looks like an ARPA language model"), (dir + "/b.bytelm", "not a tokenizer: a tokenkit byte LM"),
                                 (dir + "/w.counts", "not a tokenizer: a tokenkit word-count file"),
                                 (dir + "/junk.bin", "unrecognised model format (expected tokenizer.json, tiktoken ranks, tekken.json, a GPT-2 vocab.json, a BERT vocab.txt, an RWKV vocabulary, a SentencePiece .model or a GGUF file)")] {
                let r = try run(["info", file])
                #expect(r.status == 1 && r.stderr.contains("\(file): \(what)"), "\(r.stderr)")
            }
            #expect(try run(["--help"]).out.contains("SentencePiece .model"))
            // A folder as a category sample.
            try FileManager.default.createDirectory(atPath: dir + "/cat", withIntermediateDirectories: false)
            let mixture = try run(["mixture", "-q", "-m", r50k, "--category", "a=" + dir + "/cat", "--category", "b=" + text])
            #expect(mixture.status == 1 && mixture.stderr.contains(dir + "/cat: is a directory, not a file"), "\(mixture.stderr)")
            // Invalid UTF-8 that a SentencePiece model refuses: the text is at fault, not the model.
            try writeFileAtomically(dir + "/bad.txt", [0xFF, 0x61, 0x0A])
            let model = fixture("sentencepiece/botchan_en_unigram_1000.model")
            let evaluate = try run(["evaluate", "--text", dir + "/bad.txt", "-m", model])
            #expect(evaluate.status == 1 && evaluate.stderr.contains("error: \(dir)/bad.txt: encoding with \(model): invalid UTF-8"), "\(evaluate.stderr)")
            // Grammar in the ARPA reader's message.
            try write(dir + "/bad.arpa", "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\nabc\t5\n\n\\end\\\n")
            let bad = try run(["byteprob", "next", "-m", r50k, "--lm", dir + "/bad.arpa", "--prompt", "a"])
            #expect(bad.status == 1 && bad.stderr.contains("1 word and an optional backoff"), "\(bad.stderr)")
        }
    }

    @Test func premiumRefusesAFolderNamedLikeALanguageFile() throws {
        try withTempDir { dir in
            try write(dir + "/eng.txt", "Hello world.\nGood morning.\n")
            try FileManager.default.createDirectory(atPath: dir + "/fra.txt", withIntermediateDirectories: false)
            let r = try run(["premium", "--corpus", dir, "-m", r50k])
            #expect(r.status == 1, "\(r.out)")
            #expect(r.stderr.contains("fra.txt"))
        }
    }

    // MARK: Output safety

    @Test func replacedOutputKeepsItsModeAndSymlink() throws {
        try withTempDir { dir in
            try write(dir + "/in.txt", "Hello")
            try write(dir + "/out.txt", "old")
            chmod(dir + "/out.txt", 0o600)
            #expect(try run(["encode", "-m", r50k, "-o", dir + "/out.txt", dir + "/in.txt"]).status == 0)
            var st = stat()
            stat(dir + "/out.txt", &st)
            #expect(st.st_mode & 0o777 == 0o600)
            #expect(try String(contentsOfFile: dir + "/out.txt", encoding: .utf8) == "15496\n")

            try write(dir + "/real.txt", "old")
            try FileManager.default.createSymbolicLink(atPath: dir + "/link.txt", withDestinationPath: "real.txt")
            #expect(try run(["encode", "-m", r50k, "-o", dir + "/link.txt", dir + "/in.txt"]).status == 0)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link.txt") == "real.txt")
            #expect(try String(contentsOfFile: dir + "/real.txt", encoding: .utf8) == "15496\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["in.txt", "link.txt", "out.txt", "real.txt"])
        }
    }

    @Test func noSidecarBesideADevice() throws {
        let r = try run(["encode", "-m", r50k, "--format", "bin", "-o", "/dev/null", "-"], stdin: Array("hi".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!fileExists("/dev/null.json"))
    }

    @Test func failedSecondOutputLeavesTheFirstUntouched() throws {
        try withTempDir { dir in
            try write(dir + "/in.txt", "low lower lowest\n")
            try write(dir + "/tok.json", "old")
            let r = try run(["train", "bpe", "--vocab-size", "260", "-q", "-o", dir + "/tok.json",
                             "--tiktoken", dir + "/missing/dir/x.tiktoken", dir + "/in.txt"])
            #expect(r.status == 1)
            #expect(try String(contentsOfFile: dir + "/tok.json", encoding: .utf8) == "old")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["in.txt", "tok.json"])
        }
    }

    @Test func plantedSymlinkAtTheOldTemporaryNameIsNotFollowed() throws {
        try withTempDir { dir in
            try write(dir + "/in.txt", "Hello")
            try write(dir + "/victim.txt", "precious")
            // The old scheme's name was .NAME.PID.tmp; plant links for a range of pids.
            for pid in 1..<4000 {
                try? FileManager.default.createSymbolicLink(atPath: "\(dir)/.out.txt.\(pid).tmp", withDestinationPath: dir + "/victim.txt")
            }
            #expect(try run(["encode", "-m", r50k, "-o", dir + "/out.txt", dir + "/in.txt"]).status == 0)
            #expect(try String(contentsOfFile: dir + "/victim.txt", encoding: .utf8) == "precious")
            #expect(try String(contentsOfFile: dir + "/out.txt", encoding: .utf8) == "15496\n")
        }
    }

    @Test func interruptedRunLeavesNoTemporary() throws {
        try withTempDir { dir in
            for sig in [SIGTERM, SIGINT, SIGHUP] {
                // Input from a pipe that stays open: the run is mid-way, its temporary written to.
                let p = Process()
                p.executableURL = URL(fileURLWithPath: CLITests.binary)
                p.arguments = ["encode", "-m", r50k, "-o", dir + "/out.txt", "-"]
                p.environment = ProcessInfo.processInfo.environment.merging(["XDG_CACHE_HOME": CLITests.cacheHome]) { $1 }  // not ~/.cache
                let input = Pipe()
                p.standardInput = input
                p.standardError = FileHandle.nullDevice
                try p.run()
                input.fileHandleForWriting.write(Data(String(repeating: "Some text to encode.\n", count: 100_000).utf8))
                var sawTemp = false
                for _ in 0..<400 {
                    sawTemp = (try FileManager.default.contentsOfDirectory(atPath: dir)).contains { $0.hasPrefix(".out.txt") }
                    if sawTemp { break }
                    usleep(25_000)
                }
                kill(p.processIdentifier, sig)
                p.waitUntilExit()
                try? input.fileHandleForWriting.close()
                #expect(sawTemp)
                #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == sig)
                #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
            }
        }
    }
}
