import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitText

/// Ids must equal those of the reference libraries (tiktoken, HF tokenizers), recorded by
/// Scripts/make_goldens.py on Fixtures/text/golden.txt and edge cases.
struct Golden: Decodable {
    struct Case: Decodable {
        let name: String
        let text: String
        let ids: [UInt32]
    }
    let model: String
    let library: String
    let cases: [Case]

    static func load(_ name: String) throws -> Golden {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("goldens/\(name).json")))
        return try JSONDecoder().decode(Golden.self, from: data)
    }
}

@Suite struct GoldenTests {
    static let names = ["r50k", "p50k", "cl100k", "qwen2.5", "deepseek-coder", "llama2-spm", "hf-botchan-unigram",
                        "spm-llama2", "spm-mistral-v1", "spm-mistral-v3", "spm-botchan-bpe", "spm-botchan-unigram", "spm-kyoto-unigram",
                        "wordpiece-bert", "wordpiece-bertnorm", "wordpiece-bytelevel"]
    /// Characters whose category changed in Unicode 16.0 (Scripts/make_unicode_goldens.py).
    static let unicode16 = ["unicode16-r50k", "unicode16-cl100k", "unicode16-qwen2.5", "unicode16-deepseek-coder"]

    /// HF's NFC/NFD/NFKC/NFKD use Unicode 9.0 tables: characters assigned later neither change nor
    /// reorder (Scripts/make_unicode_goldens.py: every character with a decomposition or a
    /// combining class, between "a" and U+0316).
    @Test func normalizersMatchHF() throws {
        struct File: Decodable { let texts: [String]; let forms: [String: [String]] }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: fixture("goldens/unicode-normalizers.json"))))
        #expect(file.texts.count > 100)
        for (name, form) in [("NFC", Normalizer.nfc), ("NFD", .nfd), ("NFKC", .nfkc), ("NFKD", .nfkd)] {
            let want = try #require(file.forms[name])
            var failures = 0
            for (text, expected) in zip(file.texts, want) where form.apply(Array(text.utf8)) != Array(expected.utf8) {
                failures += 1
                if failures <= 3 {
                    let got = String(decoding: form.apply(Array(text.utf8)), as: UTF8.self)
                    let at = zip(got.unicodeScalars, expected.unicodeScalars).enumerated().first { $0.element.0 != $0.element.1 }
                    Issue.record("\(name): first difference at scalar \(at.map { "\($0.offset): \(String($0.element.0.value, radix: 16)) vs \(String($0.element.1.value, radix: 16))" } ?? "length")")
                }
            }
            #expect(failures == 0, "\(name): \(failures) of \(want.count) lines differ")
        }
    }

    @Test(arguments: names + unicode16)
    func idsMatchReference(_ name: String) throws {
        let golden = try Golden.load(name)
        let tok = try Models.shared.get(golden.model)
        // tiktoken goldens use encode_ordinary; HF goldens match added tokens as HF does.
        let policy: SpecialPolicy = tok.format == .tiktoken ? .ordinary : .huggingFace
        var failures = 0
        for c in golden.cases {
            let ids = try tok.encode(Array(c.text.utf8), policy: policy)
            if ids != c.ids {
                failures += 1
                if failures <= 5 {
                    Issue.record("\(name) \(c.name) \(c.text.prefix(60).debugDescription): got \(ids.prefix(40)) want \(c.ids.prefix(40))")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(golden.cases.count) cases differ from \(golden.library)")
    }

    @Test(arguments: names)
    func decodeGivesTextBack(_ name: String) throws {
        let golden = try Golden.load(name)
        let tok = try Models.shared.get(golden.model)
        // The reference library's decode of the same ids (Scripts/make_decode_goldens.py): lossy
        // models are held to it, lossless ones to the text itself as well.
        struct Decoded: Decodable { let decoded: [String: String] }
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("goldens/decoded/\(name).json")))
        let reference = try JSONDecoder().decode(Decoded.self, from: data).decoded
        #expect(reference.count == golden.cases.count)
        // HF's decode turns bytes it cannot place into U+FFFD (DeepSeek's vocabulary spells some
        // bytes outside the byte alphabet), where tokenkit gives the exact bytes: those cases are
        // held to the text instead.
        var compared = 0
        for c in golden.cases {
            let text = String(decoding: try tok.decode(c.ids), as: UTF8.self)
            let want = reference[c.name] ?? ""
            if !want.contains("\u{FFFD}") {
                compared += 1
                #expect(text == want, "\(name) \(c.name)")
            } else {
                #expect(text == c.text || !tokIsLossless(tok), "\(name) \(c.name)")
            }
            if tokIsLossless(tok) { #expect(text == c.text, "\(name) \(c.name)") }
        }
        #expect(compared * 2 > golden.cases.count, "\(name): only \(compared) cases compared with the reference")
    }

    /// SentencePiece-style models drop the dummy prefix space and normalize; byte-level ones
    /// without a normalizer give back exactly the text.
    func tokIsLossless(_ tok: Tokenizer) -> Bool { tok.model.bpe?.isByteLevel == true && tok.normalizer == nil }
}
