import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats

/// Small tokenizer.json files trained and run by HF tokenizers, one per group of features
/// (Scripts/make_feature_goldens.py): NFKD and Strip normalizers, Whitespace and Metaspace
/// pre-tokenizers, Replace/Strip/Metaspace/ByteFallback/Fuse decoders, added tokens with
/// lstrip/rstrip/single_word. Ids and decoded text must equal HF's.
@Suite struct FeatureGoldenTests {
    struct Golden: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [UInt32]
            let decoded: String
        }
        let cases: [Case]
    }

    @Test(arguments: ["nfkd-strip-whitespace", "metaspace", "added-tokens", "byte-fallback", "char-delimiter", "word-level"])
    func idsAndDecodeMatchHF(_ name: String) throws {
        let tok = try TokenizerLoader.load(fixture("goldens/features/\(name).tokenizer.json"))
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("goldens/features/\(name).json")))
        let golden = try JSONDecoder().decode(Golden.self, from: data)
        #expect(golden.cases.count >= 16)
        for c in golden.cases {
            #expect(try tok.encode(c.text, policy: .huggingFace) == c.ids, "\(name) encode \(c.text.debugDescription)")
            #expect(String(decoding: try tok.decode(c.ids), as: UTF8.self) == c.decoded, "\(name) decode \(c.text.debugDescription)")
        }
    }
}
