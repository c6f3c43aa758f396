import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitFormats
import TokenKitCommands
import TokenKitSentencePiece

/// Issue 20: the options and defaults a user needs in the first hour.
@Suite struct EverydayTests {
    let cli = CLITests()
    let r50k = fixture("models/r50k_base.tiktoken")
    let botchan = fixture("sentencepiece/botchan_en_unigram_1000.model")
    let botchanBPE = fixture("sentencepiece/botchan_en_bpe_1000.model")
    let llama2 = fixture("sentencepiece/llama2_tokenizer.model")

    func golden() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(readFile(fixture("goldens/everyday.json")))) as! [String: Any]
    }

    func lines(_ r: CLITests.Run) -> [String] { r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

    // MARK: StochasTok's number of attempts

    @Test func expectedAttemptsAverageToPn() {
        var rng = SplitMix64(seed: 7)
        for (p, n) in [(0.1, 6), (0.1, 25), (0.3, 1), (0.05, 100)] {
            let draws = (0..<20_000).map { _ in StochasTok.attempts(p: p, n: n, count: .expected, using: &rng) }
            let x = p * Double(n)
            // Only the two integers around p·n, with mean p·n (4 standard errors at most 0.5/√20000).
            #expect(Set(draws).isSubset(of: [Int(x.rounded(.down)), Int(x.rounded(.down)) + 1]))
            let mean = Double(draws.reduce(0, +)) / Double(draws.count)
            #expect(abs(mean - x) < 4 * 0.5 / Double(draws.count).squareRoot(), "p=\(p) n=\(n): mean \(mean)")
            #expect(StochasTok.attempts(p: p, n: n, count: .floor, using: &rng) == Int(x))
        }
        // A whole p·n draws nothing: the same count either way.
        #expect(StochasTok.attempts(p: 0.5, n: 4, count: .expected, using: &rng) == 2)
    }

    @Test func shortLinesAreExpandedByDefault() throws {
        // Two tokens a line ("Hi", " there"), both splittable: 0.2 attempts a line on average.
        let text = Array(String(repeating: "Hi there\n", count: 2000).utf8)
        let plain = try cli.run(["encode", "-m", r50k, "--lines", "-"], stdin: text)
        let expected = try cli.run(["encode", "-m", r50k, "--lines", "--stochastok", "0.1", "--seed", "5", "-"], stdin: text)
        let floor = try cli.run(["encode", "-m", r50k, "--lines", "--stochastok", "0.1", "--stochastok-count", "floor", "--seed", "5", "-"],
                                stdin: text)
        #expect(plain.status == 0 && expected.status == 0 && floor.status == 0)
        #expect(floor.out == plain.out, "int(0.1 · 2) = 0 attempts: nothing changes")
        let changed = zip(lines(plain), lines(expected)).filter { $0 != $1 }.count
        // Binomial(2000, 0.2): mean 400, sd 18.
        #expect((320...480).contains(changed), "\(changed) of 2000 lines changed")
        #expect(try cli.run(["encode", "--help"]).out.contains("n counts a document's tokens with --lines"))
    }

    // MARK: seeds

    @Test func freshSeedByDefaultPrintedAndRepeatable() throws {
        let text = Array(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40).utf8)
        let a = try cli.run(["encode", "-m", r50k, "--stochastok", "0.3", "-"], stdin: text)
        let b = try cli.run(["encode", "-m", r50k, "--stochastok", "0.3", "-"], stdin: text)
        #expect(a.status == 0 && b.status == 0)
        #expect(a.out != b.out, "separate runs without --seed differ")
        let seed = try #require(a.stderr.split(separator: " ").firstIndex(of: "seed").map { a.stderr.split(separator: " ")[$0 + 1] })
        let again = try cli.run(["encode", "-m", r50k, "--stochastok", "0.3", "--seed", String(seed), "-"], stdin: text)
        #expect(again.out == a.out && again.stderr.isEmpty, "the printed seed repeats the run, and a given seed is not printed")
        #expect(try cli.run(["encode", "-q", "-m", r50k, "--stochastok", "0.3", "-"], stdin: text).stderr.isEmpty)
        // Deterministic runs print nothing.
        #expect(try cli.run(["encode", "-m", r50k, "-"], stdin: text).stderr.isEmpty)
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.txt", text)
            let r = try cli.run(["encode", "-m", r50k, "--stochastok", "0.3", "--format", "bin", "-o", dir + "/t.bin", dir + "/in.txt"])
            #expect(r.status == 0)
            let side = try JSONSerialization.jsonObject(with: Data(readFile(dir + "/t.bin.json"))) as! [String: Any]
            let printed = r.stderr.split(separator: " ")[2]
            #expect("\(side["seed"]!)" == printed)
            #expect(side["stochastok_count"] as? String == "expected")
        }
    }

    // MARK: SentencePiece line breaks

    @Test func sentencePieceWithoutNewlineEncodesLineByLine() throws {
        let text = Array("Hello world.\nSecond line here.\n\nThird.\n".utf8)
        for model in [botchan, botchanBPE] {
            let whole = try cli.run(["encode", "-m", model, "-"], stdin: text)
            let perLine = try cli.run(["encode", "-m", model, "--lines", "-"], stdin: text)
            #expect(whole.status == 0 && perLine.status == 0)
            #expect(whole.stderr.contains("each line is encoded as a sentence"))
            // The file's ids are its lines' ids (each as spm_encode gives them), in order.
            let joined = lines(perLine).filter { !$0.isEmpty }.joined(separator: " ")
            #expect(whole.out == joined + "\n")
            // No <unk> (id 0 in the botchan models) where the line breaks were.
            #expect(!whole.out.split(separator: " ").contains("0"))
        }
        // Llama 2 spells a line break with byte fallback: one sentence, lossless.
        let enc = try cli.run(["encode", "-m", llama2, "-"], stdin: text)
        #expect(enc.stderr.isEmpty && enc.out.split(separator: " ").contains("13"))  // <0x0A>
        #expect(try cli.run(["decode", "-m", llama2], stdin: enc.stdout).stdout == text)
    }

    // MARK: special tokens, separators

    @Test func addSpecialTokensUsesTheModelsPostProcessor() throws {
        let text = Array("Hello world".utf8)
        // Llama 2's tokenizer.json (TemplateProcessing "<s> $A") and its .model (BOS) agree.
        for model in [fixture("models/llama2-spm/tokenizer.json"), llama2] {
            let r = try cli.run(["encode", "-m", model, "--add-special-tokens", "-"], stdin: text)
            #expect(r.out == "1 15043 3186\n", "\(model)")
            #expect(try cli.run(["encode", "-m", model, "-"], stdin: text).out == "15043 3186\n")
        }
        // A Sequence of ByteLevel, RobertaProcessing and TemplateProcessing, against HF tokenizers.
        let g = try golden()["post_processor"] as! [String: Any]
        let processor = try JSONSerialization.data(withJSONObject: g["processor"]!)
        var json = try JSONSerialization.jsonObject(with: Data(readFile(fixture("models/qwen2.5/tokenizer.json")))) as! [String: Any]
        json["post_processor"] = try JSONSerialization.jsonObject(with: processor)
        try withTempDir { dir in
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
            let r = try cli.run(["encode", "-m", dir + "/tokenizer.json", "--add-special-tokens", "-"], stdin: Array((g["text"] as! String).utf8))
            #expect(r.out == (g["ids"] as! [Int]).map(String.init).joined(separator: " ") + "\n")
        }
        // BertProcessing: cls … sep.
        let bert = try Tokenizer.frame(JSON.parse(Array(#"{"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}"#.utf8)))
        #expect(bert.prefix == [101] && bert.suffix == [102])
        // A model that adds nothing (as HF's add_special_tokens=True there): same ids, and a note.
        let none = try cli.run(["encode", "-m", r50k, "--add-special-tokens", "-"], stdin: text)
        let plain = try cli.run(["encode", "-m", r50k, "-"], stdin: text)
        #expect(none.status == 0 && none.stdout == plain.stdout && none.stderr.contains("adds no special tokens"))
    }

    /// An output is never one of the run's inputs or another output, an unwritable output is
    /// refused before any work, and "-o -" is standard output for every command.
    @Test func outputsNeverReplaceInputs() throws {
        try withTempDir { dir in
            let text = dir + "/in.txt"
            try writeFileAtomically(text, Array("hello world, hello there\n".utf8))
            let same = try cli.run(["encode", "-m", r50k, "-o", text, text])
            #expect(same.status == 2 && same.stderr.contains("also an input"))
            #expect(try readFile(text) == Array("hello world, hello there\n".utf8))
            let twice = try cli.run(["train", "bpe", "--vocab-size", "260", "-q", "-o", dir + "/a.json", "--tiktoken", dir + "/a.json", text])
            #expect(twice.status == 2 && twice.stderr.contains("two outputs"))
            let missing = try cli.run(["train", "bpe", "--vocab-size", "260", "-q", "-o", dir + "/no/a.json", text])
            #expect(missing.status == 1 && missing.stderr.contains("cannot create output"))
            let stdout = try cli.run(["train", "bpe", "--vocab-size", "260", "-q", "-o", "-", text])
            #expect(stdout.status == 0 && stdout.out.contains("\"merges\"") && !fileExists("-"))
        }
    }

    /// Options that would be silently ignored, or read as "no limit", are usage errors.
    @Test func optionsThatWouldDoNothingAreRefused() throws {
        let dtype = try cli.run(["encode", "-m", r50k, "--dtype", "u16", "-"], stdin: Array("hi".utf8))
        #expect(dtype.status == 2 && dtype.stderr.contains("--dtype applies to --format bin"))
        for (args, message) in [(["--character-coverage", "0.9"], "--character-coverage applies"),
                                (["--max-token-length=-1"], "--max-token-length must be")] {
            let r = try cli.run(["train", "bpe", "--vocab-size", "300", "-o", "/dev/null"] + args + ["-"], stdin: Array("hi".utf8))
            #expect(r.status == 2 && r.stderr.contains(message), "\(r.stderr)")
        }
    }

    /// SentencePiece line mode keeps a CR before the line break, as spm_encode's getline does.
    @Test func spmLinesKeepCarriageReturns() throws {
        let tok = try TokenizerLoader.load(botchan)
        let r = try cli.run(["encode", "-m", botchan, "-q", "--format", "json", "-"], stdin: Array("I saw\r\nit\r\n".utf8))
        let want = try tok.encode("I saw\r") + tok.encode("it\r")
        #expect(r.status == 0 && r.out.filter { !$0.isWhitespace } == "[" + want.map(String.init).joined(separator: ",") + "]")
    }

    @Test func separatorBetweenDocumentsInBin() throws {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/a.txt", Array("Hello world".utf8))
            try writeFileAtomically(dir + "/b.txt", Array("Good bye".utf8))
            let r = try cli.run(["encode", "-m", r50k, "--format", "bin", "--separator", "<|endoftext|>", "-o", dir + "/o.bin",
                                 dir + "/a.txt", dir + "/b.txt"])
            #expect(r.status == 0, "\(r.stderr)")
            let bytes = try readFile(dir + "/o.bin")
            let ids = stride(from: 0, to: bytes.count, by: 2).map { Int(bytes[$0]) | Int(bytes[$0 + 1]) << 8 }
            #expect(ids == [15496, 995, 50256, 10248, 33847])
            let side = try JSONSerialization.jsonObject(with: Data(readFile(dir + "/o.bin.json"))) as! [String: Any]
            #expect(side["tokens"] as? Int == 5)
            // By id, and between lines too.
            let byID = try cli.run(["encode", "-m", r50k, "--format", "bin", "--separator", "50256", "--lines", "-o", dir + "/l.bin", "-"],
                                   stdin: Array("a\nb\n".utf8))
            #expect(byID.status == 0)
            #expect(try readFile(dir + "/l.bin") == [64, 0, 0x50, 0xC4, 65, 0])
        }
        #expect(try cli.run(["encode", "-m", r50k, "--separator", "<|endoftext|>", "-"], stdin: [0x61]).status == 2)
        #expect(try cli.run(["encode", "-m", r50k, "--format", "bin", "--separator", "<nope>", "-"], stdin: [0x61]).status == 2)
    }

    // MARK: n-best

    @Test func nbestListMatchesSentencePiece() throws {
        let cases = try golden()["nbest"] as! [[String: Any]]
        let n = cases[0]["n"] as! Int
        let text = Array(cases.map { $0["line"] as! String }.joined(separator: "\n").utf8) + [0x0A]
        let r = try cli.run(["encode", "-m", botchan, "--nbest", String(n), "--list", "--format", "json", "-"], stdin: text)
        #expect(r.status == 0, "\(r.stderr)")
        let got = try JSONSerialization.jsonObject(with: Data(r.stdout)) as! [[[Int]]]
        #expect(got == cases.map { $0["ids"] as! [[Int]] })
        // ids: one segmentation a line, best first.
        let ids = try cli.run(["encode", "-m", botchan, "--nbest", String(n), "--list", "-"], stdin: Array("Hello world.\n".utf8))
        #expect(lines(ids) == (cases[0]["ids"] as! [[Int]]).map { $0.map(String.init).joined(separator: " ") })
        // spm's -1: sample from all segmentations.
        let all = try cli.run(["encode", "-m", botchan, "--nbest", "-1", "--seed", "1", "-"], stdin: Array("Hello world.".utf8))
        #expect(all.status == 0)
        #expect(try cli.run(["decode", "-m", botchan], stdin: all.stdout).out == "Hello world.")
        #expect(try cli.run(["encode", "-m", r50k, "--nbest", "2", "--list", "-"], stdin: [0x61]).status == 2)
        #expect(try cli.run(["encode", "-m", botchan, "--list", "-"], stdin: [0x61]).status == 2)
    }

    // MARK: output shapes

    @Test func jsonShapeIsOneArrayPerDocument() throws {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/a.txt", Array("a\nb\n".utf8))
            try writeFileAtomically(dir + "/b.txt", Array("Hello".utf8))
            // One whole-file input: one array (the CLI contract).
            let one = try cli.run(["encode", "-m", r50k, "--format", "json", dir + "/b.txt"])
            #expect(try JSONSerialization.jsonObject(with: Data(one.stdout)) as? [Int] == [15496])
            // Several documents, files or lines: an array of arrays, one per document.
            let two = try cli.run(["encode", "-m", r50k, "--format", "json", dir + "/a.txt", dir + "/b.txt"])
            #expect(try JSONSerialization.jsonObject(with: Data(two.stdout)) as? [[Int]] == [[64, 198, 65, 198], [15496]])
            let lines = try cli.run(["encode", "-m", r50k, "--format", "json", "--lines", dir + "/a.txt"])
            #expect(try JSONSerialization.jsonObject(with: Data(lines.stdout)) as? [[Int]] == [[64], [65]])
        }
    }

    @Test func jsonlCarriesTheFileInBothModes() throws {
        try withTempDir { dir in
            try writeFileAtomically(dir + "/a.txt", Array("a\nb\n".utf8))
            for extra in [[], ["--lines"]] {
                let r = try cli.run(["encode", "-m", r50k, "--format", "jsonl"] + extra + [dir + "/a.txt"])
                for line in lines(r) {
                    let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                    #expect(obj["file"] as? String == dir + "/a.txt")
                }
            }
        }
    }

    /// Trains `dir/t.json` on two mixture fixtures; returns their paths.
    func trainMixtureTokenizer(_ dir: String) throws -> (de: String, py: String) {
        let de = fixture("mixture/lang_de.txt"), py = fixture("mixture/code_python.txt")
        #expect(try cli.run(["train", "bpe", "--vocab-size", "400", "-q", "-o", dir + "/t.json", de, py]).status == 0)
        return (de, py)
    }

    /// Trains as `trainMixtureTokenizer` and runs `mixture` on both fixtures with `options`.
    func mixture(_ dir: String, _ options: [String]) throws -> (CLITests.Run, de: String) {
        let (de, py) = try trainMixtureTokenizer(dir)
        let r = try cli.run(["mixture", "-q", "-m", dir + "/t.json", "--category", "de=" + de, "--category", "py=" + py] + options)
        #expect(r.status == 0, "\(r.stderr)")
        return (r, de)
    }

    /// `--time-limit`: a limit already past stops the solve after its first round (r50k against
    /// samples it was not trained on, with a short warm-up, needs several), with a warning and
    /// the gap in JSON; a generous limit changes nothing; non-positive limits are refused.
    @Test func mixtureTimeLimit() throws {
        func json(_ r: CLITests.Run) throws -> [String: Any] {
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONSerialization.jsonObject(with: Data(r.stdout)) as! [String: Any]
        }
        let cats = [("de", "lang_de"), ("py", "code_python"), ("ru", "lang_ru")].flatMap { ["--category", "\($0.0)=" + fixture("mixture/\($0.1).txt")] }
        let base = ["mixture", "-m", fixture("models/r50k_base.tiktoken"), "--merges", "300", "--warm-horizon", "10", "--blocks", "1", "--format", "json"] + cats
        let free = try json(cli.run(base + ["-q"]))
        let optimum = free["objective"] as! Double
        #expect(free["time_limit_reached"] as? Bool == false && free["relative_gap"] as? Double == 0)
        let r = try cli.run(base + ["--time-limit", "1e-9"])
        let cut = try json(r)
        #expect(cut["time_limit_reached"] as? Bool == true && r.stderr.contains("--time-limit reached"), "\(r.stderr)")
        let objective = cut["objective"] as! Double, gap = cut["relative_gap"] as! Double
        #expect(objective > optimum && gap > 0 && gap < 1 && objective * (1 - gap) <= optimum + 1e-9)
        #expect(abs((cut["proportions"] as! [String: Double]).values.reduce(0, +) - 1) < 1e-9)
        let generous = try json(cli.run(base + ["-q", "--time-limit", "3600"]))
        #expect(generous["proportions"] as! [String: Double] == free["proportions"] as! [String: Double])
        try withTempDir { dir in
            let (_, de) = try mixture(dir, [])
            try expectMixtureRefuses("time-limit", ["0", "-5", "inf", "nan"], dir: dir, de: de)
        }
    }

    func expectMixtureRefuses(_ option: String, _ values: [String], dir: String, de: String) throws {
        for bad in values {
            let e = try cli.run(["mixture", "-q", "-m", dir + "/t.json", "--" + option, bad, "--category", "de=" + de])
            #expect(e.status != 0 && e.stderr.contains(option), "\(bad): \(e.stderr)")
        }
    }

    @Test func tsvWhereverItIsListed() throws {
        try withTempDir { dir in
            let (de, py) = try trainMixtureTokenizer(dir)
            let r = try cli.run(["mixture", "-q", "-m", dir + "/t.json", "--category", "de=" + de, "--category", "py=" + py, "--format", "tsv"])
            #expect(r.status == 0, "\(r.stderr)")
            let rows = lines(r).map { $0.split(separator: "\t").map(String.init) }
            #expect(rows.first == ["category", "bytes_share", "pair_share", "sample_bytes"])
            #expect(rows.dropFirst().map { $0[0] } == ["de", "py"])
            let shares = rows.dropFirst().map { Double($0[1])! }
            #expect(abs(shares.reduce(0, +) - 1) < 1e-6)
            // The same numbers as JSON.
            let j = try cli.run(["mixture", "-q", "-m", dir + "/t.json", "--category", "de=" + de, "--category", "py=" + py, "--format", "json"])
            let obj = try JSONSerialization.jsonObject(with: Data(j.stdout)) as! [String: Any]
            let props = obj["proportions"] as! [String: Double]
            #expect(abs(props["de"]! - shares[0]) < 1e-6)
        }
        let info = try cli.run(["info", "--format", "tsv", fixture("models/qwen2.5/tokenizer.json")])
        let rows = lines(info).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        // Every row is key<TAB>value, special tokens included (their id in the key).
        #expect(rows.allSatisfy { $0.count == 2 }, "\(rows.filter { $0.count != 2 })")
        #expect(rows.contains(["normalizer", "NFC"]))
        #expect(rows.contains(["special_token.151644", "<|im_start|>"]))
        // Values are escaped (\\, \t, \n, \r): the pattern reads back as JSON gives it.
        let infoJSON = try JSONSerialization.jsonObject(with: Data(try cli.run(["info", "--format", "json", fixture("models/qwen2.5/tokenizer.json")]).stdout)) as! [String: Any]
        func unescape(_ s: String) -> String {
            var out = "", it = s.makeIterator()
            while let c = it.next() {
                guard c == "\\", let e = it.next() else { out.append(c); continue }
                out.append(["t": "\t", "n": "\n", "r": "\r"][e] ?? e)
            }
            return out
        }
        #expect(rows.first { $0[0] == "pre_tokenizer" }.map { unescape($0[1]) } == infoJSON["pre_tokenizer"] as? String)
        #expect(try cli.run(["mixture-eval", "--help"]).out.contains("tsv"))
    }

    /// `--sample-bytes` takes k/M/G suffixes and caps each sample (cut at a line end);
    /// `mixture-eval --pre-tokenizer` is for the HF trainer only.
    @Test func mixtureSampleBytesAndPreTokenizer() throws {
        try withTempDir { dir in
            let (r, de) = try mixture(dir, ["--sample-bytes", "20k", "--format", "tsv"])
            let bytes = lines(r).dropFirst().map { Int($0.split(separator: "\t")[3])! }
            #expect(bytes.count == 2 && bytes.allSatisfy { $0 > 19_000 && $0 <= 20_480 }, "\(bytes)")
            try expectMixtureRefuses("sample-bytes", ["20x", "-5", "0"], dir: dir, de: de)
        }
        let e = try cli.run(["mixture-eval", "--category", "a=a.txt", "--category", "b=b.txt", "--pre-tokenizer", "cl100k"])
        #expect(e.status != 0 && e.stderr.contains("--trainer hf"))
        let f = try cli.run(["mixture-eval", "--category", "a=a.txt", "--category", "b=b.txt", "--trainer", "hf", "--pre-tokenizer", "bert"])
        #expect(f.status != 0 && f.stderr.contains("pre-tokenizer"))
    }

    /// `--blocks K`: JSON gives each category's block weights (at most K, summing to 1); the
    /// shares still sum to 1; 16 is the default, 1 the paper's model without blocks;
    /// out-of-range values are refused by name.
    @Test func mixtureBlocks() throws {
        try withTempDir { dir in
            let (j, de) = try mixture(dir, ["--blocks", "2", "--format", "json"])
            let obj = try JSONSerialization.jsonObject(with: Data(j.stdout)) as! [String: Any]
            let props = obj["proportions"] as! [String: Double]
            #expect(abs(props.values.reduce(0, +) - 1) < 1e-6)
            let weights = try #require(obj["block_weights"] as? [String: [Double]])
            #expect(Set(weights.keys) == ["de", "py"])
            #expect(weights.values.allSatisfy { $0.count == 2 && abs($0.reduce(0, +) - 1) < 1e-6 }, "\(weights)")
            let py = "py=" + fixture("mixture/code_python.txt")
            let plain = try cli.run(["mixture", "-q", "-m", dir + "/t.json", "--category", "de=" + de, "--format", "json", "--category", py, "--blocks", "1"])
            #expect(plain.status == 0 && !plain.out.contains("block_weights"), "\(plain.stderr)")
            // The default is 16 blocks of at least 64 KiB: three for each 150 KB fixture.
            let byDefault = try cli.run(["mixture", "-q", "-m", dir + "/t.json", "--category", "de=" + de, "--format", "json", "--category", py])
            let defaultWeights = try #require(try JSONSerialization.jsonObject(with: Data(byDefault.stdout)) as? [String: Any])["block_weights"]
            #expect((defaultWeights as? [String: [Double]])?.values.map(\.count) == [3, 3], "\(byDefault.stdout)")
            try expectMixtureRefuses("blocks", ["0", "257", "x"], dir: dir, de: de)
        }
    }

    @Test func infoSpellsLikeTokenizerJSONAndCountsMergesAlike() throws {
        let llama = try cli.run(["info", fixture("models/llama2-spm/tokenizer.json")])
        #expect(llama.out.contains("normalizer    Sequence[Prepend, Replace]\n"))
        #expect(!llama.out.contains("TokenKitText"))
        // r50k: 50,000 merges in the rank file and in its tokenizer.json alike.
        let ranks = try cli.run(["info", "--format", "json", r50k])
        try withTempDir { dir in
            #expect(try cli.run(["convert", r50k, "-o", dir + "/r50k.json"]).status == 0)
            let json = try cli.run(["info", "--format", "json", dir + "/r50k.json"])
            let a = try JSONSerialization.jsonObject(with: Data(ranks.stdout)) as! [String: Any]
            let b = try JSONSerialization.jsonObject(with: Data(json.stdout)) as! [String: Any]
            #expect(a["merges"] as? Int == 50_000 && b["merges"] as? Int == 50_000)
        }
    }

    @Test func sizeSuffixes() throws {
        #expect(TokenKitCommandSupport.expand(["train", "bpe", "--vocab-size", "8k", "--merges=2M", "x"])
                == ["train", "bpe", "--vocab-size", "8192", "--merges=2097152", "x"])
        // Only sizes: a file named 8k stays.
        #expect(TokenKitCommandSupport.expand(["count", "-m", "m", "8k"]) == ["count", "-m", "m", "8k"])
        try withTempDir { dir in
            let r = try cli.run(["train", "bpe", "--vocab-size", "1k", "-q", "-o", dir + "/t.json", fixture("sentencepiece/botchan.txt")])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try cli.run(["info", dir + "/t.json"]).out.contains("vocab_size    1024\n"))
        }
    }

    @Test func convertRefusesUnknownNamesAndKeepsSpecials() throws {
        try withTempDir { dir in
            let r = try cli.run(["convert", r50k, "-o", dir + "/x.txt"])
            #expect(r.status == 2 && r.stderr.contains("--to"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.txt"))
            #expect(try cli.run(["convert", r50k, "-o", dir + "/x.txt", "--to", "tiktoken"]).status == 0)
            let q = try cli.run(["convert", fixture("models/qwen2.5/tokenizer.json"), "-o", dir + "/q.tiktoken"])
            #expect(q.status == 0 && q.stderr.contains("q.tiktoken.json"))
            let side = try JSONSerialization.jsonObject(with: Data(readFile(dir + "/q.tiktoken.json"))) as! [String: Any]
            let specials = side["special_tokens"] as! [String: Int]
            #expect(specials.count == 22 && specials["<|im_end|>"] == 151645)
        }
    }

    @Test func premiumUnknownLanguageIsAnError() throws {
        let corpus = fixture("parallel/udhr")
        let r = try cli.run(["premium", "-q", "--corpus", corpus, "-m", r50k, "--languages", "eng,rus,zzz"])
        #expect(r.status == 1 && r.stderr.contains("zzz"))
        #expect(try cli.run(["premium", "-q", "--corpus", corpus, "-m", r50k, "--languages", "eng,rus"]).status == 0)
    }

    @Test func decodeRecognisesBin() throws {
        let text = Array("Hello world, some text\n".utf8)
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.txt", text)
            for model in [r50k, fixture("models/qwen2.5/tokenizer.json")] {
                #expect(try cli.run(["encode", "-m", model, "--format", "bin", "-o", dir + "/o.bin", dir + "/in.txt"]).status == 0)
                // From the sidecar.
                #expect(try cli.run(["decode", "-m", model, dir + "/o.bin"]).stdout == text)
                // From the bytes alone (stdin, no sidecar).
                #expect(try cli.run(["decode", "-m", model], stdin: readFile(dir + "/o.bin")).stdout == text)
            }
            // Text ids are still text.
            #expect(try cli.run(["decode", "-m", r50k], stdin: Array("15496 995\n".utf8)).out == "Hello world")
        }
    }

    // MARK: help

    @Test func helpExamplesStayOnOneLine() throws {
        for command in [[], ["encode"], ["decode"], ["count"], ["info"], ["convert"], ["train", "bpe"], ["train", "unigram"],
                        ["mixture"], ["mixture-eval"], ["premium"]] {
            let help = try cli.run(command + ["--help"])
            #expect(help.status == 0)
            let all = lines(help)
            let examples = all.indices.filter { all[$0].hasPrefix("  tokenkit ") || all[$0].contains("| tokenkit ") }
            #expect(!examples.isEmpty, "\(command)")
            for i in examples {
                // Whole: not continued with a backslash, and the next line is not its cut-off tail
                // (examples are followed by an empty line or another indented line).
                #expect(!all[i].hasSuffix("\\"), "\(all[i])")
                #expect(i + 1 == all.count || all[i + 1].isEmpty || all[i + 1].hasPrefix("  "), "\(command): \(all[i + 1])")
            }
            // Prose is wrapped at 80 columns (the screen width without a terminal).
            for line in lines(help) where !line.hasPrefix(" ") && !line.hasPrefix("USAGE:") {
                #expect(line.count <= 80, "\(command): \(line)")
            }
        }
        let encode = try cli.run(["encode", "--help"]).out
        #expect(encode.contains("  tokenkit encode -m tokenizer.json --stochastok 0.1 --seed 1 --epochs 3 --format bin -o train.bin corpus.txt\n"))
        // --threads names its default once.
        let threads = try #require(encode.range(of: "  --threads <n>"))
        let after = encode[threads.lowerBound...].prefix(200)
        #expect(after.components(separatedBy: "default").count == 2, "\(after)")
    }

    // MARK: folders

    @Test func foldersAsInputsAndModels() throws {
        try withTempDir { dir in
            try FileManager.default.createDirectory(atPath: dir + "/docs/sub", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/docs/.git", withIntermediateDirectories: true)
            try writeFileAtomically(dir + "/docs/b.md", Array("Good bye".utf8))
            try writeFileAtomically(dir + "/docs/sub/a.md", Array("Hello world".utf8))
            try writeFileAtomically(dir + "/docs/sub/c.txt", Array("text".utf8))
            try writeFileAtomically(dir + "/docs/.git/HEAD", Array("ref".utf8))
            try writeFileAtomically(dir + "/docs/.hidden.md", Array("hidden".utf8))
            // Every file under the folder, sorted, hidden ones left out.
            let all = try cli.run(["encode", "-m", r50k, "--format", "jsonl", dir + "/docs"])
            let files = try lines(all).map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.map { $0["file"] as! String }
            #expect(files == ["b.md", "sub/a.md", "sub/c.txt"].map { dir + "/docs/" + $0 })
            // --include matches names; a glob with / matches the path under the folder.
            let md = try cli.run(["count", "-m", r50k, "--include", "*.md", "--format", "tsv", dir + "/docs/"])
            #expect(lines(md).dropFirst().map { String($0.split(separator: "\t")[0]) } == [dir + "/docs/b.md", dir + "/docs/sub/a.md", "total"])
            let sub = try cli.run(["count", "-m", r50k, "--include", "sub/*", "--format", "tsv", dir + "/docs"])
            #expect(lines(sub).count == 4)
            #expect(try cli.run(["count", "-m", r50k, "--include", "*.rst", dir + "/docs"]).status == 1)
            // A link to a file is listed; a link to a folder is not followed (no loops).
            try FileManager.default.createSymbolicLink(atPath: dir + "/docs/sub/link.md", withDestinationPath: dir + "/docs/b.md")
            try FileManager.default.createSymbolicLink(atPath: dir + "/docs/sub/loop", withDestinationPath: dir + "/docs")
            let linked = try cli.run(["count", "-m", r50k, "--include", "*.md", "--format", "tsv", dir + "/docs"])
            #expect(lines(linked).dropFirst().map { String($0.split(separator: "\t")[0]) }
                    == ["b.md", "sub/a.md", "sub/link.md"].map { dir + "/docs/" + $0 } + ["total"])
            // TSV escapes a tab in a file name.
            try writeFileAtomically(dir + "/docs/sub/t\tab.md", Array("x".utf8))
            let tab = try cli.run(["count", "-m", r50k, "--include", "t*", "--format", "tsv", dir + "/docs"])
            #expect(lines(tab).dropFirst().first?.hasPrefix(dir + "/docs/sub/t\\tab.md\t") == true, "\(tab.out)")
            // A name that is not UTF-8 is an error naming the folder, not a file silently skipped.
            let bad = Array((dir + "/docs/sub/").utf8) + [0x62, 0xFF, 0x2E, 0x6D, 0x64, 0]
            let fd = bad.withUnsafeBufferPointer { $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bad.count) { open($0, O_CREAT | O_WRONLY, 0o644) } }
            #expect(fd >= 0)
            close(fd)
            let refused = try cli.run(["count", "-m", r50k, dir + "/docs"])
            #expect(refused.status == 1 && refused.stderr.contains("not UTF-8") && refused.stderr.contains(dir + "/docs/sub"), "\(refused.stderr)")
            let missing = try cli.run(["count", "-m", r50k, dir + "/b\u{FFFD}.md"])
            #expect(missing.status == 1 && missing.stderr.contains("not UTF-8"), "\(missing.stderr)")
            _ = bad.withUnsafeBufferPointer { $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bad.count) { unlink($0) } }
            try FileManager.default.removeItem(atPath: dir + "/docs/sub/link.md")
            try FileManager.default.removeItem(atPath: dir + "/docs/sub/loop")
            try FileManager.default.removeItem(atPath: dir + "/docs/sub/t\tab.md")
            // -m FOLDER: tokenizer.json, or vocab.json + merges.txt, inside it.
            try FileManager.default.createDirectory(atPath: dir + "/model", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: fixture("models/qwen2.5/tokenizer.json"), toPath: dir + "/model/tokenizer.json")
            let viaFolder = try cli.run(["encode", "-m", dir + "/model", "-"], stdin: Array("Hello world".utf8))
            #expect(viaFolder.out == "9707 1879\n")
            #expect(try cli.run(["info", dir + "/model"]).out.contains("name          model\n"))
            try FileManager.default.createDirectory(atPath: dir + "/spm", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: llama2, toPath: dir + "/spm/llama.model")
            #expect(try cli.run(["encode", "-m", dir + "/spm", "-"], stdin: Array("Hello world".utf8)).out == "15043 3186\n")
            let empty = try cli.run(["encode", "-m", dir + "/docs/sub", "-"], stdin: [0x61])
            #expect(empty.status == 1 && empty.stderr.contains("tokenizer.json"))
        }
    }

    @Test func binRefusedOnATerminal() throws {
        // util-linux `script` gives the command a terminal for stdout; -e passes its exit code on.
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"))
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.txt", Array("Hello".utf8))
            let command = "\(CLITests.binary) encode --no-cache -m \(r50k) --format bin \(dir)/in.txt"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            p.arguments = ["-qec", command, "/dev/null"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 2 && text.contains("give -o FILE"), "\(text)")
        }
        // Not a terminal: written as asked.
        #expect(try cli.run(["encode", "-m", r50k, "--format", "bin", "-"], stdin: Array("Hello".utf8)).stdout == [0x88, 0x3C])
    }

    @Test func unigramTokenizerJSONConvertsBackToModel() throws {
        let text = fixture("text/golden.txt")
        try withTempDir { dir in
            for name in ["botchan_en_unigram_1000", "kyoto_ja_unigram_8000"] {
                let original = fixture("sentencepiece/\(name).model")
                #expect(try cli.run(["convert", original, "-o", dir + "/t.json"]).status == 0)
                let back = try cli.run(["convert", dir + "/t.json", "-o", dir + "/back.model"])
                #expect(back.status == 0, "\(back.stderr)")
                // The same pieces, scores and types, hence the same ids line by line.
                let a = try SentencePieceModel.parse(readFile(original)), b = try SentencePieceModel.parse(readFile(dir + "/back.model"))
                #expect(a.pieces.count == b.pieces.count)
                #expect(zip(a.pieces, b.pieces).allSatisfy { $0.bytes == $1.bytes && $0.score == $1.score && $0.type == $1.type })
                #expect(a.normalizerSpec.precompiledCharsmap == b.normalizerSpec.precompiledCharsmap)
                #expect(a.bosID == b.bosID && a.eosID == b.eosID && a.unkID == b.unkID)
                let ids = try cli.run(["encode", "-m", original, "--lines", text])
                #expect(try cli.run(["encode", "-m", dir + "/back.model", "--lines", text]).out == ids.out)
            }
            // One that tokenkit trained straight to tokenizer.json converts to the .model the same
            // training writes (the trainer is deterministic).
            let corpus = fixture("sentencepiece/botchan.txt")
            #expect(try cli.run(["train", "unigram", "--vocab-size", "300", "-q", "-o", dir + "/u.json", corpus]).status == 0)
            #expect(try cli.run(["train", "unigram", "--vocab-size", "300", "-q", "-o", dir + "/direct.model", corpus]).status == 0)
            #expect(try cli.run(["convert", dir + "/u.json", "-o", dir + "/u.model"]).status == 0)
            let direct = try cli.run(["encode", "-m", dir + "/direct.model", "--lines", text])
            #expect(try cli.run(["encode", "-m", dir + "/u.model", "--lines", text]).out == direct.out)
            // A BPE tokenizer.json is not a .model.
            #expect(try cli.run(["convert", fixture("models/qwen2.5/tokenizer.json"), "-o", dir + "/q.model"]).status == 1)
        }
    }
}
