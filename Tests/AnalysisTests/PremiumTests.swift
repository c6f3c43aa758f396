import Foundation
import Testing
import TokenKitAnalysis

/// The repository's Fixtures folder (tests never read outside the repository).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixture(_ relative: String) -> String { fixtures + "/" + relative }

/// The reference counts of Scripts/make_premium_golden.py (tiktoken 0.12, tokenizers 0.22).
struct PremiumGolden: Decodable {
    struct Model: Decodable {
        let name: String
        let model: String
        let library: String
        let tokens: [String: Int]
    }
    let corpus: String
    let lines: [String: Int]
    let models: [Model]

    static let shared: PremiumGolden = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: fixture("goldens/premium-udhr.json")))
        return try! JSONDecoder().decode(PremiumGolden.self, from: data)
    }()
}

/// Tokenizers loaded once per process.
final class Loaded: @unchecked Sendable {
    static let shared = Loaded()
    private var cache: [String: MeasuredTokenizer] = [:]
    private let lock = NSLock()

    func get(_ relative: String) throws -> MeasuredTokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let t = cache[relative] { return t }
        let t = try MeasuredTokenizer.load([fixture(relative)])[0]
        cache[relative] = t
        return t
    }
}

let udhr = fixture("parallel/udhr")
let r50k = "models/r50k_base.tiktoken"
let llama2 = "models/llama2-spm/tokenizer.json"
let qwen = "models/qwen2.5/tokenizer.json"

func analyse(_ corpus: ParallelCorpus, _ models: [String], threads: Int = 1,
             configure: (inout PremiumAnalysis.Options) -> Void = { _ in }) throws -> PremiumReport {
    var options = PremiumAnalysis.Options()
    options.threads = threads
    configure(&options)
    return try PremiumAnalysis(options: options).run(corpus: corpus, tokenizers: try models.map { try Loaded.shared.get($0) })
}

/// A temporary folder with the given files, removed afterwards.
@discardableResult
func withFiles<T>(_ files: [String: [UInt8]], _ body: (String) throws -> T) throws -> T {
    let dir = NSTemporaryDirectory() + "tokenkit-premium-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
    return try body(dir)
}

@Suite struct PremiumGoldenTests {
    /// Per-language counts equal the reference libraries' on every fixture model.
    @Test func countsEqualReferenceLibraries() throws {
        let golden = PremiumGolden.shared
        let corpus = try ParallelCorpus.load(udhr)
        #expect(corpus.problems.isEmpty)
        #expect(Set(corpus.languages.map(\.code)) == Set(golden.lines.keys))
        for l in corpus.languages { #expect(l.lineCount == golden.lines[l.code]) }
        let report = try analyse(corpus, golden.models.map(\.model), threads: 2)
        for (t, model) in golden.models.enumerated() {
            for (lang, expected) in model.tokens {
                let row = report.rows.first { $0.language == lang && $0.tokenizerIndex == t }
                #expect(row?.tokens == expected, "\(model.name) \(lang) (\(model.library))")
            }
        }
        // Only the English-only and Japanese-only SentencePiece models meet unknown characters.
        #expect(report.problems.allSatisfy { $0.message.contains("are unknown") && $0.file!.contains("_unigram_") }, "\(report.problems)")
    }

    /// The premium is the ratio of the counts when every line is aligned; the pivot is 1.
    @Test func premiumsAreCountRatios() throws {
        let golden = PremiumGolden.shared
        let report = try analyse(try ParallelCorpus.load(udhr), golden.models.map(\.model))
        for (t, model) in golden.models.enumerated() {
            let eng = Double(model.tokens["eng"]!)
            for (lang, n) in model.tokens {
                let row = try #require(report.rows.first { $0.language == lang && $0.tokenizerIndex == t })
                #expect(row.alignedLines == 30)
                if row.blanked { #expect(row.premium == nil && row.unknownRate! > 0.1); continue }
                #expect(abs(row.premium! - Double(n) / eng) < 1e-12)
            }
            let s = report.tokenizers[t]
            if s.blanked > 0 { continue }
            #expect(s.languages == model.tokens.count - 1, "the pivot is left out of the summary")
            let others = model.tokens.filter { $0.key != "eng" }.map { Double($0.value) / eng }
            #expect(abs(s.mean! - others.reduce(0, +) / Double(others.count)) < 1e-9)
            #expect(abs(s.max!.premium - others.max()!) < 1e-12)
            #expect(s.worst.count == 5)
            #expect(zip(s.worst, s.worst.dropFirst()).allSatisfy { $0.premium >= $1.premium })
        }
    }

    /// SentencePiece models that do not know a script give unknown tokens; above 10 % the pair is blanked.
    @Test func sentencePieceUnknownsBlank() throws {
        let corpus = try ParallelCorpus.load(udhr)
        let report = try analyse(corpus, ["sentencepiece/botchan_en_unigram_1000.model", "sentencepiece/llama2_tokenizer.model"])
        let botchan = report.rows.filter { $0.tokenizerIndex == 0 }
        #expect(botchan.first { $0.language == "eng" }!.blanked == false)
        for code in ["tha", "jpn", "khm", "amh"] {
            let r = botchan.first { $0.language == code }!
            #expect(r.blanked && r.premium == nil && r.unknownRate! > 0.1, "\(code)")
        }
        #expect(report.tokenizers[0].blanked > 4)
        // Llama 2's .model has byte fallback: no unknowns, the same counts as its tokenizer.json.
        let llama = report.rows.filter { $0.tokenizerIndex == 1 }
        #expect(llama.allSatisfy { $0.unknown == 0 && !$0.blanked })
        #expect(report.tokenizers[1].name == "llama2_tokenizer.model")
        let json = try analyse(corpus, [llama2])
        #expect(llama.map(\.tokens) == json.rows.map(\.tokens))
        #expect(llama.map(\.byteFallback) == json.rows.map(\.byteFallback))
        #expect(llama.map(\.continuedWords) == json.rows.map(\.continuedWords))
    }

    /// Any thread count gives the same rows.
    @Test func threadsDoNotChangeResults() throws {
        let corpus = try ParallelCorpus.load(udhr)
        let a = try analyse(corpus, [r50k, llama2, qwen], threads: 1)
        let b = try analyse(corpus, [r50k, llama2, qwen], threads: 3)
        #expect(a.rows.count == b.rows.count)
        for (x, y) in zip(a.rows, b.rows) {
            #expect(x.language == y.language && x.tokenizer == y.tokenizer)
            #expect(x.tokens == y.tokens && x.lineTokens == y.lineTokens)
            #expect(x.continuedWords == y.continuedWords && x.surfaceWords == y.surfaceWords)
            #expect(x.renyiEfficiency == y.renyiEfficiency)
        }
    }

    /// A TSV with one column per language gives the same counts as the folder.
    @Test func tsvCorpusEqualsFolder() throws {
        let codes = ["eng", "tha", "cmn_hans"]
        let folder = try ParallelCorpus.load(udhr, only: codes)
        var tsv = codes.joined(separator: "\t") + "\n"
        for i in 0..<30 {
            tsv += codes.map { c in
                let l = folder.language(c)!
                return String(decoding: l.text[l.lines[i]], as: UTF8.self)
            }.joined(separator: "\t") + "\n"
        }
        try withFiles(["corpus.tsv": Array(tsv.utf8)]) { dir in
            let fromTSV = try ParallelCorpus.load(dir + "/corpus.tsv")
            #expect(fromTSV.languages.map(\.code) == codes)
            let a = try analyse(folder, [r50k, llama2]), b = try analyse(fromTSV, [r50k, llama2])
            #expect(a.rows.map(\.tokens) == b.rows.map(\.tokens))
            #expect(a.rows.map(\.premium) == b.rows.map(\.premium))
        }
    }
}

@Suite struct MetricTests {
    /// ICU finds words in scripts written without spaces.
    @Test func wordsInScriptsWithoutSpaces() throws {
        let corpus = try ParallelCorpus.load(udhr)
        let report = try analyse(corpus, [r50k])
        for code in ["tha", "cmn_hans", "jpn", "khm", "mya"] {
            let l = corpus.language(code)!
            let spaced = l.text.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A }).count
            let words = try #require(report.rows.first { $0.language == code }?.words)
            #expect(words > 2 * spaced, "\(code): \(words) ICU words, \(spaced) space-separated chunks")
        }
        // English words are about the space-separated ones.
        let eng = corpus.language("eng")!
        let spaced = eng.text.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A }).count
        let words = try #require(report.rows.first { $0.language == "eng" }?.words)
        #expect(abs(words - spaced) < spaced / 10)
    }

    /// Fertility and continued words on text whose tokens are known.
    @Test func fertilityAndContinuedWords() throws {
        let text = "hello world\nthe incomprehensibilities\n"
        try withFiles(["eng.txt": Array(text.utf8)]) { dir in
            let report = try analyse(try ParallelCorpus.load(dir), [r50k, llama2])
            let gpt = try #require(report.rows.first { $0.tokenizerIndex == 0 })
            let tok = try Loaded.shared.get(r50k).tokenizer
            let n = try tok.encode("hello world").count + tok.encode("the incomprehensibilities").count
            #expect(gpt.tokens == n)
            #expect(gpt.words == 4)
            #expect(gpt.fertility == Double(n) / 4)
            // "hello", " world", " the" are single tokens; "incomprehensibilities" is not.
            #expect(gpt.continuedWords == 1)
            #expect(gpt.surfaceWords == 4)
            // Llama 2's tokens spell "▁hello▁world": the words are found on that text.
            let spm = try #require(report.rows.first { $0.tokenizerIndex == 1 })
            #expect(spm.surfaceWords == 4)
            #expect(spm.continuedWords == 1)
            #expect(spm.unknownRate == 0 && spm.byteFallbackRate == 0)
        }
    }

    /// Byte-fallback tokens: SentencePiece <0xNN> tokens, byte-level tokens that are not whole characters.
    @Test func byteFallbackRates() throws {
        let text = "𓀀𓀁\n"  // Egyptian hieroglyphs: in neither vocabulary
        try withFiles(["eng.txt": Array(text.utf8)]) { dir in
            let report = try analyse(try ParallelCorpus.load(dir), [r50k, llama2])
            // r50k: 8 byte tokens; Llama 2: "▁" then 8 <0xNN> tokens.
            let gpt = report.rows[0], spm = report.rows[1]
            #expect(gpt.tokens == 8 && gpt.byteFallback == 8 && gpt.byteFallbackRate == 1)
            #expect(spm.tokens == 9 && spm.byteFallback == 8 && spm.unknown == 0)
        }
    }

    /// Reference values of tokenization-scorer's tests (Zouhar et al.), |V| = observed types.
    @Test func renyiEfficiencyReference() {
        // "pick @@ed pick @@l @@ed pick @@les" → counts 3, 2, 1, 1.
        #expect(abs(renyiEfficiency(counts: [3, 2, 1, 1], alpha: 2.5, vocabularySize: 4)! - 0.826506) < 1e-6)
        // "pick @@e @@d pick @@l @@e @@d pick @@l @@e @@s" → counts 3, 3, 2, 2, 1 over 5 types.
        #expect(abs(renyiEfficiency(counts: [3, 3, 2, 2, 1], alpha: 2.5, vocabularySize: 5)! - 0.920484) < 1e-6)
        // Uniform over the whole vocabulary: efficiency 1 for any α.
        #expect(abs(renyiEfficiency(counts: [5, 5, 5, 5], alpha: 1, vocabularySize: 4)! - 1) < 1e-12)
        #expect(abs(renyiEfficiency(counts: [5, 5, 5, 5], alpha: 3, vocabularySize: 4)! - 1) < 1e-12)
        #expect(renyiEfficiency(counts: [], alpha: 2.5, vocabularySize: 4) == nil)
    }

    /// The report's Rényi efficiency uses the stated |V| and α.
    @Test func renyiInReport() throws {
        let corpus = try ParallelCorpus.load(udhr, only: ["eng"])
        let full = try analyse(corpus, [r50k])
        let observed = try analyse(corpus, [r50k]) { $0.renyiVocabulary = .observed }
        let f = try #require(full.rows.first), o = try #require(observed.rows.first)
        #expect(f.renyiVocab == 50257)
        #expect(o.renyiVocab > 100 && o.renyiVocab < f.tokens)
        #expect(o.renyiEfficiency! > f.renyiEfficiency!)
        #expect(full.render(.json).contains("\"renyi\": {\"alpha\": 2.5, \"vocab\": \"full\"}"))
        #expect(full.renyiNote.contains("α = 2.5 with |V| = the tokenizer's vocabulary size"))
        #expect(full.render(.text).contains("Rényi efficiency at α = 2.5"))
    }
}
