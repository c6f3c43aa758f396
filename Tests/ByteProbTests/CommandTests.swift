import Foundation
import Testing
import TokenKitCore
import TestSupport

/// The byteprob, train lm and inspect commands through the built `tokenkit` binary.
@Suite struct CommandTests {
    func run(_ args: [String]) throws -> CLIRun { try runTokenkit(args) }

    let r50k = fixture("models/r50k_base.tiktoken")

    /// Train a small LM, then: next (JSON sums to 1), score (byte-level ≤ canonical bits), heal,
    /// sample (deterministic for a seed), and the usage errors.
    @Test func endToEnd() throws {
        let dir = NSTemporaryDirectory() + "tokenkit-bp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lm = dir + "/lm.arpa"
        var r = try run(["train", "lm", "-q", "-m", r50k, "--order", "3", "--document-separator", "\\n", "-o", lm, fixture("sentencepiece/botchan.txt")])
        #expect(r.status == 0, "\(r.err)")
        r = try run(["byteprob", "next", "-m", r50k, "--lm", lm, "--prompt", "I went to the sch", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let dist = obj["distribution"] as! [String: Double]
        let total = dist.values.reduce(0, +) + (obj["end"] as! Double)
        #expect(abs(total - 1) < 1e-9)
        // Mid-token prompt: "sch" + "o" (school) is by far the likeliest byte.
        #expect(dist[String(UInt8(ascii: "o"))]! > 0.5)

        let text = dir + "/t.txt"
        try Array("It was a fine day.\n\nI went to school.".utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: text)) }
        r = try run(["byteprob", "score", "-m", r50k, "--lm", lm, "--document-separator", "\\n\\n", "--format", "json", text])
        #expect(r.status == 0, "\(r.err)")
        let s = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect((s["byte_bits_per_byte"] as! Double) <= (s["canonical_bits_per_byte"] as! Double) + 1e-12)
        for d in s["per_document"] as! [[String: Any]] {
            #expect((d["byte_bits_per_byte"] as! Double) <= (d["canonical_bits_per_byte"] as! Double) + 1e-12)
        }

        #expect(s["encodings"] as? String == "all")
        // The canonical covers give nearly the same figure (the LM puts little mass elsewhere).
        r = try run(["byteprob", "score", "-m", r50k, "--lm", lm, "--encodings", "canonical", "--document-separator", "\\n\\n", "--format", "json", text])
        #expect(r.status == 0, "\(r.err)")
        let c = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(c["encodings"] as? String == "canonical")
        #expect((c["byte_bits_per_byte"] as! Double) <= (c["canonical_bits_per_byte"] as! Double) + 1e-12)
        #expect(abs((c["byte_bits_per_byte"] as! Double) - (s["byte_bits_per_byte"] as! Double)) < 0.05)

        r = try run(["byteprob", "heal", "-m", r50k, "--lm", lm, "--prompt", "I went to the sch", "--max-bytes", "4", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let h = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect((h["exact"] as! String).hasPrefix("o"))

        let a = try run(["byteprob", "sample", "-q", "-m", r50k, "--lm", lm, "--seed", "4", "--max-bytes", "12", "--prompt", "The "])
        let b = try run(["byteprob", "sample", "-q", "-m", r50k, "--lm", lm, "--seed", "4", "--max-bytes", "12", "--prompt", "The "])
        #expect(a.status == 0 && a.out == b.out && a.out.hasPrefix("The "))

        r = try run(["byteprob", "ensemble", "-m", r50k, "--lm", lm, "-m", r50k, "--lm", lm, "--prompt", "the ", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        // Sampling with --format json is JSON too, the same bytes as the text output.
        let ens = ["byteprob", "ensemble", "-m", r50k, "--lm", lm, "-m", r50k, "--lm", lm, "--prompt", "The ", "--max-bytes", "12", "--seed", "2"]
        let raw = try run(ens), js = try run(ens + ["--format", "json"])
        #expect(raw.status == 0 && js.status == 0, "\(js.err)")
        let e = try JSONSerialization.jsonObject(with: Data(js.out.utf8)) as! [String: Any]
        #expect(e["prompt"] as? String == "The " && "The " + (e["sampled"] as! String) == raw.out && e["bytes"] as? Int == raw.stdout.count - 4)

        // Usage errors: no LM; train lm without -m.
        #expect(try run(["byteprob", "next", "-m", r50k, "--prompt", "x"]).status == 2)
        // Every encoding needs the n-gram's finite contexts; --exact is a canonical-covers switch.
        #expect(try run(["byteprob", "next", "-m", r50k, "--lm-command", "cat", "--encodings", "all", "--prompt", "x"]).status == 2)
        #expect(try run(["byteprob", "next", "-m", r50k, "--lm", lm, "--encodings", "all", "--exact", "--prompt", "x"]).status == 2)
        #expect(try run(["train", "lm", "--order", "3", "-o", dir + "/x.arpa", text]).status == 2)
        // Bad input: an ARPA file that is not one.
        #expect(try run(["byteprob", "next", "-m", r50k, "--lm", text, "--prompt", "x"]).status == 1)
    }

    @Test func inspectReport() throws {
        let r = try run(["inspect", "-m", r50k, "-m", fixture("models/cl100k_base.tiktoken"), "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let vocabs = obj["vocabularies"] as! [[String: Any]]
        #expect(vocabs.count == 2)
        // GPT-2's vocabulary has tokens that are parts of UTF-8 characters, and most tokens
        // start with a space.
        #expect((vocabs[0]["partial_characters"] as! [Any]).count > 100)
        #expect((vocabs[0]["leading_space"] as! Int) > 25_000)
        let overlap = obj["overlap"] as! [String: Int]
        #expect(overlap["shared"]! > 40_000)
        let html = try run(["inspect", "-m", r50k, "--format", "html"])
        #expect(html.status == 0 && html.out.contains("<html>"))
    }

    /// Every model kind gets a report. Pieces that only occur inside words (WordPiece "##",
    /// SentencePiece pieces without "▁", the lone "▁") are not called unreachable, while Llama 2's
    /// byte token for the space (a space is always "▁") is.
    @Test func inspectAnyModelKind() throws {
        func report(_ path: String) throws -> [String: Any] {
            let r = try run(["inspect", "-m", fixture(path), "--format", "json"])
            #expect(r.status == 0, "\(path): \(r.err)")
            let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            return (obj["vocabularies"] as! [[String: Any]])[0]
        }
        func unreachable(_ v: [String: Any]) -> [Int] { (v["unreachable"] as! [[String: Any]]).map { $0["id"] as! Int } }
        for path in ["sentencepiece/botchan_en_unigram_1000.model", "sentencepiece/kyoto_ja_unigram_8000.model",
                     "models/botchan-unigram/tokenizer.json", "models/wordpiece-bert"] {
            let v = try report(path)
            #expect(unreachable(v).isEmpty, "\(path): \(unreachable(v))")
            #expect((v["model_tokens"] as! Int) > 900)
        }
        // The tokenizer.json conversion reads its pieces as the .model does: same leading spaces.
        #expect(try report("models/botchan-unigram/tokenizer.json")["leading_space"] as! Int > 500)
        let llama = try report("sentencepiece/llama2_tokenizer.model")
        #expect(unreachable(llama) == [35])
        #expect(unreachable(try report("models/llama2-spm/tokenizer.json")) == [35])
    }
}
