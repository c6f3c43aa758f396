import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitModels
import TokenKitText

/// Small tokenizer.json files trained and run by HF tokenizers, one per group of features
/// (Scripts/make_feature_goldens.py): NFKD and Strip normalizers, Whitespace and Metaspace
/// pre-tokenizers, Replace/Strip/Metaspace/ByteFallback/Fuse decoders, added tokens with
/// lstrip/rstrip/single_word, the CTC decoder. Ids and decoded text must equal HF's.
@Suite struct FeatureGoldenTests {
    struct Golden: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [UInt32]
            let decoded: String
        }
        let cases: [Case]
    }

    @Test(arguments: ["nfkd-strip-whitespace", "metaspace", "added-tokens", "byte-fallback", "char-delimiter", "word-level", "ctc"])
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

/// Unigram scores are the doubles HF holds after reading tokenizer.json (serde_json's reading,
/// up to 1 ulp from the correctly rounded value), so near-ties break as in HF
/// (`Scripts/make_unigram_scores_golden.py`).
@Suite struct UnigramScoreParsingTests {
    @Test func scoresAreReadAsHFReadsThem() throws {
        let golden = try JSON.parse(readFile(fixture("goldens/unigram-scores.json")))
        guard case .object(let models)? = golden["models"] else { Issue.record("no models"); return }
        for (key, entry) in models {
            let rel = String(decoding: key, as: UTF8.self)
            guard case .array(let held)? = entry["as_read"], case .number(_, let differ?)? = entry["differ_from_exact"] else {
                Issue.record("bad golden entry \(rel)"); continue
            }
            let tok = try TokenizerLoader.load(fixture(rel))
            guard case .unigram(let model) = tok.model, let hf = model.hf else { Issue.record("\(rel) is not a Unigram model"); continue }
            let want = held.map { v -> Double in if case .number(let d, _) = v { d } else { .nan } }
            #expect(hf.scores.count == want.count)
            #expect(zip(hf.scores, want).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(rel)")
            // The check means something: correctly rounded parsing gives other bits here.
            let exact = try JSON.parse(readFile(fixture(rel)))["model"]?["vocab"]
            guard case .array(let vocab)? = exact else { Issue.record("no vocab"); continue }
            let exactScores = vocab.map { e -> Double in if case .array(let p) = e, case .number(let d, _) = p[1] { d } else { .nan } }
            #expect(zip(exactScores, want).filter { $0.bitPattern != $1.bitPattern }.count == Int(differ) && differ > 0)
        }
    }
}

/// The UnicodeScripts pre-tokenizer cuts where HF's does, on random text from every plane
/// (characters newer than HF's Unicode 9 script table, private use and unassigned ones join any
/// script; `Scripts/make_unicode_scripts_golden.py`).
@Suite struct UnicodeScriptsGoldenTests {
    @Test func piecesMatchHF() throws {
        let golden = try JSON.parse(readFile(fixture("goldens/unicode-scripts.json")))
        guard case .array(let cases)? = golden["cases"] else { Issue.record("no cases"); return }
        #expect(cases.count >= 500)
        let workspace = TextWorkspace()
        for c in cases {
            guard case .string(let text)? = c["text"], case .array(let want)? = c["pieces"] else { Issue.record("bad case"); continue }
            let ranges = want.map { p -> Range<Int> in
                guard case .array(let se) = p, case .number(_, let s?) = se[0], case .number(_, let e?) = se[1] else { return 0..<0 }
                return Int(s)..<Int(e)
            }
            var buf = text
            var pieces = [0..<buf.count]
            PreTokenizer.unicodeScripts.split(&buf, &pieces, first: true, workspace: workspace)
            #expect(pieces == ranges, "\(String(decoding: text, as: UTF8.self).unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }
}

/// FixedLength cuts every `length` characters, not bytes (pieces as HF tokenizers 0.22.1 gives
/// them for length 3; the interop check trains a tokenizer with it).
@Suite struct FixedLengthTests {
    @Test func chunksOfCharacters() {
        let cases: [(String, [String])] = [
            ("abcdefgh", ["abc", "def", "gh"]), ("日本語のテキ", ["日本語", "のテキ"]), ("a b c d", ["a b", " c ", "d"]),
            ("e\u{301}\u{301}xyz", ["e\u{301}\u{301}", "xyz"]), ("ab", ["ab"]), ("", []),
        ]
        for (text, want) in cases {
            var buf = Array(text.utf8)
            var pieces = [0..<buf.count]
            PreTokenizer.fixedLength(3).split(&buf, &pieces, first: true, workspace: TextWorkspace())
            #expect(pieces.map { String(decoding: buf[$0], as: UTF8.self) } == want, "\(text.debugDescription)")
        }
    }
}
