import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitModels

/// The model abstraction: one `TokenizerModel` per tokenizer, and flags that only fit some
/// models refused with a usage error that says why.
@Suite struct StructureTests {
    @Test func everyFormatLoadsIntoOneModelCase() throws {
        let cases: [(String, String)] = [
            ("models/r50k_base.tiktoken", "bpe"), ("models/qwen2.5/tokenizer.json", "bpe"),
            ("models/botchan-unigram/tokenizer.json", "unigram"), ("sentencepiece/llama2_tokenizer.model", "sentencePiece"),
            ("models/wordpiece-bert/tokenizer.json", "wordPiece"), ("goldens/features/word-level.tokenizer.json", "wordLevel"),
            ("models/rwkv-world/rwkv_vocab_v20230424.txt", "longestMatch"),
        ]
        for (file, kind) in cases {
            let tok = try TokenizerLoader.load(fixture(file))
            let found: String = switch tok.model {
            case .bpe: "bpe"
            case .unigram: "unigram"
            case .sentencePiece: "sentencePiece"
            case .wordPiece: "wordPiece"
            case .wordLevel: "wordLevel"
            case .longestMatch: "longestMatch"
            }
            #expect(found == kind, "\(file)")
            // The model's vocabulary is the tokenizer's, less added tokens.
            #expect(tok.model.vocab.count <= tok.vocabSize)
            #expect(tok.model.base.vocabSize == tok.model.vocab.count)
        }
    }

    /// HF's WordPiece rules on a hand-made vocabulary: longest match first, "##" on later parts,
    /// a word with an unmatched part or too many characters is one [UNK].
    @Test func wordPieceLongestMatch() throws {
        let words = ["[UNK]", "un", "##aff", "##able", "a", "##ff", "##a", "##b", "##l", "##e", "é", "##é"]
        let vocab = try TokenTable(words.enumerated().map { (Array($0.element.utf8), TokenID($0.offset)) })
        let model = WordPieceModel(vocab: vocab, unk: 0, maxInputChars: 6)
        func enc(_ s: String) -> [TokenID] {
            var out: [TokenID] = [], scratch = ModelScratch()
            Array(s.utf8).withUnsafeBufferPointer { model.encode($0, into: &out, scratch: &scratch) }
            return out
        }
        #expect(enc("unaff") == [1, 2])
        #expect(enc("aff") == [4, 5])  // "a" then "##ff"
        #expect(enc("unable") == [1, 3])
        #expect(enc("unaffable") == [0])  // 9 characters > 6
        #expect(enc("ax") == [0])  // "##x" matches nothing: the whole word is [UNK]
        #expect(enc("éé") == [10, 11])  // characters, not bytes
    }

    @Test func wordPieceDecoderRejoinsPieces() {
        let d = Decoder.wordPiece(prefix: Array("##".utf8), cleanup: true)
        // HF cleans each token by itself: " n't" and " ?" lose their space, " ' " inside a word does not occur.
        let out = d.decode(["un", "##aff", "##able", ",", "do", "n't", "'", "t", "?"].map { Array($0.utf8) }).flatMap { $0 }
        #expect(String(decoding: out, as: UTF8.self) == "unaffable, don't ' t?")
    }
}

extension CLITests {
    @Test func flagsThatDoNotFitTheModelAreUsageErrors() throws {
        let unigram = fixture("models/botchan-unigram/tokenizer.json")
        let dropout = try run(["encode", "-m", unigram, "--dropout", "0.1"], stdin: Array("hello".utf8))
        #expect(dropout.status == 2)
        #expect(dropout.stderr.contains("--dropout") && dropout.stderr.contains("Unigram"))
        let pattern = try run(["encode", "-m", qwen, "--pattern", "cl100k"], stdin: Array("hello".utf8))
        #expect(pattern.status == 2)
        #expect(pattern.stderr.contains("--pattern applies to tiktoken"))
        // On a BPE model both work.
        #expect(try run(["encode", "-m", qwen, "--dropout", "0.1"], stdin: Array("hello".utf8)).status == 0)
        #expect(try run(["encode", "-m", r50k, "--pattern", "r50k"], stdin: Array("hello".utf8)).status == 0)
    }

    /// Library errors name a setting; the CLI names its flag.
    @Test func libraryErrorsGetFlagNames() throws {
        let corpus = NSTemporaryDirectory() + "tokenkit-small-\(UUID().uuidString).txt"
        try Data("a small corpus\n".utf8).write(to: URL(fileURLWithPath: corpus))
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        let big = try run(["train", "unigram", "--vocab-size", "5000", "-o", "/dev/null", corpus])
        #expect(big.status == 1)
        #expect(big.stderr.contains("allow fewer with --no-hard-vocab-limit"), "\(big.stderr)")
        let special = try run(["encode", "-m", r50k], stdin: Array("a<|endoftext|>".utf8))
        #expect(special.status == 1)
        #expect(special.stderr.contains("allow it with --allowed-special"))
        let pre = try run(["train", "bpe", "--vocab-size", "300", "--pre-tokenizer", "bogus", "-o", "/dev/null", "-"], stdin: Array("abc".utf8))
        #expect(pre.status == 2)
    }
}
