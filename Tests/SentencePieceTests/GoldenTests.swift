import Foundation
import Testing
import TokenKitCore
import TokenKitSentencePiece
@testable import TokenKitModels

/// Ids must equal those of the `sentencepiece` package, recorded by Scripts/make_spm_goldens.py.
@Suite struct SPMGoldenTests {
    @Test(arguments: goldenNames)
    func idsMatchSentencePiece(_ name: String) throws {
        let golden = try SPMGolden.load(name)
        let model = try SPMModels.shared.get(golden.model)
        var failures = 0
        for c in golden.cases {
            let ids = model.encode(Array(c.text.utf8))
            if ids != c.ids {
                failures += 1
                if failures <= 5 {
                    Issue.record("\(name) \(c.name) \(c.text.prefix(60).debugDescription): got \(ids.prefix(40)) want \(c.ids.prefix(40))")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(golden.cases.count) cases differ from \(golden.library)")
    }

    @Test(arguments: goldenNames)
    func decodeMatchesSentencePiece(_ name: String) throws {
        let golden = try SPMGolden.load(name)
        let model = try SPMModels.shared.get(golden.model)
        var failures = 0
        for c in golden.cases {
            let text = try model.decode(c.ids)
            let want = c.decoded ?? c.text
            if text != Array(want.utf8) {
                failures += 1
                if failures <= 5 {
                    Issue.record("\(name) \(c.name): got \(String(decoding: text, as: UTF8.self).prefix(60).debugDescription) want \(want.prefix(60).debugDescription)")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(golden.cases.count) decodings differ from \(golden.library)")
    }

    /// spm's n-best exists for Unigram models only: the goldens of all three hold n-best cases.
    @Test(arguments: ["botchan-unigram", "kyoto-unigram", "ties-unigram"])
    func nbestMatchesSentencePiece(_ name: String) throws {
        let golden = try SPMGolden.load(name)
        let nbest = try #require(golden.nbest)
        #expect(nbest.count >= 10 && nbest.contains { $0.ids.count > 1 })
        let model = try SPMModels.shared.get(golden.model)
        for c in nbest {
            let got = model.nbest(Array(c.text.utf8), count: c.n)
            #expect(got == c.ids, "\(name) nbest \(c.n) of \(c.text.debugDescription)")
        }
    }

    @Test(arguments: goldenNames)
    func reserializedModelIsByteIdentical(_ name: String) throws {
        let golden = try SPMGolden.load(name)
        let bytes = try readBytes(golden.model)
        let model = try SPMModels.shared.get(golden.model)
        #expect(model.serialized() == bytes)
    }
}

/// `UnigramModel(vocab:unkID:byteFallback:)` (tokenizer.json "Unigram") gives the ids of
/// Hugging Face `tokenizers` on text already normalized by sentencepiece.
/// On "ties-unigram" the two libraries break ties differently (Scripts/make_tie_goldens.py):
/// HF keeps the first path found, spm's float-stored best score lets a later one win.
@Suite struct HFUnigramGoldenTests {
    @Test(arguments: ["botchan-unigram", "kyoto-unigram", "ties-unigram"])
    func idsMatchTokenizers(_ name: String) throws {
        let golden = try SPMGolden.load("hf-" + name)
        let spm = try SPMModels.shared.get(golden.model)
        let unk = spm.unkID
        let model = try UnigramModel(vocab: spm.pieces.map { ($0.bytes, Double($0.score)) }, unkID: unk, byteFallback: false)
        var failures = 0
        for c in golden.cases {
            let ids = model.encode(Array(c.text.utf8))
            if ids != c.ids {
                failures += 1
                if failures <= 5 { Issue.record("\(name) \(c.name): got \(ids.prefix(30)) want \(c.ids.prefix(30))") }
            }
        }
        #expect(failures == 0, "\(failures) of \(golden.cases.count) cases differ from \(golden.library)")
    }
}

/// tokenizer.json "Precompiled" normalizers apply the charsmap as HF tokenizers does, per
/// grapheme cluster (Scripts/make_precompiled_golden.py), not by spm's longest match.
@Suite struct HFPrecompiledTests {
    @Test func normalizesAsTokenizers() throws {
        struct Golden: Decodable {
            struct Case: Decodable { let text: String; let normalized: String }
            struct Model: Decodable { let model: String; let cases: [Case] }
            let models: [Model]
        }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: fixture("goldens/hf-precompiled.json"))))
        #expect(golden.models.count == 2)
        var unlikeSPM = 0
        for m in golden.models {
            let blob = try SPMModels.shared.get(m.model).normalizerSpec.precompiledCharsmap
            let hf = try HFPrecompiledCharsMap(blob), spm = try PrecompiledCharsMap(blob)
            for c in m.cases {
                let text = Array(c.text.utf8), want = Array(c.normalized.utf8)
                #expect(hf.normalize(text) == want, "\(m.model) \(c.text.debugDescription)")
                if spm.normalize(text) != want { unlikeSPM += 1 }
            }
        }
        // The cases tell the two ways apart.
        #expect(unlikeSPM > 5)
    }
}
