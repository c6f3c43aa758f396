import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats

/// Commands run through the built binary with their outputs checked against the reference
/// libraries' numbers (issue 18: premium and mixture had no run of their own, GPT-2's two
/// files no golden, and the uint32 bin output no check of its bytes).
@Suite struct CommandOutputTests {
    let cli = CLITests()
    let r50k = fixture("models/r50k_base.tiktoken")

    func json(_ r: CLITests.Run) throws -> [String: Any] {
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout)) as! [String: Any]
    }

    /// `premium` with two models: the token counts are tiktoken's and HF tokenizers' (the
    /// golden of Scripts/make_premium_golden.py), premiums are ratios to English.
    @Test func premiumCountsEqualTheLibraries() throws {
        struct Golden: Decodable {
            struct Model: Decodable { let model: String; let tokens: [String: Int] }
            let models: [Model]
        }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: fixture("goldens/premium-udhr.json"))))
        let models = ["models/r50k_base.tiktoken", "models/qwen2.5/tokenizer.json"]
        let langs = ["eng", "spa", "tha", "mya"]
        let r = try cli.run(["premium", "-q", "--corpus", fixture("parallel/udhr"), "--languages", langs.joined(separator: ","),
                             "--format", "json"] + models.flatMap { ["-m", fixture($0)] })
        let rows = try json(r)["rows"] as! [[String: Any]]
        #expect(rows.count == langs.count * models.count)
        for (k, model) in models.enumerated() {
            let want = try #require(golden.models.first { $0.model == model }).tokens
            let name = k == 0 ? "r50k_base.tiktoken" : "qwen2.5"
            let mine = rows.filter { $0["tokenizer"] as? String == name }
            #expect(mine.count == langs.count, "\(name): \(rows.map { $0["tokenizer"] ?? "" })")
            for row in mine {
                let lang = row["language"] as! String
                #expect(row["tokens"] as? Int == want[lang], "\(name) \(lang)")
                let premium = try #require(row["premium"] as? Double)
                #expect(abs(premium - Double(want[lang]!) / Double(want["eng"]!)) < 1e-3, "\(name) \(lang)")
            }
        }
        // Text output lists every language for both models.
        let text = try cli.run(["premium", "-q", "--corpus", fixture("parallel/udhr"), "--languages", "eng,tha"] + models.flatMap { ["-m", fixture($0)] })
        #expect(text.status == 0 && text.out.contains("Premiums per tokenizer (pivot eng)"), "\(text.stderr)")
        // A pivot the corpus lacks is said before anything is measured or written.
        try withTempDir { dir in
            let r = try cli.run(["premium", "-q", "--corpus", fixture("parallel/udhr"), "--pivot", "xxx", "-o", dir + "/p.txt", "-m", fixture(models[0])])
            #expect(r.status == 1 && r.stderr.contains("pivot xxx is not in the corpus") && !fileExists(dir + "/p.txt"), "\(r.stderr)")
        }
    }

    /// `mixture` on a tokenizer trained on a known mix of two samples, inferred from the same
    /// samples: the pair counts it replays are the trainer's, so the shares come back closely.
    @Test func mixtureRecoversAKnownMix() throws {
        try withTempDir { dir in
            let de = Array(try readFile(fixture("mixture/lang_de.txt")).prefix(60_000))
            let ru = Array(try readFile(fixture("mixture/lang_ru.txt")).prefix(20_000))
            try writeFileAtomically(dir + "/de.txt", de)
            try writeFileAtomically(dir + "/ru.txt", ru)
            let train = try cli.run(["train", "bpe", "--vocab-size", "556", "-q", "-o", dir + "/t.json", dir + "/de.txt", dir + "/ru.txt"])
            #expect(train.status == 0, "\(train.stderr)")
            let r = try cli.run(["mixture", "-q", "-m", dir + "/t.json", "--category", "de=\(dir)/de.txt", "--category", "ru=\(dir)/ru.txt",
                                 "--merges", "300", "--format", "json"])
            let shares = try json(r)["proportions"] as! [String: Double]
            let truth = Double(de.count) / Double(de.count + ru.count)
            #expect(abs(shares["de"]! - truth) < 0.02, "de share \(shares["de"]!), truth \(truth)")
            #expect(abs(shares["de"]! + shares["ru"]! - 1) < 1e-9)
        }
    }

    /// GPT-2's vocab.json + merges.txt (a small pair trained by HF tokenizers): the ids of HF
    /// tokenizers reading the same two files (Scripts/make_gpt2_files_golden.py), given as the
    /// file or as the folder, and decode gives the text back.
    @Test func gpt2VocabAndMergesMatchHF() throws {
        let golden = try Golden.load("gpt2-files")
        #expect(golden.cases.count > 30)
        for path in [fixture("models/gpt2-files/vocab.json"), fixture("models/gpt2-files")] {
            let tok = try TokenizerLoader.load(path)
            for c in golden.cases {
                let ids = try tok.encode(Array(c.text.utf8), policy: .huggingFace)
                #expect(ids == c.ids, "\(c.name) \(c.text.prefix(40).debugDescription)")
                #expect(try tok.decode(ids) == Array(c.text.utf8), "\(c.name)")
            }
        }
    }

    /// `--dtype u32` writes 4 little-endian bytes per id: the ids `encode` prints.
    @Test func uint32BinHoldsTheIds() throws {
        try withTempDir { dir in
            let text = Array("Hello world, again and again.".utf8)
            try writeFileAtomically(dir + "/in.txt", text)
            let ids = try cli.run(["encode", "-m", r50k, dir + "/in.txt"]).out.split(separator: " ").map { UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
            #expect(ids.count > 3)
            let enc = try cli.run(["encode", "-m", r50k, "--format", "bin", "--dtype", "u32", "-o", dir + "/x.bin", dir + "/in.txt"])
            #expect(enc.status == 0, "\(enc.stderr)")
            let bytes = try readFile(dir + "/x.bin")
            #expect(bytes.count == 4 * ids.count)
            var read: [UInt32] = []
            for i in stride(from: 0, to: bytes.count, by: 4) {
                var v: UInt32 = 0
                for k in (0..<4).reversed() { v = v << 8 | UInt32(bytes[i + k]) }
                read.append(v)
            }
            #expect(read == ids)
        }
    }

    /// `train unigram` normalizes as spm_train by default (nmt_nfkc): full-width letters and an
    /// ideographic space encode as their plain forms; `--normalization identity` keeps them apart.
    @Test func trainUnigramDefaultsToNmtNfkc() throws {
        try withTempDir { dir in
            let lines = try readFile(fixture("sentencepiece/botchan.txt")).split(separator: 0x0A).prefix(800)
            try writeFileAtomically(dir + "/train.txt", Array(lines.joined(separator: [0x0A])))
            func ids(_ model: String, _ text: String) throws -> String {
                try cli.run(["encode", "-m", model, "-"], stdin: Array(text.utf8)).out
            }
            for (norm, same) in [([String](), true), (["--normalization", "identity"], false)] {
                let r = try cli.run(["train", "unigram", "--vocab-size", "300", "-q", "-o", dir + "/u.model", dir + "/train.txt"] + norm)
                #expect(r.status == 0, "\(r.stderr)")
                let plain = try ids(dir + "/u.model", "the cat sat")
                #expect(!plain.isEmpty)
                #expect((try ids(dir + "/u.model", "ｔｈｅ\u{3000}ｃａｔ sat") == plain) == same, "\(norm)")
            }
        }
    }
}
