import Foundation
import Testing
import TokenKitCore
import TokenKitSentencePiece
@testable import TokenKitModels

/// Sampled encodings follow spm's distributions: the frequency of each segmentation over many
/// draws is compared with the frequencies spm gave (Scripts/make_spm_goldens.py), since the
/// random generators differ.
@Suite struct SamplingTests {
    @Test(arguments: ["botchan-unigram", "kyoto-unigram"])
    func frequenciesMatchSentencePiece(_ name: String) throws {
        let golden = try SPMGolden.load(name)
        let model = try SPMModels.shared.get(golden.model)
        var rng = SplitMix64(seed: 42)
        for s in golden.sampling ?? [] {
            var counts: [String: Int] = [:]
            let draws = 20_000
            for _ in 0..<draws {
                let ids = model.encode(Array(s.text.utf8), alpha: s.alpha, nbestSize: s.nbest_size, using: &rng)
                counts[ids.map(String.init).joined(separator: " "), default: 0] += 1
            }
            // Every segmentation spm drew often must come out about as often here (4.5 sigma),
            // and nothing spm never drew may come out often.
            for key in Set(counts.keys).union(s.counts.keys) {
                let p = Double(s.counts[key] ?? 0) / Double(s.draws)
                let q = Double(counts[key] ?? 0) / Double(draws)
                let sigma = (max(p, 1.0 / Double(s.draws)) * (1 - p) / Double(draws) * 2).squareRoot()
                #expect(abs(p - q) <= 4.5 * sigma + 0.002,
                        "\(name) \(s.text.debugDescription) alpha \(s.alpha) nbest \(s.nbest_size): \(key) spm \(p) ours \(q)")
            }
        }
    }

    @Test func sameSeedSameSamples() throws {
        let model = try SPMModels.shared.get("sentencepiece/botchan_en_unigram_1000.model")
        let text = Array("I saw a girl with a telescope.".utf8)
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7)
        for _ in 0..<50 {
            #expect(model.encode(text, alpha: 0.1, nbestSize: -1, using: &a) == model.encode(text, alpha: 0.1, nbestSize: -1, using: &b))
        }
    }

    @Test func nbestSizeOneIsViterbi() throws {
        let model = try SPMModels.shared.get("sentencepiece/kyoto_ja_unigram_8000.model")
        let text = Array("吾輩は猫である。名前はまだ無い。".utf8)
        var rng = SplitMix64(seed: 1)
        #expect(model.encode(text, alpha: 0.5, nbestSize: 1, using: &rng) == model.encode(text))
        #expect(model.encode(text, alpha: 0.5, nbestSize: 0, using: &rng) == model.encode(text))
        #expect(model.nbest(text, count: 1) == [model.encode(text)])
    }

    @Test func sampledSegmentationsDecodeToTheText() throws {
        for file in ["botchan_en_unigram_1000.model", "llama2_tokenizer.model", "botchan_en_bpe_1000.model"] {
            let model = try SPMModels.shared.get("sentencepiece/" + file)
            let text = "Hello world, this is a sampled sentence with ümlauts and 漢字."
            let want = try model.decode(model.encode(Array(text.utf8)))
            var rng = SplitMix64(seed: 3)
            var distinct = Set<[TokenID]>()
            for nbest in [-1, 8] {
                for _ in 0..<100 {
                    let ids = model.encode(Array(text.utf8), alpha: 0.3, nbestSize: nbest, using: &rng)
                    distinct.insert(ids)
                    #expect(try model.decode(ids) == want, "\(file)")
                }
            }
            #expect(distinct.count > 5, "\(file): sampling gives varied segmentations")
        }
    }
}
